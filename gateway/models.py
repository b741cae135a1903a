"""DEX (EVA-DTS) audit reads of vending machines and the sales between consecutive reads.

Reads follow each other in the machine's own time (`taken_at`), not in the order they arrive: a
store-and-forward gateway delivers reads days late. Money is kept at 4 decimal places, enough for
every currency ID4 may give, and shown at the machine's own precision (ADR 0009)."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.scoping import RestrictedManager
from devices.models import Device

# ID4 allows up to 4 decimal places (ADR 0009); 14 digits before the point, as before.
MONEY_PLACES = 4
MONEY_DIGITS = 18


def at_places(value: Decimal | None, places: int) -> Decimal | None:
    """`value` shown at the machine's precision (ID4), e.g. 5865.3000 at 2 places is 5865.30."""
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-places))


class DexRead(models.Model):
    class Source(models.TextChoices):
        GATEWAY = "gateway", _("Gateway")
        DEVICE = "device", _("Device API")
        UPLOAD = "upload", _("Uploaded")

    device = models.ForeignKey(Device, verbose_name=_("device"), on_delete=models.PROTECT, related_name="dex_reads")
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at the machine"), null=True, blank=True)
    # When the audit was taken: the machine's ID5 time, or the arrival time when the file has none.
    # Sales between reads and reconciliation periods follow this order.
    taken_at = models.DateTimeField(_("audit time"), db_index=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    sha256 = models.CharField(max_length=64)
    machine_serial = models.CharField(_("machine serial"), max_length=40, blank=True)
    currency_decimals = models.PositiveSmallIntegerField(default=2)
    vends_count = models.PositiveIntegerField(_("paid vends (total)"), default=0)
    vends_value = models.DecimalField(
        _("paid value (total)"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=0
    )
    # Null: the machine sends no CA2 (DA2) block, so these takings are unknown (not zero).
    cash_value = models.DecimalField(
        _("cash (total)"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True
    )
    cashless_value = models.DecimalField(
        _("cashless (total)"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True
    )
    sales_count = models.IntegerField(_("vends since the previous read"), default=0)
    sales_value = models.DecimalField(
        _("value since the previous read"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=0
    )
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    unknown_segments = models.JSONField(default=list, blank=True)
    # The file exactly as received: bytes, since machines pad files with NUL, which text columns refuse.
    raw = models.BinaryField()
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)

    scope_region_path = "device__site__region__path"
    scope_site = "device__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-taken_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["device", "sha256"], name="dex_read_once_per_device")]
        verbose_name = _("DEX read")
        verbose_name_plural = _("DEX reads")

    def __str__(self):
        return f"{self.device} {self.taken_at:%Y-%m-%d %H:%M}"


class DexSelection(models.Model):
    """One selection (slot) in one read: the machine's cumulative counters and the sales since the
    previous read. A counter lower than the previous read's is a reset: the whole new count is the
    sales since then."""

    read = models.ForeignKey(DexRead, on_delete=models.CASCADE, related_name="selections")
    selection = models.CharField(_("selection"), max_length=20)
    name = models.CharField(_("name"), max_length=60, blank=True)
    price = models.DecimalField(_("price"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=0)
    count_total = models.PositiveIntegerField(_("vends (total)"), default=0)
    value_total = models.DecimalField(
        _("value (total)"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=0
    )
    count_sold = models.IntegerField(_("vends since the previous read"), default=0)
    value_sold = models.DecimalField(
        _("value since the previous read"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=0
    )
    counter_reset = models.BooleanField(_("counter reset"), default=False)

    scope_region_path = "read__device__site__region__path"
    scope_site = "read__device__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["read", "selection"]
        constraints = [models.UniqueConstraint(fields=["read", "selection"], name="dex_selection_once_per_read")]
        verbose_name = _("DEX selection")
        verbose_name_plural = _("DEX selections")

    def __str__(self):
        return f"{self.selection} {self.name}".strip()


class LockBoard(models.Model):
    """A third-party lock board the gateway drives for a device, and how its status reads. Kerong
    KR-CU16 boards report each lock's hook as one bit; which value means "locked" depends on the
    board's firmware and wiring (docs/gateway-protocol.md), so it is set per board."""

    class Protocol(models.TextChoices):
        KERONG = "kerong", _("Kerong KR-CU16")

    class HookBit(models.TextChoices):
        LOCKED = "locked", _("A set bit is a locked lock")
        OPEN = "open", _("A set bit is an open lock")

    device = models.OneToOneField(Device, verbose_name=_("device"), on_delete=models.CASCADE, related_name="lock_board")
    protocol = models.CharField(_("protocol"), max_length=10, choices=Protocol.choices, default=Protocol.KERONG)
    hook_bit = models.CharField(
        _("lock-hook bit"),
        max_length=6,
        choices=HookBit.choices,
        default=HookBit.LOCKED,
        help_text=_("What a set lock-hook bit in the board's status reply means."),
    )

    scope_region_path = "device__site__region__path"
    scope_site = "device__site"
    objects = RestrictedManager()

    class Meta:
        verbose_name = _("lock board")
        verbose_name_plural = _("lock boards")

    def __str__(self):
        return f"{self.device} ({self.get_protocol_display()})"
