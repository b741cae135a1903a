"""Order header, lines, events, payments and refunds. Type-specific state lives in the type's
app, one-to-one with the order; money columns are Decimal(14, 2)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from catalog.models import Product
from core.labels import labels_register
from core.models import Region, Site
from core.scoping import RestrictedManager
from devices.models import Device
from members.models import Customer

MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")


class OrderKind(models.TextChoices):
    VENDING = "vending", _("Vending")
    LOCKER = "locker", _("Self-pickup locker")
    PICKUP = "pickup", _("Pickup code")
    LEASE = "lease", _("Lease")
    RECHARGE = "recharge", _("Recharge")
    COUNTER = "counter", _("Counter sale")
    DELIVERY = "delivery", _("Delivery")


# Order numbers: a letter for the kind, then YYMMDD, then a daily sequence (V2611220001).
KIND_PREFIX = {
    OrderKind.VENDING: "V",
    OrderKind.LOCKER: "L",
    OrderKind.PICKUP: "P",
    OrderKind.LEASE: "R",
    OrderKind.RECHARGE: "W",
    OrderKind.COUNTER: "S",
    OrderKind.DELIVERY: "D",
}


class OrderStatus(models.TextChoices):
    NEW = "new", _("New")
    PAID = "paid", _("Paid")
    FULFILLING = "fulfilling", _("Fulfilling")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")
    REFUNDED = "refunded", _("Refunded")
    # Delivery orders (shipped from a warehouse, docs/adr/0032): verified, stock reserved, picked,
    # packed, handed to a carrier, delivered, and possibly sent back.
    CONFIRMED = "confirmed", _("Confirmed")
    ALLOCATED = "allocated", _("Allocated")
    PICKING = "picking", _("Picking")
    PACKED = "packed", _("Packed")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", pgettext_lazy("order status", "Delivered")
    RETURNED = "returned", pgettext_lazy("order status", "Returned")


class Channel(models.TextChoices):
    MACHINE = "machine", _("Machine")
    CONSOLE = "console", _("Console")
    COUNTER = "counter", _("Store counter")
    CUSTOMER_APP = "app", _("Customer app")
    IMPORT = "import", _("Import")
    PARTNER = "partner", _("Partner API")


class Order(models.Model):
    number = models.CharField(_("number"), max_length=24, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=OrderKind.choices, db_index=True)
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.NEW, db_index=True
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="orders")
    site = models.ForeignKey(
        Site, verbose_name=_("site"), null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    device = models.ForeignKey(
        Device, verbose_name=_("device"), null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.CONSOLE)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    subtotal = models.DecimalField(_("subtotal"), default=ZERO, **MONEY)
    discount_total = models.DecimalField(_("discount"), default=ZERO, **MONEY)
    total = models.DecimalField(_("total"), default=ZERO, **MONEY)
    paid_amount = models.DecimalField(_("paid"), default=ZERO, **MONEY)
    refunded_amount = models.DecimalField(_("refunded"), default=ZERO, **MONEY)
    # Indexed with the primary key (Meta.indexes "order_created_keyset"): the lists' order and
    # their keyset pages, and every date range filter.
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    external_reference = models.CharField(_("external reference"), max_length=64, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, null=True, blank=True, unique=True)
    note = models.TextField(_("note"), blank=True)
    # The API partner that created it: a partner's key reaches its own orders only, and their
    # status changes go to its webhook (docs/adr/0012-partner-api-keys-idempotency-webhooks.md).
    partner = models.ForeignKey(
        "orders.PartnerClient",
        verbose_name=_("API partner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )

    scope_region_path = "region__path"
    scope_region = "region_id"  # scoped by region ids, not a path join (core.scoping.region_scope_q)
    scope_site = "site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        # One index per filter the inquiry offers, with created_at after it where the filter
        # is selective, so a filtered page is read in order from the index (docs/adr/0025).
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="order_created_keyset"),
            models.Index(fields=["region", "-created_at"]),
            models.Index(fields=["site", "-created_at"], name="order_site_created"),
            models.Index(fields=["customer", "-created_at"]),
            models.Index(fields=["device", "-created_at"]),
            models.Index(fields=["channel", "-created_at"], name="order_channel_created"),
            models.Index(fields=["external_reference"], name="order_external_reference"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(condition=Q(paid_amount__gte=0), name="order_paid_not_negative"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("paid_amount")),
                name="order_refund_within_paid",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def refundable_amount(self):
        return self.paid_amount - self.refunded_amount

    @property
    def balance_due(self):
        return max(self.total - self.paid_amount, ZERO)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines")
    product = models.ForeignKey(Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.PROTECT)
    description = models.CharField(_("description"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    cost_price = models.DecimalField(_("cost price"), default=ZERO, **MONEY)
    line_total = models.DecimalField(_("line total"), **MONEY)

    scope_region_path = "order__region__path"
    scope_site = "order__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="order_line_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.description}"


class ActorKind(models.TextChoices):
    USER = "user", _("Staff")
    CUSTOMER = "customer", _("Customer")
    DEVICE = "device", _("Device")
    PARTNER = "partner", _("API partner")
    SYSTEM = "system", _("System")


class OrderEvent(models.Model):
    """The operation log: one row per state change or notable action, never edited."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor_kind = models.CharField(_("actor kind"), max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=150)
    action = models.CharField(_("action"), max_length=40)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    scope_region_path = "order__region__path"
    scope_site = "order__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("order event")
        verbose_name_plural = _("order events")

    def __str__(self):
        return f"{self.order_id} {self.action} {self.from_status}→{self.to_status}"


class Payment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(_("method"), max_length=20, db_index=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    fee = models.DecimalField(_("fee"), default=ZERO, **MONEY)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    succeeded_at = models.DateTimeField(_("succeeded"), null=True, blank=True)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # When the money changed hands: differs from created_at for collections made while the system
    # was unreachable and entered afterwards (flagged `offline`).
    collected_at = models.DateTimeField(pgettext_lazy("money", "collected"), default=timezone.now, db_index=True)
    offline = models.BooleanField(_("entered offline"), default=False)
    shift = models.ForeignKey(
        "staff.Shift", null=True, blank=True, on_delete=models.PROTECT, related_name="payments", verbose_name=_("shift")
    )

    scope_region_path = "order__region__path"
    scope_site = "order__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]
        # The API's cursor pages walk it (newest first), whatever the depth.
        indexes = [models.Index(fields=["-created_at", "-id"], name="payment_created_keyset")]

    def __str__(self):
        return f"{self.provider} {self.amount}"


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(_("amount"), **MONEY)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(_("reason"), max_length=255)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shift = models.ForeignKey(
        "staff.Shift", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("shift")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    succeeded_at = models.DateTimeField(_("succeeded"), null=True, blank=True)

    scope_region_path = "order__region__path"
    scope_site = "order__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]
        indexes = [models.Index(fields=["-created_at", "-id"], name="refund_created_keyset")]

    def __str__(self):
        return f"{self.order_id} −{self.amount}"


class OrderSequence(models.Model):
    """The last number used per prefix and day; advanced by one atomic upsert."""

    prefix = models.CharField(max_length=4)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "day"], name="order_sequence_prefix_day")]

    def __str__(self):
        return f"{self.prefix}{self.day:%y%m%d}:{self.last}"


# --- API partners (docs/adr/0012-partner-api-keys-idempotency-webhooks.md) -----------------------
class PartnerClient(models.Model):
    """An online shop, courier company or platform calling the partner API with its own key.

    Not `accounting.Partner` (profit-sharing partners): this one is a machine client. Its key is
    stored as a SHA-256 hash and shown once; the webhook secret is kept in clear because it signs
    every webhook, and is shown once too."""

    class Kind(models.TextChoices):
        SHOP = "shop", _("Online shop")
        COURIER = "courier", _("Courier company")
        PLATFORM = "platform", _("Platform")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SHOP)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="partner_clients"
    )
    key_prefix = models.CharField(_("key prefix"), max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    sites = models.ManyToManyField(Site, verbose_name=_("stores and sites"), blank=True, related_name="+")
    banks = models.ManyToManyField(Device, verbose_name=_("locker banks"), blank=True, related_name="+")
    webhook_url = models.URLField(_("webhook URL"), max_length=500, blank=True)
    webhook_secret = models.CharField(max_length=80, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    scope_region_path = "region__path"
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("API partner")
        verbose_name_plural = _("API partners")

    def __str__(self):
        return self.name


class IdempotencyRecord(models.Model):
    """One partner create request by its Idempotency-Key: written before the request runs (the
    unique constraint stops a concurrent twin), completed with the answer it gave, replayed to
    repeats with the same body and kept for a day."""

    client = models.ForeignKey(PartnerClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="idempotency_record_client_key")]

    def __str__(self):
        return f"{self.client_id}:{self.key}"


class WebhookDelivery(models.Model):
    """One event sent (or to be sent) to a partner's webhook URL, with its attempts."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    client = models.ForeignKey(
        PartnerClient, verbose_name=_("API partner"), on_delete=models.PROTECT, related_name="deliveries"
    )
    order = models.ForeignKey(
        Order, verbose_name=_("order"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    event = models.CharField(_("event"), max_length=40)
    payload = models.JSONField(_("payload"), default=dict)
    url = models.URLField(_("URL"), max_length=500)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveSmallIntegerField(_("last response"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # Set while one worker is sending: another copy of the task does not send at the same time.
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    scope_region_path = "client__region__path"
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.event} → {self.client}"


# --- Names of the codes an order's log stores (core.labels) -----------------------------------
labels_register("order.status", dict(OrderStatus.choices))
labels_register(
    "order.action",
    {
        "created": pgettext_lazy("order event", "Created"),
        "status": pgettext_lazy("order event", "Status changed"),
        "payment": pgettext_lazy("order event", "Payment"),
        "payment.failed": pgettext_lazy("order event", "Payment failed"),
        "refund": pgettext_lazy("order event", "Refund"),
        "refund.failed": pgettext_lazy("order event", "Refund failed"),
        "refund.requested": pgettext_lazy("order event", "Refund requested"),
        "refund.approved": pgettext_lazy("order event", "Refund approved"),
        "refund.rejected": pgettext_lazy("order event", "Refund rejected"),
        "voided": pgettext_lazy("order event", "Voided"),
        "line.added": pgettext_lazy("order event", "Item added"),
        "line.returned": pgettext_lazy("order event", "Item returned"),
        "app.priced": pgettext_lazy("order event", "Priced in the app"),
        "coupon.applied": pgettext_lazy("order event", "Coupon applied"),
        "promotion.applied": pgettext_lazy("order event", "Promotion applied"),
        "member.discount": pgettext_lazy("order event", "Member discount"),
        "dispense.requested": pgettext_lazy("order event", "Dispense requested"),
        "dispense.succeeded": pgettext_lazy("order event", "Dispensed"),
        "dispense.failed": pgettext_lazy("order event", "Dispense failed"),
        "pickup.ready": pgettext_lazy("order event", "Ready for pickup"),
        "pickup.handed_over": pgettext_lazy("order event", "Handed over"),
        "pickup.paid_elsewhere": pgettext_lazy("order event", "Paid elsewhere"),
        "pickup.code_regenerated": pgettext_lazy("order event", "New pickup code sent"),
        "pickup.not_collected": pgettext_lazy("order event", "Not collected in time"),
        "pickup.put_back": pgettext_lazy("order event", "Goods put back"),
        "locker.assigned": pgettext_lazy("order event", "Compartment assigned"),
        "locker.reassigned": pgettext_lazy("order event", "Compartment reassigned"),
        "locker.ready": pgettext_lazy("order event", "Ready in the locker"),
        "locker.dropoff_code_used": pgettext_lazy("order event", "Drop-off code used"),
        "locker.collected": pgettext_lazy("order event", "Collected from the locker"),
        "locker.reopened": pgettext_lazy("order event", "Compartment reopened"),
        "locker.open_failed": pgettext_lazy("order event", "Compartment did not open"),
        "locker.expired": pgettext_lazy("order event", "Not collected in time"),
        "locker.returned_to_sender": pgettext_lazy("order event", "Returned to sender"),
        "locker.return_opened": pgettext_lazy("order event", "Opened for the return"),
        "locker.overdue_fee": pgettext_lazy("order event", "Overdue storage fee"),
        "locker.overdue_unpaid": pgettext_lazy("order event", "Overdue fee unpaid"),
        "locker.free_to_recipient": pgettext_lazy("order event", "Free for the recipient"),
        "locker.booked": pgettext_lazy("order event", "Compartment booked in the app"),
        "locker.booking_paid": pgettext_lazy("order event", "Booking paid"),
        "locker.booking_expired": pgettext_lazy("order event", "Booking expired unpaid"),
        "locker.booking_cancelled": pgettext_lazy("order event", "Booking cancelled"),
        "lease.billed": pgettext_lazy("order event", "Rental billed"),
        "lease.period_billed": pgettext_lazy("order event", "Rental period billed"),
        "lease.period_unpaid": pgettext_lazy("order event", "Rental period unpaid"),
        "lease.pay_later": pgettext_lazy("order event", "Pay later"),
        "lease.extended": pgettext_lazy("order event", "Rental extended"),
        "lease.free": pgettext_lazy("order event", "Free rental"),
        "lease.returned": pgettext_lazy("order event", "Returned"),
        "lease.lost": pgettext_lazy("order event", "Reported lost"),
        "lease.overdue_reminder": pgettext_lazy("order event", "Overdue reminder sent"),
        "recharge.credited": pgettext_lazy("order event", "Balance credited"),
    },
)
