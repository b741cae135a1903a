"""Customers. A customer's home region is where they first registered (a machine's or store's
region); staff see the customers of their regions."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import Region
from core.scoping import RestrictedManager, RestrictedQuerySet, user_grants


class CustomerQuerySet(RestrictedQuerySet):
    def scope_filter(self, user, action):
        """Staff see the customers of their regions; a store grant also VIEWS the customers who
        ordered at its stores, not the whole city's (docs/adr/0035)."""
        q = super().scope_filter(user, action)
        grants = user_grants(user, action)
        if q is not None and action == "view" and grants.site_ids:
            from orders.models import Order

            buyers = Order.objects.filter(site_id__in=grants.site_ids, customer_id__isnull=False)
            q |= Q(pk__in=buyers.values("customer_id"))
        return q


class Customer(models.Model):
    phone = models.CharField(_("phone"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=[("sms", _("SMS")), ("email", _("Email"))], default="sms"
    )
    home_region = models.ForeignKey(
        Region, verbose_name=_("home region"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    is_active = models.BooleanField(_("active"), default=True)
    level = models.PositiveSmallIntegerField(_("member level"), default=0)
    points = models.PositiveIntegerField(_("points"), default=0)
    total_spent = models.DecimalField(_("total spent"), max_digits=14, decimal_places=2, default=0)
    segment = models.CharField(_("segment"), max_length=20, blank=True, db_index=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)

    scope_region_path = "home_region__path"
    scope_site = None
    objects = models.Manager.from_queryset(CustomerQuerySet)()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self):
        return f"{self.name} {self.phone}".strip()


class Feedback(models.Model):
    """A customer's rating of a visit or order, and of the clerk who served them."""

    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="feedback", verbose_name=_("customer")
    )
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="feedback",
        verbose_name=_("order"),
    )
    clerk = models.ForeignKey(
        "staff.User", null=True, blank=True, on_delete=models.PROTECT, related_name="feedback", verbose_name=_("clerk")
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("region"))
    site = models.ForeignKey(
        "core.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    rating = models.PositiveSmallIntegerField(_("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    subject = models.CharField(
        _("about"),
        max_length=10,
        choices=[
            ("order", _("An order")),
            ("machine", _("A machine")),
            ("product", _("A product")),
            ("store", _("A store")),
        ],
        default="order",
    )
    device = models.ForeignKey(
        "devices.Device", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("machine")
    )
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    # The collection rated from the receipt's QR code: one rating per collection (ADR 15).
    payment = models.OneToOneField(
        "orders.Payment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="feedback",
        verbose_name=_("collection"),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=[("open", _("Open")), ("replied", _("Replied")), ("closed", _("Closed"))],
        default="open",
        db_index=True,
    )
    reply = models.TextField(_("reply"), blank=True)
    replied_by = models.ForeignKey(
        "staff.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("replied by")
    )
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)

    scope_region_path = "region__path"
    scope_site = "site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="feedback_rating_1_to_5")
        ]

    def __str__(self):
        return f"{self.rating}★ {self.order or ''}".strip()


class Coupon(models.Model):
    """A discount code: a fixed amount, a percentage, or an amount off above a spend threshold;
    valid in a region (and its sub-regions) during a window, a number of times per customer and
    in total."""

    class Kind(models.TextChoices):
        FIXED = "fixed", _("Fixed amount")
        PERCENT = "percent", _("Percentage")
        THRESHOLD = "threshold", _("Amount off above a spend")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    value = models.DecimalField(
        _("value"), max_digits=10, decimal_places=2, help_text=_("Amount, or percent for percentage coupons.")
    )
    min_spend = models.DecimalField(_("minimum spend"), max_digits=10, decimal_places=2, default=0)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    per_customer_limit = models.PositiveIntegerField(_("uses per customer"), default=1)
    total_quantity = models.PositiveIntegerField(
        _("total quantity"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    used_count = models.PositiveIntegerField(pgettext_lazy("count", "used"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    scope_region_path = "region__path"
    scope_store_sees_region = True  # a store grant reads it (docs/adr/0035)
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        constraints = [
            models.CheckConstraint(condition=Q(value__gt=0) & Q(min_spend__gte=0), name="coupon_amounts"),
            models.CheckConstraint(
                condition=Q(total_quantity__isnull=True) | Q(used_count__lte=models.F("total_quantity")),
                name="coupon_used_within_quantity",
            ),
            models.CheckConstraint(condition=Q(valid_until__gt=models.F("valid_from")), name="coupon_window"),
        ]

    def __str__(self):
        return f"{self.code} ({self.name})"


class CouponRedemption(models.Model):
    """A coupon on an order: reserved when applied, redeemed when the order is paid, released
    (the use given back) when the order is cancelled or expires."""

    class Status(models.TextChoices):
        RESERVED = "reserved", _("Reserved")
        REDEEMED = "redeemed", _("Redeemed")
        RELEASED = "released", _("Released")

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("coupon"))
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    order = models.OneToOneField(
        "orders.Order", on_delete=models.PROTECT, related_name="coupon_redemption", verbose_name=_("order")
    )
    amount = models.DecimalField(_("discount"), max_digits=10, decimal_places=2)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RESERVED)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    scope_region_path = "order__region__path"
    scope_site = "order__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("coupon redemption")
        verbose_name_plural = _("coupon redemptions")

    def __str__(self):
        return f"{self.coupon.code} → {self.order_id}"


class MemberLevel(models.Model):
    """Levels by cumulative spend, with their benefits."""

    level = models.PositiveSmallIntegerField(_("level"), unique=True)
    name = models.CharField(_("name"), max_length=50)
    min_spend = models.DecimalField(_("from a total spend of"), max_digits=14, decimal_places=2)
    discount_percent = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=0)
    points_multiplier = models.DecimalField(_("points multiplier"), max_digits=4, decimal_places=2, default=1)

    class Meta:
        ordering = ["level"]
        verbose_name = _("member level")
        verbose_name_plural = _("member levels")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    min_spend__gte=0, discount_percent__gte=0, discount_percent__lte=100, points_multiplier__gte=0
                ),
                name="member_level_values",
            )
        ]

    def __str__(self):
        return f"{self.level} {self.name}"


class PointsEntry(models.Model):
    """Every change of a customer's points: earned on a paid order, spent as payment, adjusted."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="points_entries")
    delta = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=20)
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=100, unique=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    scope_region_path = "customer__home_region__path"
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")

    def __str__(self):
        return f"{self.customer_id} {self.delta:+d}"


class LoginCode(models.Model):
    """A one-time SMS code for a customer's sign-in: stored hashed, expiring, single use."""

    phone = models.CharField(max_length=20, db_index=True)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in code")
        verbose_name_plural = _("sign-in codes")

    def __str__(self):
        return f"{self.phone} {self.created_at:%Y-%m-%d %H:%M}"


class CustomerToken(models.Model):
    """The token a signed-in customer's app or a machine screen uses; only its hash is stored."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("customer token")
        verbose_name_plural = _("customer tokens")

    def __str__(self):
        return f"{self.customer_id} {self.created_at:%Y-%m-%d}"


class Promotion(models.Model):
    """A regional promotional activity applied when an order is priced: a percentage off during a
    period, or buy X get Y of a product. Counted (how many orders, how much given) when paid."""

    class Kind(models.TextChoices):
        PERCENT_OFF = "percent_off", _("Percentage off")
        BUY_X_GET_Y = "buy_x_get_y", _("Buy X, get Y free")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    percent = models.DecimalField(_("percent off"), max_digits=5, decimal_places=2, default=0)
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    buy_quantity = models.PositiveSmallIntegerField(_("buy"), default=0)
    free_quantity = models.PositiveSmallIntegerField(_("get free"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    given_count = models.PositiveIntegerField(_("orders"), default=0)
    given_value = models.DecimalField(_("value given"), max_digits=14, decimal_places=2, default=0)

    scope_region_path = "region__path"
    scope_store_sees_region = True  # a store grant reads it (docs/adr/0035)
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["-starts_at", "-pk"]
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="promotion_window"),
            models.CheckConstraint(condition=Q(percent__gte=0, percent__lte=100), name="promotion_percent"),
        ]

    def __str__(self):
        return self.name


class PromotionUse(models.Model):
    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        WRITTEN_OFF = "written_off", _("Written off")
        RELEASED = "released", _("Released")

    promotion = models.ForeignKey(Promotion, on_delete=models.PROTECT, related_name="uses")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="promotion_uses")
    amount = models.DecimalField(_("discount"), max_digits=10, decimal_places=2)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.APPLIED)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    scope_region_path = "order__region__path"
    scope_site = "order__site"
    objects = RestrictedManager()

    class Meta:
        verbose_name = _("promotion use")
        verbose_name_plural = _("promotion uses")
        constraints = [models.UniqueConstraint(fields=["promotion", "order"], name="promotion_once_per_order")]

    def __str__(self):
        return f"{self.promotion_id} → {self.order_id}"


class PayCode(models.Model):
    """A member's consent to pay at a till with their wallet balance or points: a short-lived,
    single-use code the app shows (as digits and a barcode) and the clerk scans or types. Only its
    hash is stored."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="pay_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)
    used_for = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("order")
    )

    class Meta:
        verbose_name = _("payment code")
        verbose_name_plural = _("payment codes")

    def __str__(self):
        return f"{self.customer_id} {self.created_at:%Y-%m-%d %H:%M}"


# The names of the points ledger's reasons where a page shows them (core.labels).
from core.labels import labels_register  # noqa: E402

labels_register(
    "points.reason",
    {
        "earned": pgettext_lazy("points", "Earned"),
        "spent": pgettext_lazy("points", "Spent"),
        "refunded": pgettext_lazy("points", "Given back"),
        "adjusted": pgettext_lazy("points", "Adjusted"),
    },
)
