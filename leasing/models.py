"""Leasing: rentable assets, rate plans and leases (usage billed, deposit held in the wallet)."""

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.models import Region, Site
from core.scoping import RestrictedManager
from devices.models import Device
from members.models import Customer
from orders.models import Order
from wallet.models import Hold

MONEY = {"max_digits": 14, "decimal_places": 2}


class RatePlan(models.Model):
    name = models.CharField(_("name"), max_length=100)
    asset_kind = models.CharField(_("asset kind"), max_length=40)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    unit_minutes = models.PositiveIntegerField(_("billing unit (minutes)"), default=60)
    unit_price = models.DecimalField(_("price per unit"), **MONEY)
    free_minutes = models.PositiveIntegerField(_("free minutes"), default=0)
    daily_cap = models.DecimalField(_("daily cap"), null=True, blank=True, **MONEY)
    max_total = models.DecimalField(_("maximum total"), null=True, blank=True, **MONEY)
    deposit = models.DecimalField(_("deposit"), default=Decimal("0"), **MONEY)
    # Long-term plans: a price per week or month (30 days), billed at the start of each period.
    billing_period = models.CharField(
        _("long-term billing"), max_length=5, blank=True, choices=[("week", _("Weekly")), ("month", _("Monthly"))]
    )
    period_price = models.DecimalField(_("price per period"), null=True, blank=True, **MONEY)
    # Due back after this many minutes (short-term) or at the end of the agreed periods (long-term);
    # later than that, late fees per started late period up to their cap, then the asset is lost.
    due_minutes = models.PositiveIntegerField(_("due back after (minutes)"), null=True, blank=True)
    late_period_minutes = models.PositiveIntegerField(_("late period (minutes)"), default=60)
    late_fee = models.DecimalField(_("late fee per period"), default=Decimal("0"), **MONEY)
    late_fee_cap = models.DecimalField(_("late fee cap"), null=True, blank=True, **MONEY)
    lost_after_minutes = models.PositiveIntegerField(
        _("lost after overdue (minutes)"),
        null=True,
        blank=True,
        help_text=_("An overdue lease is closed as lost this long after it was due; the deposit is kept."),
    )
    pay_later_level = models.PositiveSmallIntegerField(
        _("pay later from member level"),
        null=True,
        blank=True,
        help_text=_("Members at this level or above rent without a deposit and pay at return. Empty: never."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    scope_region_path = "region__path"
    scope_store_sees_region = True  # a store grant reads it (docs/adr/0035)
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["region", "asset_kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_minutes__gt=0, unit_price__gte=0, deposit__gte=0), name="rate_plan_amounts"
            )
        ]
        verbose_name = _("rate plan")
        verbose_name_plural = _("rate plans")

    def __str__(self):
        return self.name

    def pricing(self):
        from leasing.pricing import Plan

        return Plan(
            unit_minutes=self.unit_minutes,
            unit_price=self.unit_price,
            free_minutes=self.free_minutes,
            daily_cap=self.daily_cap,
            max_total=self.max_total,
            due_minutes=self.due_minutes if not self.billing_period else None,
            late_period_minutes=self.late_period_minutes or 60,
            late_fee=self.late_fee,
            late_fee_cap=self.late_fee_cap,
        )


class Asset(models.Model):
    class State(models.TextChoices):
        AVAILABLE = "available", _("Available")
        RENTED = "rented", _("Rented")
        MAINTENANCE = "maintenance", _("Maintenance")
        LOST = "lost", _("Lost")
        RETIRED = "retired", _("Retired")
        SOLD = "sold", _("Bought by the customer")

    serial = models.CharField(_("serial / RFID tag"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=40)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.AVAILABLE)
    station = models.ForeignKey(
        Device, verbose_name=_("station"), null=True, blank=True, on_delete=models.PROTECT, related_name="assets"
    )
    slot = models.CharField(_("station slot"), max_length=10, blank=True)
    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="assets")

    scope_region_path = "site__region__path"
    scope_site = "site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["kind", "serial"]
        verbose_name = _("asset")
        verbose_name_plural = _("assets")

    def __str__(self):
        return f"{self.kind} {self.serial}"


class BulkItem(models.Model):
    """Rentable items that are not tracked one by one (chairs, umbrellas in a stand): a quantity
    per kind at a store. `available` only changes by conditional updates in the lease services."""

    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="bulk_items")
    kind = models.CharField(_("kind"), max_length=40)
    total = models.PositiveIntegerField(_("owned"), default=0)
    available = models.PositiveIntegerField(_("available"), default=0)

    scope_region_path = "site__region__path"
    scope_site = "site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["site", "kind"]
        verbose_name = _("bulk item")
        verbose_name_plural = _("bulk items")
        constraints = [
            models.UniqueConstraint(fields=["site", "kind"], name="bulk_item_one_per_site_kind"),
            models.CheckConstraint(condition=Q(available__lte=F("total")), name="bulk_item_available_within_total"),
        ]

    def __str__(self):
        return f"{self.kind} × {self.available}/{self.total} @ {self.site}"


class Lease(models.Model):
    class Stage(models.TextChoices):
        EJECTING = "ejecting", _("Ejecting")
        IN_USE = "in_use", _("In use")
        RETURNED = "returned", _("Returned")
        BOUGHT = "bought", _("Closed at the maximum: bought")
        LOST = "lost", _("Not returned: lost")
        CANCELLED = "cancelled", _("Cancelled")

    order = models.OneToOneField(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="lease")
    asset = models.ForeignKey(
        Asset, verbose_name=_("asset"), null=True, blank=True, on_delete=models.PROTECT, related_name="leases"
    )
    bulk_item = models.ForeignKey(
        BulkItem, verbose_name=_("bulk item"), null=True, blank=True, on_delete=models.PROTECT, related_name="leases"
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="leases")
    plan = models.ForeignKey(RatePlan, verbose_name=_("rate plan"), on_delete=models.PROTECT, related_name="leases")
    hold = models.ForeignKey(Hold, verbose_name=_("deposit hold"), null=True, blank=True, on_delete=models.PROTECT)
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, default=Stage.EJECTING)
    rented_at = models.DateTimeField(_("rented"), auto_now_add=True)
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)
    return_station = models.ForeignKey(
        Device, verbose_name=_("returned at"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    minutes = models.PositiveIntegerField(_("minutes used"), null=True, blank=True)
    amount = models.DecimalField(_("billed"), null=True, blank=True, **MONEY)
    due_at = models.DateTimeField(_("due back"), null=True, blank=True, db_index=True)
    pay_later = models.BooleanField(_("pay later"), default=False)
    last_reminded_at = models.DateTimeField(_("last reminded"), null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(_("reminders sent"), default=0)

    scope_region_path = "order__region__path"
    scope_site = "order__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-rented_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset"], condition=Q(stage__in=["ejecting", "in_use"]), name="one_live_lease_per_asset"
            ),
            models.CheckConstraint(
                condition=Q(asset__isnull=False, bulk_item__isnull=True)
                | Q(asset__isnull=True, bulk_item__isnull=False),
                name="lease_asset_or_bulk_item",
            ),
        ]
        verbose_name = _("lease")
        verbose_name_plural = _("leases")

    def __str__(self):
        return f"{self.order.number}: {self.item_label}"

    @property
    def item_label(self) -> str:
        if self.asset_id:
            return str(self.asset)
        return f"{self.bulk_item.kind} × {self.quantity}" if self.bulk_item_id else ""


class LeaseCharge(models.Model):
    """One billing period of a long-term lease, charged once from the wallet."""

    lease = models.ForeignKey(Lease, on_delete=models.PROTECT, related_name="charges")
    period = models.PositiveIntegerField(_("period"))
    amount = models.DecimalField(_("amount"), **MONEY)
    paid = models.BooleanField(_("paid"), default=False)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    scope_region_path = "lease__order__region__path"
    scope_site = "lease__order__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["lease", "period"]
        constraints = [models.UniqueConstraint(fields=["lease", "period"], name="one_charge_per_lease_period")]
        verbose_name = _("lease charge")
        verbose_name_plural = _("lease charges")

    def __str__(self):
        return f"{self.lease} #{self.period}: {self.amount}"
