"""Recharge orders on the order spine: start (with the bonus tier that applies), credit the wallet
when the order is paid, refund (the paid amount goes back, the bonus it earned is clawed back)."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from orders.events import OrderChanged
from orders.models import Order, OrderKind, OrderStatus, Payment
from orders.services import LineSpec, lock_order, order_create, order_transition, refund_create
from wallet import services
from wallet.models import Recharge

logger = logging.getLogger(__name__)
MIN_RECHARGE = Decimal("1.00")
MAX_RECHARGE = Decimal("5000.00")


def recharge_start(*, customer, amount, actor, site=None, region=None, channel: str = "console") -> Recharge:
    amount = services.money(amount)
    if not MIN_RECHARGE <= amount <= MAX_RECHARGE:
        raise ValidationError(
            {"amount": _("Recharge between %(min)s and %(max)s.") % {"min": MIN_RECHARGE, "max": MAX_RECHARGE}}
        )
    if customer is None:
        raise ValidationError({"customer": _("A recharge needs a customer.")})
    with transaction.atomic():
        order = order_create(
            kind=OrderKind.RECHARGE,
            actor=actor,
            site=site,
            region=region or (None if site else customer.home_region),
            customer=customer,
            channel=channel,
            lines=[LineSpec(description=_("Wallet recharge"), unit_price=amount)],
        )
        bonus, tier = services.bonus_for(region=order.region, amount=amount)
        return Recharge.objects.create(order=order, customer=customer, amount=amount, bonus=bonus, tier=tier)


def recharge_on_paid(change: OrderChanged) -> None:
    """Order listener: a paid recharge order credits the wallet once and completes.

    Locks in the global order of ADR 3: the order row, then the recharge row (only that row:
    `of=("self",)`, never the customer's), then the customer's accounts."""
    if change.kind != OrderKind.RECHARGE or change.to_status != OrderStatus.PAID:
        return
    with transaction.atomic():
        order = lock_order(change.order_id)
        recharge = Recharge.objects.select_for_update(of=("self",)).select_related("customer").get(order_id=order.pk)
        if recharge.credited_id:
            return
        payment = order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("pk").first()
        record = services.recharge_credit(
            customer=recharge.customer,
            amount=recharge.amount,
            bonus=recharge.bonus,
            provider=payment.provider if payment else "unknown",
            key=f"recharge:{order.pk}",
            order=order,
        )
        recharge.credited = record
        recharge.save(update_fields=["credited"])
        if order.status == OrderStatus.PAID:
            order_transition(
                order=order, to_status=OrderStatus.COMPLETED, actor=None, action="recharge.credited", locked=True
            )


def recharge_refund(*, recharge: Recharge, actor, reason: str) -> Recharge:
    """Refund a recharge in full: the money goes back through the provider that took it, the paid
    balance comes out of the wallet (it must still be there) and the bonus it earned is clawed
    back. The same as refunding the recharge order anywhere (the till, the console): the wallet
    part is the order kind's refund hook, `recharge_refund_hook`."""
    with transaction.atomic():
        order = lock_order(recharge.order_id)
        recharge = Recharge.objects.select_for_update(of=("self",)).get(pk=recharge.pk)
        if recharge.refunded_id:
            return recharge
        refund_create(order=order, amount=recharge.amount, actor=actor, reason=reason)
        recharge.refresh_from_db(fields=["refunded"])
        return recharge


def recharge_refund_hook(*, order: Order, refund, actor) -> None:
    """Refund hook of recharge orders, inside the refund's transaction with the order row locked:
    the refunded recharge leaves the wallet, or the refund is refused and nothing moves.

    Lock order (ADR 3): order (held by the caller) → recharge row alone → the customer's accounts
    in key order → system accounts. The customer row itself is never locked: a payment of the same
    customer inserts rows that reference it (a key-share lock), and a `FOR UPDATE` on it here, taken
    before the accounts, is what made refunds and payments deadlock."""
    recharge = (
        Recharge.objects.select_for_update(of=("self",)).select_related("customer").filter(order_id=order.pk).first()
    )
    if recharge is None:
        return
    if recharge.refunded_id:
        raise ValidationError(_("This recharge was already refunded."))
    if not recharge.credited_id:
        raise ValidationError(_("This recharge was never credited; cancel the order instead."))
    if refund.amount != recharge.amount:
        raise ValidationError(
            {"amount": _("A recharge is refunded in full: %(amount)s.") % {"amount": recharge.amount}}
        )
    actor_user = getattr(actor, "user", actor)
    recharge.refunded = services.recharge_reverse(
        customer=recharge.customer,
        amount=recharge.amount,
        bonus=recharge.bonus,
        provider=refund.payment.provider,
        key=f"recharge-refund:{order.pk}",
        order=order,
        actor=actor_user if actor_user is not None else getattr(actor, "label", None),
    )
    recharge.save(update_fields=["refunded"])
