"""The journal export for finance software: voucher lines (one voucher per day and region) with
the finance software's account code for each kind of money, as CSV or XLSX (core.exports).

Kinds of money and where their lines come from are registries, so the commission side can add
its own without touching this module (ADR 22):

    journal_kind_register("commissions_payable", default_code="2241", label=_("Commissions payable"))
    journal_source_register("commissions", my_lines)   # my_lines(*, user, start, end) -> iterable of JournalLine

A source yields `JournalLine`s already scoped to `user`; each voucher it contributes must balance
(debits = credits), which the export checks. Account codes are `JournalAccount` rows that finance
edits on the journal page; a kind without a row uses its registered default."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MAX_DAYS = 366  # one export covers at most a year: finance books month by month


@dataclass(frozen=True)
class JournalKind:
    kind: str
    default_code: str
    label: object


@dataclass(frozen=True)
class JournalLine:
    day: datetime.date
    region: str  # the region's name: the finance software's cost centre
    kind: str
    summary: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO


KINDS: dict[str, JournalKind] = {}
SOURCES: dict[str, Callable[..., Iterable[JournalLine]]] = {}


def journal_kind_register(kind: str, *, default_code: str, label) -> None:
    KINDS[kind] = JournalKind(kind=kind, default_code=default_code, label=label)


def journal_source_register(name: str, source: Callable[..., Iterable[JournalLine]]) -> None:
    SOURCES[name] = source


# Defaults follow the PRC enterprise chart of accounts: 1001 cash on hand, 1012 other monetary
# funds (money held at a payment provider), 2203 advances from customers (stored value), 6001
# main business revenue, 6601 selling expenses, 6603 financial expenses (payment fees).
METHODS = {
    "cash": ("1001", gettext_lazy("Cash")),
    "card": ("1012", gettext_lazy("Card")),
    "alipay": ("1012", gettext_lazy("Alipay")),
    "wechat": ("1012", gettext_lazy("WeChat Pay")),
    "stripe": ("1012", gettext_lazy("Stripe")),
    "wallet": ("2203", gettext_lazy("Wallet balance")),
    "points": ("6601", gettext_lazy("Points")),
    "deposit": ("2241", gettext_lazy("Rental deposit")),
}


def _label(text, method_label):
    return lambda: text % {"method": method_label}


for _method, (_code, _name) in METHODS.items():
    journal_kind_register(
        f"clearing.{_method}", default_code=_code, label=(gettext_lazy("Money received: %(method)s"), _name)
    )
    journal_kind_register(f"sales.{_method}", default_code="6001", label=(gettext_lazy("Sales: %(method)s"), _name))
    journal_kind_register(
        f"fees.{_method}", default_code="6603", label=(gettext_lazy("Payment fees: %(method)s"), _name)
    )
    journal_kind_register(f"refunds.{_method}", default_code="6001", label=(gettext_lazy("Refunds: %(method)s"), _name))


def kind_label(kind: str) -> str:
    entry = KINDS.get(kind)
    if entry is None:
        return kind
    label = entry.label
    if isinstance(label, tuple):
        return str(label[0]) % {"method": str(label[1])}
    return str(label)


def account_codes() -> dict[str, str]:
    from accounting.recon_models import JournalAccount

    codes = {kind: entry.default_code for kind, entry in KINDS.items()}
    codes.update(dict(JournalAccount.objects.values_list("kind", "code")))
    return codes


def journal_accounts_set(*, actor, codes: dict[str, str]) -> int:
    """Finance sets the account code of each kind of money; returns how many changed (audited)."""
    from accounting.recon_models import JournalAccount
    from core.services import audit_record

    current = account_codes()
    changed = {}
    for kind, code in codes.items():
        code = (code or "").strip()
        if kind not in KINDS:
            raise ValidationError(_("There is no kind of money %(kind)s.") % {"kind": kind})
        if not code or len(code) > 40 or not code.replace(".", "").replace("-", "").isalnum():
            raise ValidationError(
                _("The account code of %(kind)s must be 1 to 40 letters, digits, dots or dashes.")
                % {"kind": kind_label(kind)}
            )
        if current.get(kind) != code:
            changed[kind] = [current.get(kind), code]
    with transaction.atomic():
        for kind, (_before, code) in changed.items():
            JournalAccount.objects.update_or_create(kind=kind, defaults={"code": code, "name": kind_label(kind)[:120]})
        if changed:
            audit_record(actor=actor, action="journal.accounts", changes=changed)
    return len(changed)


def _cents(value) -> Decimal:
    """A summed amount to the cent (SQLite sums decimals as floats)."""
    return Decimal(str(value or 0)).quantize(CENT)


def _payments_lines(*, user, start, end) -> Iterable[JournalLine]:
    """Sales, fees and refunds per day, region and method, from settled payments and refunds."""
    from orders.models import Payment, Refund

    tz = timezone.get_current_timezone()
    payments = (
        Payment.objects.restrict(user)
        .filter(status=Payment.Status.SUCCEEDED)
        .annotate(day=TruncDate("succeeded_at", tzinfo=tz))
        .filter(day__range=(start, end))
        .values("day", "order__region__name", "provider")
        .annotate(amount=Sum("amount"), fees=Sum("fee"))
        .order_by("day", "order__region__name", "provider")
    )
    for row in payments:
        method, region, day = row["provider"], row["order__region__name"], row["day"]
        amount, fees = _cents(row["amount"]), _cents(row["fees"])
        summary = _("Sales %(day)s by %(method)s") % {"day": day, "method": kind_label(f"clearing.{method}")}
        yield JournalLine(day, region, f"clearing.{method}", summary, debit=amount)
        yield JournalLine(day, region, f"sales.{method}", summary, credit=amount)
        if fees:
            summary = _("Payment fees %(day)s, %(method)s") % {"day": day, "method": kind_label(f"clearing.{method}")}
            yield JournalLine(day, region, f"fees.{method}", summary, debit=fees)
            yield JournalLine(day, region, f"clearing.{method}", summary, credit=fees)
    refunds = (
        Refund.objects.restrict(user)
        .filter(status=Refund.Status.SUCCEEDED)
        .annotate(day=TruncDate("succeeded_at", tzinfo=tz))
        .filter(day__range=(start, end))
        .values("day", "order__region__name", "payment__provider")
        .annotate(amount=Sum("amount"))
        .order_by("day", "order__region__name", "payment__provider")
    )
    for row in refunds:
        method, region, day = row["payment__provider"], row["order__region__name"], row["day"]
        summary = _("Refunds %(day)s by %(method)s") % {"day": day, "method": kind_label(f"clearing.{method}")}
        yield JournalLine(day, region, f"refunds.{method}", summary, debit=_cents(row["amount"]))
        yield JournalLine(day, region, f"clearing.{method}", summary, credit=_cents(row["amount"]))


journal_source_register("payments", _payments_lines)


def journal_rows(*, user, start: datetime.date, end: datetime.date) -> tuple[list[str], list[list]]:
    """(headers, rows) of the voucher lines between `start` and `end`, scoped to `user`."""
    if end < start:
        raise ValidationError(_("The period must end on or after its first day."))
    if (end - start).days >= MAX_DAYS:
        raise ValidationError(_("Export at most a year at a time."))
    codes = account_codes()
    vouchers: dict[tuple, list[JournalLine]] = defaultdict(list)
    for source in SOURCES.values():
        for line in source(user=user, start=start, end=end):
            vouchers[(line.day, line.region)].append(line)
    headers = [
        _("Date"),
        _("Voucher"),
        _("Line"),
        _("Account code"),
        pgettext("ledger", "Account"),
        _("Summary"),
        _("Debit"),
        _("Credit"),
        _("Region"),
    ]
    rows = []
    for number, key in enumerate(sorted(vouchers), start=1):
        lines = vouchers[key]
        debit = sum((line.debit for line in lines), ZERO)
        credit = sum((line.credit for line in lines), ZERO)
        if debit != credit:  # a source that does not balance is a bug; never hand it to finance
            raise ValidationError(_("Voucher of %(day)s does not balance.") % {"day": key[0]})
        voucher = f"{key[0]:%Y%m%d}-{number:04d}"
        for position, line in enumerate(lines, start=1):
            rows.append(
                [
                    line.day.isoformat(),
                    voucher,
                    position,
                    codes.get(line.kind, ""),
                    kind_label(line.kind),
                    line.summary,
                    line.debit,
                    line.credit,
                    line.region,
                ]
            )
    return [str(h) for h in headers], rows
