"""Vending: a machine's slots (its planogram) and the vending side of each sale."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from core.scoping import RestrictedManager
from devices.models import Device
from inventory.models import StockLevel
from orders.models import Order


class Slot(models.Model):
    device = models.ForeignKey(Device, verbose_name=_("machine"), on_delete=models.PROTECT, related_name="slots")
    code = models.CharField(_("slot"), max_length=20)
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="slots")
    price = models.DecimalField(
        _("price"), max_digits=14, decimal_places=2, null=True, blank=True, help_text=_("Empty: the product's price")
    )
    level = models.OneToOneField(StockLevel, verbose_name=_("stock"), on_delete=models.PROTECT, related_name="slot")
    is_active = models.BooleanField(_("active"), default=True)

    scope_region_path = "device__site__region__path"
    scope_site = "device__site"
    supplier_lookup = "product__supplier"
    objects = RestrictedManager()

    class Meta:
        ordering = ["device", "code"]
        constraints = [
            models.UniqueConstraint(fields=["device", "code"], name="one_slot_per_code"),
            models.CheckConstraint(condition=Q(price__isnull=True) | Q(price__gte=0), name="slot_price_not_negative"),
        ]
        verbose_name = _("slot")
        verbose_name_plural = _("slots")

    def __str__(self):
        return f"{self.device.name} {self.code}"

    @property
    def sale_price(self):
        return self.price if self.price is not None else self.product.sale_price


class Vend(models.Model):
    """One vending sale: which slot, the machine's own request id, and the dispense command."""

    order = models.OneToOneField(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="vend")
    device = models.ForeignKey(Device, verbose_name=_("machine"), on_delete=models.PROTECT, related_name="vends")
    slot = models.ForeignKey(Slot, verbose_name=_("slot"), on_delete=models.PROTECT, related_name="vends")
    request_id = models.CharField(_("machine request id"), max_length=64)
    # Reserved with the sale, so the dispense command queued once paid has a known id.
    command_id = models.UUIDField(_("dispense command"), null=True, blank=True, unique=True)
    stock_returned = models.BooleanField(_("stock returned"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    scope_region_path = "device__site__region__path"
    scope_site = "device__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["device", "request_id"], name="one_vend_per_machine_request")]
        verbose_name = _("vend")
        verbose_name_plural = _("vends")

    def __str__(self):
        return f"{self.order.number} {self.slot.code}"


class RestockTask(models.Model):
    """Refilling one machine: a pick list of par minus level per slot, confirmed on a phone."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    device = models.ForeignKey(
        Device, verbose_name=_("machine"), on_delete=models.PROTECT, related_name="restock_tasks"
    )
    source = models.ForeignKey(
        "inventory.StockLocation",
        verbose_name=_("taken from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The vehicle or warehouse the goods come from; empty: not tracked."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    route = models.CharField(_("route"), max_length=40, blank=True)
    # Set by the route planner (vending/routing.py): the day, the vehicle, the stop's place in
    # its round and the planned arrival; or why the task is not on that day's route.
    route_date = models.DateField(_("route date"), null=True, blank=True, db_index=True)
    route_vehicle = models.PositiveSmallIntegerField(_("vehicle"), null=True, blank=True)
    route_stop = models.PositiveSmallIntegerField(_("stop"), null=True, blank=True)
    route_eta = models.TimeField(_("planned arrival"), null=True, blank=True)
    route_note = models.CharField(_("not routed because"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        "staff.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        "staff.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("done by")
    )

    scope_region_path = "device__site__region__path"
    scope_site = "device__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("restock task")
        verbose_name_plural = _("restock tasks")

    def __str__(self):
        return f"{self.device} {self.created_at:%Y-%m-%d}"


class RestockLine(models.Model):
    task = models.ForeignKey(RestockTask, on_delete=models.CASCADE, related_name="lines")
    slot = models.ForeignKey(Slot, verbose_name=_("slot"), on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    planned = models.PositiveIntegerField(_("to pick"))
    confirmed = models.PositiveIntegerField(_("refilled"), null=True, blank=True)

    class Meta:
        ordering = ["slot__code"]
        verbose_name = _("restock line")
        verbose_name_plural = _("restock lines")

    def __str__(self):
        return f"{self.slot} +{self.planned}"


class DexAdjustment(models.Model):
    """A DEX difference accepted as a stock adjustment: once per read and selection."""

    read = models.ForeignKey("gateway.DexRead", on_delete=models.PROTECT, related_name="adjustments")
    selection = models.CharField(_("selection"), max_length=20)
    slot = models.ForeignKey(Slot, verbose_name=_("slot"), on_delete=models.PROTECT, related_name="+")
    difference = models.IntegerField(_("difference"))
    reason = models.CharField(_("reason"), max_length=255)
    actor_label = models.CharField(_("actor"), max_length=150)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    scope_region_path = "slot__device__site__region__path"
    scope_site = "slot__device__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("DEX adjustment")
        verbose_name_plural = _("DEX adjustments")
        constraints = [models.UniqueConstraint(fields=["read", "selection"], name="dex_adjust_once")]

    def __str__(self):
        return f"{self.read_id} {self.selection} {self.difference:+d}"
