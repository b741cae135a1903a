"""Pick, scan and pack through the picking pages: a packer starts an allocated order, scans the right
items (one of them by an extra barcode), a wrong item, an unknown code, a repeated scan and one too
many; refusals write nothing, a repeat counts once, every accepted scan takes one reserved unit out
with a SCAN movement naming the order, and the order is packed when every line is scanned."""

import json
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import ProductBarcode
from fulfilment.models import Allocation, PackScan
from inventory.models import StockLevel, StockMovement
from orders.models import OrderEvent, OrderStatus
from tests.factories import ProductFactory
from tests.fulfilment.builders import allocated_order, warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(world):
    tea = ProductFactory(name="Jasmine tea", barcode="6901234567892", sale_price=Decimal("4.00"))
    bun = ProductFactory(name="Red bean bun", barcode="6901234567908", sale_price=Decimal("2.50"))
    gum = ProductFactory(name="Mint gum", barcode="6901234567915")
    ProductBarcode.objects.create(product=bun, code="16901234567905")  # a second label of the bun
    site, location = warehouse(world.east, stock={tea: 5, bun: 3, gum: 9})
    order = allocated_order(location=location, lines=[(tea, 2), (bun, 1)])
    return world, site, location, order, tea, bun, gum


def _scan(client, site, order, barcode, scan_id=None):
    scan_id = scan_id or str(uuid.uuid4())
    response = client.post(
        (reverse("fulfilment:packing-scan", args=[order.pk]) + f"?warehouse={site.pk}"),
        json.dumps({"scan_id": scan_id, "barcode": barcode}),
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )
    return response, scan_id


def _levels(location):
    return {
        level.product.name: (level.quantity, level.reserved)
        for level in StockLevel.objects.filter(location=location).select_related("product")
    }


def _scan_movements(order):
    return list(
        StockMovement.objects.filter(reference=order.number)
        .order_by("pk")
        .values_list("level__product__name", "delta", "reason")
    )


def _snapshot(order, location):
    return (
        _levels(location),
        _scan_movements(order),
        list(Allocation.objects.filter(order=order).order_by("pk").values_list("picked", "state")),
        PackScan.objects.count(),
        OrderEvent.objects.filter(order=order).count(),
    )


def test_a_packer_picks_and_packs_an_order_by_scans(setup, client):
    world, site, location, order, tea, bun, gum = setup
    client.force_login(world.service)

    home = client.get(reverse("fulfilment:packing-home"))
    assert home.status_code == 200 and site.name in home.content.decode()
    pick_list = client.get(reverse("fulfilment:packing-list", args=[site.pk]))
    assert order.number in pick_list.content.decode() and "A-01" in pick_list.content.decode()
    page = client.get(reverse("fulfilment:packing-order", args=[order.pk]) + f"?warehouse={site.pk}")
    assert page.status_code == 200 and 'id="pick-start"' in page.content.decode()
    assert 'id="pick-scan"' not in page.content.decode()  # nothing to scan before picking starts

    # A scan before the order is taken: refused, nothing written.
    before = _snapshot(order, location)
    response, _id = _scan(client, site, order, tea.barcode)
    assert (
        response.status_code == 200
        and response.json()["ok"] is False
        and "not being picked" in response.json()["message"]
    )
    assert _snapshot(order, location) == before

    assert (
        client.post(reverse("fulfilment:packing-start", args=[order.pk]) + f"?warehouse={site.pk}").status_code == 302
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PICKING
    page = client.get(reverse("fulfilment:packing-order", args=[order.pk]) + f"?warehouse={site.pk}").content.decode()
    assert 'id="pick-scan"' in page and "zxing-browser-0.2.1/zxing-browser.min.js" in page

    # The first tea: counted, one reserved unit out with a SCAN movement naming the order.
    response, first_id = _scan(client, site, order, tea.barcode)
    body = response.json()
    assert response.status_code == 200 and body["ok"] and not body["repeated"] and not body["packed"]
    assert "Jasmine tea: 1 of 2" in body["message"]
    assert _levels(location) == {"Jasmine tea": (4, 1), "Red bean bun": (3, 1), "Mint gum": (9, 0)}
    assert _scan_movements(order) == [("Jasmine tea", -1, "scan")]
    assert StockMovement.objects.get(reference=order.number).actor_label == world.service.username

    # A wrong item and an unknown code: refused with a message, nothing written.
    before = _snapshot(order, location)
    response, _id = _scan(client, site, order, gum.barcode)
    assert (
        response.status_code == 200
        and response.json()["ok"] is False
        and response.json()["message"] == (f"Wrong item: Mint gum is not on order {order.number}.")
    )
    response, _id = _scan(client, site, order, "0000000000000")
    assert (
        response.status_code == 200
        and response.json()["ok"] is False
        and "Unknown barcode 0000000000000" in response.json()["message"]
    )
    assert _snapshot(order, location) == before

    # The same scan sent again (a retry, a double tap): answered, counted once.
    response, _id = _scan(client, site, order, tea.barcode, scan_id=first_id)
    assert response.status_code == 200 and response.json()["repeated"] is True
    assert "Already counted" in response.json()["message"]
    assert _snapshot(order, location) == before

    # The second tea fills its line; a third is one too many and is refused.
    response, _id = _scan(client, site, order, tea.barcode)
    assert response.status_code == 200
    assert _levels(location)["Jasmine tea"] == (3, 0)
    assert Allocation.objects.get(order=order, line__product=tea).state == Allocation.State.DEDUCTED
    before = _snapshot(order, location)
    response, _id = _scan(client, site, order, tea.barcode)
    assert response.status_code == 200 and response.json()["ok"] is False
    assert response.json()["message"] == "Too many: all 2 of Jasmine tea are already scanned."
    assert _snapshot(order, location) == before

    # The bun by its second barcode: every line is scanned, the order is packed.
    response, _id = _scan(client, site, order, "16901234567905")
    body = response.json()
    assert response.status_code == 200 and body["packed"] is True and body["status"] == "packed"
    assert f"Order {order.number} is packed." in body["message"]
    order.refresh_from_db()
    assert order.status == OrderStatus.PACKED
    assert _levels(location) == {"Jasmine tea": (3, 0), "Red bean bun": (2, 0), "Mint gum": (9, 0)}
    assert _scan_movements(order) == [
        ("Jasmine tea", -1, "scan"),
        ("Jasmine tea", -1, "scan"),
        ("Red bean bun", -1, "scan"),
    ]
    assert list(Allocation.objects.filter(order=order).order_by("pk").values_list("picked", "state")) == [
        (2, "deducted"),
        (1, "deducted"),
    ]
    assert PackScan.objects.filter(order=order).count() == 3
    # Every level still equals the sum of its movements.
    for level in StockLevel.objects.filter(location=location):
        assert sum(level.movements.values_list("delta", flat=True)) == level.quantity

    # The operation log: every step, in order.
    log = list(OrderEvent.objects.filter(order=order).order_by("pk").values_list("action", "to_status"))
    assert log == [
        ("created", "new"),
        ("status", "confirmed"),
        ("status", "allocated"),
        ("status", "picking"),
        ("pick.scanned", "picking"),
        ("pick.scanned", "picking"),
        ("pick.scanned", "picking"),
        ("status", "packed"),
    ]
    # A scan after packing is refused; a packed order is off the pick list.
    response, _id = _scan(client, site, order, tea.barcode)
    assert response.status_code == 200 and response.json()["ok"] is False
    assert order.number not in client.get(reverse("fulfilment:packing-list", args=[site.pk])).content.decode()

    # The order page shows the picking and the scans.
    client.force_login(world.admin)
    detail = client.get(reverse("orders:order-detail", args=[order.pk])).content.decode()
    assert 'id="order-packing"' in detail and 'id="order-scans"' in detail
    assert "Item scanned into the parcel" in detail


def test_the_form_without_script_counts_a_scan_and_shows_refusals(setup, client):
    world, site, location, order, tea, bun, gum = setup
    client.force_login(world.service)
    client.post(reverse("fulfilment:packing-start", args=[order.pk]) + f"?warehouse={site.pk}")
    url = reverse("fulfilment:packing-scan", args=[order.pk]) + f"?warehouse={site.pk}"
    scan_id = str(uuid.uuid4())
    response = client.post(url, {"scan_id": scan_id, "barcode": tea.barcode}, follow=True)
    assert "Jasmine tea: 1 of 2." in response.content.decode()
    client.post(url, {"scan_id": scan_id, "barcode": tea.barcode})  # a double submit
    assert Allocation.objects.get(order=order, line__product=tea).picked == 1
    response = client.post(url, {"scan_id": str(uuid.uuid4()), "barcode": gum.barcode}, follow=True)
    assert "Wrong item: Mint gum" in response.content.decode()
    assert _levels(location)["Jasmine tea"] == (4, 1)


def test_bad_scans_are_refused_with_nothing_written(setup, client):
    world, site, location, order, tea, bun, gum = setup
    client.force_login(world.service)
    client.post(reverse("fulfilment:packing-start", args=[order.pk]) + f"?warehouse={site.pk}")
    url = reverse("fulfilment:packing-scan", args=[order.pk]) + f"?warehouse={site.pk}"
    before = _snapshot(order, location)
    for body in ("not json", "[1, 2]", json.dumps({"barcode": tea.barcode}), json.dumps({"scan_id": "x"})):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code in (200, 400), body
        assert response.json()["ok"] is False and response.json()["message"]
    response, _id = _scan(client, site, order, "")
    assert (
        response.status_code == 200
        and response.json()["ok"] is False
        and response.json()["message"] == "Scan a barcode."
    )
    assert _snapshot(order, location) == before


def test_a_scan_id_of_another_order_is_refused(setup, client):
    world, site, location, order, tea, bun, gum = setup
    other = allocated_order(location=location, lines=[(tea, 1)])
    client.force_login(world.service)
    for o in (order, other):
        client.post(reverse("fulfilment:packing-start", args=[o.pk]) + f"?warehouse={site.pk}")
    _response, scan_id = _scan(client, site, order, tea.barcode)
    before = _snapshot(other, location)
    response, _id = _scan(client, site, other, tea.barcode, scan_id=scan_id)
    assert (
        response.status_code == 200 and response.json()["ok"] is False and "another order" in response.json()["message"]
    )
    assert _snapshot(other, location) == before


def test_a_packer_sees_only_the_warehouses_of_their_grants(setup, client):
    world, site, location, order, tea, bun, gum = setup
    west_site, west_location = warehouse(world.west, name="West warehouse", stock={tea: 3})
    west_order = allocated_order(location=west_location, lines=[(tea, 1)])
    client.force_login(world.service)  # granted the east region
    home = client.get(reverse("fulfilment:packing-home")).content.decode()
    assert site.name in home and "West warehouse" not in home
    assert client.get(reverse("fulfilment:packing-list", args=[west_site.pk])).status_code == 404
    assert (
        client.get(reverse("fulfilment:packing-order", args=[west_order.pk]) + f"?warehouse={west_site.pk}").status_code
        == 404
    )
    assert client.get(reverse("fulfilment:packing-order", args=[west_order.pk])).status_code == 404
    # A west order through the east warehouse's URL is not found either: it is not picked there.
    assert (
        client.get(reverse("fulfilment:packing-order", args=[west_order.pk]) + f"?warehouse={site.pk}").status_code
        == 404
    )
    assert (
        client.post(reverse("fulfilment:packing-start", args=[west_order.pk]) + f"?warehouse={site.pk}").status_code
        == 404
    )
    response, _id = _scan(client, site, west_order, tea.barcode)
    assert response.status_code == 404
    west_order.refresh_from_db()
    assert west_order.status == OrderStatus.ALLOCATED
    # Roles that do not pack are refused.
    client.force_login(world.clerk)
    assert client.get(reverse("fulfilment:packing-home")).status_code == 403
    response, _id = _scan(client, site, order, tea.barcode)
    assert response.status_code == 403


def test_the_nav_has_picking_for_the_roles_that_pack(world, client):
    url = reverse("fulfilment:packing-home")
    for user, shown in ((world.service, True), (world.regional, True), (world.admin, True), (world.clerk, False)):
        client.force_login(user)
        page = client.get(reverse("orders:order-list") if user != world.service else reverse("vending:restock-list"))
        assert (f'href="{url}"' in page.content.decode()) is shown, user
