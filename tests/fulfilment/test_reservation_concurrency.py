"""On PostgreSQL: ten partner orders at the same moment for the last four units in a warehouse,
each its own request and connection: exactly four units are reserved, four orders allocated, and
the six others held with the reason — never a reservation beyond the stock."""

import threading

import pytest
from django.db import connection

from fulfilment.models import Allocation, Delivery
from inventory.models import StockLevel
from orders.models import Order, OrderKind, OrderStatus
from tests.fulfilment.conftest import stock
from tests.orders.partner_helpers import create_partner, partner_api

URL = "/api/v1/partner/delivery-orders/"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_orders_for_the_last_four_units_reserve_four(world, shop):
    stock(shop.sh_loc, shop.tea, 4)
    _client, key, _secret = create_partner(world.admin, region=world.east, name="Web shop", kind="shop")
    barrier = threading.Barrier(10)
    results = []

    def order(index):
        try:
            barrier.wait()
            response = partner_api(key).post(
                URL,
                {
                    "platform_order_number": f"RACE-{index}",
                    "recipient_name": f"客户{index}",
                    "phone": f"1380013{index:04d}",
                    "province": "上海",
                    "city": "上海市",
                    "address": "世纪大道100号",
                    "lines": [{"sku": "TEA-500", "quantity": 1}],
                },
                format="json",
                HTTP_IDEMPOTENCY_KEY=f"race-{index}",
            )
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=order, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(code for code, _body in results) == [201] * 10, results
    level = StockLevel.objects.get(location=shop.sh_loc, product=shop.tea)
    assert (level.quantity, level.reserved) == (4, 4)
    statuses = sorted(body["status"] for _code, body in results)
    assert statuses == ["allocated"] * 4 + ["new"] * 6
    assert Allocation.objects.filter(state="reserved").count() == 4
    held = Delivery.objects.filter(order__status=OrderStatus.NEW)
    assert held.count() == 6
    for delivery in held:
        assert [hold["code"] for hold in delivery.holds] == ["stock"]
        assert "taken by other orders" in delivery.holds[0]["message"] or "Not enough" in delivery.holds[0]["message"]
    assert Order.objects.filter(kind=OrderKind.DELIVERY).count() == 10
