"""Delivery orders (seed 002): what is shipped to a customer from a warehouse rather than handed over
at a machine or a counter. The order itself is an orders.Order of kind DELIVERY on the one order
spine; this app holds what only shipped orders have: the recipient and address, where the order
came from (a platform and its order number), the verification holds, and the stock reserved for it
at a warehouse (docs/adr/0032).
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.labels import labels_register
from core.scoping import RestrictedManager
from inventory.models import StockLevel
from orders.models import Order, OrderLine


class ShippingMethod(models.TextChoices):
    STANDARD = "standard", _("Standard")
    EXPRESS = "express", _("Express")
    SAME_DAY = "same_day", _("Same day")
    PICKUP = "pickup", _("Collect at a store")


class Delivery(models.Model):
    """The shipping side of one delivery order."""

    order = models.OneToOneField(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="delivery")
    recipient_name = models.CharField(_("recipient"), max_length=100)
    phone = models.CharField(_("phone"), max_length=32)
    province = models.CharField(_("province"), max_length=50)
    city = models.CharField(_("city"), max_length=50)
    district = models.CharField(_("district"), max_length=50, blank=True)
    address = models.CharField(_("street address"), max_length=255)
    postcode = models.CharField(_("postcode"), max_length=12, blank=True)
    shipping_method = models.CharField(
        _("shipping method"), max_length=20, choices=ShippingMethod.choices, default=ShippingMethod.STANDARD
    )
    # Where it came from: a platform's code ("tmall", "jd", "shop", a partner's name) and its number.
    platform = models.CharField(_("platform"), max_length=30, blank=True)
    platform_order_number = models.CharField(_("platform order number"), max_length=64, blank=True)
    # Verification: an order with holds waits in the queue for a person; empty when it passed.
    holds = models.JSONField(_("holds"), default=list, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)

    scope_region_path = "order__region__path"
    scope_site = "order__site"
    objects = RestrictedManager()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "platform_order_number"],
                condition=~Q(platform_order_number=""),
                name="one_order_per_platform_number",
            )
        ]

    def __str__(self):
        return f"{self.order} → {self.recipient_name}"


class Allocation(models.Model):
    """Stock of one order line reserved at one warehouse level (a line split across warehouses has
    several). Reserved when the order is allocated, deducted when it is packed, released when it is
    cancelled; the level's `reserved` moves with it in the same transaction."""

    class State(models.TextChoices):
        RESERVED = "reserved", _("Reserved")
        DEDUCTED = "deducted", _("Deducted")
        RELEASED = "released", _("Released")

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="allocations")
    line = models.ForeignKey(OrderLine, verbose_name=_("order line"), on_delete=models.PROTECT, related_name="+")
    level = models.ForeignKey(StockLevel, verbose_name=_("stock level"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    picked = models.PositiveIntegerField(_("picked"), default=0)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.RESERVED)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    scope_region_path = "order__region__path"
    scope_site = "level__location__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="allocation_quantity_positive"),
            models.CheckConstraint(condition=Q(picked__lte=F("quantity")), name="allocation_picked_within_quantity"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.line.description} @ {self.level.location}"


class PlatformMapping(models.Model):
    """How one platform's order export is laid out: which column of the file holds each field the
    import needs (docs/adr/0032). Shared by every region, like the platforms themselves; presets for
    Taobao / Tmall and JD are created by a migration and edited in the console."""

    FIELDS = (
        ("order_number", _("Platform order number")),
        ("recipient", _("Recipient")),
        ("phone", _("Phone")),
        ("address", _("Address")),
        ("province", _("Province")),
        ("city", _("City")),
        ("district", _("District")),
        ("sku", _("Product code (SKU or barcode)")),
        ("product_name", _("Product name")),
        ("quantity", _("Quantity")),
        ("unit_price", _("Unit price")),
        ("line_total", _("Amount paid for the row")),
    )
    REQUIRED = ("order_number", "recipient", "phone", "address", "sku", "quantity")

    platform = models.SlugField(_("platform code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    columns = models.JSONField(_("columns"), default=dict, help_text=_("Field → column header in the file."))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["platform"]
        verbose_name = _("platform column mapping")
        verbose_name_plural = _("platform column mappings")

    def __str__(self):
        return self.name


class PackScan(models.Model):
    """One accepted scan of an item picked for an order (docs/adr/0033). The device makes the scan
    id (a UUID) before it sends the scan, so a retry or a double tap sends the same id again and is
    counted once: the id is unique, and the scan, the picked count and the stock deduction are
    written in one transaction. A refused scan (a wrong item, one too many) writes nothing."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="pack_scans")
    allocation = models.ForeignKey(
        Allocation, verbose_name=_("allocation"), on_delete=models.PROTECT, related_name="scans"
    )
    scan_id = models.UUIDField(_("scan id"), unique=True)
    barcode = models.CharField(_("barcode"), max_length=32)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    at = models.DateTimeField(_("at"), auto_now_add=True)
    actor = models.ForeignKey(
        "staff.User", verbose_name=_("scanned by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    scope_region_path = "order__region__path"
    scope_site = "allocation__level__location__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["order", "at", "pk"]
        verbose_name = _("pack scan")
        verbose_name_plural = _("pack scans")

    def __str__(self):
        return f"{self.barcode} × {self.quantity} ({self.order})"


labels_register(
    "order.action",
    {
        "pick.scanned": pgettext_lazy("order event", "Item scanned into the parcel"),
    },
)
