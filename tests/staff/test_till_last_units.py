"""On PostgreSQL, ten tills selling the last three units of a product at once sell three: the
shelf's conditional update in each sale's transaction lets no sale take stock that is gone."""

import threading
from decimal import Decimal as D

import pytest
from django.db import connections
from rest_framework.test import APIClient

from inventory.models import StockLevel
from orders.models import Order
from tests.factories import ProductFactory, stock_shelf

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_tills_selling_the_last_three_units_sell_three(world):
    product = ProductFactory(name="Last ones", barcode="6900000000999", sale_price=D("5.00"))
    level = stock_shelf(world.east_store, product, 3)
    barrier = threading.Barrier(10)
    statuses = []

    def till():
        client = APIClient()
        client.force_authenticate(world.clerk)
        try:
            barrier.wait()
            response = client.post(
                "/api/v1/counter-orders/",
                {"site": world.east_store.pk, "lines": [{"barcode": product.barcode}]},
                format="json",
            )
            statuses.append((response.status_code, str(response.content[:200])))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=till) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    codes = sorted(code for code, _body in statuses)
    assert codes == [201] * 3 + [400] * 7, statuses
    assert all("Only 0 of Last ones" in body for code, body in statuses if code == 400)
    assert StockLevel.objects.get(pk=level.pk).quantity == 0
    assert Order.objects.filter(lines__product=product).count() == 3
