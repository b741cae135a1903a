"""Revenue sharing (see docs/adr/0021-revenue-sharing-ledger.md): revenue partners, their sharing
rules (versioned), the accruals computed from paid orders, the commission ledger that holds every
partner's pending / available / in-payout money as double-entry bookkeeping, withdrawals with their
approvals and events, and the write-offs that tie paid accruals to the payout that paid them.

"Partner" in `orders` means an API client (a shop or courier with a key); here it is a party that
earns a share of takings, shown to users as "Revenue partner" (分润方). Reconciliation against the
providers' statements lives in accounting/recon_models.py.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from catalog.models import Category, Product
from core.labels import labels_register
from core.models import Region, Site
from core.scoping import RestrictedQuerySet, region_scope_q, user_grants
from devices.models import Device
from orders.models import Order, OrderKind, Refund

MONEY = {"max_digits": 14, "decimal_places": 2}
RATE = {"max_digits": 7, "decimal_places": 4}
ZERO = Decimal("0.00")

PORTAL_PERMISSION = "accounting.use_partner_portal"


def partner_ids_of(user) -> list[int] | None:
    """The revenue partners a partner-portal user acts for; None for everyone else (staff)."""
    if user.is_superuser or user.has_perm("core.scope_all"):
        return None
    cache = user.__dict__.get("_revenue_partner_ids")
    if cache is None:
        cache = list(Partner.objects.filter(users=user).values_list("pk", flat=True))
        user.__dict__["_revenue_partner_ids"] = cache
    return cache or None


class PartnerScopedQuerySet(RestrictedQuerySet):
    """A revenue partner's users see only their own rows (and change nothing through restrict);
    finance and administrators see the partners of their regions."""

    partner_lookup = "partner"

    def scope_filter(self, user, action):
        own = partner_ids_of(user)
        if own is not None:
            if action == "change":
                return Q(pk__in=[])
            return Q(**{f"{self.partner_lookup}__in": own})
        # Money rows are changed by finance, who hold view grants on their regions (the accounting
        # change permissions decide who may act; the grants decide on which partners' rows).
        return region_scope_q(user_grants(user, "view"), region_path=self.model.scope_region_path, site=None)


class PartnerQuerySet(PartnerScopedQuerySet):
    partner_lookup = "pk"


class Partner(models.Model):
    class Kind(models.TextChoices):
        PLATFORM = "platform", _("Platform")
        AGENT = "agent", _("Agent")
        SITE_OWNER = "site_owner", _("Site owner")
        INVESTOR = "investor", _("Investor")
        SUPPLIER = "supplier", _("Supplier")
        STORE_OWNER = "store_owner", _("Store owner")

    class PayoutMethod(models.TextChoices):
        WECHAT = "wechat", _("WeChat Pay balance")
        ALIPAY = "alipay", _("Alipay account")
        BANK = "bank", _("Bank transfer")

    class Settlement(models.TextChoices):
        MANUAL = "manual", _("Manual withdrawal")
        DAILY = "daily", _("Automatic, every day")
        WEEKLY = "weekly", _("Automatic, every week")
        MONTHLY = "monthly", _("Automatic, every month")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    region = models.ForeignKey(
        Region,
        verbose_name=_("home region"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Who in finance sees this partner: the finance staff of this region and above."),
    )
    contact_name = models.CharField(_("contact"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    payout_method = models.CharField(
        _("payout method"), max_length=10, choices=PayoutMethod.choices, default=PayoutMethod.BANK
    )
    payout_name = models.CharField(_("account holder"), max_length=100, blank=True)
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    # Fernet ciphertext of the account (openid, Alipay login or bank account number): accounting/crypto.py.
    payout_account_encrypted = models.TextField(blank=True, editable=False)
    settlement = models.CharField(_("settlement"), max_length=10, choices=Settlement.choices, default=Settlement.MANUAL)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("portal users"), blank=True, related_name="revenue_partners"
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    scope_region_path = "region__path"
    scope_site = None
    objects = PartnerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("revenue partner")
        verbose_name_plural = _("revenue partners")
        permissions = [("use_partner_portal", _("Can use the revenue partner portal"))]

    def __str__(self):
        return self.name

    @property
    def payout_account(self) -> str:
        from accounting.crypto import decrypt

        return decrypt(self.payout_account_encrypted)

    @payout_account.setter
    def payout_account(self, value: str) -> None:
        from accounting.crypto import encrypt

        self.payout_account_encrypted = encrypt(value or "")

    @property
    def payout_account_masked(self) -> str:
        account = self.payout_account
        return f"…{account[-4:]}" if account else ""


class SharingRule(models.Model):
    """One version of a sharing rule. Changing a rule ends this version and starts the next
    (same `code`, version + 1); accruals point at the version they were computed with."""

    class Basis(models.TextChoices):
        GROSS = "gross", _("Gross paid")
        NET_REFUNDS = "net_refunds", _("Net of refunds")
        NET_FEES = "net_fees", _("Net of payment fees")
        PROFIT = "profit", _("Gross profit (net − cost)")

    class Method(models.TextChoices):
        PERCENT = "percent", _("Percentage of the basis")
        PER_ORDER = "per_order", _("Fixed amount per order")
        PER_UNIT = "per_unit", _("Fixed amount per unit")

    code = models.CharField(_("rule"), max_length=20, db_index=True, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    partner = models.ForeignKey(
        Partner, verbose_name=_("revenue partner"), on_delete=models.PROTECT, related_name="rules"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    site = models.ForeignKey(
        Site, verbose_name=_("site"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    device = models.ForeignKey(
        Device, verbose_name=_("device"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order_kind = models.CharField(_("order kind"), max_length=20, choices=OrderKind.choices, blank=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    basis = models.CharField(_("basis"), max_length=12, choices=Basis.choices, default=Basis.GROSS)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices, default=Method.PERCENT)
    rate = models.DecimalField(_("percentage"), default=ZERO, **RATE)
    amount = models.DecimalField(_("fixed amount"), default=ZERO, **MONEY)
    # [{"above": "10000.00", "rate": "12.0000"}, ...]: a higher percentage once the partner's basis
    # under this rule passed `above` in the calendar month.
    tiers = models.JSONField(_("volume tiers"), default=list, blank=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    created_by = models.CharField(_("created by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    scope_region_path = "partner__region__path"
    scope_site = None
    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="one_sharing_rule_version"),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lte=100, amount__gte=0), name="sharing_rule_figures"),
        ]
        verbose_name = _("sharing rule")
        verbose_name_plural = _("sharing rules")

    def __str__(self):
        return f"{self.code} v{self.version} · {self.partner}"

    @property
    def scope_label(self) -> str:
        parts = [
            str(self.get_order_kind_display()) if self.order_kind else "",
            str(self.region or ""),
            str(self.site or ""),
            str(self.device or ""),
            str(self.category or ""),
            str(self.product or ""),
        ]
        return " · ".join(p for p in parts if p) or str(_("every order"))

    @property
    def terms_label(self) -> str:
        if self.method == self.Method.PERCENT:
            text = f"{self.rate.normalize():f}% {self.get_basis_display()}"
            for tier in self.tiers or []:
                text += f"; >{tier['above']}: {Decimal(tier['rate']).normalize():f}%"
            return text
        return f"{self.amount} {self.get_method_display()}"


class CommissionAccount(models.Model):
    """Per partner: pending (in the freeze period), available (may be withdrawn), in payout (asked
    for, not yet paid). System: commission expense (what the shares cost us), payouts (money sent
    out, per method), withdrawal fees (kept by us)."""

    class Kind(models.TextChoices):
        PENDING = "pending", pgettext_lazy("commission", "Pending")
        AVAILABLE = "available", _("Available")
        IN_PAYOUT = "in_payout", _("In payout")
        EXPENSE = "expense", _("Commission expense")
        PAYOUTS = "payouts", _("Payouts")
        FEES = "fees", _("Withdrawal fees")

    PARTNER_KINDS = (Kind.PENDING, Kind.AVAILABLE, Kind.IN_PAYOUT)

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")
    method = models.CharField(_("method"), max_length=10, blank=True)
    balance = models.DecimalField(_("balance"), default=ZERO, **MONEY)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    scope_region_path = "partner__region__path"
    scope_site = None
    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["partner_id", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "kind"], condition=Q(partner__isnull=False), name="one_commission_account_per_kind"
            ),
            models.UniqueConstraint(
                fields=["kind", "method"], condition=Q(partner__isnull=True), name="one_commission_system_account"
            ),
            # Pending and in-payout money is never negative; available may be, by a reversal only.
            models.CheckConstraint(
                condition=~Q(kind__in=["pending", "in_payout"]) | Q(balance__gte=0),
                name="commission_pending_never_negative",
            ),
        ]
        verbose_name = _("commission account")
        verbose_name_plural = _("commission accounts")

    def __str__(self):
        return f"{self.partner or self.method or 'system'}:{self.kind}"


class CommissionTransaction(models.Model):
    class Kind(models.TextChoices):
        ACCRUAL = "accrual", _("Accrual")
        RELEASE = "release", _("Made available")
        REVERSAL = "reversal", _("Refund reversal")
        WITHDRAWAL = "withdrawal", _("Withdrawal requested")
        PAYOUT = "payout", _("Payout")
        RETURN = "return", _("Returned to available")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    partner = models.ForeignKey(Partner, verbose_name=_("revenue partner"), on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount"), **MONEY)
    idempotency_key = models.CharField(max_length=120, unique=True)
    accrual = models.ForeignKey("Accrual", null=True, blank=True, on_delete=models.PROTECT, related_name="transactions")
    withdrawal = models.ForeignKey(
        "Withdrawal", null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    scope_region_path = "partner__region__path"
    scope_site = None
    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="commission_transaction_positive")]
        verbose_name = _("commission transaction")
        verbose_name_plural = _("commission transactions")

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"


class CommissionEntry(models.Model):
    transaction = models.ForeignKey(CommissionTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(CommissionAccount, on_delete=models.PROTECT, related_name="entries")
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        ordering = ["transaction_id", "pk"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="commission_entry_not_zero")]
        verbose_name = _("commission entry")
        verbose_name_plural = _("commission entries")

    def __str__(self):
        return f"{self.account}: {self.amount}"


class Accrual(models.Model):
    """One partner's share of one paid order under one rule version, with the order's figures it
    was computed from. Posted once: (order, rule version) is unique."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("commission", "Pending")
        AVAILABLE = "available", _("Available")
        SETTLED = "settled", _("Written off")

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="accruals")
    rule = models.ForeignKey(
        SharingRule, verbose_name=_("rule version"), on_delete=models.PROTECT, related_name="accruals"
    )
    partner = models.ForeignKey(
        Partner, verbose_name=_("revenue partner"), on_delete=models.PROTECT, related_name="accruals"
    )
    site = models.ForeignKey(
        Site, verbose_name=_("site"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    device = models.ForeignKey(
        Device, verbose_name=_("device"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    basis = models.CharField(_("basis"), max_length=12, choices=SharingRule.Basis.choices)
    basis_amount = models.DecimalField(_("basis amount"), **MONEY)
    rate = models.DecimalField(_("percentage"), default=ZERO, **RATE)
    units = models.PositiveIntegerField(_("units"), default=0)
    amount = models.DecimalField(_("share"), **MONEY)
    reversed_amount = models.DecimalField(_("reversed"), default=ZERO, **MONEY)
    released_amount = models.DecimalField(_("made available"), default=ZERO, **MONEY)
    written_off = models.DecimalField(_("written off"), default=ZERO, **MONEY)
    # The order's figures at accrual time: paid, refunded, fees, cost, lines used (the storage module).
    figures = models.JSONField(_("order figures"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    accrued_at = models.DateTimeField(_("accrued"), auto_now_add=True, db_index=True)
    earned_on = models.DateField(_("earned on"), db_index=True)
    available_from = models.DateTimeField(_("available from"), db_index=True)
    settled_at = models.DateTimeField(_("written off at"), null=True, blank=True)

    scope_region_path = "partner__region__path"
    scope_site = None
    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-accrued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "rule"], name="one_accrual_per_order_and_rule_version"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="accrual_amount_positive"),
            models.CheckConstraint(
                condition=Q(reversed_amount__gte=0, reversed_amount__lte=models.F("amount")),
                name="accrual_reversal_within_amount",
            ),
        ]
        verbose_name = _("accrual")
        verbose_name_plural = _("accruals")

    def __str__(self):
        return f"{self.order_id}/{self.rule_id}: {self.amount}"

    @property
    def net_amount(self) -> Decimal:
        return self.amount - self.reversed_amount


class Withdrawal(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        PAYING = "paying", _("Paying")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Payout failed")
        REJECTED = "rejected", _("Rejected")

    number = models.CharField(_("number"), max_length=24, unique=True)
    partner = models.ForeignKey(
        Partner, verbose_name=_("revenue partner"), on_delete=models.PROTECT, related_name="withdrawals"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    fee = models.DecimalField(_("fee"), default=ZERO, **MONEY)
    method = models.CharField(_("payout method"), max_length=10, choices=Partner.PayoutMethod.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED, db_index=True
    )
    approvals_required = models.PositiveSmallIntegerField(_("approvals required"), default=1)
    automatic = models.BooleanField(_("automatic settlement"), default=False)
    requested_by = models.CharField(_("requested by"), max_length=150, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    payout_reference = models.CharField(_("payout reference"), max_length=100, blank=True)
    exported_at = models.DateTimeField(_("in bank file"), null=True, blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True, db_index=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)

    scope_region_path = "partner__region__path"
    scope_site = None
    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0, fee__gte=0, fee__lt=models.F("amount")), name="withdrawal_amounts"
            ),
        ]
        verbose_name = _("withdrawal")
        verbose_name_plural = _("withdrawals")

    def __str__(self):
        return self.number

    @property
    def net(self) -> Decimal:
        return self.amount - self.fee


class WithdrawalApproval(models.Model):
    withdrawal = models.ForeignKey(Withdrawal, on_delete=models.PROTECT, related_name="approvals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["withdrawal", "user"], name="one_approval_per_user")]
        verbose_name = _("withdrawal approval")
        verbose_name_plural = _("withdrawal approvals")

    def __str__(self):
        return f"{self.withdrawal_id}: {self.user_id}"


class WithdrawalEvent(models.Model):
    """Every state change of a withdrawal, with who did it."""

    withdrawal = models.ForeignKey(Withdrawal, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    actor_label = models.CharField(_("actor"), max_length=150)
    action = models.CharField(_("action"), max_length=30)
    from_status = models.CharField(_("from"), max_length=10, blank=True)
    to_status = models.CharField(_("to"), max_length=10, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("withdrawal event")
        verbose_name_plural = _("withdrawal events")

    def __str__(self):
        return f"{self.withdrawal_id}: {self.action}"


# --- Names of the codes a withdrawal's history stores (core.labels) ----------------------------
labels_register("withdrawal.status", dict(Withdrawal.Status.choices))
labels_register(
    "withdrawal.action",
    {
        "requested": _("Withdrawal requested"),
        "approved_once": pgettext_lazy("withdrawal event", "First of two approvals"),
        "approved": _("Approved"),
        "rejected": _("Rejected"),
        "sent": _("Sent"),
        "paid": _("Paid"),
        "failed": _("Payout failed"),
    },
)


class WriteOff(models.Model):
    """核销: this much of an accrual was paid by this withdrawal."""

    accrual = models.ForeignKey(Accrual, on_delete=models.PROTECT, related_name="write_offs")
    withdrawal = models.ForeignKey(Withdrawal, on_delete=models.PROTECT, related_name="write_offs")
    amount = models.DecimalField(_("amount"), **MONEY)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="write_off_positive")]
        verbose_name = _("write-off")
        verbose_name_plural = _("write-offs")

    def __str__(self):
        return f"{self.accrual_id} → {self.withdrawal_id}: {self.amount}"


class RefundReversal(models.Model):
    """A refund already taken into account for an accrual (so a redelivered task reverses once)."""

    accrual = models.ForeignKey(Accrual, on_delete=models.PROTECT, related_name="reversals")
    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount"), **MONEY)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["accrual", "refund"], name="one_reversal_per_refund")]

    def __str__(self):
        return f"{self.accrual_id} ← {self.refund_id}: {self.amount}"


from accounting.recon_models import *  # noqa: E402,F403
