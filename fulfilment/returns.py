"""Returns of delivery orders (docs/adr/0034): a request with a reason (from the customer or
staff), receiving at a warehouse by scan, inspection per item, stock by the result, and the refund
through the original method once received (or at once, by the region setting
`returns.refund_at_once`). Every step is in the order's operation log."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Product
from fulfilment.models import Allocation, ItemCondition, ReturnItem, ReturnReason, ReturnRequest, ReturnScan
from inventory.models import StockLevel, StockLocation
from inventory.services import level_for, stock_move
from orders.models import Order, OrderKind, OrderStatus
from orders.services import Actor, lock_order, order_note, order_transition, refund_create, transition_allowed

S = OrderStatus
RETURNABLE = {S.SHIPPED, S.DELIVERED, S.RETURNED}
ZERO = Decimal("0.00")


def shipped_quantities(order: Order) -> dict[int, int]:
    """What can still be asked back, by line: shipped less what earlier requests asked for."""
    asked = dict(
        ReturnItem.objects.filter(request__order=order)
        .values("line")
        .annotate(n=Sum("quantity"))
        .values_list("line", "n")
    )
    return {line.pk: line.quantity - asked.get(line.pk, 0) for line in order.lines.all()}


def return_request_create(
    *, order: Order, quantities: dict[int, int], reason: str, source: str, actor, note: str = ""
) -> ReturnRequest:
    """Ask back `quantities` (order line id -> how many) of a shipped order. More than was shipped
    (counting earlier requests) is refused and nothing is written."""
    actor = Actor.of(actor)
    if reason not in ReturnReason.values:
        raise ValidationError({"reason": _("Choose a reason for the return.")})
    if source not in ReturnRequest.Source.values:
        raise ValidationError({"source": _("Unknown source.")})
    with transaction.atomic():
        locked = lock_order(order)
        if locked.kind != OrderKind.DELIVERY or locked.status not in RETURNABLE:
            raise ValidationError(
                _("Order %(number)s has not been shipped: nothing can be returned.") % {"number": locked.number},
                code="not_shipped",
            )
        left = shipped_quantities(locked)
        wanted = {}
        for line_id, quantity in quantities.items():
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise ValidationError({"quantity": _("Give a whole quantity, zero or more.")})
            if quantity == 0:
                continue
            if line_id not in left:
                raise ValidationError({"line": _("That line is not part of this order.")})
            if quantity > left[line_id]:
                raise ValidationError(
                    {
                        "quantity": _("At most %(left)s of %(item)s can be returned.")
                        % {"left": left[line_id], "item": locked.lines.get(pk=line_id).description}
                    },
                    code="more_than_shipped",
                )
            wanted[line_id] = quantity
        if not wanted:
            raise ValidationError({"quantity": _("Choose at least one item to return.")})
        request = ReturnRequest.objects.create(order=locked, source=source, reason=reason, note=note[:255])
        ReturnItem.objects.bulk_create(
            ReturnItem(request=request, line_id=line_id, quantity=quantity) for line_id, quantity in wanted.items()
        )
        order_note(
            order=locked,
            actor=actor,
            action="return.requested",
            reason=ReturnReason(reason).label,
            data={"return": request.pk, "source": source, "reason": reason, "items": _lines(request)},
        )
        from core.region_settings import region_setting

        if region_setting("returns.refund_at_once", locked.region_id):
            _refund(request, locked, actor)
    return request


def _lines(request: ReturnRequest) -> dict[str, int]:
    return {str(item.line_id): item.quantity for item in request.items.all()}


def _amount(request: ReturnRequest) -> Decimal:
    return sum((item.line.unit_price * item.quantity for item in request.items.select_related("line")), ZERO)


def _refund(request: ReturnRequest, order: Order, actor: Actor) -> None:
    if request.refund_id:
        return
    owed = _amount(request)
    amount = min(owed, order.refundable_amount)
    if amount <= 0:
        # Paid on the platform it came from (an imported order): nothing was paid here to refund
        # through; the log says so, and the platform's own after-sale flow pays the customer.
        platform = getattr(getattr(order, "delivery", None), "platform", "")
        order_note(
            order=order,
            actor=actor,
            action="return.refund_elsewhere",
            data={"return": request.pk, "amount": str(owed), "platform": platform},
        )
        return
    refund = refund_create(
        order=order,
        amount=amount,
        actor=actor,
        reason=_("Return %(id)s: %(reason)s") % {"id": request.pk, "reason": ReturnReason(request.reason).label},
        idempotency_key=f"return:{request.pk}",
    )
    request.refund = refund
    request.save(update_fields=["refund"])


def product_for_barcode(code: str) -> Product | None:
    code = (code or "").strip()
    if not code:
        return None
    return Product.objects.filter(Q(barcode=code) | Q(barcodes__code=code)).distinct().first()


def return_receive_scan(
    *, request: ReturnRequest, barcode: str, scan_id: str, location: StockLocation, actor
) -> ReturnItem:
    """One item of the parcel scanned at a warehouse. The same scan id twice counts once; a product
    not in the return, or one more than was asked back, is refused and nothing is written."""
    actor = Actor.of(actor)
    scan_id = (scan_id or "").strip()[:64]
    if not scan_id:
        raise ValidationError({"scan_id": _("The scan has no id.")})
    if location.kind != StockLocation.Kind.WAREHOUSE:
        raise ValidationError({"location": _("Returns are received at a warehouse.")})
    with transaction.atomic():
        locked = lock_order(request.order_id)
        request = ReturnRequest.objects.select_for_update().get(pk=request.pk)
        earlier = ReturnScan.objects.filter(scan_id=scan_id).select_related("item").first()
        if earlier is not None:
            if earlier.item.request_id != request.pk:
                raise ValidationError({"scan_id": _("This scan id was used for another return.")})
            return earlier.item
        product = product_for_barcode(barcode)
        if product is None:
            raise ValidationError({"barcode": _("No product has the barcode %(code)s.") % {"code": barcode}})
        items = list(request.items.select_related("line").filter(line__product=product).select_for_update(of=("self",)))
        if not items:
            raise ValidationError({"barcode": _("%(product)s is not part of this return.") % {"product": product}})
        item = next((i for i in items if i.received < i.quantity), None)
        if item is None:
            raise ValidationError(
                {"barcode": _("Every %(product)s of this return has been received.") % {"product": product}}
            )
        item.received += 1
        item.save(update_fields=["received"])
        ReturnScan.objects.create(item=item, scan_id=scan_id, location=location)
        order_note(
            order=locked,
            actor=actor,
            action="return.received",
            data={
                "return": request.pk,
                "item": item.pk,
                "product": product.sku,
                "quantity": 1,
                "location": location.pk,
                "scan": scan_id,
            },
        )
        if all(i.received == i.quantity for i in request.items.all()):
            request.status = ReturnRequest.Status.RECEIVED
            request.received_at = timezone.now()
            request.save(update_fields=["status", "received_at"])
            if transition_allowed(locked.status, S.RETURNED):
                order_transition(
                    order=locked,
                    to_status=S.RETURNED,
                    actor=actor,
                    action="returned",
                    data={"return": request.pk},
                    locked=True,
                )
            from core.region_settings import region_setting

            if not region_setting("returns.refund_at_once", locked.region_id):
                _refund(request, locked, actor)
    return item


def sellable_location(*, product: Product, site_id: int, order: Order) -> StockLocation:
    """Where an intact returned item goes back on sale (docs/adr/0034), at the receiving site:
    1. the warehouse location whose code is the product's category code (its zone), or the
       category's parent's code;
    2. else the warehouse location the order's stock was allocated from, if it is at this site;
    3. else the warehouse location at this site holding most of the product;
    4. else the site's first warehouse location by name."""
    warehouses = StockLocation.objects.filter(site_id=site_id, kind=StockLocation.Kind.WAREHOUSE, is_active=True)
    category = product.category
    codes = [c.code for c in (category, getattr(category, "parent", None)) if c is not None]
    for code in codes:
        zone = warehouses.filter(code=code).order_by("pk").first()
        if zone is not None:
            return zone
    allocated = (
        Allocation.objects.filter(order=order, line__product=product, level__location__in=warehouses)
        .select_related("level__location")
        .order_by("pk")
        .first()
    )
    if allocated is not None:
        return allocated.level.location
    most = (
        StockLevel.objects.filter(location__in=warehouses, product=product)
        .order_by("-quantity", "pk")
        .select_related("location")
        .first()
    )
    if most is not None:
        return most.location
    first = warehouses.order_by("name", "pk").first()
    if first is None:
        raise ValidationError(_("The receiving site has no warehouse location."))
    return first


def quarantine_location(*, site_id: int) -> StockLocation:
    location = (
        StockLocation.objects.filter(site_id=site_id, kind=StockLocation.Kind.DAMAGED, is_active=True)
        .order_by("name", "pk")
        .first()
    )
    if location is None:
        raise ValidationError(
            _("The receiving site has no damaged-goods location: add one before inspecting returns."),
            code="no_quarantine",
        )
    return location


def return_inspect(*, item: ReturnItem, condition: str, actor, notes: str = "", photo=None) -> ReturnItem:
    """Inspect a received item: intact goes back on sale, anything else to the damaged-goods
    (quarantine) location of the receiving site, each with a stock movement and a log entry."""
    actor = Actor.of(actor)
    if condition not in ItemCondition.values:
        raise ValidationError({"condition": _("Choose the item's condition.")})
    if condition != ItemCondition.INTACT and not (notes or "").strip():
        raise ValidationError({"notes": _("Say what is wrong with the item.")})
    with transaction.atomic():
        locked = lock_order(item.request.order_id)
        item = (
            ReturnItem.objects.select_for_update(of=("self",))
            .select_related("line__product", "request")
            .get(pk=item.pk)
        )
        if item.inspected_at is not None:
            raise ValidationError(_("This item has been inspected already."), code="inspected")
        if item.received < item.quantity:
            raise ValidationError(_("Scan every item of this line in before inspecting it."), code="not_received")
        product = item.line.product
        if product is None:
            raise ValidationError(_("This line has no catalog product to put back in stock."))
        scan = item.scans.select_related("location").order_by("pk").first()
        site_id = scan.location.site_id
        if condition == ItemCondition.INTACT:
            location, handling = sellable_location(product=product, site_id=site_id, order=locked), "sellable"
        else:
            location, handling = quarantine_location(site_id=site_id), "quarantine"
        level = level_for(location=location, product=product)
        stock_move(
            level=level,
            quantity=item.quantity,
            reason="return",
            actor=actor,
            reference=locked.number,
            note=f"{condition}: {notes}"[:255],
        )
        item.condition = condition
        item.notes = (notes or "")[:500]
        item.put_to = level
        item.inspected_at = timezone.now()
        fields = ["condition", "notes", "put_to", "inspected_at"]
        if photo is not None:
            item.photo = photo
            fields.append("photo")
        item.save(update_fields=fields)
        order_note(
            order=locked,
            actor=actor,
            action="return.inspected",
            reason=notes[:255] if notes else "",
            data={
                "return": item.request_id,
                "item": item.pk,
                "product": product.sku,
                "quantity": item.quantity,
                "condition": condition,
                "handling": handling,
                "location": location.pk,
            },
        )
        request = item.request
        if not request.items.filter(inspected_at__isnull=True).exists():
            request.status = ReturnRequest.Status.INSPECTED
            request.save(update_fields=["status"])
    return item
