"""Writes on the commission ledger (ADR 21, modelled on the wallet's ADR 3). Nothing else changes a
commission account's balance.

`post` is the one place entries are written: lines sum to zero, every balance moves by a
compare-and-set on the value read under a row lock (exact on SQLite too), accounts are locked in
one global order (the partner's accounts by key, then system accounts by key), and the idempotency
key makes a repeated posting return the first one. Pending and in-payout balances never go below
zero; available goes below zero only when `allow_negative` (a refund reversal) says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounting.models import ZERO, CommissionAccount, CommissionEntry, CommissionTransaction

CENT = Decimal("0.01")
K = CommissionAccount.Kind


class InsufficientBalance(ValidationError):
    pass


def money(value) -> Decimal:
    try:
        amount = Decimal(str(value).strip()).quantize(CENT, rounding=ROUND_HALF_UP)
    except Exception:
        raise ValidationError({"amount": _("Enter an amount of money.")}) from None
    if not amount.is_finite():
        raise ValidationError({"amount": _("Enter an amount of money.")})
    return amount


def label(actor) -> str:
    if actor is None:
        return "system"
    return getattr(actor, "get_username", lambda: str(actor))()[:150]


def partner_account(partner, kind: str) -> CommissionAccount:
    account = CommissionAccount.objects.filter(partner=partner, kind=kind).first()
    if account:
        return account
    try:
        with transaction.atomic():
            return CommissionAccount.objects.create(partner=partner, kind=kind)
    except IntegrityError:
        return CommissionAccount.objects.get(partner=partner, kind=kind)


def system_account(kind: str, method: str = "") -> CommissionAccount:
    account = CommissionAccount.objects.filter(partner__isnull=True, kind=kind, method=method).first()
    if account:
        return account
    try:
        with transaction.atomic():
            return CommissionAccount.objects.create(kind=kind, method=method)
    except IntegrityError:
        return CommissionAccount.objects.get(partner__isnull=True, kind=kind, method=method)


@dataclass(frozen=True)
class Balances:
    pending: Decimal
    available: Decimal
    in_payout: Decimal
    written_off: Decimal


def balances(*, partner) -> Balances:
    from accounting.models import WriteOff

    values = dict(CommissionAccount.objects.filter(partner=partner).values_list("kind", "balance"))
    written = total(WriteOff.objects.filter(withdrawal__partner=partner))
    return Balances(
        pending=values.get(K.PENDING, ZERO),
        available=values.get(K.AVAILABLE, ZERO),
        in_payout=values.get(K.IN_PAYOUT, ZERO),
        written_off=written,
    )


def _lock_rank(line) -> tuple[bool, int]:
    account = line[0]
    return (account.partner_id is None, account.pk)


def _move(account: CommissionAccount, delta: Decimal, *, allow_negative: bool) -> None:
    for _attempt in range(5):
        current = CommissionAccount.objects.select_for_update().values_list("balance", flat=True).get(pk=account.pk)
        new = current + delta
        if new < 0 and account.partner_id is not None and not (allow_negative and account.kind == K.AVAILABLE):
            raise InsufficientBalance(
                _("Only %(available)s is available; %(needed)s was asked for.")
                % {"available": current, "needed": -delta},
                code="insufficient",
            )
        if CommissionAccount.objects.filter(pk=account.pk, balance=current).update(
            balance=new, updated_at=timezone.now()
        ):
            return
    raise InsufficientBalance(_("The balance is changing too fast; try again."), code="contended")


def post(
    *,
    kind: str,
    key: str,
    partner,
    amount: Decimal,
    lines: list[tuple[CommissionAccount, Decimal]],
    accrual=None,
    withdrawal=None,
    actor=None,
    allow_negative: bool = False,
) -> CommissionTransaction:
    existing = CommissionTransaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    lines = [(account, money(delta)) for account, delta in lines if money(delta) != 0]
    if sum((delta for _a, delta in lines), ZERO) != 0:
        raise ValueError("commission ledger lines must sum to zero")
    try:
        with transaction.atomic():
            record = CommissionTransaction.objects.create(
                kind=kind,
                partner=partner,
                amount=money(amount),
                idempotency_key=key,
                accrual=accrual,
                withdrawal=withdrawal,
                actor_label=label(actor),
            )
            for account, delta in sorted(lines, key=_lock_rank):
                _move(account, delta, allow_negative=allow_negative)
                CommissionEntry.objects.create(transaction=record, account=account, amount=delta)
    except IntegrityError:
        existing = CommissionTransaction.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
        raise
    return record


def total(queryset, field: str = "amount") -> Decimal:
    """The sum of a money column, exact: SQLite sums decimals as floats, so it is rounded back to
    cents (sums of cents are exact to far more digits than a float loses)."""
    value = queryset.aggregate(total=Sum(field))["total"]
    return money(value) if value is not None else ZERO


def ledger_total() -> Decimal:
    """The sum of every entry and of every balance: both are zero when the books are right."""
    return total(CommissionEntry.objects.all())
