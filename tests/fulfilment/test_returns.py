"""Returns of delivery orders through HTTP (docs/adr/0034): asked back by the customer's app or
staff, more than shipped refused, received at a warehouse by scan, inspected item by item, stock
put back on sale or into quarantine, the refund through the original method, every step logged."""

import hashlib
import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fulfilment.carriers.simulated import sign
from fulfilment.models import ReturnItem, ReturnRequest, Shipment
from inventory.models import StockLevel, StockLocation, StockMovement
from members.models import CustomerToken
from orders.models import OrderEvent, Refund
from tests.factories import CategoryFactory, CustomerFactory, build_world
from tests.fulfilment.shipping_builders import packed_order, product, warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    w = build_world()
    w.site, w.shelf, w.quarantine = warehouse(w.east)
    drinks = CategoryFactory(name="Drinks", code="drinks")
    # The drinks zone of the warehouse: intact drinks come back here (the rule of ADR 0034).
    w.zone = StockLocation.objects.create(kind=StockLocation.Kind.WAREHOUSE, name="Zone D", site=w.site, code="drinks")
    w.tea = product(name="Green tea", barcode="6901234567892", sale_price=Decimal("12.00"), category=drinks)
    w.cup = product(name="Tea cup", barcode="6901234567908", sale_price=Decimal("30.00"))
    w.customer = CustomerFactory(phone="+8613900139000")
    return w


def _shipped(client, w, *, customer=None):
    order = packed_order(site=w.site, location=w.shelf, items=[(w.tea, 1), (w.cup, 1)], customer=customer or w.customer)
    client.force_login(w.regional)
    assert client.post(reverse("fulfilment:shipping-labels"), {"order": [order.pk]}).status_code == 200
    assert client.post(reverse("fulfilment:shipping-ship", args=[order.pk])).status_code == 302
    waybill = Shipment.objects.get(order=order).waybill_number
    body = json.dumps(
        {"waybill": waybill, "events": [{"at": "2026-12-05T16:00:00+08:00", "status": "delivered"}]}
    ).encode()
    pushed = client.post(
        reverse("fulfilment:carrier-push", args=["simulated"]),
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE=sign(body),
    )
    assert pushed.status_code == 200
    order.refresh_from_db()
    assert order.status == "delivered"
    return order


def _customer_api(api_client, customer):
    token = "c-" + hashlib.sha256(customer.phone.encode()).hexdigest()[:30]
    CustomerToken.objects.create(customer=customer, key_hash=hashlib.sha256(token.encode()).hexdigest())
    api_client.credentials(HTTP_AUTHORIZATION=f"Customer {token}")
    return api_client


def _line(order, product):
    return order.lines.get(product=product)


def _scan(client, ret, barcode, scan_id, location):
    return client.post(
        reverse("fulfilment:return-scan", args=[ret.pk]),
        {"barcode": barcode, "scan_id": scan_id, "location": location.pk},
    )


def _png() -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return SimpleUploadedFile("crack.png", buffer.getvalue(), content_type="image/png")


def _qty(location, product):
    level = StockLevel.objects.filter(location=location, product=product).first()
    return level.quantity if level else 0


def test_a_return_with_one_intact_and_one_damaged_item(client, api_client, world):
    order = _shipped(client, world)
    start = OrderEvent.objects.filter(order=order).order_by("-pk").first().pk
    api = _customer_api(api_client, world.customer)
    tea, cup = _line(order, world.tea), _line(order, world.cup)

    # More than was shipped: refused, nothing written.
    too_many = api.post(
        "/api/v1/customer/returns/",
        {"order": order.pk, "reason": "defective", "items": [{"line": tea.pk, "quantity": 2}]},
        format="json",
    )
    assert too_many.status_code == 400 and "At most 1" in json.dumps(too_many.json(), ensure_ascii=False)
    assert ReturnRequest.objects.count() == 0 and OrderEvent.objects.filter(pk__gt=start).count() == 0

    asked = api.post(
        "/api/v1/customer/returns/",
        {
            "order": order.pk,
            "reason": "damaged",
            "note": "The cup arrived cracked",
            "items": [{"line": tea.pk, "quantity": 1}, {"line": cup.pk, "quantity": 1}],
        },
        format="json",
    )
    assert asked.status_code == 201, asked.content
    ret = ReturnRequest.objects.get(pk=asked.json()["id"])
    assert ret.source == "customer" and ret.reason == "damaged" and ret.status == "requested"
    assert api.get("/api/v1/customer/returns/").json()["results"][0]["number"] == order.number
    # A second request for what is already asked back is more than was shipped.
    again = api.post(
        "/api/v1/customer/returns/",
        {"order": order.pk, "reason": "other", "items": [{"line": cup.pk, "quantity": 1}]},
        format="json",
    )
    assert again.status_code == 400 and ReturnRequest.objects.count() == 1
    assert Refund.objects.count() == 0  # refunded once received (the default setting)

    # Receiving by scan at the warehouse: an unknown barcode and a product not in the return refused,
    # the same scan sent twice counts once.
    assert client.get(reverse("fulfilment:return-detail", args=[ret.pk])).status_code == 200
    unknown = _scan(client, ret, "0000000000000", "s-0", world.shelf)
    assert unknown.status_code == 400 and "0000000000000" in unknown.text
    assert _scan(client, ret, world.tea.barcode, "s-1", world.shelf).status_code == 302
    assert _scan(client, ret, world.tea.barcode, "s-1", world.shelf).status_code == 302
    assert ReturnItem.objects.get(request=ret, line=tea).received == 1
    over = _scan(client, ret, world.tea.barcode, "s-2", world.shelf)
    assert over.status_code == 400 and "received" in over.text
    order.refresh_from_db()
    assert order.status == "delivered"
    assert _scan(client, ret, world.cup.barcode, "s-3", world.shelf).status_code == 302

    order.refresh_from_db()
    ret.refresh_from_db()
    assert ret.status == "received" and ret.received_at
    refund = Refund.objects.get(order=order)
    assert refund.amount == Decimal("42.00") and refund.status == "succeeded" and refund.payment.provider == "cash"
    assert ret.refund_id == refund.pk and order.refunded_amount == Decimal("42.00") and order.status == "refunded"
    # Nothing is put back before inspection.
    assert _qty(world.zone, world.tea) == 0 and _qty(world.quarantine, world.cup) == 0

    tea_item = ReturnItem.objects.get(request=ret, line=tea)
    cup_item = ReturnItem.objects.get(request=ret, line=cup)
    not_an_image = client.post(
        reverse("fulfilment:return-inspect", args=[cup_item.pk]),
        {"condition": "damaged", "notes": "Cracked", "photo": SimpleUploadedFile("x.png", b"not an image")},
    )
    assert not_an_image.status_code == 400
    no_notes = client.post(reverse("fulfilment:return-inspect", args=[cup_item.pk]), {"condition": "damaged"})
    assert no_notes.status_code == 400 and "wrong" in no_notes.text
    assert StockMovement.objects.filter(reason="return").count() == 0

    intact = client.post(reverse("fulfilment:return-inspect", args=[tea_item.pk]), {"condition": "intact"})
    assert intact.status_code == 302
    damaged = client.post(
        reverse("fulfilment:return-inspect", args=[cup_item.pk]),
        {"condition": "damaged", "notes": "Cracked handle", "photo": _png()},
    )
    assert damaged.status_code == 302
    twice = client.post(reverse("fulfilment:return-inspect", args=[tea_item.pk]), {"condition": "intact"})
    assert twice.status_code == 400

    # Stock: the intact tea back on sale in the drinks zone, the cracked cup in quarantine, the
    # shelf it was picked from untouched (0 after the sale), nothing else moved.
    assert _qty(world.zone, world.tea) == 1 and _qty(world.shelf, world.tea) == 0
    assert _qty(world.quarantine, world.cup) == 1 and _qty(world.shelf, world.cup) == 0
    assert _qty(world.quarantine, world.tea) == 0 and _qty(world.zone, world.cup) == 0
    moves = list(StockMovement.objects.filter(reason="return").values_list("level__location", "delta", "reference"))
    assert sorted(moves) == sorted([(world.zone.pk, 1, order.number), (world.quarantine.pk, 1, order.number)])
    for level in StockLevel.objects.filter(location__site=world.site):
        assert sum(level.movements.values_list("delta", flat=True)) == level.quantity
        assert level.reserved == 0
    cup_item.refresh_from_db()
    assert cup_item.condition == "damaged" and cup_item.notes == "Cracked handle" and cup_item.photo.name
    assert cup_item.photo.name.startswith(f"returns/{ret.pk}/")
    ret.refresh_from_db()
    assert ret.status == "inspected"

    events = list(OrderEvent.objects.filter(order=order, pk__gt=start).order_by("pk"))
    assert [(e.action, e.from_status, e.to_status) for e in events] == [
        ("return.requested", "delivered", "delivered"),
        ("return.received", "delivered", "delivered"),
        ("return.received", "delivered", "delivered"),
        ("returned", "delivered", "returned"),
        ("refund", "returned", "returned"),
        ("status", "returned", "refunded"),
        ("return.inspected", "refunded", "refunded"),
        ("return.inspected", "refunded", "refunded"),
    ]
    requested, received_tea, received_cup = events[0], events[1], events[2]
    assert requested.actor_kind == "customer" and requested.data["source"] == "customer"
    assert requested.data["items"] == {str(tea.pk): 1, str(cup.pk): 1}
    assert received_tea.actor_label == world.regional.username
    assert received_tea.data | {} == {
        "return": ret.pk,
        "item": tea_item.pk,
        "product": world.tea.sku,
        "quantity": 1,
        "location": world.shelf.pk,
        "scan": "s-1",
    }
    assert received_cup.data["scan"] == "s-3"
    assert events[6].data == {
        "return": ret.pk,
        "item": tea_item.pk,
        "product": world.tea.sku,
        "quantity": 1,
        "condition": "intact",
        "handling": "sellable",
        "location": world.zone.pk,
    }
    assert events[7].data["handling"] == "quarantine" and events[7].data["location"] == world.quarantine.pk
    assert events[7].reason == "Cracked handle"

    detail = client.get(reverse("orders:order-detail", args=[order.pk]))
    assert "Returned item inspected" in detail.text or "return.inspected" in detail.text
    report = client.get(reverse("fulfilment:return-report"))
    assert report.status_code == 200
    assert "Damaged in transit" in report.text and "Green tea" in report.text and "returns-by-day" in report.text


def test_staff_record_a_return_and_more_than_shipped_is_refused(client, world):
    order = _shipped(client, world)
    tea = _line(order, world.tea)
    before = OrderEvent.objects.count()
    url = reverse("fulfilment:return-create", args=[order.pk])
    assert client.get(url).status_code == 200

    refused = client.post(url, {"reason": "not_wanted", f"line-{tea.pk}": "3"})
    assert refused.status_code == 400 and "At most 1" in refused.text
    nothing = client.post(url, {"reason": "not_wanted"})
    assert nothing.status_code == 400
    garbage = client.post(url, {"reason": "not_wanted", f"line-{tea.pk}": "two"})
    assert garbage.status_code == 400
    assert ReturnRequest.objects.count() == 0 and OrderEvent.objects.count() == before

    made = client.post(url, {"reason": "not_wanted", f"line-{tea.pk}": "1"})
    assert made.status_code == 302
    ret = ReturnRequest.objects.get()
    assert ret.source == "staff" and list(ret.items.values_list("line", "quantity")) == [(tea.pk, 1)]
    assert OrderEvent.objects.filter(order=order, action="return.requested").get().actor_label == (
        world.regional.username
    )


def test_refund_at_once_by_the_region_setting(client, api_client, world, settings):
    settings.RETURNS_REFUND_AT_ONCE = 1
    order = _shipped(client, world)
    api = _customer_api(api_client, world.customer)
    asked = api.post(
        "/api/v1/customer/returns/",
        {"order": order.pk, "reason": "not_wanted", "items": [{"line": _line(order, world.cup).pk, "quantity": 1}]},
        format="json",
    )
    assert asked.status_code == 201
    refund = Refund.objects.get(order=order)
    assert refund.amount == Decimal("30.00") and ReturnRequest.objects.get().refund_id == refund.pk
    order.refresh_from_db()
    assert order.status == "delivered" and order.refunded_amount == Decimal("30.00")


def test_returns_are_scoped(client, api_client, world):
    mine = _shipped(client, world)
    west_site, west_shelf, _q = warehouse(world.west, name="West warehouse")
    theirs = packed_order(site=west_site, location=west_shelf, items=[(world.tea, 1)], customer=CustomerFactory())
    client.force_login(world.regional)
    assert client.get(reverse("fulfilment:return-create", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("fulfilment:return-create", args=[theirs.pk]), {"reason": "other"}).status_code == 404
    api = _customer_api(api_client, world.customer)
    other = api.post(
        "/api/v1/customer/returns/",
        {"order": theirs.pk, "reason": "other", "items": [{"line": theirs.lines.first().pk, "quantity": 1}]},
        format="json",
    )
    assert other.status_code == 404 and ReturnRequest.objects.count() == 0
    # A warehouse location outside the user's scope cannot receive the scan.
    api.post(
        "/api/v1/customer/returns/",
        {"order": mine.pk, "reason": "other", "items": [{"line": _line(mine, world.tea).pk, "quantity": 1}]},
        format="json",
    )
    ret = ReturnRequest.objects.get()
    outside = _scan(client, ret, world.tea.barcode, "s-9", west_shelf)
    assert outside.status_code == 400 and ReturnItem.objects.get().received == 0
    client.force_login(world.manager)  # the store manager of the east store has no returns permission
    assert client.get(reverse("fulfilment:return-detail", args=[ret.pk])).status_code == 403
