"""Writes on the wallet ledger. Nothing else changes an account balance.

`_post` is the one place entries are written: the lines must sum to zero, each balance moves by a
conditional UPDATE that refuses to take a customer account below zero, accounts are touched in
primary-key order (no deadlocks between concurrent postings), and the idempotency key makes a
repeated call return the first transaction — or fail if it asks for something different.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from wallet.models import ZERO, Account, BonusTier, Entry, Hold, LedgerTransaction

CENT = Decimal("0.01")
K = Account.Kind
T = LedgerTransaction.Kind


class InsufficientFunds(ValidationError):
    pass


class IdempotencyConflict(ValidationError):
    pass


def money(value) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except Exception:
        raise ValidationError({"amount": _("Enter an amount of money.")}) from None
    if not amount.is_finite():
        raise ValidationError({"amount": _("Enter an amount of money.")})
    return amount


def _positive(value) -> Decimal:
    amount = money(value)
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    if amount >= Decimal("1000000000"):
        raise ValidationError({"amount": _("The amount is too large.")})
    return amount


def _label(actor) -> str:
    if actor is None:
        return "system"
    return getattr(actor, "get_username", lambda: str(actor))()[:150]


# --- Accounts -----------------------------------------------------------------------------
def account_for(*, customer, kind: str = K.PAID) -> Account:
    if kind not in Account.CUSTOMER_KINDS:
        raise ValueError(f"{kind} is not a customer account")
    account = Account.objects.filter(customer=customer, kind=kind).first()
    if account:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(customer=customer, kind=kind)
    except IntegrityError:
        return Account.objects.get(customer=customer, kind=kind)


def system_account(kind: str, provider: str = "") -> Account:
    account = Account.objects.filter(customer__isnull=True, kind=kind, provider=provider).first()
    if account:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(kind=kind, provider=provider)
    except IntegrityError:
        return Account.objects.get(customer__isnull=True, kind=kind, provider=provider)


@dataclass(frozen=True)
class Balances:
    paid: Decimal
    bonus: Decimal
    held: Decimal

    @property
    def spendable(self) -> Decimal:
        return self.paid + self.bonus


def balances(*, customer) -> Balances:
    values = dict(Account.objects.filter(customer=customer).values_list("kind", "balance"))
    return Balances(paid=values.get(K.PAID, ZERO), bonus=values.get(K.BONUS, ZERO), held=values.get(K.HELD, ZERO))


# --- Posting --------------------------------------------------------------------------------
def _existing(key: str, *, kind: str, customer, amount: Decimal) -> LedgerTransaction | None:
    existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
    if existing is None:
        return None
    if existing.kind != kind or existing.customer_id != customer.pk or existing.amount != amount:
        raise IdempotencyConflict(_("This idempotency key was already used for a different movement."))
    return existing


def _post(
    *,
    kind: str,
    key: str,
    customer,
    amount: Decimal,
    lines: list[tuple[Account, Decimal]],
    reference: str = "",
    order=None,
    reverses=None,
    actor=None,
) -> LedgerTransaction:
    if not key or len(key) > 120:
        raise ValidationError(_("Every wallet movement needs an idempotency key of at most 120 characters."))
    existing = _existing(key, kind=kind, customer=customer, amount=amount)
    if existing:
        return existing
    lines = [(account, money(delta)) for account, delta in lines if money(delta) != 0]
    if sum((delta for _a, delta in lines), ZERO) != 0:
        raise ValueError("ledger lines must sum to zero")
    try:
        with transaction.atomic():
            record = LedgerTransaction.objects.create(
                kind=kind,
                customer=customer,
                amount=amount,
                idempotency_key=key,
                reference=reference[:64],
                order=order,
                reverses=reverses,
                actor_label=_label(actor),
            )
            for account, delta in sorted(lines, key=_lock_rank):
                _move(account, delta)
                Entry.objects.create(transaction=record, account=account, amount=delta)
    except IntegrityError:
        existing = _existing(key, kind=kind, customer=customer, amount=amount)  # a concurrent twin won
        if existing:
            return existing
        raise
    return record


def _lock_rank(line: tuple[Account, Decimal]) -> tuple[bool, int]:
    """The global lock order of ADR 3 within a posting: the customer's accounts first, in key
    order, then the system accounts, in key order. A payment locks its customer's accounts before
    it adds to revenue, so a refund (which takes from revenue) must not lock revenue first."""
    account = line[0]
    return (account.customer_id is None, account.pk)


def _move(account: Account, delta: Decimal) -> None:
    """Change one balance. A customer account is read under a row lock and written with a
    compare-and-set on the value read, so it is exact (no float arithmetic in SQLite either) and
    never goes below zero; system accounts are plain increments."""
    if not account.customer_id:
        Account.objects.filter(pk=account.pk).update(balance=F("balance") + delta, updated_at=timezone.now())
        return
    for _attempt in range(5):
        current = Account.objects.select_for_update().values_list("balance", flat=True).get(pk=account.pk)
        new = current + delta
        if new < 0:
            raise InsufficientFunds(
                _("Insufficient balance: %(needed)s needed, %(available)s available.")
                % {"needed": -delta, "available": current},
                code="insufficient",
            )
        if Account.objects.filter(pk=account.pk, balance=current).update(balance=new, updated_at=timezone.now()):
            return
    raise InsufficientFunds(_("The balance is changing too fast; try again."), code="contended")


def _locked_customer_accounts(customer, *kinds) -> dict[str, Account]:
    accounts = [account_for(customer=customer, kind=kind) for kind in kinds]
    locked = Account.objects.select_for_update().filter(pk__in=[a.pk for a in accounts]).order_by("pk")
    return {account.kind: account for account in locked}


# --- Recharge and bonus -----------------------------------------------------------------------
def bonus_for(*, region, amount: Decimal, at=None) -> tuple[Decimal, BonusTier | None]:
    """The best active tier of the region or any region above it for this recharge amount."""
    at = at or timezone.now()
    ancestors = region.ancestor_ids() if region else []
    tiers = (
        BonusTier.objects.filter(region_id__in=ancestors, is_active=True, min_amount__lte=amount)
        .exclude(valid_from__gt=at)
        .exclude(valid_until__lt=at)
        .order_by("-bonus", "-min_amount")
    )
    tier = tiers.first()
    return (tier.bonus, tier) if tier else (ZERO, None)


def recharge_credit(
    *, customer, amount, bonus=ZERO, provider: str, key: str, order=None, actor=None
) -> LedgerTransaction:
    """Money paid in through `provider` becomes paid balance; the bonus it earned, bonus balance."""
    amount, bonus = _positive(amount), money(bonus)
    if bonus < 0:
        raise ValidationError({"bonus": _("A bonus cannot be negative.")})
    with transaction.atomic():
        lines = [
            (system_account(K.CLEARING, provider), -amount),
            (account_for(customer=customer, kind=K.PAID), amount),
        ]
        if bonus:
            lines += [(system_account(K.BONUS_EXPENSE), -bonus), (account_for(customer=customer, kind=K.BONUS), bonus)]
        return _post(
            kind=T.RECHARGE,
            key=key,
            customer=customer,
            amount=amount,
            lines=lines,
            order=order,
            reference=getattr(order, "number", ""),
            actor=actor,
        )


def recharge_reverse(*, customer, amount, bonus, provider: str, key: str, order=None, actor=None) -> LedgerTransaction:
    """Take a refunded recharge back out: the paid amount (it must still be there) and the bonus it
    earned (as much of it as is left)."""
    amount, bonus = _positive(amount), money(bonus)
    with transaction.atomic():
        accounts = _locked_customer_accounts(customer, K.PAID, K.BONUS)
        if accounts[K.PAID].balance < amount:
            raise InsufficientFunds(
                _("Only %(left)s of this recharge is left in the wallet; the rest was spent.")
                % {"left": accounts[K.PAID].balance},
                code="insufficient",
            )
        clawback = min(bonus, accounts[K.BONUS].balance)
        lines = [(accounts[K.PAID], -amount), (system_account(K.CLEARING, provider), amount)]
        if clawback:
            lines += [(accounts[K.BONUS], -clawback), (system_account(K.BONUS_EXPENSE), clawback)]
        return _post(
            kind=T.RECHARGE_REFUND,
            key=key,
            customer=customer,
            amount=amount,
            lines=lines,
            order=order,
            reference=getattr(order, "number", ""),
            actor=actor,
        )


# --- Paying and refunding ------------------------------------------------------------------
def wallet_pay(*, customer, amount, key: str, order=None, reference: str = "", actor=None) -> LedgerTransaction:
    """Pay from the wallet: paid balance first, then bonus. Refused, with nothing written, when
    the two together do not cover the amount."""
    amount = _positive(amount)
    with transaction.atomic():
        existing = _existing(key, kind=T.PAYMENT, customer=customer, amount=amount)
        if existing:
            return existing
        accounts = _locked_customer_accounts(customer, K.PAID, K.BONUS)
        paid, bonus = accounts[K.PAID].balance, accounts[K.BONUS].balance
        if paid + bonus < amount:
            raise InsufficientFunds(
                _("Insufficient balance: %(amount)s needed, %(available)s available.")
                % {"amount": amount, "available": paid + bonus},
                code="insufficient",
            )
        from_paid = min(paid, amount)
        lines = [
            (accounts[K.PAID], -from_paid),
            (accounts[K.BONUS], -(amount - from_paid)),
            (system_account(K.REVENUE), amount),
        ]
        return _post(
            kind=T.PAYMENT,
            key=key,
            customer=customer,
            amount=amount,
            lines=lines,
            order=order,
            reference=reference or getattr(order, "number", ""),
            actor=actor,
        )


def wallet_refund(*, payment: LedgerTransaction, amount, key: str, actor=None) -> LedgerTransaction:
    """Give (part of) a wallet payment back, to paid and bonus in the proportion it was taken."""
    amount = _positive(amount)
    with transaction.atomic():
        existing = _existing(key, kind=T.REFUND, customer=payment.customer, amount=amount)
        if existing:
            return existing
        payment = LedgerTransaction.objects.select_for_update().get(pk=payment.pk)
        if payment.kind != T.PAYMENT:
            raise ValidationError(_("Only a wallet payment can be refunded to the wallet."))
        refunded = payment.reversals.filter(kind=T.REFUND).aggregate(total=Sum("amount"))["total"] or ZERO
        if amount > payment.amount - refunded:
            raise ValidationError(
                {"amount": _("At most %(max)s can be refunded.") % {"max": payment.amount - refunded}}
            )
        taken = {e.account.kind: -e.amount for e in payment.entries.select_related("account") if e.account.customer_id}
        taken_bonus = taken.get(K.BONUS, ZERO)
        to_bonus = min(taken_bonus, (amount * taken_bonus / payment.amount).quantize(CENT, rounding=ROUND_HALF_UP))
        customer = payment.customer
        lines = [
            (system_account(K.REVENUE), -amount),
            (account_for(customer=customer, kind=K.PAID), amount - to_bonus),
            (account_for(customer=customer, kind=K.BONUS), to_bonus),
        ]
        return _post(
            kind=T.REFUND,
            key=key,
            customer=customer,
            amount=amount,
            lines=lines,
            order=payment.order,
            reverses=payment,
            reference=payment.reference,
            actor=actor,
        )


# --- Deposit holds --------------------------------------------------------------------------
def hold_place(*, customer, amount, reference: str, idempotency_key: str, actor=None) -> Hold:
    """Move a deposit from the paid balance into a hold; a held amount cannot be spent."""
    amount = _positive(amount)
    existing = Hold.objects.filter(idempotency_key=idempotency_key).first()
    if existing:
        if existing.amount != amount or existing.customer_id != customer.pk:
            raise IdempotencyConflict(_("This idempotency key was already used for a different hold."))
        return existing
    try:
        with transaction.atomic():
            hold = Hold.objects.create(
                customer=customer, amount=amount, reference=reference[:64], idempotency_key=idempotency_key
            )
            _post(
                kind=T.HOLD,
                key=f"hold:{hold.pk}:place",
                customer=customer,
                amount=amount,
                lines=[
                    (account_for(customer=customer, kind=K.PAID), -amount),
                    (account_for(customer=customer, kind=K.HELD), amount),
                ],
                reference=reference,
                actor=actor,
            )
    except IntegrityError:
        return Hold.objects.get(idempotency_key=idempotency_key)
    return hold


def hold_capture(*, hold: Hold, amount, actor=None, reference: str = "") -> Hold:
    """Charge up to the held amount and release the rest. Capturing again changes nothing."""
    amount = money(amount)
    with transaction.atomic():
        hold = Hold.objects.select_for_update().get(pk=hold.pk)
        if hold.status == Hold.Status.CAPTURED and hold.captured == amount:
            return hold
        if hold.status != Hold.Status.HELD:
            raise ValidationError(_("This deposit is already %(status)s.") % {"status": hold.get_status_display()})
        if not ZERO <= amount <= hold.amount:
            raise ValidationError({"amount": _("Capture between 0 and %(max)s.") % {"max": hold.amount}})
        held = account_for(customer=hold.customer, kind=K.HELD)
        if amount:
            _post(
                kind=T.CAPTURE,
                key=f"hold:{hold.pk}:capture",
                customer=hold.customer,
                amount=amount,
                lines=[(held, -amount), (system_account(K.REVENUE), amount)],
                reference=reference or hold.reference,
                actor=actor,
            )
        rest = hold.amount - amount
        if rest:
            _post(
                kind=T.RELEASE,
                key=f"hold:{hold.pk}:release",
                customer=hold.customer,
                amount=rest,
                lines=[(held, -rest), (account_for(customer=hold.customer, kind=K.PAID), rest)],
                reference=reference or hold.reference,
                actor=actor,
            )
        hold.captured, hold.status, hold.settled_at = amount, Hold.Status.CAPTURED, timezone.now()
        hold.save(update_fields=["captured", "status", "settled_at"])
        return hold


def hold_release(*, hold: Hold, actor=None) -> Hold:
    """Give the whole deposit back. Releasing again changes nothing."""
    with transaction.atomic():
        hold = Hold.objects.select_for_update().get(pk=hold.pk)
        if hold.status == Hold.Status.RELEASED:
            return hold
        if hold.status != Hold.Status.HELD:
            raise ValidationError(_("This deposit is already %(status)s.") % {"status": hold.get_status_display()})
        _post(
            kind=T.RELEASE,
            key=f"hold:{hold.pk}:release",
            customer=hold.customer,
            amount=hold.amount,
            lines=[
                (account_for(customer=hold.customer, kind=K.HELD), -hold.amount),
                (account_for(customer=hold.customer, kind=K.PAID), hold.amount),
            ],
            reference=hold.reference,
            actor=actor,
        )
        hold.status, hold.settled_at = Hold.Status.RELEASED, timezone.now()
        hold.save(update_fields=["status", "settled_at"])
        return hold


def statement(*, customer):
    """Every movement of the customer's accounts, newest first."""
    return (
        Entry.objects.filter(account__customer=customer)
        .select_related("transaction", "account")
        .order_by("-transaction__created_at", "-pk")
    )
