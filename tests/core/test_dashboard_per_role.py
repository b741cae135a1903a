"""Every role's first page is its dashboard, and every figure on it is the figure of the user's
grants alone: a regional administrator's sales, devices and approvals are their region's, a store
manager's their store's, a clerk's shift their own, a supplier's sales their own products'.
Driven through the dashboard page and the live refresh endpoint, as a browser would."""

import datetime
import json
import re
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from devices.models import Device, Fault
from orders.models import Order, OrderKind
from orders.services import LineSpec, order_create, payment_collect
from staff.models import RefundApproval, StaffAlert
from tests.factories import DeviceFactory, ProductFactory, make_order

pytestmark = pytest.mark.django_db


def _cards(html: str) -> dict[str, str]:
    """key -> the card's HTML."""
    return {
        m.group(1): m.group(0)
        for m in re.finditer(r'<section class="dash-card[^"]*" data-card="([^"]+)".*?</section>', html, re.S)
    }


def _value(card_html: str) -> D:
    return D(re.search(r'data-value="([^"]*)"', card_html).group(1))


def _chart(card_html: str) -> dict:
    return json.loads(
        re.search(r'<script id="chart-[^"]+" type="application/json">(.*?)</script>', card_html, re.S).group(1)
    )


def _dashboard(client, user) -> dict[str, str]:
    client.force_login(user)
    response = client.get(reverse("core:dashboard"))
    assert response.status_code == 200
    return _cards(response.content.decode())


def _backdate(order: Order, when):
    Order.objects.filter(pk=order.pk).update(created_at=when)


@pytest.fixture
def sales(world):
    """East: 10 + 20 today, 5 yesterday by this time, 8 a week ago. West: 100 today."""
    now = timezone.now()
    make_order(site=world.east_store, total=D("10.00"), paid=True)
    make_order(site=world.east_store, total=D("20.00"), paid=True)
    _backdate(make_order(site=world.east_store, total=D("5.00"), paid=True), now - datetime.timedelta(days=1))
    _backdate(make_order(site=world.east_store, total=D("8.00"), paid=True), now - datetime.timedelta(days=7))
    make_order(site=world.west_store, total=D("100.00"), paid=True)
    make_order(site=world.east_store, total=D("999.00"))  # not paid: no sale
    return world


def test_the_first_page_after_signing_in_is_the_dashboard(world, client):
    response = client.post(reverse("staff:login"), {"username": world.regional.username, "password": "pass-12345-word"})
    assert response.status_code == 302 and response.url == reverse("core:dashboard")


def test_a_regional_admins_sales_are_their_region_alone(sales, client):
    cards = _dashboard(client, sales.regional)
    today = cards["sales-today"]
    assert _value(today) == D("30.00")
    assert "Yesterday by this time" in today and "5.00" in today and "8.00" in today
    assert "+500.0 %" in today and "+275.0 %" in today  # 30 against 5 and against 8
    by_region = _chart(cards["sales-by-region"])
    assert by_region["x"] == ["East"]
    assert [s["data"] for s in by_region["series"]] == [[30.0], [5.0], [8.0]]
    assert _value(cards["sales-trend"]) == D("43.00")


def test_a_platform_admin_sees_every_region(sales, client):
    cards = _dashboard(client, sales.admin)
    assert _value(cards["sales-today"]) == D("130.00")
    by_region = _chart(cards["sales-by-region"])
    assert by_region["x"] == ["East", "West"]
    assert by_region["series"][0]["data"] == [30.0, 100.0]


def test_devices_faults_approvals_and_alerts_are_counted_inside_the_region(world, client):
    east = DeviceFactory(site=world.east_store, state=Device.State.ONLINE)
    DeviceFactory(site=world.east_store, state=Device.State.OFFLINE)
    west = DeviceFactory(site=world.west_store, state=Device.State.ONLINE)
    Fault.objects.create(device=east, code="JAM")
    Fault.objects.create(device=west, code="JAM")
    for store in (world.east_store, world.west_store):
        order = make_order(site=store, paid=True)
        RefundApproval.objects.create(
            order=order,
            region=store.region,
            site=store,
            amount=D("9.00"),
            reason="r",
            level="manager",
            requested_by=world.clerk,
        )
        StaffAlert.objects.create(
            kind="large_amount", region=store.region, site=store, message=f"alert {store.pk}", dedupe_key=f"d{store.pk}"
        )
    cards = _dashboard(client, world.regional)
    assert _value(cards["devices"]) == 1
    assert "of 2 devices" in cards["devices"]
    assert re.search(r"With open faults</a><span class=\"num\">1<", cards["devices"])
    assert _value(cards["approvals"]) == 1 and _value(cards["staff-alerts"]) == 1
    cards = _dashboard(client, world.admin)
    assert _value(cards["devices"]) == 2 and _value(cards["approvals"]) == 2 and _value(cards["staff-alerts"]) == 2


def test_a_store_manager_sees_their_stores_takings_shifts_and_approvals(sales, client):
    from staff.counter import shift_open

    shift_open(actor=sales.clerk, site=sales.east_store, opening_float=D("50.00"))
    cards = _dashboard(client, sales.manager)
    assert set(cards) >= {"takings-by-method", "open-shifts", "approvals", "staff-alerts", "refunds-today", "devices"}
    assert "sales-by-region" not in cards
    # Collected today in the east store only: 10 + 20 + the backdated orders' payments (collected now).
    assert _value(cards["takings-by-method"]) == D("43.00")
    assert _value(cards["open-shifts"]) == 1


def test_a_clerk_sees_their_own_shift(world, client):
    from staff.counter import shift_open

    shift = shift_open(actor=world.clerk, site=world.east_store, opening_float=D("50.00"))
    order = make_order(site=world.east_store, total=D("12.50"))
    payment_collect(order=order, provider="cash", amount=D("12.50"), actor=world.clerk, shift=shift)
    other = make_order(site=world.east_store, total=D("40.00"))
    payment_collect(order=other, provider="cash", amount=D("40.00"), actor=world.manager)  # not in the shift
    cards = _dashboard(client, world.clerk)
    assert list(cards) == ["my-shift"]
    card = cards["my-shift"]
    assert _value(card) == D("12.50")
    assert "62.50" in card  # the float and the cash taken


def test_a_clerk_without_a_shift_is_sent_to_the_till(world, client):
    cards = _dashboard(client, world.clerk)
    assert "No shift is open" in cards["my-shift"] and reverse("staff:cashier") in cards["my-shift"]


def test_service_staff_see_faults_low_stock_and_the_route_of_their_devices(world, client):
    from vending.models import RestockTask

    east = DeviceFactory(site=world.east_store)
    west = DeviceFactory(site=world.west_store)
    Fault.objects.create(device=east, code="MOTOR")
    Fault.objects.create(device=west, code="MOTOR")
    RestockTask.objects.create(device=east, route="R1")
    RestockTask.objects.create(device=west, route="R9")
    cards = _dashboard(client, world.service)
    assert _value(cards["open-faults"]) == 1 and east.name in cards["open-faults"]
    assert west.name not in cards["open-faults"]
    assert _value(cards["todays-route"]) == 1 and "R1" in cards["todays-route"] and "R9" not in cards["todays-route"]
    assert "low-stock" in cards
    # A planned stop reads by its number; one route is named once (the hint), not on every row.
    second = DeviceFactory(site=world.east_store, name="Lobby machine")
    RestockTask.objects.filter(device=east).update(route_stop=2)
    RestockTask.objects.create(device=second, route="R1", route_stop=1)
    card = _dashboard(client, world.service)["todays-route"]
    assert f"1. Lobby machine · {world.east_store.name}" in card and f"2. {east.name}" in card
    assert "R1 · " not in card


def test_a_supplier_sees_their_own_products_sales(world, client):
    own = ProductFactory(supplier=world.supplier)
    other = ProductFactory(supplier=world.other_supplier)
    for product, quantity in ((own, 3), (other, 7)):
        order = order_create(
            kind=OrderKind.COUNTER,
            actor=None,
            site=world.west_store,
            lines=[LineSpec(description="x", unit_price=D("2.00"), product=product, quantity=quantity)],
        )
        payment_collect(order=order, provider="cash", amount=order.total, actor=None)
    cards = _dashboard(client, world.supplier_user)
    assert set(cards) == {"supplier-sales", "supplier-restock"}
    assert _value(cards["supplier-sales"]) == 3
    assert "6.00" in cards["supplier-sales"]


def test_finance_sees_takings_by_method_and_region_refunds_and_fees(sales, client):
    cards = _dashboard(client, sales.finance)
    assert set(cards) >= {"sales-today", "takings-by-method", "takings-by-region", "refunds-today", "fees-today"}
    assert _value(cards["takings-by-method"]) == D("143.00")
    by_region = _chart(cards["takings-by-region"])
    assert dict(zip(by_region["x"], by_region["series"][0]["data"], strict=True)) == {"East": 43.0, "West": 100.0}


def test_the_live_refresh_returns_the_named_cards_for_the_user_only(sales, client):
    client.force_login(sales.regional)
    url = reverse("core:dashboard-cards")
    data = client.get(url, {"keys": "sales-today,fees-today,nonsense"}).json()
    assert list(data["cards"]) == ["sales-today"]  # fees are the finance's card
    assert _value(data["cards"]["sales-today"]) == D("30.00")
    assert client.get(url).status_code == 400
    assert client.get(url, {"keys": ",".join(f"k{n}" for n in range(30))}).status_code == 400
    client.logout()
    assert client.get(url, {"keys": "sales-today"}).status_code == 302


def test_money_is_shown_with_two_decimals_in_the_readers_language(sales, client):
    from django.conf import settings

    make_order(site=sales.east_store, total=D("12345.60"), paid=True)
    client.force_login(sales.regional)
    html = client.get(reverse("core:dashboard")).content.decode()
    assert "12,375.60" in _dashboard(client, sales.regional)["sales-today"]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(reverse("core:dashboard")).content.decode()
    assert '<html lang="zh-hans">' in html
    # As receipts, statements and payment apps write it in Chinese: a comma every three digits
    # (config/formats/zh_Hans; Django's own zh_Hans formats have none), two decimals.
    assert "12,375.60" in _cards(html)["sales-today"]


def test_the_dashboard_says_when_the_latest_sale_was_if_none_today(world, client):
    _backdate(
        make_order(site=world.east_store, total=D("7.00"), paid=True), timezone.now() - datetime.timedelta(days=40)
    )
    cards = _dashboard(client, world.regional)
    assert _value(cards["sales-today"]) == 0
    assert "No sales yet today; the latest was on" in cards["sales-today"]
