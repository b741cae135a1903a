"""Writes on delivery orders: create (console, partner API, import), edit until allocated, verify
and release, cancel (docs/adr/0032). Every change is an OrderEvent through orders.services."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Product
from fulfilment.allocation import order_allocate, order_deallocate
from fulfilment.models import Delivery, ShippingMethod
from fulfilment.verification import delivery_holds
from inventory.services import InsufficientStock
from orders.models import Channel, Order, OrderKind, OrderLine, OrderStatus
from orders.services import (
    Actor,
    LineSpec,
    lock_order,
    money,
    order_add_line,
    order_create,
    order_line_change,
    order_note,
    order_transition,
)

S = OrderStatus
RECIPIENT_FIELDS = ("recipient_name", "phone", "province", "city", "district", "address", "postcode")
EDITABLE = (S.NEW,)


@dataclass
class DeliveryLine:
    product: Product
    quantity: int
    unit_price: Decimal | None = None  # None: the catalog's sale price


class AlreadyAllocated(ValidationError):
    pass


def _line_spec(line: DeliveryLine) -> LineSpec:
    price = line.product.sale_price if line.unit_price is None else money(line.unit_price)
    return LineSpec(
        description=line.product.name,
        unit_price=price,
        quantity=line.quantity,
        product=line.product,
        cost_price=line.product.cost_price,
    )


def delivery_existing(*, platform: str, platform_order_number: str) -> Order | None:
    if not platform_order_number:
        return None
    row = Delivery.objects.filter(platform=platform, platform_order_number=platform_order_number).first()
    return row.order if row is not None else None


def delivery_create(
    *,
    actor,
    region,
    recipient: dict,
    lines: list[DeliveryLine],
    shipping_method: str = ShippingMethod.STANDARD,
    customer=None,
    channel: str = Channel.CONSOLE,
    platform: str = "",
    platform_order_number: str = "",
    partner=None,
    note: str = "",
    release: bool = True,
) -> tuple[Order, bool]:
    """Create a delivery order and (with `release`) verify it and allocate it at once. Returns
    (order, created): a platform order number already imported returns the first order, unchanged."""
    if not lines:
        raise ValidationError(_("Add at least one line."))
    if shipping_method not in ShippingMethod.values:
        raise ValidationError({"shipping_method": _("Choose a shipping method.")})
    existing = delivery_existing(platform=platform, platform_order_number=platform_order_number)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            order = order_create(
                kind=OrderKind.DELIVERY,
                actor=actor,
                region=region,
                customer=customer,
                channel=channel,
                lines=[_line_spec(line) for line in lines],
                external_reference=platform_order_number,
                partner=partner,
                note=note,
            )
            delivery = Delivery.objects.create(
                order=order,
                shipping_method=shipping_method,
                platform=platform,
                platform_order_number=platform_order_number,
                **{field: (recipient.get(field) or "").strip() for field in RECIPIENT_FIELDS},
            )
            if release:
                delivery_verify(delivery=delivery, actor=actor)
    except IntegrityError:
        # The same platform number sent twice at the same moment: the other request created it.
        existing = delivery_existing(platform=platform, platform_order_number=platform_order_number)
        if existing is not None:
            return existing, False
        raise
    return order, True


def _release(delivery: Delivery, order: Order, actor, *, reason: str = "", data=None) -> bool:
    """CONFIRMED then ALLOCATED in a savepoint; False (nothing changed) when the stock is gone."""
    try:
        with transaction.atomic():
            order_transition(order=order, to_status=S.CONFIRMED, actor=actor, reason=reason, data=data, locked=True)
            allocations = order_allocate(order=order, delivery=delivery)
            sites = sorted({a.level.location.site.name for a in allocations})
            order_transition(
                order=order,
                to_status=S.ALLOCATED,
                actor=actor,
                action="allocated",
                data={"warehouses": sites, "units": sum(a.quantity for a in allocations)},
                locked=True,
            )
    except InsufficientStock:
        order.status = S.NEW
        return False
    return True


def delivery_verify(*, delivery: Delivery, actor) -> list[dict]:
    """Run the checks: none failing releases and allocates the order; else the holds are stored and
    the order waits in the held queue (status NEW). Call inside a transaction."""
    order = lock_order(delivery.order_id)
    if order.status not in EDITABLE:
        raise AlreadyAllocated(_("Order %(number)s was already released.") % {"number": order.number})
    holds = delivery_holds(delivery)
    if not holds and not _release(delivery, order, actor):
        holds = [{"code": "stock", "message": _("The stock was taken by other orders before this one was allocated.")}]
    delivery.holds = holds
    delivery.verified_at = timezone.now()
    delivery.save(update_fields=["holds", "verified_at"])
    if holds:
        order_note(
            order=order,
            actor=actor,
            action="held",
            reason="; ".join(hold["message"] for hold in holds)[:255],
            data={"holds": [hold["code"] for hold in holds]},
        )
    delivery.order = order
    return holds


@transaction.atomic
def delivery_release(*, order: Order, actor, reason: str) -> Order:
    """A person releases a held order, overriding its holds (logged with the reason); the stock must
    still be there. Raises ValidationError with the reason when it cannot be released."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the order is released despite its holds.")})
    locked = lock_order(order)
    delivery = Delivery.objects.select_for_update().get(order=locked)
    if locked.status != S.NEW:
        raise AlreadyAllocated(_("Order %(number)s is not held.") % {"number": locked.number})
    overridden = [hold["code"] for hold in delivery.holds]
    if not _release(delivery, locked, actor, reason=reason, data={"overridden": overridden}):
        raise ValidationError(
            _("Order %(number)s cannot be allocated: the warehouses do not hold enough stock.")
            % {"number": locked.number}
        )
    delivery.holds = []
    delivery.verified_at = timezone.now()
    delivery.save(update_fields=["holds", "verified_at"])
    return locked


@transaction.atomic
def delivery_cancel(*, order: Order, actor, reason: str) -> Order:
    """Cancel a delivery order not yet shipped: its reservations are given back to the stock."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the order is cancelled.")})
    locked = lock_order(order)
    if locked.status not in (S.NEW, S.CONFIRMED, S.ALLOCATED):
        raise ValidationError(
            _("Order %(number)s is %(status)s and can no longer be cancelled here.")
            % {"number": locked.number, "status": locked.get_status_display()}
        )
    released = order_deallocate(order=locked)
    order_transition(
        order=locked, to_status=S.CANCELLED, actor=actor, reason=reason, data={"released": released}, locked=True
    )
    return locked


def _refuse_when_released(order: Order) -> None:
    if order.status not in EDITABLE:
        raise AlreadyAllocated(
            _("Order %(number)s is %(status)s: its lines and address can no longer change. Cancel it to start again.")
            % {"number": order.number, "status": order.get_status_display()}
        )


@transaction.atomic
def delivery_update(
    *,
    order: Order,
    actor,
    recipient: dict,
    shipping_method: str,
    quantities: dict[int, int],
    new_lines: list[DeliveryLine],
) -> list[dict]:
    """Edit a delivery order not yet allocated: the recipient and address, the quantity of each line
    (0 removes it), new lines. Each change is in the operation log; then it is verified again."""
    actor = Actor.of(actor)
    locked = lock_order(order)
    _refuse_when_released(locked)
    delivery = Delivery.objects.select_for_update().get(order=locked)
    if shipping_method not in ShippingMethod.values:
        raise ValidationError({"shipping_method": _("Choose a shipping method.")})
    changed = {}
    for field in RECIPIENT_FIELDS:
        value = (recipient.get(field) or "").strip()
        if value != getattr(delivery, field):
            changed[field] = [getattr(delivery, field), value]
            setattr(delivery, field, value)
    if shipping_method != delivery.shipping_method:
        changed["shipping_method"] = [delivery.shipping_method, shipping_method]
        delivery.shipping_method = shipping_method
    if changed:
        delivery.save()
        order_note(order=locked, actor=actor, action="delivery.changed", data=changed)
    lines = {line.pk: line for line in OrderLine.objects.filter(order=locked)}
    for line_id, quantity in quantities.items():
        if line_id not in lines:
            raise ValidationError(_("This line is not on the order."))
        if quantity != lines[line_id].quantity:
            order_line_change(order=locked, line_id=line_id, quantity=quantity, actor=actor)
    for line in new_lines:
        order_add_line(order=locked, line=_line_spec(line), actor=actor)
    if not OrderLine.objects.filter(order=locked).exists():
        raise ValidationError(_("An order needs at least one line; cancel it instead."))
    delivery.order = locked
    return delivery_verify(delivery=delivery, actor=actor)
