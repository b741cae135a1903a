"""seed_demo's delivery orders (fulfilment/demo.py): every state before shipping has rows, made
through the services (so the stock invariants hold), and the fulfilment pages show them to the
platform administrator, the Shanghai administrator and the Shanghai service staff."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum
from django.test import Client

from core.models import Site
from fulfilment.models import Allocation, Delivery
from inventory.models import StockLevel, StockLocation
from orders.models import Order, OrderKind, OrderStatus

S = OrderStatus


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo, loaded once for the module in a transaction rolled back after it (a flush would
    also remove what the migrations put in, such as the platforms' file layouts other tests use)."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("seed_demo", days=1, orders_per_day=2, verbosity=0)
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _login(username) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def _delivery(number) -> Delivery:
    return Delivery.objects.select_related("order").get(platform_order_number=number)


@pytest.mark.django_db
def test_the_demo_has_delivery_orders_in_every_state_before_shipping(demo):
    statuses = set(Order.objects.filter(kind=OrderKind.DELIVERY).values_list("status", flat=True))
    assert {S.NEW, S.ALLOCATED, S.PICKING, S.PACKED, S.CANCELLED} <= statuses
    # Held for a person: a bad phone, a price outside the tolerance (entered, and imported).
    held = {d.platform_order_number: [h["code"] for h in d.holds] for d in Delivery.objects.filter(order__status=S.NEW)}
    assert held["SHOP-DEMO-1006"] == ["phone"]
    assert held["SHOP-DEMO-1007"] == ["price"]
    assert held["3571211583002450918"] == ["price"]  # the Taobao umbrella paid 5.00
    # Both platform files went through the import, in their presets' layouts.
    imported = Delivery.objects.filter(order__channel="import")
    assert set(imported.values_list("platform", flat=True)) == {"taobao", "jd"}
    assert imported.filter(platform="taobao").count() == 3 and imported.filter(platform="jd").count() == 2
    assert imported.get(platform_order_number="3571210066391127305").city == "杭州市"
    # Picking: half the items scanned; packed: all of them, each scan a movement out of the warehouse.
    picking = _delivery("SHOP-DEMO-1003").order
    assert picking.status == S.PICKING
    allocations = Allocation.objects.filter(order=picking)
    assert sum(a.picked for a in allocations) * 2 == sum(a.quantity for a in allocations)
    packed = _delivery("SHOP-DEMO-1004").order
    assert packed.status == S.PACKED
    assert set(Allocation.objects.filter(order=packed).values_list("state", flat=True)) == {"deducted"}
    assert packed.pack_scans.count() == 3
    # Cancelled: the reservation was given back.
    cancelled = _delivery("SHOP-DEMO-1005").order
    assert cancelled.status == S.CANCELLED
    assert set(Allocation.objects.filter(order=cancelled).values_list("state", flat=True)) == {"released"}


@pytest.mark.django_db
def test_the_demo_shows_the_nearest_warehouse_and_the_split(demo):
    def sites(number):
        return sorted(
            Allocation.objects.filter(order=_delivery(number).order).values_list(
                "level__location__site__code", "quantity"
            )
        )

    # To Shenzhen: both warehouses have everything; Shenzhen's is the nearer.
    assert {code for code, _q in sites("SHOP-DEMO-2001")} == {"sz-warehouse"}
    # To Beijing, 15 umbrellas: neither warehouse has 15; Shanghai's (nearer) gives what it has.
    split = sites("SHOP-DEMO-2002")
    assert {code for code, _q in split} == {"sh-warehouse", "sz-warehouse"}
    assert sum(q for _c, q in split) == 15
    shanghai_free = StockLevel.objects.get(
        location__site__code="sh-warehouse", location__kind="warehouse", product__sku="DAI-002"
    )
    assert shanghai_free.quantity == shanghai_free.reserved  # every Shanghai umbrella went to it


@pytest.mark.django_db
def test_the_demo_keeps_the_stock_invariants(demo):
    levels = StockLevel.objects.filter(location__kind=StockLocation.Kind.WAREHOUSE)
    assert levels.filter(location__site__code="sz-warehouse").exists()
    for level in StockLevel.objects.all():
        moved = level.movements.aggregate(total=Sum("delta"))["total"] or 0
        assert level.quantity == moved, level
        held = sum(
            a.quantity - a.picked for a in Allocation.objects.filter(level=level, state=Allocation.State.RESERVED)
        )
        assert level.reserved == held, level
    # Each scan is one "scan" movement of the warehouse.
    scans = sum(o.pack_scans.count() for o in Order.objects.filter(kind=OrderKind.DELIVERY))
    from inventory.models import StockMovement

    assert StockMovement.objects.filter(reason="scan", level__in=levels).aggregate(n=Sum("delta"))["n"] == -scans


def _rows(html: str, table_id: str) -> str:
    match = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert match, table_id
    return match.group(0)


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["admin", "regional"])
def test_the_administrators_see_the_demo_delivery_orders(demo, username):
    client = _login(username)
    listed = client.get("/orders/", {"kind": "delivery"})
    assert listed.status_code == 200
    html = listed.content.decode()
    shanghai = Order.objects.filter(kind=OrderKind.DELIVERY, region__code="demo-sh")
    assert shanghai.count() >= 10
    for number in shanghai.values_list("number", flat=True):
        assert number in html
    country = Order.objects.filter(kind=OrderKind.DELIVERY, region__code="demo-cn").values_list("number", flat=True)
    for number in country:
        assert (number in html) == (username == "admin")
    held = _rows(client.get("/fulfilment/held/").content.decode(), "held-orders")
    assert 'class="empty"' not in held
    for number in ("SHOP-DEMO-1006", "SHOP-DEMO-1007", "3571211583002450918"):
        assert _delivery(number).order.number in held
    page = client.get("/fulfilment/import/")
    assert page.status_code == 200
    assert "淘宝" in page.content.decode() and "京东" in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "username, warehouses",
    [("admin", {"sh-warehouse", "sz-warehouse"}), ("regional", {"sh-warehouse"}), ("service", {"sh-warehouse"})],
)
def test_picking_shows_the_demo_orders_to_pick(demo, username, warehouses):
    client = _login(username)
    home = client.get("/fulfilment/picking/").content.decode()
    listed = set()
    for code in ("sh-warehouse", "sz-warehouse"):
        site = Site.objects.get(code=code)
        if f"/fulfilment/picking/{site.pk}/" in home:
            listed.add(code)
    assert listed == warehouses
    shanghai = Site.objects.get(code="sh-warehouse")
    page = client.get(f"/fulfilment/picking/{shanghai.pk}/").content.decode()
    assert "Nothing to pick here." not in page
    assert _delivery("SHOP-DEMO-1003").order.number in page  # being picked
    assert _delivery("SHOP-DEMO-1001").order.number in page  # waiting
    assert _delivery("SHOP-DEMO-1004").order.number not in page  # packed: nothing left to pick
    order = client.get(f"/fulfilment/picking/orders/{_delivery('SHOP-DEMO-1003').order.pk}/")
    assert order.status_code == 200


@pytest.mark.django_db
def test_the_demo_has_shipped_delivered_and_returned_orders(demo):
    from fulfilment.models import ReturnRequest, Shipment

    shipped = _delivery("SHOP-DEMO-1101").order
    assert shipped.status == S.SHIPPED
    assert shipped.shipment.waybill_number.startswith("SIM")
    assert [e.status for e in shipped.shipment.tracking_events.all()] == ["in_transit"]
    delivered = _delivery("SHOP-DEMO-1102").order
    assert delivered.status == S.DELIVERED
    assert delivered.shipment.status == Shipment.Status.DELIVERED
    assert [e.status for e in delivered.shipment.tracking_events.all()] == ["in_transit", "delivered"]
    returned = _delivery("SHOP-DEMO-1103").order
    assert returned.status == S.RETURNED
    request = ReturnRequest.objects.get(order=returned)
    assert request.status == ReturnRequest.Status.INSPECTED
    # The mineral water came back intact, to the warehouse's shelf; the chips damaged, to quarantine.
    put = {i.line.product.sku: (i.condition, i.put_to.location.kind) for i in request.items.all()}
    assert put == {"DRI-003": ("intact", "warehouse"), "SNA-001": ("damaged", "damaged")}


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["admin", "regional"])
def test_the_administrators_see_the_demo_shipping_and_returns(demo, username):
    client = _login(username)
    for status, number in (
        ("packed", "SHOP-DEMO-1004"),
        ("shipped", "SHOP-DEMO-1101"),
        ("delivered", "SHOP-DEMO-1102"),
    ):
        page = client.get("/fulfilment/shipping/", {"status": status}).content.decode()
        assert _delivery(number).order.number in page, status
    if status != "packed":
        assert _delivery(number).order.shipment.waybill_number in page
    returns = client.get("/fulfilment/returns/").content.decode()
    assert _delivery("SHOP-DEMO-1103").order.number in returns
