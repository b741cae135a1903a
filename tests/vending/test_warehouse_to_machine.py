"""Warehouse → vehicle → machine through the pages: a service worker plans a route taking goods from
a van, loads the van at the warehouse (transfers warehouse → van; reserved stock stays put, a load
the warehouse cannot fill is refused whole), and confirms the refill at the machine (transfers van →
slots). At every step the levels are exact and each equals the sum of its movements."""

from decimal import Decimal

import pytest
from django.urls import reverse

from core.services import scope_grant
from devices.models import Device
from inventory.models import StockLevel, StockLocation, StockMovement
from inventory.services import level_for
from tests.factories import DeviceFactory, ProductFactory, SiteFactory, UserFactory
from tests.fulfilment.builders import allocated_order, warehouse
from vending.models import RestockTask
from vending.services import slot_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def route(world):
    tea = ProductFactory(name="Jasmine tea", sale_price=Decimal("4.00"))
    bun = ProductFactory(name="Red bean bun")
    site, store = warehouse(world.east, stock={tea: 20, bun: 4})
    allocated_order(location=store, lines=[(tea, 3)])  # 3 teas held for a delivery order
    van = StockLocation.objects.create(kind=StockLocation.Kind.VEHICLE, name="Van 7", site=site)
    machine = DeviceFactory(kind=Device.Kind.VENDING, site=SiteFactory(region=world.east), name="Lobby machine")
    slot_create(device=machine, code="A1", product=tea, capacity=10)
    slot_create(device=machine, code="A2", product=bun, capacity=6)
    return tea, bun, store, van, machine


def _quantities(location):
    return {
        level.product.name: (level.quantity, level.reserved)
        for level in StockLevel.objects.filter(location=location).select_related("product")
    }


def _slots(machine):
    return {
        level.location.code: level.quantity
        for level in StockLevel.objects.filter(location__device=machine).select_related("location")
    }


def _all_levels_match_their_movements():
    for level in StockLevel.objects.all():
        assert sum(level.movements.values_list("delta", flat=True)) == level.quantity, level


def test_goods_go_from_the_warehouse_into_the_van_and_on_into_the_slots(route, world, client):
    tea, bun, store, van, machine = route
    client.force_login(world.service)

    plan = client.post(
        reverse("vending:restock-plan"), {"devices": [machine.pk], "source": van.pk, "route": "East"}
    ).content.decode()
    assert 'id="load-link"' in plan
    task = RestockTask.objects.get(device=machine)
    assert task.source == van

    load_url = reverse("vending:restock-load")
    page = client.get(load_url, {"vehicle": van.pk, "warehouse": store.pk}).content.decode()
    assert 'name="product-%d" value="10"' % tea.pk in page  # 10 for the task, 17 available
    assert 'name="product-%d" value="4"' % bun.pk in page  # 6 for the task, only 4 in the warehouse

    # More buns than the warehouse has: the whole load is refused, nothing moves.
    before = (_quantities(store), _quantities(van), StockMovement.objects.count())
    refused = client.post(
        load_url,
        {"vehicle": van.pk, "warehouse": store.pk, f"product-{tea.pk}": "10", f"product-{bun.pk}": "5"},
        follow=True,
    ).content.decode()
    assert "Red bean bun: Sold out" in refused
    # Reserved stock is not loadable: 20 on hand, 3 held for a delivery order.
    refused = client.post(
        load_url, {"vehicle": van.pk, "warehouse": store.pk, f"product-{tea.pk}": "18"}, follow=True
    ).content.decode()
    assert "Jasmine tea: Sold out" in refused
    refused = client.post(
        load_url, {"vehicle": van.pk, "warehouse": store.pk, f"product-{tea.pk}": "-1"}, follow=True
    ).content.decode()
    assert "Enter whole numbers, 0 or more." in refused
    assert (_quantities(store), _quantities(van), StockMovement.objects.count()) == before

    loaded = client.post(
        load_url,
        {"vehicle": van.pk, "warehouse": store.pk, f"product-{tea.pk}": "10", f"product-{bun.pk}": "4"},
        follow=True,
    ).content.decode()
    assert "14 items loaded into Van 7" in loaded
    assert _quantities(store) == {"Jasmine tea": (10, 3), "Red bean bun": (0, 0)}
    assert _quantities(van) == {"Jasmine tea": (10, 0), "Red bean bun": (4, 0)}
    moves = StockMovement.objects.filter(reference=f"load-{van.pk}")
    assert sorted(moves.values_list("level__location__kind", "level__product__name", "delta", "reason")) == [
        ("vehicle", "Jasmine tea", 10, "transfer"),
        ("vehicle", "Red bean bun", 4, "transfer"),
        ("warehouse", "Jasmine tea", -10, "transfer"),
        ("warehouse", "Red bean bun", -4, "transfer"),
    ]
    # Loaded: nothing is missing any more.
    page = client.get(load_url, {"vehicle": van.pk, "warehouse": store.pk}).content.decode()
    assert 'name="product-%d" value="0"' % tea.pk in page

    # At the machine: the refill moves the goods from the van into the slots.
    lines = {line.slot.code: line.pk for line in task.lines.select_related("slot")}
    client.post(
        reverse("vending:restock-detail", args=[task.pk]), {f"line-{lines['A1']}": "10", f"line-{lines['A2']}": "4"}
    )
    task.refresh_from_db()
    assert task.status == RestockTask.Status.DONE
    assert _slots(machine) == {"A1": 10, "A2": 4}
    assert _quantities(van) == {"Jasmine tea": (0, 0), "Red bean bun": (0, 0)}
    assert _quantities(store) == {"Jasmine tea": (10, 3), "Red bean bun": (0, 0)}
    assert StockMovement.objects.filter(reference=f"restock-{task.pk}", level__location=van).count() == 2
    _all_levels_match_their_movements()


def test_a_vehicle_or_warehouse_outside_the_grants_cannot_be_loaded(route, world, client):
    tea, bun, store, van, machine = route
    level_for(location=van, product=tea)
    west_worker = UserFactory(role="service_staff")
    scope_grant(actor=None, user=west_worker, target=world.west, action="view")
    client.force_login(west_worker)
    before = (_quantities(store), _quantities(van), StockMovement.objects.count())
    response = client.post(
        reverse("vending:restock-load"),
        {"vehicle": van.pk, "warehouse": store.pk, f"product-{tea.pk}": "1"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Nothing was loaded" in response.content.decode()
    assert (_quantities(store), _quantities(van), StockMovement.objects.count()) == before
    page = client.get(reverse("vending:restock-load")).content.decode()
    assert "Van 7" not in page
    client.force_login(world.clerk)
    assert client.get(reverse("vending:restock-load")).status_code == 403
