"""Packed delivery orders for the shipping and returns tests, built with the skeleton's services
(the lead switches this to the creation, allocation and packing services of orders21a/b)."""

from __future__ import annotations

from decimal import Decimal

from core.models import Site
from fulfilment.models import Allocation, Delivery, ReturnItem, ReturnRequest, Shipment, TrackingEvent
from inventory.models import StockLocation
from inventory.services import level_for, stock_move, stock_reserve, stock_take_reserved
from orders.models import OrderKind, OrderStatus
from orders.services import LineSpec, order_create, order_transition, payment_collect
from tests.factories import ProductFactory, SiteFactory

S = OrderStatus


def warehouse(region, *, name="Main warehouse", code="") -> tuple[Site, StockLocation, StockLocation]:
    """A warehouse site with a sellable location and a damaged-goods (quarantine) location."""
    site = SiteFactory(region=region, kind=Site.Kind.WAREHOUSE, name=name)
    shelf = StockLocation.objects.create(kind=StockLocation.Kind.WAREHOUSE, name=f"{name} A", site=site, code=code)
    quarantine = StockLocation.objects.create(kind=StockLocation.Kind.DAMAGED, name=f"{name} quarantine", site=site)
    return site, shelf, quarantine


def packed_order(*, site: Site, location: StockLocation, items, customer=None, phone="13800138000"):
    """A paid delivery order of `items` [(product, quantity)] picked from `location` and packed:
    `location` is stocked first with exactly what the order takes, so it ends at zero."""
    lines = [LineSpec(description=p.name, unit_price=p.sale_price, quantity=q, product=p) for p, q in items]
    order = order_create(kind=OrderKind.DELIVERY, actor=None, site=site, customer=customer, lines=lines)
    Delivery.objects.create(
        order=order,
        recipient_name="张三",
        phone=phone,
        province="上海市",
        city="上海市",
        district="静安区",
        address="南京西路 1 号",
        postcode="200040",
    )
    payment_collect(order=order, provider="cash", amount=order.total, actor=None)
    order.refresh_from_db()
    order_transition(order=order, to_status=S.CONFIRMED, actor=None)
    allocations = []
    for line in order.lines.all():
        level = level_for(location=location, product=line.product)
        stock_move(level=level, quantity=line.quantity, reason="restock", actor="test")
        stock_reserve(level=level, quantity=line.quantity)
        allocations.append(Allocation.objects.create(order=order, line=line, level=level, quantity=line.quantity))
    order_transition(order=order, to_status=S.ALLOCATED, actor=None)
    order_transition(order=order, to_status=S.PICKING, actor=None)
    for allocation in allocations:
        stock_take_reserved(level=allocation.level, quantity=allocation.quantity, reason="sale", reference=order.number)
        Allocation.objects.filter(pk=allocation.pk).update(picked=allocation.quantity, state=Allocation.State.DEDUCTED)
    order_transition(order=order, to_status=S.PACKED, actor=None)
    order.refresh_from_db()
    return order


def product(**kwargs):
    kwargs.setdefault("sale_price", Decimal("12.00"))
    return ProductFactory(**kwargs)


# --- Scoped builders of the guard tests (merged by tests/fulfilment/builders.py) -----------------
def _packed_in(region):
    site, shelf, _quarantine = warehouse(region)
    return packed_order(site=site, location=shelf, items=[(product(barcode=""), 1)])


def _shipment_in(region):
    order = _packed_in(region)
    return Shipment.objects.create(order=order, carrier="simulated", waybill_number=f"SIM{order.pk:012d}")


def _tracking_in(region):
    import django.utils.timezone as tz

    shipment = _shipment_in(region)
    return TrackingEvent.objects.create(
        shipment=shipment, at=tz.now(), status="in_transit", description="On the way", source="push"
    )


def _return_in(region):
    order = _packed_in(region)
    return ReturnRequest.objects.create(order=order, source="staff", reason="other")


def _return_item_in(region):
    request = _return_in(region)
    return ReturnItem.objects.create(request=request, line=request.order.lines.first(), quantity=1)


SHIPPING_SCOPED_BUILDERS = {
    Shipment: _shipment_in,
    TrackingEvent: _tracking_in,
    ReturnRequest: _return_in,
    ReturnItem: _return_item_in,
}
