"""Regional promotions: applied when an order is priced (the best of each kind the order
qualifies for), written off — counted with the value given — when it is paid, released when it
is cancelled."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from members.models import Promotion, PromotionUse
from orders.models import Order, OrderStatus

CENT = Decimal("0.01")


def promotion_discount(promotion: Promotion, order: Order) -> Decimal:
    if promotion.kind == Promotion.Kind.PERCENT_OFF:
        return (order.total * promotion.percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    bundle = promotion.buy_quantity + promotion.free_quantity
    if not promotion.product_id or bundle <= 0 or promotion.free_quantity <= 0:
        return Decimal("0.00")
    free = Decimal("0.00")
    for line in order.lines.filter(product_id=promotion.product_id):
        free += (line.quantity // bundle) * promotion.free_quantity * line.unit_price
    return free.quantize(CENT)


def promotions_apply(*, order: Order, actor) -> list[PromotionUse]:
    """Apply every active promotion of the order's region (and above) it qualifies for."""
    from orders.services import order_discount_add

    now = timezone.now()
    uses = []
    with transaction.atomic():
        locked = Order.objects.select_for_update(of=("self",)).select_related("region").get(pk=order.pk)
        if locked.status != OrderStatus.NEW or locked.paid_amount > 0:
            return []
        active = Promotion.objects.filter(
            is_active=True, starts_at__lte=now, ends_at__gt=now, region__path__in=locked.region.ancestor_paths()
        ).exclude(uses__order=locked)
        for promotion in active.order_by("kind", "-percent"):
            locked.refresh_from_db(fields=["total"])
            amount = min(promotion_discount(promotion, locked), locked.total)
            if amount <= 0:
                continue
            uses.append(PromotionUse.objects.create(promotion=promotion, order=locked, amount=amount))
            order_discount_add(
                order=locked, amount=amount, actor=actor, action="promotion.applied", data={"promotion": promotion.pk}
            )
        _member_discount(locked, actor)
    return uses


def _member_discount(order: Order, actor) -> None:
    """The customer's level benefit: a percentage off, after the promotions."""
    from members.models import MemberLevel
    from orders.services import order_discount_add

    if order.customer_id is None or order.kind == "recharge":
        return
    level = MemberLevel.objects.filter(level=order.customer.level).first()
    if level is None or level.discount_percent <= 0:
        return
    order.refresh_from_db(fields=["total"])
    amount = (order.total * level.discount_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    if amount > 0:
        order_discount_add(
            order=order, amount=amount, actor=actor, action="member.discount", data={"level": level.level}
        )


def promotion_on_order_changed(change) -> None:
    if change.discounted is False:
        return
    if change.to_status == OrderStatus.PAID:
        with transaction.atomic():
            for use in PromotionUse.objects.select_for_update().filter(
                order_id=change.order_id, status=PromotionUse.Status.APPLIED
            ):
                PromotionUse.objects.filter(pk=use.pk).update(status=PromotionUse.Status.WRITTEN_OFF)
                Promotion.objects.filter(pk=use.promotion_id).update(
                    given_count=F("given_count") + 1, given_value=F("given_value") + use.amount
                )
    elif change.to_status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
        PromotionUse.objects.filter(order_id=change.order_id, status=PromotionUse.Status.APPLIED).update(
            status=PromotionUse.Status.RELEASED
        )


DISCOUNT_ACTIONS = ("promotion.applied", "member.discount", "coupon.applied")


def discount_lines(order: Order) -> list[dict]:
    """The order's discounts as lines of their own (what the receipt prints under the goods):
    one per promotion, member benefit or coupon, read from the operation log that recorded each.
    They add up to `order.discount_total`, which stays the single figure totals are built from."""
    from django.utils.translation import gettext as _

    from members.models import MemberLevel

    events = [e for e in order.events.all() if e.action in DISCOUNT_ACTIONS and (e.data or {}).get("discount")]
    promotion_names = dict(
        Promotion.objects.filter(
            pk__in=[e.data.get("promotion") for e in events if e.data.get("promotion")]
        ).values_list("pk", "name")
    )
    level_names = dict(MemberLevel.objects.values_list("level", "name"))
    lines = []
    for event in events:
        data = event.data
        if event.action == "promotion.applied":
            label = promotion_names.get(data.get("promotion")) or _("Promotion")
        elif event.action == "member.discount":
            label = _("Member discount (%(level)s)") % {"level": level_names.get(data.get("level"), data.get("level"))}
        else:
            label = _("Coupon %(code)s") % {"code": data.get("coupon", "")}
        lines.append(
            {"kind": event.action.split(".")[0], "description": str(label), "amount": -Decimal(data["discount"])}
        )
    return lines
