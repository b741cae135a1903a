"""Pick, scan and pack (seed 002 "barcode scanning and deduction", docs/adr/0033): the pick list of
a warehouse, starting to pick an order, and the scans that count each item into the parcel. Each
accepted scan adds one to its allocation's picked count and takes one unit of the reserved stock out
of the warehouse (a SCAN stock movement) in one transaction; the order is packed when every
allocation is picked in full. Allocating and releasing stock is fulfilment.allocation's; shipping
is fulfilment's shipping services'."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from catalog.models import Product
from core.models import Site
from fulfilment.models import Allocation, PackScan
from inventory.services import stock_take_reserved
from orders.models import Order, OrderKind, OrderStatus
from orders.services import lock_order, order_note, order_transition

TO_PICK = (OrderStatus.ALLOCATED, OrderStatus.PICKING)


@dataclass
class ScanResult:
    """What the picking page shows after a scan: accepted (or a repeat of an accepted scan)."""

    repeated: bool
    message: str
    order: Order
    allocation: Allocation | None = None
    packed: bool = False
    lines: list[dict] = field(default_factory=list)


def warehouses_for(user):
    """The warehouses whose picking the user may see: warehouse sites inside their grants."""
    return Site.objects.restrict(user, "view").filter(kind=Site.Kind.WAREHOUSE, is_active=True).order_by("name")


def pick_allocations(*, warehouse: Site):
    """Stock reserved at the warehouse for orders waiting to be picked or being picked."""
    return (
        Allocation.objects.filter(
            level__location__site=warehouse,
            order__kind=OrderKind.DELIVERY,
            order__status__in=TO_PICK,
        )
        .exclude(state=Allocation.State.RELEASED)
        .select_related("order", "line", "level__location", "level__product")
        .order_by("order__created_at", "order_id", "level__location__name", "pk")
    )


def pick_list(*, warehouse: Site) -> list[dict]:
    """The warehouse's pick list: each order with its lines (location, product, quantity, picked)."""
    orders: dict[int, dict] = {}
    for allocation in pick_allocations(warehouse=warehouse):
        entry = orders.setdefault(allocation.order_id, {"order": allocation.order, "lines": [], "left": 0})
        entry["lines"].append(allocation)
        entry["left"] += allocation.quantity - allocation.picked
    return list(orders.values())


def order_lines(*, order: Order, warehouse: Site | None = None) -> list[dict]:
    """The order's allocations as the picking page lists them."""
    allocations = Allocation.objects.filter(order=order).exclude(state=Allocation.State.RELEASED)
    if warehouse is not None:
        allocations = allocations.filter(level__location__site=warehouse)
    return [
        {
            "id": a.pk,
            "product": a.level.product.name,
            "barcode": a.level.product.barcode,
            "location": str(a.level.location),
            "quantity": a.quantity,
            "picked": a.picked,
            "done": a.picked >= a.quantity,
        }
        for a in allocations.select_related("level__location", "level__product").order_by("pk")
    ]


def order_for_picking(*, order_pk: int, warehouses, warehouse_pk: int | None = None) -> tuple[Order, Site]:
    """The delivery order and the warehouse (one of `warehouses`, or the one given) that holds
    some of its stock; Order.DoesNotExist when none does."""
    order = Order.objects.filter(pk=order_pk, kind=OrderKind.DELIVERY).first()
    if order is None:
        raise Order.DoesNotExist
    holding = warehouses.filter(pk__in=Allocation.objects.filter(order=order).values("level__location__site")).order_by(
        "name", "pk"
    )
    if warehouse_pk is not None:
        holding = holding.filter(pk=warehouse_pk)
    site = holding.first()
    if site is None:
        raise Order.DoesNotExist
    return order, site


def picking_start(*, order: Order, warehouse: Site, actor) -> Order:
    """The packer takes the order: ALLOCATED → PICKING (in the operation log). Starting an order
    already being picked changes nothing."""
    with transaction.atomic():
        locked = lock_order(order)
        if locked.status == OrderStatus.PICKING:
            return locked
        if locked.status != OrderStatus.ALLOCATED:
            raise ValidationError(
                _("Order %(number)s is %(status)s: only an allocated order can be picked.")
                % {"number": locked.number, "status": locked.get_status_display().lower()}
            )
        return order_transition(
            order=locked,
            to_status=OrderStatus.PICKING,
            actor=actor,
            reason=_("Picking at %(warehouse)s") % {"warehouse": warehouse.name},
            data={"warehouse": warehouse.code},
            locked=True,
        )


def product_by_barcode(code: str) -> Product | None:
    """The catalog product with this barcode: its main one or one of its extra barcodes."""
    code = (code or "").strip()
    if not code:
        return None
    return Product.objects.filter(barcode=code).first() or Product.objects.filter(barcodes__code=code).first()


def _scan_id(raw) -> uuid.UUID:
    try:
        return uuid.UUID(str(raw))
    except (TypeError, ValueError, AttributeError):
        raise ValidationError(_("The scan has no valid scan id; reload the page and scan again.")) from None


def _repeat(scan: PackScan, order: Order, warehouse: Site) -> ScanResult:
    if scan.order_id != order.pk:
        raise ValidationError(_("This scan id was already used for another order; nothing was counted."))
    order.refresh_from_db(fields=["status"])
    return ScanResult(
        repeated=True,
        message=_("Already counted: %(product)s.") % {"product": scan.allocation.level.product.name},
        order=order,
        allocation=scan.allocation,
        packed=order.status == OrderStatus.PACKED,
        lines=order_lines(order=order, warehouse=warehouse),
    )


def _pack_scan(*, order: Order, warehouse: Site, scan_id, barcode: str, actor) -> ScanResult:
    """Count one scanned item into the order's parcel.

    Refused, with nothing written: an invalid scan id, an order not being picked, a barcode of no
    product or of a product not on the order at this warehouse, a product already scanned in full.
    A scan id already counted returns what it did the first time and changes nothing: the order row
    lock serialises scans of one order, the unique scan id backs it up, and the picked count moves
    only by a conditional UPDATE (picked < quantity)."""
    key = _scan_id(scan_id)
    barcode = (barcode or "").strip()[:32]
    existing = PackScan.objects.select_related("allocation__level__product").filter(scan_id=key).first()
    if existing is not None:
        return _repeat(existing, order, warehouse)
    if not barcode:
        raise ValidationError(_("Scan a barcode."))
    with transaction.atomic():
        locked = lock_order(order)
        existing = PackScan.objects.select_related("allocation__level__product").filter(scan_id=key).first()
        if existing is not None:  # a concurrent delivery of the same scan got the lock first
            return _repeat(existing, locked, warehouse)
        if locked.status != OrderStatus.PICKING:
            raise ValidationError(
                _("Order %(number)s is %(status)s, not being picked: nothing was counted.")
                % {"number": locked.number, "status": locked.get_status_display().lower()}
            )
        product = product_by_barcode(barcode)
        if product is None:
            raise ValidationError(_("Unknown barcode %(code)s: no product has it.") % {"code": barcode})
        candidates = list(
            Allocation.objects.filter(
                order=locked,
                level__location__site=warehouse,
                level__product=product,
            )
            .exclude(state=Allocation.State.RELEASED)
            .order_by("pk")
        )
        if not candidates:
            raise ValidationError(
                _("Wrong item: %(product)s is not on order %(number)s.")
                % {"product": product.name, "number": locked.number}
            )
        allocation = next((a for a in candidates if a.picked < a.quantity), None)
        ordered = sum(a.quantity for a in candidates)
        if allocation is None or not Allocation.objects.filter(
            pk=allocation.pk, picked__lt=F("quantity"), state=Allocation.State.RESERVED
        ).update(picked=F("picked") + 1):
            raise ValidationError(
                _("Too many: all %(quantity)s of %(product)s are already scanned.")
                % {"quantity": ordered, "product": product.name}
            )
        try:
            with transaction.atomic():
                scan = PackScan.objects.create(
                    order=locked,
                    allocation=allocation,
                    scan_id=key,
                    barcode=barcode,
                    quantity=1,
                    actor=actor if getattr(actor, "pk", None) else None,
                )
        except IntegrityError:
            # Only where the order lock is no lock (SQLite): the other delivery won; all rolls back.
            raise _LostRace() from None
        stock_take_reserved(
            level=allocation.level, quantity=1, reason="scan", actor=actor, reference=locked.number, note=barcode
        )
        allocation.refresh_from_db(fields=["picked"])
        order_note(
            order=locked,
            actor=actor,
            action="pick.scanned",
            reason=product.name,
            data={
                "barcode": barcode,
                "product": product.pk,
                "scan": str(key),
                "picked": allocation.picked,
                "quantity": allocation.quantity,
            },
        )
        if allocation.picked >= allocation.quantity:
            Allocation.objects.filter(pk=allocation.pk).update(state=Allocation.State.DEDUCTED)
        packed = (
            not Allocation.objects.filter(order=locked, picked__lt=F("quantity"))
            .exclude(state=Allocation.State.RELEASED)
            .exists()
        )
        if packed:
            order_transition(
                order=locked,
                to_status=OrderStatus.PACKED,
                actor=actor,
                reason=_("Every item scanned"),
                locked=True,
            )
    return ScanResult(
        repeated=False,
        message=_("%(product)s: %(picked)s of %(quantity)s.")
        % {"product": product.name, "picked": allocation.picked, "quantity": allocation.quantity},
        order=locked,
        allocation=scan.allocation,
        packed=packed,
        lines=order_lines(order=locked, warehouse=warehouse),
    )


class _LostRace(Exception):
    pass


def pack_scan(*, order: Order, warehouse: Site, scan_id, barcode: str, actor) -> ScanResult:
    """Count one scanned item (see _pack_scan); a lost race on the scan id answers as the repeat it is."""
    try:
        return _pack_scan(order=order, warehouse=warehouse, scan_id=scan_id, barcode=barcode, actor=actor)
    except _LostRace:
        scan = PackScan.objects.select_related("allocation__level__product").get(scan_id=_scan_id(scan_id))
        return _repeat(scan, order, warehouse)
