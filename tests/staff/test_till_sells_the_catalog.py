"""The till sells the catalog, through HTTP only: scanned products are priced from the catalog and
taken off the store's shelf in the sale's transaction (never below zero), promotions show as lines
of their own on the order and the receipt, an unpaid sale is voided with a reason, a returned item
goes back on the shelf or into damaged goods."""

from decimal import Decimal as D

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from inventory.models import StockLevel, StockLocation
from members.models import Promotion
from orders.models import Order
from tests.factories import ProductFactory, stock_shelf
from tests.members.builders import promotion_in

pytestmark = pytest.mark.django_db
SALES = "/api/v1/counter-orders/"


@pytest.fixture
def api(world):
    client = APIClient()
    client.force_authenticate(world.clerk)
    return client


@pytest.fixture
def goods(world):
    tea = ProductFactory(name="Green tea", barcode="6900000000011", sale_price=D("4.00"))
    bun = ProductFactory(name="Bun", barcode="6900000000028", sale_price=D("2.50"))
    water = ProductFactory(name="Water", barcode="6900000000035", sale_price=D("2.00"))
    for product in (tea, bun, water):
        stock_shelf(world.east_store, product, 5)
    promotion_in(
        world.east,
        name="Water: buy 1 get 1",
        kind=Promotion.Kind.BUY_X_GET_Y,
        product=water,
        buy_quantity=1,
        free_quantity=1,
        percent=0,
    )
    return tea, bun, water


def _shelf(world, product):
    return StockLevel.objects.get(
        location__site=world.east_store, location__kind=StockLocation.Kind.SHELF, product=product
    ).quantity


def test_scanned_products_and_a_promotion_show_on_the_receipt_and_leave_the_shelf(world, api, client, goods):
    tea, bun, water = goods
    assert api.get(f"{SALES}scan/", {"site": world.east_store.pk, "code": tea.barcode}).json()["on_shelf"] == 5
    scans = [tea.barcode, bun.barcode, water.barcode, water.barcode]  # the water scanned twice
    response = api.post(
        SALES, {"site": world.east_store.pk, "lines": [{"barcode": code} for code in scans]}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [(line["description"][:5], line["quantity"]) for line in body["lines"]] == [
        ("Green", 1),
        ("Bun (", 1),
        ("Water", 2),
    ]
    assert body["discounts"] == [{"kind": "promotion", "description": "Water: buy 1 get 1", "amount": "-2.00"}]
    assert (body["subtotal"], body["discount_total"], body["total"]) == ("10.50", "2.00", "8.50")
    assert (_shelf(world, tea), _shelf(world, bun), _shelf(world, water)) == (4, 4, 3)
    client.force_login(world.clerk)
    receipt = client.get(reverse("staff:receipt", args=[body["id"]])).content.decode()
    for text in ("Green tea", "Bun", "Water", "× 2", "Water: buy 1 get 1", "-2.00", "8.50"):
        assert text in receipt


def test_a_scan_of_an_unknown_barcode_says_so_and_adds_nothing(world, api, goods):
    response = api.get(f"{SALES}scan/", {"site": world.east_store.pk, "code": "123456"})
    assert response.status_code == 404 and "123456" in response.json()["detail"]
    response = api.post(
        SALES,
        {"site": world.east_store.pk, "lines": [{"barcode": goods[0].barcode}, {"barcode": "123456"}]},
        format="json",
    )
    assert response.status_code == 400 and "123456" in str(response.json())
    assert not Order.objects.exists() and _shelf(world, goods[0]) == 5


def test_more_than_the_shelf_holds_is_refused_with_what_is_left(world, api, client, goods):
    tea = goods[0]
    response = api.post(
        SALES, {"site": world.east_store.pk, "lines": [{"product": tea.pk, "quantity": 6}]}, format="json"
    )
    assert response.status_code == 400 and "Only 5 of Green tea" in str(response.json())
    assert not Order.objects.exists() and _shelf(world, tea) == 5
    client.force_login(world.clerk)
    page = client.post(
        reverse("staff:cashier"),
        {"form": "till", "site": world.east_store.pk, "product": [tea.pk], "quantity": ["9"]},
    )
    assert page.status_code == 200 and "Only 5 of Green tea" in page.content.decode()
    assert not Order.objects.exists()


def test_the_page_sells_the_cart_and_a_keyboard_scanner_without_the_script(world, client, goods):
    tea, bun, _water = goods
    client.force_login(world.clerk)
    page = client.get(reverse("staff:cashier")).content.decode()
    assert 'id="till-scan"' in page and "staff/till.js" in page and "<script>" not in page
    response = client.post(
        reverse("staff:cashier"),
        {"form": "till", "site": world.east_store.pk, "product": [tea.pk], "quantity": ["2"], "barcode": [bun.barcode]},
    )
    assert response.status_code == 302
    order = Order.objects.get()
    assert sorted((line.product_id, line.quantity) for line in order.lines.all()) == sorted([(tea.pk, 2), (bun.pk, 1)])
    assert (_shelf(world, tea), _shelf(world, bun)) == (3, 4)


def test_an_unpaid_sale_is_voided_with_a_reason_and_its_items_go_back(world, api, client, goods):
    tea = goods[0]
    order = api.post(SALES, {"site": world.east_store.pk, "lines": [{"product": tea.pk, "quantity": 2}]}, format="json")
    order_id = order.json()["id"]
    assert _shelf(world, tea) == 3
    assert api.post(f"{SALES}{order_id}/void/", {"reason": ""}, format="json").status_code == 400
    assert Order.objects.get(pk=order_id).status == "new" and _shelf(world, tea) == 3
    client.force_login(world.clerk)
    response = client.post(reverse("staff:cashier-order", args=[order_id]), {"form": "void", "reason": "Walked away"})
    assert response.status_code == 302
    assert Order.objects.get(pk=order_id).status == "cancelled" and _shelf(world, tea) == 5
    assert Order.objects.get(pk=order_id).events.filter(action="voided", reason="Walked away").exists()
    again = api.post(f"{SALES}{order_id}/void/", {"reason": "twice"}, format="json")
    assert again.status_code == 400 and _shelf(world, tea) == 5


def test_a_returned_item_goes_where_the_clerk_says(world, api, client, goods):
    tea = goods[0]
    order_id = api.post(
        SALES, {"site": world.east_store.pk, "lines": [{"product": tea.pk, "quantity": 3}]}, format="json"
    ).json()["id"]
    client.force_login(world.clerk)
    client.post(reverse("staff:shift-open"), {"site": world.east_store.pk, "opening_float": "50"})
    paid = api.post(f"{SALES}{order_id}/collect/", {"method": "cash", "tendered": "20.00"}, format="json")
    assert paid.status_code == 200, paid.content
    line = Order.objects.get(pk=order_id).lines.get()
    assert _shelf(world, tea) == 2
    response = client.post(
        reverse("staff:cashier-order", args=[order_id]),
        {"form": "return", "line": line.pk, "quantity": 1, "destination": "damaged", "reason": "Leaking"},
    )
    assert response.status_code == 302
    damaged = StockLevel.objects.get(location__site=world.east_store, location__kind="damaged", product=tea)
    assert damaged.quantity == 1 and _shelf(world, tea) == 2
    back = api.post(
        f"{SALES}{order_id}/return/",
        {"line": line.pk, "quantity": 1, "destination": "shelf", "reason": "Changed mind"},
        format="json",
    )
    assert back.status_code == 201, back.content
    assert back.json()["refund"]["amount"] == "4.00" and _shelf(world, tea) == 3
    too_many = api.post(
        f"{SALES}{order_id}/return/",
        {"line": line.pk, "quantity": 2, "destination": "shelf", "reason": "x"},
        format="json",
    )
    assert too_many.status_code == 400 and "Only 1" in str(too_many.json()) and _shelf(world, tea) == 3
    assert Order.objects.get(pk=order_id).refunded_amount == D("8.00")


def test_the_member_discount_is_a_line_of_its_own(world, api, client, goods):
    from members.models import MemberLevel
    from tests.factories import CustomerFactory

    MemberLevel.objects.create(level=2, name="Gold", min_spend=D("0"), discount_percent=D("10"))
    member = CustomerFactory(level=2, home_region=world.east)
    tea = goods[0]
    response = api.post(
        SALES,
        {"site": world.east_store.pk, "customer_phone": member.phone, "lines": [{"product": tea.pk, "quantity": 5}]},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["discounts"] == [{"kind": "member", "description": "Member discount (Gold)", "amount": "-2.00"}]
    assert (body["subtotal"], body["total"]) == ("20.00", "18.00")
    client.force_login(world.clerk)
    page = client.get(reverse("staff:cashier-order", args=[body["id"]])).content.decode()
    assert 'data-discount="member"' in page and "Member discount (Gold)" in page
