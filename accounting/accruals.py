"""Shares of paid orders on the commission ledger: accrued as pending when an order is paid,
reversed in proportion when it is refunded, made available after the freeze period.

Every function here is safe to run again: an accrual is unique per (order, rule version), a
reversal per (accrual, refund), and every posting carries an idempotency key.
"""

from __future__ import annotations

import datetime
import logging
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounting import ledger
from accounting.conf import setting
from accounting.models import ZERO, Accrual, CommissionAccount, CommissionTransaction, RefundReversal, SharingRule
from accounting.rules import order_figures, rules_for, tiered_share
from orders.models import Order, OrderKind, OrderStatus, Payment, Refund

logger = logging.getLogger(__name__)
CENT = Decimal("0.01")
K = CommissionAccount.Kind
T = CommissionTransaction.Kind
# Stored value is not a sale: a recharge earns no share (what it later pays for does).
KINDS_WITHOUT_SHARES = (OrderKind.RECHARGE,)
SHARED_STATUSES = (OrderStatus.PAID, OrderStatus.FULFILLING, OrderStatus.COMPLETED, OrderStatus.REFUNDED)


def _month_before(rule: SharingRule, partner, day: datetime.date, order) -> Decimal:
    start = day.replace(day=1)
    month = Accrual.objects.filter(rule__code=rule.code, partner=partner, earned_on__gte=start, earned_on__lte=day)
    return ledger.total(month.exclude(order=order), "basis_amount")


def order_accrue(*, order_id: int) -> list[Accrual]:
    """Post every share of a paid order once. Returns the accruals (new or found)."""
    order = Order.objects.select_related("region").filter(pk=order_id).first()
    if order is None or order.kind in KINDS_WITHOUT_SHARES or order.paid_at is None:
        return []
    if order.status not in SHARED_STATUSES:
        return []
    lines = list(order.lines.select_related("product"))
    fees = ledger.total(order.payments.filter(status=Payment.Status.SUCCEEDED), "fee")
    results = []
    for rule in rules_for(order, order.paid_at):
        existing = Accrual.objects.filter(order=order, rule=rule).first()
        if existing is not None:
            results.append(existing)
            continue
        figures = order_figures(order, rule, lines, fees)
        if figures is None:
            continue
        basis_amount = figures.basis(rule.basis)
        day = timezone.localdate(order.paid_at)
        if rule.method == SharingRule.Method.PERCENT:
            before = _month_before(rule, rule.partner, day, order)
            share = tiered_share(before=before, basis=basis_amount, rate=rule.rate, tiers=rule.tiers)
        elif rule.method == SharingRule.Method.PER_ORDER:
            share = rule.amount
        else:
            share = (rule.amount * figures.units).quantize(CENT)
        if share <= 0:
            continue
        accrual = _accrual_post(order, rule, figures, basis_amount, share, day)
        if accrual is not None:
            results.append(accrual)
    return results


def _accrual_post(order, rule, figures, basis_amount, share, day) -> Accrual | None:
    freeze = datetime.timedelta(days=int(setting("FREEZE_DAYS")))
    try:
        with transaction.atomic():
            accrual = Accrual.objects.create(
                order=order,
                rule=rule,
                partner=rule.partner,
                site_id=order.site_id,
                device_id=order.device_id,
                basis=rule.basis,
                basis_amount=basis_amount,
                rate=rule.rate,
                units=figures.units,
                amount=share,
                figures=figures.as_json(rule.basis),
                earned_on=day,
                available_from=order.paid_at + freeze,
            )
            ledger.post(
                kind=T.ACCRUAL,
                key=f"accrual:{accrual.pk}",
                partner=rule.partner,
                amount=share,
                accrual=accrual,
                lines=[
                    (ledger.partner_account(rule.partner, K.PENDING), share),
                    (ledger.system_account(K.EXPENSE), -share),
                ],
            )
    except IntegrityError:
        # A second delivery of the same task got here first: (order, rule version) is unique.
        return Accrual.objects.filter(order=order, rule=rule).first()
    # Refunds made before the accrual (a late task) are reversed now, like any later refund.
    for refund in Refund.objects.filter(order=order, status=Refund.Status.SUCCEEDED).order_by("pk"):
        refund_reverse(refund_id=refund.pk)
    return accrual


def refund_reverse(*, refund_id: int) -> int:
    """Take back each share of the refunded order in proportion to the refund: from pending while
    the accrual is pending, else from available (which may then go negative). A share of the gross
    paid is the partner's whatever happens to the sale, and is not reversed (ADR 21). Returns how
    many accruals moved."""
    refund = Refund.objects.select_related("order").filter(pk=refund_id, status=Refund.Status.SUCCEEDED).first()
    if refund is None:
        return 0
    order = refund.order
    moved = 0
    reversible = Accrual.objects.filter(order=order).exclude(basis=SharingRule.Basis.GROSS)
    for accrual_id in reversible.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            accrual = Accrual.objects.select_for_update().get(pk=accrual_id)
            if RefundReversal.objects.filter(accrual=accrual, refund=refund).exists():
                continue
            refunded_so_far = ledger.total(
                Refund.objects.filter(order=order, status=Refund.Status.SUCCEEDED, pk__lte=refund.pk)
            )
            paid = Decimal(accrual.figures.get("paid") or order.paid_amount)
            if refunded_so_far >= paid:
                target = accrual.amount  # all of it, with no rounding residue
            else:
                target = (accrual.amount * refunded_so_far / paid).quantize(CENT, rounding=ROUND_HALF_UP)
            amount = min(target, accrual.amount) - accrual.reversed_amount
            RefundReversal.objects.create(accrual=accrual, refund=refund, amount=max(amount, ZERO))
            if amount <= 0:
                continue
            source = K.PENDING if accrual.status == Accrual.Status.PENDING else K.AVAILABLE
            ledger.post(
                kind=T.REVERSAL,
                key=f"reversal:{accrual.pk}:{refund.pk}",
                partner=accrual.partner,
                amount=amount,
                accrual=accrual,
                lines=[
                    (ledger.partner_account(accrual.partner, source), -amount),
                    (ledger.system_account(K.EXPENSE), amount),
                ],
                allow_negative=True,
            )
            accrual.reversed_amount += amount
            accrual.save(update_fields=["reversed_amount"])
            moved += 1
    return moved


def accruals_release(*, now=None) -> int:
    """The beat job: accruals whose freeze period is over become available."""
    now = now or timezone.now()
    released = 0
    due = Accrual.objects.filter(status=Accrual.Status.PENDING, available_from__lte=now).order_by("pk")
    for accrual_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            accrual = Accrual.objects.select_for_update().get(pk=accrual_id)
            if accrual.status != Accrual.Status.PENDING:
                continue
            amount = accrual.amount - accrual.reversed_amount
            if amount > 0:
                ledger.post(
                    kind=T.RELEASE,
                    key=f"release:{accrual.pk}",
                    partner=accrual.partner,
                    amount=amount,
                    accrual=accrual,
                    lines=[
                        (ledger.partner_account(accrual.partner, K.PENDING), -amount),
                        (ledger.partner_account(accrual.partner, K.AVAILABLE), amount),
                    ],
                )
            accrual.released_amount = amount
            accrual.status = Accrual.Status.AVAILABLE if amount > 0 else Accrual.Status.SETTLED
            accrual.save(update_fields=["released_amount", "status"])
            released += 1
    return released


def orders_missed(*, since) -> list[int]:
    """Paid orders since `since` that no accrual task has seen (a lost task): the sweep re-queues them."""
    return list(
        Order.objects.filter(paid_at__gte=since, status__in=SHARED_STATUSES, accruals__isnull=True)
        .exclude(kind__in=KINDS_WITHOUT_SHARES)
        .values_list("pk", flat=True)[:500]
    )
