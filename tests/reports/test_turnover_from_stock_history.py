"""Turnover and stock-outs read the append-only stock movements: the average stock on hand is
time-weighted, a slot's hours at zero are its stock-out hours, and the sales it probably lost are
its sales rate while stocked times those hours."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from devices.models import Device
from inventory.services import stock_move
from tests.factories import DeviceFactory, ProductFactory
from tests.reports.history import at, local
from vending.services import slot_create

pytestmark = pytest.mark.django_db


def test_average_stock_and_stock_out_hours_of_a_slot(client, world):
    today = timezone.localdate()
    d1, d2 = today - datetime.timedelta(days=6), today - datetime.timedelta(days=5)
    machine = DeviceFactory(kind=Device.Kind.VENDING, site=world.east_store, name="Corner machine")
    product = ProductFactory(name="Lemon tea", sale_price=Decimal("4.00"))
    with at(local(d1, 0, 0) - datetime.timedelta(days=1)):
        slot = slot_create(device=machine, code="B2", product=product, capacity=10)
    with at(local(d1, 0, 0)):
        stock_move(level=slot.level, quantity=4, reason="restock")
    with at(local(d1, 12, 0)):
        stock_move(level=slot.level, quantity=-4, reason="sale")
    with at(local(d2, 12, 0)):
        stock_move(level=slot.level, quantity=4, reason="restock")
    client.force_login(world.regional)
    response = client.get(
        reverse("reports:turnover"),
        {"date_from": d1, "date_to": d2, "machine": machine.pk, "format": "json"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200, response.content
    products, slots = (section["rows"] for section in response.json()["sections"])
    # 4 units for 12 h, none for 24 h, 4 for 12 h: 2 on average over 48 h; 4 left at the end.
    assert products == [["Lemon tea", 0, "0.00", 2.0, 4, 0.0, None, 0.0]]
    # Sold 4 in the 24 stocked hours, empty 24 h: about 4 more would have sold, 16.00 at 4.00.
    assert slots == [[str(machine), "B2", "Lemon tea", 4, 24.0, 4.0, "16.00"]]


def test_another_regions_machine_is_no_choice(client, world):
    west_machine = DeviceFactory(kind=Device.Kind.VENDING, site=world.west_store)
    client.force_login(world.regional)
    response = client.get(reverse("reports:turnover"), {"machine": west_machine.pk, "format": "json"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.json()["error"]
