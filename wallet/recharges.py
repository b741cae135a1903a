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
from orders.services import LineSpec, order_create, order_transition, refund_create
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
    """Order listener: a paid recharge order credits the wallet once and completes."""
    if change.kind != OrderKind.RECHARGE or change.to_status != OrderStatus.PAID:
        return
    with transaction.atomic():
        recharge = (
            Recharge.objects.select_for_update().select_related("order", "customer").get(order_id=change.order_id)
        )
        if recharge.credited_id:
            return
        payment = recharge.order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("pk").first()
        record = services.recharge_credit(
            customer=recharge.customer,
            amount=recharge.amount,
            bonus=recharge.bonus,
            provider=payment.provider if payment else "unknown",
            key=f"recharge:{recharge.order_id}",
            order=recharge.order,
        )
        recharge.credited = record
        recharge.save(update_fields=["credited"])
        order_transition(order=recharge.order, to_status=OrderStatus.COMPLETED, actor=None, action="recharge.credited")


def recharge_refund(*, recharge: Recharge, actor, reason: str) -> Recharge:
    """Refund a recharge: the money goes back through the provider that took it, the paid balance
    comes out of the wallet (it must still be there) and the bonus it earned is clawed back."""
    with transaction.atomic():
        recharge = Recharge.objects.select_for_update().select_related("order", "customer").get(pk=recharge.pk)
        if recharge.refunded_id:
            return recharge
        if not recharge.credited_id:
            raise ValidationError(_("This recharge was never credited; cancel the order instead."))
        payment = recharge.order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("pk").first()
        record = services.recharge_reverse(
            customer=recharge.customer,
            amount=recharge.amount,
            bonus=recharge.bonus,
            provider=payment.provider,
            key=f"recharge-refund:{recharge.order_id}",
            order=recharge.order,
            actor=actor,
        )
        refund_create(order=recharge.order, amount=recharge.amount, actor=actor, reason=reason, payment=payment)
        recharge.refunded = record
        recharge.save(update_fields=["refunded"])
        return recharge


def recharge_for(order: Order) -> Recharge | None:
    return Recharge.objects.filter(order=order).first()
