"""Shipping and tracking of delivery orders through HTTP: labels as PDF for a batch, a label of an
unpacked order refused, shipping, carriers' tracking callbacks (good and bad signatures, unknown
waybills), delivered, the order page and the customer API, the customer's SMS (docs/adr/0034)."""

import hashlib
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from core.models import Notification
from fulfilment.carriers.simulated import sign
from fulfilment.models import Shipment, TrackingEvent
from members.models import CustomerToken
from orders.models import Order, OrderEvent, OrderKind
from orders.services import LineSpec, order_create
from tests.factories import CustomerFactory, build_world
from tests.fulfilment.pdf_text import pdf_page_count, pdf_text
from tests.fulfilment.shipping_builders import packed_order, product, warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    w = build_world()
    w.site, w.shelf, w.quarantine = warehouse(w.east)
    w.west_site, w.west_shelf, _q = warehouse(w.west, name="West warehouse")
    w.tea = product(name="Green tea", barcode="6901234567892", sale_price=Decimal("12.00"))
    w.cup = product(name="Tea cup", barcode="6901234567908", sale_price=Decimal("30.00"))
    return w


def _actions(order, after=None):
    events = OrderEvent.objects.filter(order=order).order_by("pk")
    if after is not None:
        events = events.filter(pk__gt=after)
    return [e.action for e in events]


def _last_event(order):
    return OrderEvent.objects.filter(order=order).order_by("-pk").values_list("pk", flat=True).first()


def _label(client, *orders, carrier="simulated"):
    return client.post(reverse("fulfilment:shipping-labels"), {"order": [o.pk for o in orders], "carrier": carrier})


def _push(client, waybill, *events, secret_sign=True):
    body = json.dumps({"waybill": waybill, "events": list(events)}).encode()
    headers = {"HTTP_X_SIGNATURE": sign(body) if secret_sign else "0" * 64}
    return client.post(
        reverse("fulfilment:carrier-push", args=["simulated"]), body, content_type="application/json", **headers
    )


def test_labels_for_a_batch_of_orders_are_one_pdf_with_each_waybill(client, world):
    first = packed_order(site=world.site, location=world.shelf, items=[(world.tea, 2)])
    second = packed_order(site=world.site, location=world.shelf, items=[(world.cup, 1)])
    client.force_login(world.regional)
    page = client.get(reverse("fulfilment:shipping-list"))
    assert page.status_code == 200 and first.number in page.text and second.number in page.text

    response = _label(client, first, second)

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert pdf_page_count(response.content) == 2
    shipments = {s.order_id: s for s in Shipment.objects.all()}
    assert set(shipments) == {first.pk, second.pk}
    text = pdf_text(response.content)
    for order in (first, second):
        assert shipments[order.pk].waybill_number in text and order.number in text
        assert shipments[order.pk].status == Shipment.Status.LABELLED
        event = OrderEvent.objects.get(order=order, action="shipment.labelled")
        assert event.data == {"carrier": "simulated", "waybill": shipments[order.pk].waybill_number}
    # A reprint keeps the waybill and logs nothing new.
    again = _label(client, first)
    assert again.status_code == 200 and shipments[first.pk].waybill_number in pdf_text(again.content)
    assert Shipment.objects.count() == 2 and OrderEvent.objects.filter(action="shipment.labelled").count() == 2


def test_a_label_for_an_unpacked_order_is_refused_and_nothing_is_written(client, world):
    packed = packed_order(site=world.site, location=world.shelf, items=[(world.tea, 1)])
    unpacked = order_create(
        kind=OrderKind.DELIVERY,
        actor=None,
        site=world.site,
        lines=[LineSpec(description="Green tea", unit_price=Decimal("12.00"), product=world.tea)],
    )
    before = OrderEvent.objects.count()
    client.force_login(world.regional)

    response = _label(client, packed, unpacked)

    assert response.status_code == 400
    assert "packed" in response.text and unpacked.number in response.text
    assert Shipment.objects.count() == 0 and OrderEvent.objects.count() == before
    ship = client.post(reverse("fulfilment:shipping-ship", args=[packed.pk]))
    assert ship.status_code == 400 and "label" in ship.text
    packed.refresh_from_db()
    assert packed.status == "packed"


def test_labels_and_shipping_are_scoped(client, world):
    theirs = packed_order(site=world.west_site, location=world.west_shelf, items=[(world.tea, 1)])
    client.force_login(world.regional)
    assert _label(client, theirs).status_code == 404
    assert client.post(reverse("fulfilment:shipping-ship", args=[theirs.pk])).status_code == 404
    assert theirs.number not in client.get(reverse("fulfilment:shipping-list")).text
    assert Shipment.objects.count() == 0


def test_ship_track_and_deliver_with_the_customer_told_and_able_to_see_it(client, api_client, world):
    customer = CustomerFactory(phone="+8613900139000")
    order = packed_order(
        site=world.site, location=world.shelf, items=[(world.tea, 1)], customer=customer, phone="13900139000"
    )
    client.force_login(world.regional)
    _label(client, order)
    shipment = Shipment.objects.get(order=order)
    start = _last_event(order)

    # Tracking before the parcel left is refused.
    early = _push(client, shipment.waybill_number, {"at": "2026-12-05T10:00:00+08:00", "status": "in_transit"})
    assert early.status_code == 409 and TrackingEvent.objects.count() == 0

    shipped = client.post(reverse("fulfilment:shipping-ship", args=[order.pk]))
    assert shipped.status_code == 302
    order.refresh_from_db()
    shipment.refresh_from_db()
    assert order.status == "shipped" and shipment.status == "shipped" and shipment.shipped_at
    sms = Notification.objects.get(template="order_shipped")
    assert sms.channel == "sms" and sms.address == "13900139000" and shipment.waybill_number in sms.body

    first = {
        "at": "2026-12-05T10:00:00+08:00",
        "status": "in_transit",
        "description": "Left Shanghai hub",
        "location": "Shanghai",
    }
    response = _push(client, shipment.waybill_number, first)
    assert response.status_code == 200 and response.json()["ok"] is True
    assert _push(client, shipment.waybill_number, first).status_code == 200  # the same push again
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 1
    shipment.refresh_from_db()
    assert shipment.status == "in_transit"

    delivered = {"at": "2026-12-05T16:30:00+08:00", "status": "delivered", "description": "Signed for by Zhang"}
    assert _push(client, shipment.waybill_number, delivered).status_code == 200
    order.refresh_from_db()
    shipment.refresh_from_db()
    assert order.status == "delivered" and shipment.status == "delivered" and shipment.delivered_at
    assert Notification.objects.filter(template="order_delivered", address="13900139000").count() == 1
    assert _actions(order, after=start) == ["shipped", "shipment.tracking", "shipment.tracking", "delivered"]
    tracking = OrderEvent.objects.filter(order=order, action="shipment.tracking").order_by("pk")
    assert [e.data["status"] for e in tracking] == ["in_transit", "delivered"]
    assert tracking[0].actor_label == "carrier:simulated" and tracking[0].reason == "Left Shanghai hub"

    detail = client.get(reverse("orders:order-detail", args=[order.pk]))
    assert detail.status_code == 200
    assert shipment.waybill_number in detail.text and "Left Shanghai hub" in detail.text
    assert "Signed for by Zhang" in detail.text

    token = "t-" + "x" * 30
    CustomerToken.objects.create(customer=customer, key_hash=hashlib.sha256(token.encode()).hexdigest())
    api_client.credentials(HTTP_AUTHORIZATION=f"Customer {token}")
    rows = api_client.get("/api/v1/customer/shipments/").json()["results"]
    assert len(rows) == 1 and rows[0]["waybill_number"] == shipment.waybill_number
    assert rows[0]["order"] == order.number and rows[0]["status"] == "delivered"
    assert [e["description"] for e in rows[0]["events"]] == ["Left Shanghai hub", "Signed for by Zhang"]
    # Another customer's parcel is not theirs to see.
    other = packed_order(site=world.site, location=world.shelf, items=[(world.cup, 1)], customer=CustomerFactory())
    _label(client, other)
    other_shipment = Shipment.objects.get(order=other)
    assert len(api_client.get("/api/v1/customer/shipments/").json()["results"]) == 1
    assert api_client.get(f"/api/v1/customer/shipments/{other_shipment.pk}/").status_code == 404


def test_tracking_callbacks_with_a_bad_signature_or_unknown_waybill_are_refused(client, world):
    order = packed_order(site=world.site, location=world.shelf, items=[(world.tea, 1)])
    client.force_login(world.regional)
    _label(client, order)
    client.post(reverse("fulfilment:shipping-ship", args=[order.pk]))
    client.logout()
    shipment = Shipment.objects.get(order=order)
    before = OrderEvent.objects.count()
    event = {"at": "2026-12-05T10:00:00+08:00", "status": "delivered", "description": "Signed"}

    bad = _push(client, shipment.waybill_number, event, secret_sign=False)
    assert bad.status_code == 403 and "signature" in bad.json()["message"]
    unknown = _push(client, "SIM999999999999", event)
    assert unknown.status_code == 404 and "SIM999999999999" in unknown.json()["message"]
    garbled = client.post(
        reverse("fulfilment:carrier-push", args=["simulated"]),
        b"not json",
        content_type="application/json",
        HTTP_X_SIGNATURE=sign(b"not json"),
    )
    assert garbled.status_code == 400
    no_carrier = client.post(
        reverse("fulfilment:carrier-push", args=["nobody"]), b"{}", content_type="application/json"
    )
    assert no_carrier.status_code == 404

    assert TrackingEvent.objects.count() == 0 and OrderEvent.objects.count() == before
    order.refresh_from_db()
    assert order.status == "shipped"


def test_kuaidi100_push_is_verified_by_its_documented_signature(client, world, settings):
    settings.FULFILMENT_CARRIERS = {"kuaidi100": "fulfilment.carriers.kuaidi100.Kuaidi100Carrier"}
    settings.KUAIDI100 = {"salt": "s3cret-salt", "key": "k", "customer": "c"}
    order = packed_order(site=world.site, location=world.shelf, items=[(world.tea, 1)])
    # Kuaidi100 tracks the carrier's own waybill number (typed in from its electronic waybill).
    Shipment.objects.create(order=order, carrier="kuaidi100", waybill_number="SF1234567890")
    client.force_login(world.regional)
    client.post(reverse("fulfilment:shipping-ship", args=[order.pk]))
    param = json.dumps(
        {
            "status": "polling",
            "message": "",
            "lastResult": {
                "nu": "SF1234567890",
                "com": "shunfeng",
                "state": "3",
                "ischeck": "1",
                "data": [
                    {"context": "已签收", "time": "2026-12-05 16:30:00", "ftime": "2026-12-05 16:30:00"},
                    {"context": "已揽收", "time": "2026-12-05 09:00:00", "ftime": "2026-12-05 09:00:00"},
                ],
            },
        },
        ensure_ascii=False,
    )
    url = reverse("fulfilment:carrier-push", args=["kuaidi100"])

    bad = client.post(url, {"param": param, "sign": "0" * 32})
    assert bad.status_code == 403 and bad.json()["result"] is False and TrackingEvent.objects.count() == 0

    good_sign = hashlib.md5((param + "s3cret-salt").encode()).hexdigest().upper()
    good = client.post(url, {"param": param, "sign": good_sign})
    assert good.status_code == 200 and good.json() == {"result": True, "returnCode": "200", "message": "成功"}
    events = list(TrackingEvent.objects.order_by("at"))
    assert [(e.status, e.description) for e in events] == [("in_transit", "已揽收"), ("delivered", "已签收")]
    order.refresh_from_db()
    assert order.status == "delivered"


def test_the_order_page_of_a_packed_order_offers_to_ship_after_the_label(client, world):
    order = packed_order(site=world.site, location=world.shelf, items=[(world.tea, 1)])
    client.force_login(world.regional)
    page = client.get(reverse("orders:order-detail", args=[order.pk]))
    assert page.status_code == 200 and reverse("fulfilment:shipping-ship", args=[order.pk]) not in page.text
    _label(client, order)
    page = client.get(reverse("orders:order-detail", args=[order.pk]))
    assert reverse("fulfilment:shipping-ship", args=[order.pk]) in page.text
    assert Order.objects.get(pk=order.pk).shipment.waybill_number in page.text


def test_the_beat_job_polls_kuaidi100_with_its_documented_signature(client, world, settings, monkeypatch):
    settings.FULFILMENT_CARRIERS = {"kuaidi100": "fulfilment.carriers.kuaidi100.Kuaidi100Carrier"}
    settings.KUAIDI100 = {"salt": "s", "key": "the-key", "customer": "CUST01", "company": "shunfeng"}
    order = packed_order(site=world.site, location=world.shelf, items=[(world.tea, 1)])
    Shipment.objects.create(order=order, carrier="kuaidi100", waybill_number="SF0000000001")
    client.force_login(world.regional)
    client.post(reverse("fulfilment:shipping-ship", args=[order.pk]))
    sent = {}

    class Reply:
        def raise_for_status(self):
            return None

        def json(self):
            return {
                "nu": "SF0000000001",
                "state": "0",
                "data": [{"context": "运输中", "time": "2026-12-05 12:00:00", "ftime": "2026-12-05 12:00:00"}],
            }

    def post(url, data, timeout):
        sent.update(url=url, **data)
        return Reply()

    monkeypatch.setattr("requests.post", post)
    from fulfilment.tasks import tracking_poll

    assert tracking_poll() == 1
    assert sent["url"] == "https://poll.kuaidi100.com/poll/query.do" and sent["customer"] == "CUST01"
    assert json.loads(sent["param"]) == {"com": "shunfeng", "num": "SF0000000001"}
    assert sent["sign"] == hashlib.md5((sent["param"] + "the-key" + "CUST01").encode()).hexdigest().upper()
    assert TrackingEvent.objects.get().description == "运输中"
    assert tracking_poll() == 0  # the same step again adds nothing
