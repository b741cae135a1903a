"""Concurrent buyers of the last items, on PostgreSQL."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from devices.models import Device
from inventory.models import StockMovement
from inventory.services import stock_move
from orders.models import Order, OrderStatus
from orders.services import payment_collect
from tests.devices.helpers import answer_pending
from tests.factories import DeviceFactory, ProductFactory
from vending.services import slot_create, vend_start

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_thirty_two_buyers_of_ten_items_get_ten_sales_and_twenty_two_sold_out():
    machine = DeviceFactory(kind=Device.Kind.VENDING)
    slot = slot_create(device=machine, code="B2", product=ProductFactory(), capacity=10)
    stock_move(level=slot.level, quantity=10, reason="restock")
    barrier = threading.Barrier(32)
    results = [None] * 32

    def buy(index):
        try:
            barrier.wait()
            vend = vend_start(device=machine, slot_code="B2", request_id=f"buyer-{index}")
            payment_collect(order=vend.order, provider="cash", amount=vend.order.total, actor=None)
            results[index] = vend
        except ValidationError as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answer_pending(machine, succeeded=True)  # the machine dispenses what was paid
    sold_out = [r for r in results if isinstance(r, ValidationError)]
    assert len(sold_out) == 22
    assert all("Sold out" in " ".join(error.messages) for error in sold_out)
    assert Order.objects.filter(device=machine, status=OrderStatus.COMPLETED).count() == 10
    assert Order.objects.filter(device=machine).count() == 10  # refusals wrote no order
    slot.level.refresh_from_db()
    assert slot.level.quantity == 0
    assert StockMovement.objects.filter(level=slot.level, reason="sale").count() == 10
