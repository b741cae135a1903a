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

    @property
    def hold_list(self) -> list[dict]:
        """The holds with their messages in the reader's language."""
        from fulfilment.verification import hold_message

        return [{"code": hold.get("code"), "message": hold_message(hold)} for hold in self.holds or []]


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


# --- Shipping and tracking (docs/adr/0034) ----------------------------------------------------
class Shipment(models.Model):
    """One parcel of a delivery order handed to a carrier: the waybill number the carrier assigned
    when the label was printed, and where the parcel is now (from the carrier's tracking events)."""

    class Status(models.TextChoices):
        LABELLED = "labelled", _("Labelled")
        SHIPPED = "shipped", _("Shipped")
        IN_TRANSIT = "in_transit", _("In transit")
        DELIVERED = "delivered", _("Delivered")
        PROBLEM = "problem", _("Problem")
        RETURNING = "returning", _("Returning to sender")

    order = models.OneToOneField(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="shipment")
    carrier = models.CharField(_("carrier"), max_length=30)
    waybill_number = models.CharField(_("waybill number"), max_length=40)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.LABELLED)
    labelled_at = models.DateTimeField(_("labelled at"), auto_now_add=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    scope_region_path = "order__region__path"
    scope_site = "order__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-labelled_at", "-pk"]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        constraints = [
            models.UniqueConstraint(fields=["carrier", "waybill_number"], name="one_shipment_per_waybill"),
        ]

    def __str__(self):
        return f"{self.carrier} {self.waybill_number}"

    @property
    def carrier_name(self) -> str:
        from fulfilment.carriers import carrier_get

        try:
            return str(carrier_get(self.carrier).name)
        except KeyError:
            return self.carrier


class TrackingEvent(models.Model):
    """One step the carrier reported (pushed or polled); a repeated push of the same step is kept once."""

    shipment = models.ForeignKey(
        Shipment, verbose_name=_("shipment"), on_delete=models.PROTECT, related_name="tracking_events"
    )
    at = models.DateTimeField(_("at"))
    status = models.CharField(_("status"), max_length=20, choices=Shipment.Status.choices)
    description = models.CharField(_("description"), max_length=255)
    location = models.CharField(_("location"), max_length=120, blank=True)
    source = models.CharField(_("source"), max_length=10)  # "push" or "poll"
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    scope_region_path = "shipment__order__region__path"
    scope_site = "shipment__order__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        constraints = [
            models.UniqueConstraint(fields=["shipment", "at", "description"], name="one_tracking_event_per_step"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.description}"


# --- Returns (docs/adr/0034) ------------------------------------------------------------------
class ReturnReason(models.TextChoices):
    NOT_WANTED = "not_wanted", _("No longer wanted")
    WRONG_ITEM = "wrong_item", _("Wrong item sent")
    DAMAGED_IN_TRANSIT = "damaged", _("Damaged in transit")
    DEFECTIVE = "defective", _("Defective")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    OTHER = "other", _("Other")


class ItemCondition(models.TextChoices):
    INTACT = "intact", _("Intact")
    DAMAGED = "damaged", _("Damaged")
    DEFECTIVE = "defective", _("Defective")
    INCOMPLETE = "incomplete", _("Incomplete")


class ReturnRequest(models.Model):
    class Source(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        STAFF = "staff", _("Staff")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        RECEIVED = "received", pgettext_lazy("return status", "Received")
        INSPECTED = "inspected", _("Inspected")

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="return_requests")
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    reason = models.CharField(_("reason"), max_length=20, choices=ReturnReason.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REQUESTED)
    refund = models.ForeignKey(
        "orders.Refund", verbose_name=_("refund"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True, db_index=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    scope_region_path = "order__region__path"
    scope_site = "order__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("return request")
        verbose_name_plural = _("return requests")

    def __str__(self):
        return f"{self.order} ({self.get_reason_display()})"


def return_photo_path(instance, filename):
    import os

    return f"returns/{instance.request_id}/{instance.pk or 'new'}{os.path.splitext(filename)[1].lower()}"


class ReturnItem(models.Model):
    """One returned line: how many were asked back, received by scan, and what inspection found."""

    request = models.ForeignKey(
        ReturnRequest, verbose_name=_("return request"), on_delete=models.PROTECT, related_name="items"
    )
    line = models.ForeignKey(OrderLine, verbose_name=_("order line"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    received = models.PositiveIntegerField(pgettext_lazy("quantity", "received"), default=0)
    condition = models.CharField(_("condition"), max_length=12, choices=ItemCondition.choices, blank=True)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    photo = models.ImageField(_("photo"), upload_to=return_photo_path, blank=True)
    # Where the inspected items went: a sellable warehouse level or a quarantine (damaged) level.
    put_to = models.ForeignKey(
        StockLevel, verbose_name=_("put to"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    inspected_at = models.DateTimeField(_("inspected at"), null=True, blank=True)

    scope_region_path = "request__order__region__path"
    scope_site = "request__order__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["request", "pk"]
        verbose_name = _("returned item")
        verbose_name_plural = _("returned items")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_item_quantity_positive"),
            models.CheckConstraint(condition=Q(received__lte=F("quantity")), name="return_item_received_within"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.line.description}"


class ReturnScan(models.Model):
    """A receiving scan, idempotent on the device's scan id (a retried scan counts once)."""

    item = models.ForeignKey(
        ReturnItem, verbose_name=_("returned item"), on_delete=models.PROTECT, related_name="scans"
    )
    scan_id = models.CharField(_("scan id"), max_length=64, unique=True)
    location = models.ForeignKey(
        "inventory.StockLocation", verbose_name=_("received at"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    scope_region_path = "item__request__order__region__path"
    scope_site = "item__request__order__site"
    objects = RestrictedManager()

    class Meta:
        verbose_name = _("return scan")
        verbose_name_plural = _("return scans")

    def __str__(self):
        return self.scan_id


def _register_labels():
    from django.utils.translation import pgettext_lazy

    from core.labels import labels_register

    labels_register(
        "order.action",
        {
            "allocated": pgettext_lazy("order event", "Stock reserved"),
            "held": pgettext_lazy("order event", "Held for checking"),
            "delivery.changed": pgettext_lazy("order event", "Delivery details changed"),
            "line.changed": pgettext_lazy("order event", "Quantity changed"),
            "shipment.labelled": pgettext_lazy("order event", "Label printed"),
            "shipped": pgettext_lazy("order event", "Shipped"),
            "shipment.tracking": pgettext_lazy("order event", "Tracking update"),
            "delivered": pgettext_lazy("order event", "Delivered"),
            "return.requested": pgettext_lazy("order event", "Return requested"),
            "return.received": pgettext_lazy("order event", "Returned item received"),
            "returned": pgettext_lazy("order event", "Returned"),
            "return.inspected": pgettext_lazy("order event", "Returned item inspected"),
            "return.refund_elsewhere": pgettext_lazy("order event", "Refund due on the platform"),
        },
    )

    # Where a delivery order came from (Delivery.platform); a partner's own name is shown as it is.
    labels_register(
        "fulfilment.platform",
        {
            "taobao": pgettext_lazy("sales platform", "Taobao / Tmall"),
            "tmall": pgettext_lazy("sales platform", "Tmall"),
            "jd": pgettext_lazy("sales platform", "JD"),
            "shop": pgettext_lazy("sales platform", "Own shop"),
        },
    )


_register_labels()


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
