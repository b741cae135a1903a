"""Reconciliation against the payment providers' own statements, and the journal's account codes.

A `Statement` is one imported file (WeChat Pay trade bill, Alipay account statement, Stripe
balance transactions); its `StatementLine`s are the provider's rows as parsed. A `StatementDay`
per provider, region and day makes a second import of the same day impossible, even when two
arrive at once. Reconciling a provider's day writes one `ReconItem` per payment, refund or
provider line: matched, or a named difference that finance resolves with a note. Not here: the
commission ledger, partners and withdrawals (accounting/models.py)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.scoping import RestrictedManager

__all__ = ["JournalAccount", "ReconItem", "Statement", "StatementDay", "StatementLine"]

MONEY = {"max_digits": 14, "decimal_places": 2}


class StatementProvider(models.TextChoices):
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    STRIPE = "stripe", _("Stripe")


class Statement(models.Model):
    """One provider statement file as imported: who brought it, when, and what it held."""

    Provider = StatementProvider

    provider = models.CharField(_("provider"), max_length=20, choices=StatementProvider.choices)
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region"))
    file_name = models.CharField(_("file"), max_length=255)
    file_hash = models.CharField(_("SHA-256"), max_length=64, unique=True)
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(_("imported"), auto_now_add=True)

    scope_region_path = "region__path"
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["-first_day", "-pk"]
        verbose_name = _("provider statement")
        verbose_name_plural = _("provider statements")

    def __str__(self):
        return f"{self.get_provider_display()} {self.first_day}"


class StatementDay(models.Model):
    """A day of a provider's statement for a region: imported once (the unique constraint is what
    two simultaneous imports of the same file or day collide on)."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="days")
    provider = models.CharField(_("provider"), max_length=20, choices=StatementProvider.choices)
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("day"))

    scope_region_path = "region__path"
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["-day"]
        verbose_name = _("statement day")
        verbose_name_plural = _("statement days")
        constraints = [
            models.UniqueConstraint(fields=["provider", "region", "day"], name="statement_day_once"),
        ]

    def __str__(self):
        return f"{self.provider} {self.day}"


class StatementLine(models.Model):
    """One row of the provider's file, in our terms: a payment, a refund or a fee, with the
    provider's references and its own figures."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        REFUND = "refund", _("Refund")
        FEE = "fee", _("Fee")
        OTHER = "other", _("Other")

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField(_("line"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    day = models.DateField(_("day"), db_index=True)
    occurred_at = models.DateTimeField(_("at"))
    merchant_reference = models.CharField(_("our reference"), max_length=100, blank=True, db_index=True)
    provider_reference = models.CharField(_("provider reference"), max_length=100, blank=True)
    refund_reference = models.CharField(_("refund reference"), max_length=100, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    fee = models.DecimalField(_("fee"), default=0, **MONEY)
    raw = models.JSONField(default=dict, blank=True)

    scope_region_path = "statement__region__path"
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["statement", "line_no"]
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")

    def __str__(self):
        return f"{self.statement_id}:{self.line_no}"


class ReconItem(models.Model):
    """What reconciling a provider's day found for one payment, refund or provider line."""

    class Kind(models.TextChoices):
        MATCHED = "matched", _("Matched")
        AMOUNT = "amount_differs", _("Amount differs")
        FEE = "fee_differs", _("Fee differs from the configured rate")
        OURS_ONLY = "ours_only", _("Ours only")
        THEIRS_ONLY = "theirs_only", _("Theirs only")

    class Status(models.TextChoices):
        MATCHED = "matched", _("Matched")
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    provider = models.CharField(_("provider"), max_length=20, choices=StatementProvider.choices)
    day = models.DateField(_("day"), db_index=True)
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region"))
    # What the item is about: "payment:<pk>", "refund:<pk>" or "line:<pk>"; one item per subject.
    subject = models.CharField(max_length=40)
    kind = models.CharField(_("result"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    payment = models.ForeignKey(
        "orders.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("payment")
    )
    refund = models.ForeignKey(
        "orders.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("refund")
    )
    line = models.ForeignKey(
        StatementLine,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("statement line"),
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    our_amount = models.DecimalField(_("our amount"), null=True, blank=True, **MONEY)
    their_amount = models.DecimalField(_("their amount"), null=True, blank=True, **MONEY)
    expected_fee = models.DecimalField(_("fee at our rate"), null=True, blank=True, **MONEY)
    their_fee = models.DecimalField(_("their fee"), null=True, blank=True, **MONEY)
    note = models.TextField(_("resolution note"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    scope_region_path = "region__path"
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["-day", "provider", "kind", "pk"]
        verbose_name = _("reconciliation item")
        verbose_name_plural = _("reconciliation items")
        permissions = [("export_journal", _("Can export the journal for finance software"))]
        constraints = [
            models.UniqueConstraint(fields=["provider", "day", "subject"], name="recon_item_once_per_subject"),
            models.CheckConstraint(
                condition=Q(status="resolved", resolved_at__isnull=False) | ~Q(status="resolved"),
                name="recon_item_resolved_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.provider} {self.day} {self.kind} {self.reference}"


class JournalAccount(models.Model):
    """The finance software's account code for one kind of money (journal export, ADR 22). Kinds
    without a row use the defaults in accounting.journal."""

    kind = models.CharField(_("kind of money"), max_length=60, unique=True)
    code = models.CharField(_("account code"), max_length=40)
    name = models.CharField(_("account name"), max_length=120, blank=True)

    class Meta:
        ordering = ["kind"]
        verbose_name = _("journal account")
        verbose_name_plural = _("journal accounts")

    def __str__(self):
        return f"{self.kind}: {self.code}"
