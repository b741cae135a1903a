"""Builders of delivery orders: the scoping builders of the fulfilment models (merged into
tests.factories.SCOPED_BUILDERS), and `allocated_order`, an order reserved at one chosen warehouse
location (the allocation service picks the nearest warehouse; the picking tests need a known one)."""

from __future__ import annotations

from core.models import Site
from fulfilment.models import Allocation, Delivery, PlatformMapping
from inventory.models import StockLocation
from inventory.services import level_for, stock_move, stock_reserve
from orders.models import OrderKind, OrderStatus
from orders.services import LineSpec, order_create, order_transition
from tests.factories import _site_in, make_order
from tests.fulfilment.shipping_builders import SHIPPING_SCOPED_BUILDERS


def _delivery_in(region):
    order = make_order(site=_site_in(region), kind=OrderKind.DELIVERY)
    return Delivery.objects.create(
        order=order, recipient_name="R", phone="13800138000", province="上海", city="上海市", address="世纪大道1号"
    )


SCOPED_BUILDERS = {Delivery: _delivery_in, **SHIPPING_SCOPED_BUILDERS}
GLOBAL_MODELS = {PlatformMapping}


def warehouse(region, *, name="Central warehouse", stock=None):
    """A warehouse site with one storage location; `stock` maps product → quantity put on it."""
    from tests.factories import SiteFactory

    site = SiteFactory(region=region, name=name, kind=Site.Kind.WAREHOUSE)
    location = StockLocation.objects.create(kind=StockLocation.Kind.WAREHOUSE, name=f"{name} A-01", site=site)
    for product, quantity in (stock or {}).items():
        stock_move(level=level_for(location=location, product=product), quantity=quantity, reason="restock")
    return site, location


def allocated_order(*, location, lines, region=None):
    """A delivery order of `lines` [(product, quantity)], its stock reserved at `location`."""
    order = order_create(
        kind=OrderKind.DELIVERY,
        actor=None,
        region=region or location.site.region,
        lines=[
            LineSpec(description=p.name, unit_price=p.sale_price, quantity=q, product=p, cost_price=p.cost_price)
            for p, q in lines
        ],
    )
    Delivery.objects.create(
        order=order,
        recipient_name="Li Lei",
        phone="13800138000",
        province="Shanghai",
        city="Shanghai",
        address="1 Century Avenue",
    )
    order_transition(order=order, to_status=OrderStatus.CONFIRMED, actor=None, reason="verified")
    for line in order.lines.all():
        level = level_for(location=location, product=line.product)
        stock_reserve(level=level, quantity=line.quantity)
        Allocation.objects.create(order=order, line=line, level=level, quantity=line.quantity)
    order_transition(order=order, to_status=OrderStatus.ALLOCATED, actor=None, reason="reserved")
    order.refresh_from_db()
    return order
