"""Writes on stock. Nothing else changes a level."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core import sql
from inventory.models import StockLevel, StockLocation, StockMovement

REASONS = {choice for choice, _label in StockMovement.Reason.choices}


class InsufficientStock(ValidationError):
    pass


class OverCapacity(ValidationError):
    pass


def _label(actor) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor[:150]
    if hasattr(actor, "label") and hasattr(actor, "kind"):  # orders.services.Actor
        return str(actor.label)[:150]
    return getattr(actor, "get_username", lambda: str(actor))()[:150]


def level_for(*, location: StockLocation, product, capacity=None, par_level=None, low_threshold=None) -> StockLevel:
    """The level of `product` at `location`, created if missing. A new level without its own
    threshold takes the default low-stock threshold of the location's region (ADR 16)."""
    level = StockLevel.objects.filter(location=location, product=product).first()
    if level:
        return level
    if low_threshold is None:
        from core.region_settings import region_setting

        region = StockLocation.objects.filter(pk=location.pk).values_list("site__region", flat=True).first()
        low_threshold = region_setting("stock.low_threshold", region)
    try:
        with transaction.atomic():
            return StockLevel.objects.create(
                location=location, product=product, capacity=capacity, par_level=par_level, low_threshold=low_threshold
            )
    except IntegrityError:
        return StockLevel.objects.get(location=location, product=product)


def stock_move(
    *, level: StockLevel, quantity: int, reason: str, actor=None, reference: str = "", note: str = ""
) -> StockMovement:
    """Change a level by `quantity` (signed) with one conditional UPDATE: never below zero, never
    above capacity. Refused with nothing written otherwise."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity == 0:
        raise ValidationError({"quantity": _("Give a whole, non-zero quantity.")})
    if reason not in REASONS:
        raise ValidationError({"reason": _("Unknown stock movement reason.")})
    # No savepoint: a refusal is raised outside the block, so it leaves the caller's transaction usable.
    with transaction.atomic(savepoint=False):
        if _level_change(level.pk, quantity):
            movement = StockMovement(
                level=level,
                delta=quantity,
                reason=reason,
                reference=reference[:64],
                note=note[:255],
                actor_label=_label(actor),
            )
            sql.insert(movement)
            return movement
    current = StockLevel.objects.get(pk=level.pk)
    if quantity < 0:
        raise InsufficientStock(
            _("Sold out: %(product)s has %(left)s left.") % {"product": current.product, "left": current.quantity},
            code="sold_out",
        )
    raise OverCapacity(
        _("Only %(room)s more fit (capacity %(capacity)s).")
        % {"room": current.capacity - current.quantity, "capacity": current.capacity},
        code="over_capacity",
    )


# A take never reaches stock reserved for delivery orders: available = quantity - reserved.
_TAKE = "UPDATE inventory_stocklevel SET quantity = quantity + %s WHERE id = %s AND quantity - reserved >= %s"
_PUT = (
    "UPDATE inventory_stocklevel SET quantity = quantity + %s "
    "WHERE id = %s AND (capacity IS NULL OR capacity >= quantity + %s)"
)


def _level_change(level_id: int, quantity: int) -> bool:
    """The conditional UPDATE every change of stock is (a sale takes one on every vend): never below
    zero, never above capacity; True if it applied. The database CHECK backs the first up."""
    with sql.cursor() as cursor:
        if quantity < 0:
            cursor.execute(_TAKE, [quantity, level_id, -quantity])
        else:
            cursor.execute(_PUT, [quantity, level_id, quantity])
        return cursor.rowcount == 1


def stock_transfer(*, source: StockLevel, target: StockLevel, quantity: int, actor=None, reference: str = "") -> tuple:
    if source.product_id != target.product_id:
        raise ValidationError(_("Stock can only move between levels of the same product."))
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise ValidationError({"quantity": _("Give a positive whole quantity.")})
    with transaction.atomic():
        out = stock_move(level=source, quantity=-quantity, reason="transfer", actor=actor, reference=reference)
        into = stock_move(level=target, quantity=quantity, reason="transfer", actor=actor, reference=reference)
        return out, into


# --- Reservations (delivery orders, docs/adr/0032) --------------------------------------------
# Each is one conditional UPDATE, so concurrent reservations of the last units cannot all succeed:
# reserved never exceeds quantity (and a CHECK constraint backs that up).
_RESERVE = "UPDATE inventory_stocklevel SET reserved = reserved + %s WHERE id = %s AND quantity - reserved >= %s"
_RELEASE = "UPDATE inventory_stocklevel SET reserved = reserved - %s WHERE id = %s AND reserved >= %s"
_DEDUCT_RESERVED = (
    "UPDATE inventory_stocklevel SET quantity = quantity - %s, reserved = reserved - %s "
    "WHERE id = %s AND reserved >= %s"
)


def _positive(quantity) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise ValidationError({"quantity": _("Give a positive whole quantity.")})


def _applied(statement: str, params: list) -> bool:
    with sql.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount == 1


def stock_reserve(*, level: StockLevel, quantity: int) -> None:
    """Hold `quantity` of the level's available stock for an order; refused when fewer are available."""
    _positive(quantity)
    if not _applied(_RESERVE, [quantity, level.pk, quantity]):
        current = StockLevel.objects.get(pk=level.pk)
        raise InsufficientStock(
            _("Only %(left)s of %(product)s available at %(location)s.")
            % {"left": current.quantity - current.reserved, "product": current.product, "location": current.location},
            code="not_available",
        )


def stock_release(*, level: StockLevel, quantity: int) -> None:
    """Give back a reservation (an order cancelled or re-allocated)."""
    _positive(quantity)
    if not _applied(_RELEASE, [quantity, level.pk, quantity]):
        raise ValidationError(_("That much is not reserved here."), code="not_reserved")


def stock_take_reserved(
    *, level: StockLevel, quantity: int, reason: str, actor=None, reference: str = "", note: str = ""
) -> StockMovement:
    """Take reserved stock out (a packed item leaves the warehouse): quantity and reservation go down
    together, with the movement in the same transaction."""
    _positive(quantity)
    if reason not in REASONS:
        raise ValidationError({"reason": _("Unknown stock movement reason.")})
    with transaction.atomic(savepoint=False):
        if _applied(_DEDUCT_RESERVED, [quantity, quantity, level.pk, quantity]):
            movement = StockMovement(
                level=level,
                delta=-quantity,
                reason=reason,
                reference=reference[:64],
                note=note[:255],
                actor_label=_label(actor),
            )
            sql.insert(movement)
            return movement
    raise ValidationError(_("That much is not reserved here."), code="not_reserved")
