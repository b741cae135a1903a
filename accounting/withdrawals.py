"""Withdrawals: a partner asks for (part of) its available balance, finance reviews it (two
different finance users above the threshold), the money is sent through the provider's transfer
API or a bank file, and a paid withdrawal writes off (核销) the accruals it paid. Automatic
settlement does the asking on the partner's schedule.

Money moves on the commission ledger only: asked → available to in payout (refused if available
does not cover it; the partner's available account is locked first, so concurrent requests queue),
paid → in payout to payouts and fees, rejected or failed → back to available.
"""

from __future__ import annotations

import secrets
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounting import ledger, payouts
from accounting.conf import setting
from accounting.models import (
    ZERO,
    Accrual,
    CommissionAccount,
    CommissionTransaction,
    Partner,
    Withdrawal,
    WithdrawalApproval,
    WithdrawalEvent,
    WriteOff,
)

CENT = Decimal("0.01")
K = CommissionAccount.Kind
T = CommissionTransaction.Kind
S = Withdrawal.Status
ONLINE_METHODS = ("wechat", "alipay")


def _event(withdrawal, actor, action, from_status, to_status, note=""):
    WithdrawalEvent.objects.create(
        withdrawal=withdrawal,
        actor_label=ledger.label(actor),
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note[:255],
    )


def withdrawal_fee(amount: Decimal) -> Decimal:
    fee = (amount * setting("WITHDRAWAL_FEE_RATE")).quantize(CENT, rounding=ROUND_HALF_UP)
    return max(fee, setting("WITHDRAWAL_FEE_MIN"))


def withdrawn_today(partner) -> Decimal:
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return ledger.total(
        Withdrawal.objects.filter(partner=partner, created_at__gte=start).exclude(status__in=[S.REJECTED, S.FAILED])
    )


def withdrawal_request(*, partner: Partner, amount, actor, automatic: bool = False) -> Withdrawal:
    """Ask for `amount` of the available balance. Refused, with nothing changed, below the
    minimum, above the daily maximum or above what is available."""
    amount = ledger.money(amount)
    minimum, daily_max = setting("WITHDRAWAL_MIN"), setting("WITHDRAWAL_DAILY_MAX")
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    if amount < minimum:
        raise ValidationError({"amount": _("At least %(min)s can be withdrawn at a time.") % {"min": minimum}})
    if not partner.is_active:
        raise ValidationError(_("This partner is inactive and cannot withdraw."))
    fee = withdrawal_fee(amount)
    if fee >= amount:
        raise ValidationError({"amount": _("The fee of %(fee)s would take all of it.") % {"fee": fee}})
    available = ledger.partner_account(partner, K.AVAILABLE)
    ledger.partner_account(partner, K.IN_PAYOUT)
    with transaction.atomic():
        # The partner's available account, locked first: this partner's requests queue here.
        current = CommissionAccount.objects.select_for_update().values_list("balance", flat=True).get(pk=available.pk)
        today = withdrawn_today(partner)
        if today + amount > daily_max:
            raise ValidationError(
                {
                    "amount": _("At most %(max)s a day can be withdrawn; %(left)s is left today.")
                    % {"max": daily_max, "left": max(daily_max - today, ZERO)}
                }
            )
        if amount > current:
            raise ValidationError(
                {
                    "amount": _("Only %(available)s is available; %(amount)s was asked for.")
                    % {"available": current, "amount": amount}
                }
            )
        threshold = setting("TWO_PERSON_THRESHOLD")
        withdrawal = Withdrawal.objects.create(
            number=f"W{timezone.localdate():%y%m%d}{secrets.token_hex(3).upper()}",
            partner=partner,
            amount=amount,
            fee=fee,
            method=partner.payout_method,
            approvals_required=2 if amount > threshold else 1,
            automatic=automatic,
            requested_by=ledger.label(actor),
        )
        ledger.post(
            kind=T.WITHDRAWAL,
            key=f"withdrawal:{withdrawal.pk}",
            partner=partner,
            amount=amount,
            withdrawal=withdrawal,
            actor=actor,
            lines=[(available, -amount), (ledger.partner_account(partner, K.IN_PAYOUT), amount)],
        )
        _event(withdrawal, actor, "requested", "", S.REQUESTED)
    return withdrawal


def _locked(withdrawal) -> Withdrawal:
    return Withdrawal.objects.select_for_update(of=("self",)).select_related("partner").get(pk=withdrawal.pk)


def withdrawal_approve(*, withdrawal: Withdrawal, actor) -> Withdrawal:
    """One finance user's approval; the last one needed approves the withdrawal, and an online
    payout is then sent (once: the status moves approved → paying by a conditional update)."""
    with transaction.atomic():
        locked = _locked(withdrawal)
        if locked.status != S.REQUESTED:
            raise ValidationError(
                _("Withdrawal %(number)s is already %(status)s.")
                % {"number": locked.number, "status": locked.get_status_display()}
            )
        if locked.approvals.filter(user=actor).exists():
            raise ValidationError(_("You already approved this withdrawal; another finance user must approve it too."))
        WithdrawalApproval.objects.create(withdrawal=locked, user=actor)
        count = locked.approvals.count()
        if count < locked.approvals_required:
            _event(locked, actor, "approved_once", S.REQUESTED, S.REQUESTED, _("first of two approvals"))
            return locked
        locked.status, locked.decided_at = S.APPROVED, timezone.now()
        locked.save(update_fields=["status", "decided_at"])
        _event(locked, actor, "approved", S.REQUESTED, S.APPROVED)
    if locked.method in ONLINE_METHODS:
        return payout_send(withdrawal=locked, actor=actor)
    return locked


def withdrawal_reject(*, withdrawal: Withdrawal, actor, reason: str) -> Withdrawal:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the withdrawal is rejected.")})
    with transaction.atomic():
        locked = _locked(withdrawal)
        if locked.status != S.REQUESTED:
            raise ValidationError(
                _("Withdrawal %(number)s is already %(status)s.")
                % {"number": locked.number, "status": locked.get_status_display()}
            )
        _return(locked, actor)
        locked.status, locked.reason, locked.decided_at = S.REJECTED, reason[:255], timezone.now()
        locked.save(update_fields=["status", "reason", "decided_at"])
        _event(locked, actor, "rejected", S.REQUESTED, S.REJECTED, reason)
    return locked


def _return(withdrawal, actor) -> None:
    ledger.post(
        kind=T.RETURN,
        key=f"return:{withdrawal.pk}",
        partner=withdrawal.partner,
        amount=withdrawal.amount,
        withdrawal=withdrawal,
        actor=actor,
        lines=[
            (ledger.partner_account(withdrawal.partner, K.IN_PAYOUT), -withdrawal.amount),
            (ledger.partner_account(withdrawal.partner, K.AVAILABLE), withdrawal.amount),
        ],
    )


def payout_send(*, withdrawal: Withdrawal, actor) -> Withdrawal:
    """Send an approved online withdrawal through its provider, once."""
    if not Withdrawal.objects.filter(pk=withdrawal.pk, status=S.APPROVED, method__in=ONLINE_METHODS).update(
        status=S.PAYING
    ):
        return Withdrawal.objects.get(pk=withdrawal.pk)
    withdrawal = Withdrawal.objects.select_related("partner").get(pk=withdrawal.pk)
    WithdrawalEvent.objects.create(
        withdrawal=withdrawal,
        actor_label=ledger.label(actor),
        action="sent",
        from_status=S.APPROVED,
        to_status=S.PAYING,
    )
    result = payouts.transfer(withdrawal)
    if result.succeeded:
        return _paid(withdrawal, actor=actor, reference=result.reference, expected=S.PAYING)
    return _failed(withdrawal, actor=actor, message=result.message, expected=S.PAYING)


def payout_confirm(*, withdrawal: Withdrawal, actor, reference: str = "") -> Withdrawal:
    """Finance confirms a bank transfer paid."""
    if withdrawal.method in ONLINE_METHODS:
        raise ValidationError(_("Online payouts are confirmed by the provider, not by hand."))
    return _paid(withdrawal, actor=actor, reference=reference or "bank", expected=S.APPROVED)


def payout_fail(*, withdrawal: Withdrawal, actor, message: str) -> Withdrawal:
    """Finance records that the bank returned a transfer: the money goes back to available."""
    if not (message or "").strip():
        raise ValidationError({"reason": _("Say why the payout failed.")})
    return _failed(withdrawal, actor=actor, message=message, expected=S.APPROVED)


def _paid(withdrawal, *, actor, reference: str, expected: str) -> Withdrawal:
    with transaction.atomic():
        locked = _locked(withdrawal)
        if locked.status == S.PAID:
            raise ValidationError(_("Withdrawal %(number)s is already paid.") % {"number": locked.number})
        if locked.status != expected:
            raise ValidationError(
                _("Withdrawal %(number)s is %(status)s and cannot be paid.")
                % {"number": locked.number, "status": locked.get_status_display()}
            )
        partner = locked.partner
        ledger.post(
            kind=T.PAYOUT,
            key=f"payout:{locked.pk}",
            partner=partner,
            amount=locked.amount,
            withdrawal=locked,
            actor=actor,
            lines=[
                (ledger.partner_account(partner, K.IN_PAYOUT), -locked.amount),
                (ledger.system_account(K.PAYOUTS, locked.method), locked.net),
                (ledger.system_account(K.FEES), locked.fee),
            ],
        )
        _write_off(locked)
        locked.status, locked.paid_at, locked.payout_reference = S.PAID, timezone.now(), reference[:100]
        locked.save(update_fields=["status", "paid_at", "payout_reference"])
        _event(locked, actor, "paid", expected, S.PAID, reference)
    return locked


def _failed(withdrawal, *, actor, message: str, expected: str) -> Withdrawal:
    with transaction.atomic():
        locked = _locked(withdrawal)
        if locked.status != expected:
            raise ValidationError(
                _("Withdrawal %(number)s is %(status)s.")
                % {"number": locked.number, "status": locked.get_status_display()}
            )
        _return(locked, actor)
        locked.status, locked.reason = S.FAILED, message[:255]
        locked.save(update_fields=["status", "reason"])
        _event(locked, actor, "failed", expected, S.FAILED, message)
    return locked


def _write_off(withdrawal) -> None:
    """核销: the oldest available accruals, as far as the withdrawal's amount goes, are marked paid
    by it (partly, for the last one)."""
    left = withdrawal.amount
    due = (
        Accrual.objects.select_for_update()
        .filter(partner=withdrawal.partner, status=Accrual.Status.AVAILABLE)
        .order_by("available_from", "pk")
    )
    now = timezone.now()
    for accrual in due:
        if left <= 0:
            break
        open_amount = accrual.amount - accrual.reversed_amount - accrual.written_off
        if open_amount <= 0:
            accrual.status, accrual.settled_at = Accrual.Status.SETTLED, now
            accrual.save(update_fields=["status", "settled_at"])
            continue
        take = min(open_amount, left)
        WriteOff.objects.create(accrual=accrual, withdrawal=withdrawal, amount=take)
        accrual.written_off += take
        left -= take
        if accrual.written_off >= accrual.amount - accrual.reversed_amount:
            accrual.status, accrual.settled_at = Accrual.Status.SETTLED, now
        accrual.save(update_fields=["written_off", "status", "settled_at"])


def bank_file_rows(withdrawals) -> list[list]:
    """The rows of a bank transfer file; the withdrawals are marked as handed to the bank."""
    rows = []
    now = timezone.now()
    for withdrawal in withdrawals:
        partner = withdrawal.partner
        rows.append(
            [
                withdrawal.number,
                partner.payout_name or partner.name,
                partner.bank_name,
                partner.payout_account,
                withdrawal.net,
                f"佣金提现 {withdrawal.number}",
            ]
        )
    Withdrawal.objects.filter(pk__in=[w.pk for w in withdrawals], exported_at__isnull=True).update(exported_at=now)
    return rows


# --- Automatic settlement --------------------------------------------------------------------------


def _due_today(partner: Partner, today) -> bool:
    mode = partner.settlement
    return (
        mode == Partner.Settlement.DAILY
        or (mode == Partner.Settlement.WEEKLY and today.weekday() == 0)
        or (mode == Partner.Settlement.MONTHLY and today.day == 1)
    )


def settlement_run(*, today=None) -> list[Withdrawal]:
    """The beat job: partners settled automatically whose day it is get a withdrawal of their
    available balance (up to the daily maximum), approved by the system below the two-person
    threshold and sent; above it, it waits for finance like any other. Once a day per partner."""
    today = today or timezone.localdate()
    made = []
    for partner in Partner.objects.filter(is_active=True).exclude(settlement=Partner.Settlement.MANUAL):
        if not _due_today(partner, today):
            continue
        if Withdrawal.objects.filter(partner=partner, automatic=True, created_at__date=today).exists():
            continue
        available = ledger.balances(partner=partner).available
        amount = min(available, setting("WITHDRAWAL_DAILY_MAX") - withdrawn_today(partner))
        if amount < setting("WITHDRAWAL_MIN"):
            continue
        try:
            withdrawal = withdrawal_request(partner=partner, amount=amount, actor=None, automatic=True)
        except ValidationError:
            continue
        if withdrawal.approvals_required == 1:
            with transaction.atomic():
                locked = _locked(withdrawal)
                locked.status, locked.decided_at = S.APPROVED, timezone.now()
                locked.save(update_fields=["status", "decided_at"])
                _event(locked, None, "approved", S.REQUESTED, S.APPROVED, "automatic settlement")
            if locked.method in ONLINE_METHODS:
                withdrawal = payout_send(withdrawal=locked, actor=None)
            else:
                withdrawal = locked
        made.append(withdrawal)
    return made
