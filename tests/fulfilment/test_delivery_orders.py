"""Delivery orders through the console and the partner API: created and checked, allocated at the
nearest warehouse that fills them (or split), held for a person when a check fails, released or
cancelled from the held queue, edited until allocated — each step in the operation log, the
stock's reservation exactly right, and refusals writing nothing."""

from decimal import Decimal

import pytest

from fulfilment.models import Allocation, Delivery
from inventory.models import StockLevel
from orders.models import Channel, Order, OrderEvent, OrderKind, OrderStatus
from tests.factories import CustomerFactory
from tests.fulfilment.conftest import stock
from tests.orders.partner_helpers import create_partner, partner_api

pytestmark = pytest.mark.django_db
NEW = "/fulfilment/orders/new/"
PARTNER_URL = "/api/v1/partner/delivery-orders/"


def _form(region, *, lines, phone="13800138000", city="上海市", recipient="张伟", **extra):
    data = {
        "region": region.pk,
        "customer_phone": "",
        "recipient_name": recipient,
        "phone": phone,
        "province": "上海",
        "city": city,
        "district": "浦东新区",
        "address": "世纪大道100号",
        "postcode": "",
        "shipping_method": "standard",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "50",
    }
    for index, (product, quantity, *price) in enumerate(lines):
        data[f"lines-{index}-product"] = product.pk
        data[f"lines-{index}-quantity"] = quantity
        data[f"lines-{index}-unit_price"] = price[0] if price else ""
    data.update(extra)
    return data


def _create(browser, region, **kwargs) -> Order:
    before = set(Order.objects.values_list("pk", flat=True))
    response = browser.post(NEW, _form(region, **kwargs))
    assert response.status_code == 302, response.content.decode()[:3000]
    (pk,) = set(Order.objects.values_list("pk", flat=True)) - before
    assert response["Location"] == f"/orders/{pk}/"
    return Order.objects.get(pk=pk)


def _actions(order):
    return list(OrderEvent.objects.filter(order=order).order_by("pk").values_list("action", "to_status"))


def _reserved(location, product):
    return StockLevel.objects.get(location=location, product=product).reserved


def test_console_order_is_allocated_at_the_nearest_warehouse_that_fills_it(world, shop, browser_of):
    stock(shop.sh_loc, shop.tea, 10)
    stock(shop.bj_loc, shop.tea, 10)
    customer = CustomerFactory(home_region=world.east, phone="13912345678", name="王小明")
    browser = browser_of(world.regional)
    order = _create(browser, world.east, lines=[(shop.tea, 3)], customer_phone=customer.phone)
    assert (order.kind, order.channel, order.status) == (OrderKind.DELIVERY, Channel.CONSOLE, OrderStatus.ALLOCATED)
    assert order.customer == customer
    assert order.number.startswith("D")
    line = order.lines.get()
    assert line.unit_price == Decimal("3.50") and line.line_total == Decimal("10.50")  # the catalog's price
    allocation = Allocation.objects.get(order=order)
    assert (allocation.level.location, allocation.quantity, allocation.state) == (shop.sh_loc, 3, "reserved")
    assert _reserved(shop.sh_loc, shop.tea) == 3 and _reserved(shop.bj_loc, shop.tea) == 0
    assert _actions(order) == [("created", "new"), ("status", "confirmed"), ("allocated", "allocated")]
    page = browser.get(f"/orders/{order.pk}/").content.decode()
    assert 'id="delivery"' in page and "Shanghai DC" in page and "世纪大道100号" in page
    # Delivered to Beijing: the Beijing warehouse is nearer.
    north = _create(browser, world.east, lines=[(shop.tea, 2)], city="北京市", recipient="李娜", phone="13900139000")
    assert Allocation.objects.get(order=north).level.location == shop.bj_loc


def test_nearest_that_fills_the_whole_order_else_split(world, shop, browser_of):
    stock(shop.sh_loc, shop.tea, 2)
    stock(shop.bj_loc, shop.tea, 5)
    browser = browser_of(world.regional)
    whole = _create(browser, world.east, lines=[(shop.tea, 4)])
    assert [(a.level.location, a.quantity) for a in Allocation.objects.filter(order=whole)] == [(shop.bj_loc, 4)]
    # Tea only in Shanghai (2 left) and Beijing (1 left), snacks only in Beijing: split.
    stock(shop.bj_loc, shop.snack, 5)
    split = _create(browser, world.east, lines=[(shop.tea, 3), (shop.snack, 1)], recipient="李四", phone="13700137000")
    assert split.status == OrderStatus.ALLOCATED
    parts = sorted((a.level.location.site.name, a.level.product.sku, a.quantity) for a in split.allocations.all())
    assert parts == [("Beijing DC", "SNACK-01", 1), ("Beijing DC", "TEA-500", 1), ("Shanghai DC", "TEA-500", 2)]
    assert _reserved(shop.sh_loc, shop.tea) == 2 and _reserved(shop.bj_loc, shop.tea) == 5


def test_failed_checks_hold_the_order_and_a_person_releases_it(world, shop, browser_of):
    stock(shop.sh_loc, shop.tea, 10)
    browser = browser_of(world.regional)
    order = _create(browser, world.east, lines=[(shop.tea, 1, "9.90")], phone="12345")
    assert order.status == OrderStatus.NEW
    holds = {hold["code"] for hold in Delivery.objects.get(order=order).holds}
    assert holds == {"phone", "price"}
    assert not Allocation.objects.filter(order=order).exists() and _reserved(shop.sh_loc, shop.tea) == 0
    queue = browser.get("/fulfilment/held/").content.decode()
    assert order.number in queue and "not a valid number" in queue and 'data-hold="price"' in queue
    assert "more than 20% from the catalog" in queue  # the tolerance as a number, not 2E+1
    # Checked in English, read in Chinese: the holds are told in the reader's language.
    browser.cookies["django_language"] = "zh-hans"
    queue = browser.get("/fulfilment/held/").content.decode()
    assert "电话号码 12345 无效。" in queue and "not a valid number" not in queue
    assert "电话号码 12345 无效。" in browser.get(f"/orders/{order.pk}/").content.decode()
    browser.cookies["django_language"] = "en"
    # A release needs a reason: nothing changes without one.
    browser.post(f"/fulfilment/orders/{order.pk}/release/", {"reason": ""})
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW
    response = browser.post(f"/fulfilment/orders/{order.pk}/release/", {"reason": "Customer confirmed by phone"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED and _reserved(shop.sh_loc, shop.tea) == 1
    release = OrderEvent.objects.get(order=order, to_status="confirmed")
    assert release.reason == "Customer confirmed by phone" and release.actor_label == world.regional.username
    assert sorted(release.data["overridden"]) == ["phone", "price"]
    assert f'data-order="{order.number}"' not in browser.get("/fulfilment/held/").content.decode()


def test_a_duplicate_and_missing_stock_are_held(world, shop, browser_of):
    stock(shop.sh_loc, shop.tea, 3)
    browser = browser_of(world.regional)
    first = _create(browser, world.east, lines=[(shop.tea, 1)])
    twin = _create(browser, world.east, lines=[(shop.tea, 1)])
    assert first.status == OrderStatus.ALLOCATED
    assert [hold["code"] for hold in twin.delivery.holds] == ["duplicate"]
    assert first.number in twin.delivery.holds[0]["message"]
    short = _create(browser, world.east, lines=[(shop.snack, 1)], recipient="赵六")
    assert [hold["code"] for hold in short.delivery.holds] == ["stock"]
    # Released anyway: the stock is still not there, so it stays held with a clear message.
    response = browser.post(f"/fulfilment/orders/{short.pk}/release/", {"reason": "try"}, follow=True)
    assert "do not hold enough stock" in response.content.decode()
    short.refresh_from_db()
    assert short.status == OrderStatus.NEW and not short.allocations.exists()


def test_edit_until_allocated_then_refused(world, shop, browser_of):
    stock(shop.sh_loc, shop.tea, 10)
    stock(shop.sh_loc, shop.snack, 10)
    browser = browser_of(world.regional)
    order = _create(browser, world.east, lines=[(shop.tea, 2)], phone="12345")
    assert order.status == OrderStatus.NEW
    line = order.lines.get()
    edit = f"/fulfilment/orders/{order.pk}/edit/"
    assert browser.get(edit).status_code == 200
    data = _form(world.east, lines=[(shop.snack, 1)], phone="13800138000")
    data[f"qty-{line.pk}"] = "5"
    response = browser.post(edit, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    assert sorted(order.lines.values_list("description", "quantity")) == sorted(
        [(shop.snack.name, 1), (shop.tea.name, 5)]
    )
    assert order.total == Decimal("22.50")
    actions = [action for action, _to in _actions(order)]
    assert actions == ["created", "held", "delivery.changed", "line.changed", "line.added", "status", "allocated"]
    changed = OrderEvent.objects.get(order=order, action="line.changed")
    assert (changed.data["from"], changed.data["to"]) == (2, 5)
    # Allocated: the edit page says why not, and a POST changes nothing.
    response = browser.get(edit, follow=True)
    assert "can no longer change" in response.content.decode()
    data[f"qty-{line.pk}"] = "1"
    response = browser.post(edit, data, follow=True)
    assert "can no longer change" in response.content.decode()
    assert order.lines.get(pk=line.pk).quantity == 5
    assert OrderEvent.objects.filter(order=order).count() == len(actions)


def test_cancel_releases_the_reservation(world, shop, browser_of):
    stock(shop.sh_loc, shop.tea, 4)
    browser = browser_of(world.regional)
    order = _create(browser, world.east, lines=[(shop.tea, 4)])
    assert _reserved(shop.sh_loc, shop.tea) == 4
    browser.post(f"/fulfilment/orders/{order.pk}/cancel/", {"reason": "", "next": "order"})
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ALLOCATED  # a reason is required
    browser.post(f"/fulfilment/orders/{order.pk}/cancel/", {"reason": "Customer changed their mind", "next": "order"})
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert _reserved(shop.sh_loc, shop.tea) == 0
    assert StockLevel.objects.get(location=shop.sh_loc, product=shop.tea).quantity == 4
    assert list(order.allocations.values_list("state", flat=True)) == ["released"]
    assert OrderEvent.objects.get(order=order, to_status="cancelled").data == {"released": 4}


def test_bad_console_input_writes_nothing(world, shop, browser_of):
    browser = browser_of(world.regional)
    count = Order.objects.count()
    response = browser.post(NEW, _form(world.east, lines=[]))
    assert response.status_code == 200 and "Add at least one line" in response.content.decode()
    response = browser.post(NEW, _form(world.east, lines=[(shop.tea, 1)], customer_phone="13000000000"))
    assert "No customer with this phone" in response.content.decode()
    # Another region is not a choice for a regional administrator.
    response = browser.post(NEW, _form(world.west, lines=[(shop.tea, 1)]))
    assert response.status_code == 200 and "region" in response.context["form"].errors
    assert Order.objects.count() == count


def test_regional_admin_sees_and_changes_only_their_region(world, shop, browser_of):
    west_order = _create(browser_of(world.admin), world.west, lines=[(shop.tea, 1)], phone="12345")
    assert west_order.status == OrderStatus.NEW
    regional = browser_of(world.regional)
    assert f'data-order="{west_order.number}"' not in regional.get("/fulfilment/held/").content.decode()
    assert regional.get(f"/fulfilment/orders/{west_order.pk}/edit/").status_code == 404
    assert regional.post(f"/fulfilment/orders/{west_order.pk}/release/", {"reason": "x"}).status_code == 404
    assert regional.post(f"/fulfilment/orders/{west_order.pk}/cancel/", {"reason": "x"}).status_code == 404
    assert west_order.number in browser_of(world.admin).get("/fulfilment/held/").content.decode()
    # A clerk has no delivery pages at all.
    assert browser_of(world.clerk).get(NEW).status_code == 403


def test_inquiry_finds_delivery_orders_by_customer_name_status_and_kind(world, shop, browser_of):
    stock(shop.sh_loc, shop.tea, 5)
    customer = CustomerFactory(home_region=world.east, phone="13912345678", name="王小明")
    browser = browser_of(world.regional)
    order = _create(browser, world.east, lines=[(shop.tea, 1)], customer_phone=customer.phone)
    other = _create(browser, world.east, lines=[(shop.tea, 2)], recipient="别人")
    browser.get("/orders/")  # shows the last create's message
    page = browser.get("/orders/", {"customer_name": "小明"}).content.decode()
    assert order.number in page and other.number not in page
    page = browser.get("/orders/", {"status": "allocated", "kind": "delivery"}).content.decode()
    assert order.number in page and other.number in page
    assert order.number not in browser.get("/orders/", {"status": "packed"}).content.decode()


def test_partner_creates_delivery_orders_idempotent_on_its_order_number(world, shop):
    stock(shop.sh_loc, shop.tea, 10)
    client, key, _secret = create_partner(world.admin, region=world.east, name="Our web shop", kind="shop")
    api = partner_api(key)
    body = {
        "platform_order_number": "WEB-1001",
        "recipient_name": "张伟",
        "phone": "13800138000",
        "province": "上海",
        "city": "上海市",
        "address": "世纪大道100号",
        "lines": [{"sku": "TEA-500", "quantity": 2}],
    }
    response = api.post(PARTNER_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "allocated" and response.json()["held"] == []
    order = Order.objects.get(pk=response.json()["id"])
    assert (order.channel, order.partner, order.external_reference) == (Channel.PARTNER, client, "WEB-1001")
    # The same order number under a new key: the first order, unchanged.
    again = api.post(
        PARTNER_URL, {**body, "lines": [{"sku": "TEA-500", "quantity": 9}]}, format="json", HTTP_IDEMPOTENCY_KEY="k2"
    )
    assert again.status_code == 200 and again.json()["id"] == order.pk
    assert _reserved(shop.sh_loc, shop.tea) == 2 and Order.objects.filter(kind=OrderKind.DELIVERY).count() == 1
    # Unknown product: refused, nothing written.
    bad = api.post(
        PARTNER_URL,
        {**body, "platform_order_number": "WEB-1002", "lines": [{"sku": "NOPE", "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k3",
    )
    assert bad.status_code == 400 and "NOPE" in str(bad.json())
    assert Order.objects.filter(kind=OrderKind.DELIVERY).count() == 1
    # A bad phone is held with the reason in the answer.
    held = api.post(
        PARTNER_URL,
        {**body, "platform_order_number": "WEB-1003", "phone": "123"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k4",
    )
    assert held.status_code == 201 and held.json()["status"] == "new" and "not a valid number" in held.json()["held"][0]
    assert [row["id"] for row in api.get(PARTNER_URL).json()["results"]] == [held.json()["id"], order.pk]
