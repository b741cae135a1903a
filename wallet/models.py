"""Stored value as double-entry bookkeeping (see docs/adr/0003-wallet-ledger.md).

Every movement is a `LedgerTransaction` whose `Entry` rows sum to zero. An account's `balance`
is the running sum of its entries, changed only by wallet services through a conditional UPDATE
that refuses to take a customer account below zero; a CHECK constraint backs that up. Customers
have three accounts: `paid` (refundable money), `bonus` (given, not refundable) and `held`
(deposits on hold). System accounts: clearing per payment provider, bonus expense, revenue.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import Region
from core.scoping import RestrictedManager
from members.models import Customer
from orders.models import Order

MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")


class Account(models.Model):
    class Kind(models.TextChoices):
        PAID = "paid", _("Paid balance")
        BONUS = "bonus", _("Bonus balance")
        HELD = "held", _("Held deposits")
        CLEARING = "clearing", _("Payment clearing")
        BONUS_EXPENSE = "bonus_expense", _("Bonus expense")
        REVENUE = "revenue", _("Revenue")

    CUSTOMER_KINDS = (Kind.PAID, Kind.BONUS, Kind.HELD)

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    provider = models.CharField(_("provider"), max_length=20, blank=True)
    balance = models.DecimalField(_("balance"), default=ZERO, **MONEY)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    scope_region_path = "customer__home_region__path"
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["customer_id", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind"], condition=Q(customer__isnull=False), name="one_account_per_customer_kind"
            ),
            models.UniqueConstraint(
                fields=["kind", "provider"], condition=Q(customer__isnull=True), name="one_system_account_per_kind"
            ),
            models.CheckConstraint(
                condition=Q(customer__isnull=True) | Q(balance__gte=0), name="customer_balance_never_negative"
            ),
            models.CheckConstraint(
                condition=Q(customer__isnull=True, kind__in=["clearing", "bonus_expense", "revenue"])
                | Q(customer__isnull=False, kind__in=["paid", "bonus", "held"]),
                name="account_kind_matches_owner",
            ),
        ]
        verbose_name = _("wallet account")
        verbose_name_plural = _("wallet accounts")

    def __str__(self):
        owner = self.customer.phone if self.customer_id else (self.provider or "system")
        return f"{owner}:{self.kind}"


class LedgerTransaction(models.Model):
    class Kind(models.TextChoices):
        RECHARGE = "recharge", _("Recharge")
        BONUS = "bonus", _("Bonus")
        PAYMENT = "payment", _("Payment")
        REFUND = "refund", _("Refund")
        RECHARGE_REFUND = "recharge_refund", _("Recharge refund")
        HOLD = "hold", _("Deposit held")
        CAPTURE = "capture", _("Deposit captured")
        RELEASE = "release", _("Deposit released")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="wallet_transactions"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    idempotency_key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    reference = models.CharField(_("reference"), max_length=64, blank=True, db_index=True)
    order = models.ForeignKey(Order, verbose_name=_("order"), null=True, blank=True, on_delete=models.PROTECT)
    reverses = models.ForeignKey(
        "self", verbose_name=_("reverses"), null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    scope_region_path = "customer__home_region__path"
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="wallet_transaction_amount_positive")]
        verbose_name = _("wallet transaction")
        verbose_name_plural = _("wallet transactions")

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} ({self.customer_id})"


class Entry(models.Model):
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        ordering = ["transaction_id", "pk"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero")]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")

    def __str__(self):
        return f"{self.account}: {self.amount}"


class Hold(models.Model):
    class Status(models.TextChoices):
        HELD = "held", _("Held")
        CAPTURED = "captured", _("Captured")
        RELEASED = "released", _("Released")

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="holds")
    amount = models.DecimalField(_("amount"), **MONEY)
    captured = models.DecimalField(_("captured"), default=ZERO, **MONEY)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.HELD)
    reference = models.CharField(_("reference"), max_length=64, blank=True, db_index=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)

    scope_region_path = "customer__home_region__path"
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="hold_amount_positive"),
            models.CheckConstraint(
                condition=Q(captured__gte=0, captured__lte=models.F("amount")), name="hold_capture_within_amount"
            ),
        ]
        verbose_name = _("deposit hold")
        verbose_name_plural = _("deposit holds")

    def __str__(self):
        return f"{self.amount} for {self.reference or self.customer_id} ({self.status})"


class BonusTier(models.Model):
    """Recharge at least `min_amount` in `region` (and below it) during the window, get `bonus`."""

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    min_amount = models.DecimalField(_("recharge at least"), **MONEY)
    bonus = models.DecimalField(_("bonus"), **MONEY)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    scope_region_path = "region__path"
    scope_store_sees_region = True  # a store grant reads it (docs/adr/0035)
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["region", "min_amount"]
        constraints = [
            models.CheckConstraint(condition=Q(min_amount__gt=0, bonus__gte=0), name="bonus_tier_amounts"),
        ]
        verbose_name = _("bonus tier")
        verbose_name_plural = _("bonus tiers")

    def __str__(self):
        return f"{self.min_amount} → +{self.bonus}"


class Recharge(models.Model):
    """A recharge order's wallet side: what was paid and what bonus it earned."""

    order = models.OneToOneField(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="recharge")
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="recharges"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    bonus = models.DecimalField(_("bonus"), default=ZERO, **MONEY)
    tier = models.ForeignKey(BonusTier, verbose_name=_("bonus tier"), null=True, blank=True, on_delete=models.PROTECT)
    credited = models.ForeignKey(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("credited")
    )
    refunded = models.ForeignKey(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("refunded")
    )

    scope_region_path = "order__region__path"
    scope_site = "order__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-order__created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0, bonus__gte=0), name="recharge_amounts")]
        verbose_name = _("recharge")
        verbose_name_plural = _("recharges")

    def __str__(self):
        return f"{self.order.number}: {self.amount} + {self.bonus}"
