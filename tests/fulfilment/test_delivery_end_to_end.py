"""Issue 21's "done when", through HTTP only: an order imported from a platform file is verified,
allocated, picked and packed by scans (one wrong scan, one repeated scan), labelled, shipped,
tracked to delivered by carrier callbacks and returned with one intact and one damaged item; at
every step the stock, the reservation and the operation log are exactly right."""

import io
import json
import pathlib
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from core.models import Notification, Site
from fulfilment.carriers.simulated import sign
from fulfilment.models import Allocation, Delivery, PlatformMapping, ReturnItem, ReturnRequest, Shipment
from inventory.models import StockLevel, StockLocation, StockMovement
from inventory.services import level_for, stock_move
from orders.models import OrderEvent, Refund
from tests.factories import ProductFactory, SiteFactory
from tests.fulfilment.pdf_text import pdf_text

pytestmark = pytest.mark.django_db
TAOBAO = pathlib.Path(__file__).parent / "fixtures" / "taobao_orders.csv"


@pytest.fixture
def warehouse(world):
    tea = ProductFactory(
        sku="TEA-500", name="东方树叶 茉莉花茶 500ml", barcode="6901234567892", sale_price=Decimal("3.50")
    )
    snack = ProductFactory(
        sku="SNACK-01", name="坚果礼包 每日坚果 25g", barcode="6901234567908", sale_price=Decimal("5.00")
    )
    gum = ProductFactory(sku="GUM-01", name="Mint gum", barcode="6901234567915")
    site = SiteFactory(
        region=world.east,
        name="Beijing DC",
        kind=Site.Kind.WAREHOUSE,
        latitude=Decimal("39.900000"),
        longitude=Decimal("116.400000"),
    )
    shelf = StockLocation.objects.create(site=site, kind=StockLocation.Kind.WAREHOUSE, name="Beijing DC main")
    quarantine = StockLocation.objects.create(site=site, kind=StockLocation.Kind.DAMAGED, name="Beijing DC quarantine")
    for product, quantity in ((tea, 5), (snack, 4), (gum, 9)):
        stock_move(level=level_for(location=shelf, product=product), quantity=quantity, reason="restock", actor="test")
    return site, shelf, quarantine, tea, snack, gum


def _levels(location):
    return {
        level.product.sku: (level.quantity, level.reserved)
        for level in StockLevel.objects.filter(location=location).select_related("product")
    }


def _log(order, after=0):
    return [
        (e.action, e.from_status, e.to_status)
        for e in OrderEvent.objects.filter(order=order, pk__gt=after).order_by("pk")
    ]


def _last(order):
    return OrderEvent.objects.filter(order=order).order_by("-pk").values_list("pk", flat=True).first() or 0


def _balanced(*locations):
    for level in StockLevel.objects.filter(location__in=locations):
        assert sum(level.movements.values_list("delta", flat=True)) == level.quantity, level


def _scan(client, site, order, barcode, scan_id=None):
    scan_id = scan_id or str(uuid.uuid4())
    response = client.post(
        reverse("fulfilment:packing-scan", args=[order.pk]) + f"?warehouse={site.pk}",
        json.dumps({"scan_id": scan_id, "barcode": barcode}),
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    return response.json(), scan_id


def _push(client, waybill, status, at, description):
    body = json.dumps(
        {"waybill": waybill, "events": [{"at": at, "status": status, "description": description}]}
    ).encode()
    return client.post(
        reverse("fulfilment:carrier-push", args=["simulated"]),
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE=sign(body),
    )


def test_an_imported_order_from_file_to_return(client, world, warehouse):
    site, shelf, quarantine, tea, snack, gum = warehouse
    regional, packer = world.regional, world.service

    # 1. Import the Taobao export: two orders, verified and allocated; stock reserved, none taken.
    client.force_login(regional)
    upload = io.BytesIO(TAOBAO.read_bytes())
    upload.name = "taobao_orders.csv"
    mapping = PlatformMapping.objects.get(platform="taobao")
    imported = client.post(
        "/fulfilment/import/", {"region": world.east.pk, "mapping": mapping.pk, "file": upload}, follow=True
    )
    assert imported.status_code == 200 and "2 new" in imported.content.decode()
    order = Delivery.objects.get(platform="taobao", platform_order_number="2519876543210002").order
    other = Delivery.objects.get(platform="taobao", platform_order_number="2519876543210001").order
    assert order.status == "allocated" and other.status == "allocated"
    assert sorted((line.product.sku, line.quantity) for line in order.lines.all()) == [("SNACK-01", 3), ("TEA-500", 1)]
    assert _levels(shelf) == {"TEA-500": (5, 3), "SNACK-01": (4, 3), "GUM-01": (9, 0)}
    assert list(Allocation.objects.filter(order=order).values_list("state", flat=True)) == ["reserved", "reserved"]
    assert [a for a, _f, _t in _log(order)] == ["created", "status", "allocated"]
    assert _log(order)[1:] == [("status", "new", "confirmed"), ("allocated", "confirmed", "allocated")]
    mark = _last(order)

    # 2. Pick and pack by scans: one wrong item, one repeated scan.
    client.force_login(packer)
    start = client.post(reverse("fulfilment:packing-start", args=[order.pk]) + f"?warehouse={site.pk}")
    assert start.status_code == 302
    body, tea_scan = _scan(client, site, order, tea.barcode)
    assert body["ok"] and not body["repeated"]
    assert _levels(shelf) == {"TEA-500": (4, 2), "SNACK-01": (4, 3), "GUM-01": (9, 0)}
    wrong, _id = _scan(client, site, order, gum.barcode)
    assert wrong["ok"] is False and "Mint gum" in wrong["message"]
    repeated, _id = _scan(client, site, order, tea.barcode, scan_id=tea_scan)
    assert repeated["repeated"] is True
    assert _levels(shelf) == {"TEA-500": (4, 2), "SNACK-01": (4, 3), "GUM-01": (9, 0)}
    for _n in range(3):
        body, _id = _scan(client, site, order, snack.barcode)
        assert body["ok"]
    assert body["packed"] is True
    order.refresh_from_db()
    assert order.status == "packed"
    assert _levels(shelf) == {"TEA-500": (4, 2), "SNACK-01": (1, 0), "GUM-01": (9, 0)}
    assert sorted(Allocation.objects.filter(order=order).values_list("picked", "state")) == [
        (1, "deducted"),
        (3, "deducted"),
    ]
    assert sorted(
        StockMovement.objects.filter(reference=order.number).values_list("level__product__sku", "delta", "reason")
    ) == [("SNACK-01", -1, "scan")] * 3 + [("TEA-500", -1, "scan")]
    # The wrong item and the repeated scan wrote nothing: four scans logged, then packed.
    assert _log(order, mark) == [("status", "allocated", "picking")] + [("pick.scanned", "picking", "picking")] * 4 + [
        ("status", "picking", "packed")
    ]
    mark = _last(order)

    # 3. Label and ship: the PDF carries the waybill; the customer is told.
    client.force_login(regional)
    labels = client.post(reverse("fulfilment:shipping-labels"), {"order": [order.pk], "carrier": "simulated"})
    assert labels.status_code == 200 and labels["Content-Type"] == "application/pdf"
    shipment = Shipment.objects.get(order=order)
    assert shipment.waybill_number in pdf_text(labels.content)
    unpacked = client.post(reverse("fulfilment:shipping-labels"), {"order": [other.pk], "carrier": "simulated"})
    assert unpacked.status_code == 400 and Shipment.objects.count() == 1
    assert client.post(reverse("fulfilment:shipping-ship", args=[order.pk])).status_code == 302
    order.refresh_from_db()
    assert order.status == "shipped"
    assert Notification.objects.filter(template="order_shipped", address="13900139000").count() == 1
    assert _levels(shelf) == {"TEA-500": (4, 2), "SNACK-01": (1, 0), "GUM-01": (9, 0)}
    assert _log(order, mark) == [("shipment.labelled", "packed", "packed"), ("shipped", "packed", "shipped")]
    mark = _last(order)

    # 4. Tracked to delivered by the carrier's callbacks (a bad signature refused on the way).
    client.logout()
    w = shipment.waybill_number
    assert _push(client, w, "in_transit", "2026-12-05T18:00:00+08:00", "Left Beijing hub").status_code == 200
    forged = client.post(
        reverse("fulfilment:carrier-push", args=["simulated"]),
        json.dumps({"waybill": w, "events": [{"at": "2026-12-05T19:00:00+08:00", "status": "delivered"}]}),
        content_type="application/json",
        HTTP_X_SIGNATURE="f" * 64,
    )
    assert forged.status_code == 403
    order.refresh_from_db()
    assert order.status == "shipped"
    assert _push(client, w, "delivered", "2026-12-06T10:00:00+08:00", "Signed for").status_code == 200
    order.refresh_from_db()
    assert order.status == "delivered"
    assert Notification.objects.filter(template="order_delivered", address="13900139000").count() == 1
    assert _log(order, mark) == [
        ("shipment.tracking", "shipped", "shipped"),
        ("shipment.tracking", "shipped", "shipped"),
        ("delivered", "shipped", "delivered"),
    ]
    mark = _last(order)

    # 5. Returned: one tea (intact) and one snack (damaged); more than shipped refused first.
    client.force_login(regional)
    tea_line, snack_line = order.lines.get(product=tea), order.lines.get(product=snack)
    create = reverse("fulfilment:return-create", args=[order.pk])
    too_many = client.post(create, {"reason": "damaged", f"line-{tea_line.pk}": "2"})
    assert too_many.status_code == 400 and ReturnRequest.objects.count() == 0 and _log(order, mark) == []
    made = client.post(create, {"reason": "damaged", f"line-{tea_line.pk}": "1", f"line-{snack_line.pk}": "1"})
    assert made.status_code == 302
    ret = ReturnRequest.objects.get()
    scan_url = reverse("fulfilment:return-scan", args=[ret.pk])
    for barcode, scan_id in ((tea.barcode, "r-1"), (tea.barcode, "r-1"), (snack.barcode, "r-2")):
        assert client.post(scan_url, {"barcode": barcode, "scan_id": scan_id, "location": shelf.pk}).status_code == 302
    order.refresh_from_db()
    assert order.status == "returned"
    # Paid on Taobao: nothing was paid here, so no refund here; the log says it is due there.
    assert Refund.objects.filter(order=order).count() == 0
    assert _levels(shelf) == {"TEA-500": (4, 2), "SNACK-01": (1, 0), "GUM-01": (9, 0)}
    tea_item = ReturnItem.objects.get(request=ret, line=tea_line)
    snack_item = ReturnItem.objects.get(request=ret, line=snack_line)
    assert (
        client.post(reverse("fulfilment:return-inspect", args=[tea_item.pk]), {"condition": "intact"}).status_code
        == 302
    )
    damaged = client.post(
        reverse("fulfilment:return-inspect", args=[snack_item.pk]), {"condition": "damaged", "notes": "Bag torn"}
    )
    assert damaged.status_code == 302
    # The intact tea is back where it was picked (no drinks zone here); the torn snack in quarantine.
    assert _levels(shelf) == {"TEA-500": (5, 2), "SNACK-01": (1, 0), "GUM-01": (9, 0)}
    assert _levels(quarantine) == {"SNACK-01": (1, 0)}
    _balanced(shelf, quarantine)
    assert _log(order, mark) == [
        ("return.requested", "delivered", "delivered"),
        ("return.received", "delivered", "delivered"),
        ("return.received", "delivered", "delivered"),
        ("returned", "delivered", "returned"),
        ("return.refund_elsewhere", "returned", "returned"),
        ("return.inspected", "returned", "returned"),
        ("return.inspected", "returned", "returned"),
    ]
    refund_note = OrderEvent.objects.get(order=order, action="return.refund_elsewhere")
    assert refund_note.data == {"return": ret.pk, "amount": "8.50", "platform": "taobao"}
    # The other imported order still holds its reservation, untouched by all of this.
    other.refresh_from_db()
    assert other.status == "allocated" and Allocation.objects.filter(order=other, state="reserved").count() == 1
