"""Coupons: applied to an unpaid order (the use is reserved under a lock on the coupon row, so a
single-use coupon is used once however many tills try at the same moment), redeemed when the
order is paid, given back when it is cancelled or expires."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Coupon, CouponRedemption
from orders.models import Order, OrderStatus

CENT = Decimal("0.01")


def coupon_discount(coupon: Coupon, total: Decimal) -> Decimal:
    if coupon.kind == Coupon.Kind.PERCENT:
        return (total * coupon.value / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return min(coupon.value, total)


def coupon_apply(*, order: Order, code: str, actor, customer=None) -> CouponRedemption:
    """Check the coupon against the order and reserve one use; refused with a clear message and
    nothing written when it does not apply."""
    from orders.services import order_discount_add

    code = (code or "").strip().upper()
    customer = customer or order.customer
    with transaction.atomic():
        # ADR 3's lock order: the order, then the coupon; each row alone (of=self), never the region.
        locked = Order.objects.select_for_update(of=("self",)).select_related("region").get(pk=order.pk)
        coupon = (
            Coupon.objects.select_for_update(of=("self",)).select_related("region").filter(code__iexact=code).first()
        )
        if coupon is None or not coupon.is_active:
            raise ValidationError({"coupon": _("There is no such coupon.")})
        now = timezone.now()
        if not (coupon.valid_from <= now < coupon.valid_until):
            raise ValidationError({"coupon": _("This coupon is not valid now.")})
        if not locked.region.path.startswith(coupon.region.path):
            raise ValidationError({"coupon": _("This coupon is not valid in this region.")})
        if locked.status != OrderStatus.NEW or locked.paid_amount > 0:
            raise ValidationError({"coupon": _("Coupons apply only to orders not paid yet.")})
        if CouponRedemption.objects.filter(order=locked).exclude(status=CouponRedemption.Status.RELEASED).exists():
            raise ValidationError({"coupon": _("This order already has a coupon.")})
        if locked.total < coupon.min_spend:
            raise ValidationError(
                {"coupon": _("This coupon needs a spend of at least %(min)s.") % {"min": coupon.min_spend}}
            )
        if coupon.total_quantity is not None and coupon.used_count >= coupon.total_quantity:
            raise ValidationError({"coupon": _("This coupon has been used up.")})
        if customer is not None:
            used = (
                CouponRedemption.objects.filter(coupon=coupon, customer=customer)
                .exclude(status=CouponRedemption.Status.RELEASED)
                .count()
            )
            if used >= coupon.per_customer_limit:
                raise ValidationError({"coupon": _("You have already used this coupon.")})
        amount = coupon_discount(coupon, locked.total)
        CouponRedemption.objects.filter(order=locked, status=CouponRedemption.Status.RELEASED).delete()
        redemption = CouponRedemption.objects.create(coupon=coupon, customer=customer, order=locked, amount=amount)
        Coupon.objects.filter(pk=coupon.pk).update(used_count=F("used_count") + 1)
        order_discount_add(
            order=locked, amount=amount, actor=actor, action="coupon.applied", data={"coupon": coupon.code}
        )
        return redemption


def coupon_on_order_changed(change) -> None:
    """Orders listener: a paid order writes its coupon off; a cancelled or expired one gives it back."""
    if change.discounted is False:
        return  # no discount, so no coupon: nothing to look up
    if change.to_status == OrderStatus.PAID:
        CouponRedemption.objects.filter(order_id=change.order_id, status=CouponRedemption.Status.RESERVED).update(
            status=CouponRedemption.Status.REDEEMED
        )
    elif change.to_status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
        with transaction.atomic():
            redemption = (
                CouponRedemption.objects.select_for_update()
                .filter(order_id=change.order_id, status=CouponRedemption.Status.RESERVED)
                .first()
            )
            if redemption is not None:
                CouponRedemption.objects.filter(pk=redemption.pk).update(status=CouponRedemption.Status.RELEASED)
                Coupon.objects.filter(pk=redemption.coupon_id, used_count__gt=0).update(used_count=F("used_count") - 1)
