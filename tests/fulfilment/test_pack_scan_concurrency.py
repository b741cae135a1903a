"""On PostgreSQL: five deliveries of the same scan at the same moment (a scanner's retries, a
double tap on a slow network) deduct once; five different scans of the same last unit count one."""

import json
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from fulfilment.models import Allocation, PackScan
from inventory.models import StockLevel, StockMovement
from orders.models import OrderEvent
from tests.factories import ProductFactory
from tests.fulfilment.builders import allocated_order, warehouse

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _post_together(world, url, bodies):
    barrier = threading.Barrier(len(bodies))
    answers = []

    def post(body):
        try:
            client = Client()
            client.force_login(world.service)
            barrier.wait()
            response = client.post(url, json.dumps(body), content_type="application/json")
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def _started(world):
    tea = ProductFactory(name="Jasmine tea", barcode="6901234567892", sale_price=Decimal("4.00"))
    site, location = warehouse(world.east, stock={tea: 5})
    order = allocated_order(location=location, lines=[(tea, 2)])
    client = Client()
    client.force_login(world.service)
    client.post(reverse("fulfilment:packing-start", args=[order.pk]) + f"?warehouse={site.pk}")
    return tea, site, location, order, (reverse("fulfilment:packing-scan", args=[order.pk]) + f"?warehouse={site.pk}")


def test_five_concurrent_deliveries_of_one_scan_deduct_once(world):
    tea, site, location, order, url = _started(world)
    scan_id = str(uuid.uuid4())
    answers = _post_together(world, url, [{"scan_id": scan_id, "barcode": tea.barcode}] * 5)
    assert len(answers) == 5 and all(code == 200 for code, _body in answers), answers
    assert sorted(body["repeated"] for _code, body in answers) == [False, True, True, True, True]
    level = StockLevel.objects.get(location=location, product=tea)
    assert (level.quantity, level.reserved) == (4, 1)
    assert list(StockMovement.objects.filter(reference=order.number).values_list("delta", "reason")) == [(-1, "scan")]
    assert Allocation.objects.get(order=order).picked == 1
    assert PackScan.objects.filter(order=order).count() == 1
    assert OrderEvent.objects.filter(order=order, action="pick.scanned").count() == 1


def test_five_different_scans_of_two_ordered_count_two(world):
    tea, site, location, order, url = _started(world)
    answers = _post_together(world, url, [{"scan_id": str(uuid.uuid4()), "barcode": tea.barcode} for _ in range(5)])
    assert all(code == 200 for code, _body in answers), answers
    assert sorted(body["ok"] for _code, body in answers) == [False, False, False, True, True], answers
    level = StockLevel.objects.get(location=location, product=tea)
    assert (level.quantity, level.reserved) == (3, 0)
    assert StockMovement.objects.filter(reference=order.number, reason="scan").count() == 2
    order.refresh_from_db()
    assert order.status == "packed"
