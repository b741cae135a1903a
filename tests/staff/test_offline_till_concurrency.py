"""On PostgreSQL: a till that sends the same offline sale twice at once (a retry racing the first
send, or two tabs) gets one sale: one order, one payment, one take off the shelf, and both sends
the same answer. And offline sales of the last units from two tills never take the shelf below
zero: what is missing is flagged instead."""

import datetime
import threading
import uuid
from decimal import Decimal as D

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.models import StockLevel
from orders.models import Order, Payment
from staff.counter import shift_open
from staff.models import OfflineSale
from tests.factories import ProductFactory, UserFactory, stock_shelf

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
SYNC = "/api/v1/till-offline-sales/"


def _send_at_once(bodies_and_users):
    barrier = threading.Barrier(len(bodies_and_users))
    answers = []

    def send(body, user):
        client = APIClient()
        client.force_authenticate(user)
        try:
            barrier.wait()
            response = client.post(SYNC, body, format="json")
            answers.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=pair) for pair in bodies_and_users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def _sale(site, shift, product, quantity):
    amount = product.sale_price * quantity
    return {
        "client_id": str(uuid.uuid4()),
        "site": site.pk,
        "shift": shift.pk,
        "happened_at": (timezone.now() - datetime.timedelta(seconds=30)).isoformat(),
        "method": "cash",
        "lines": [{"product": product.pk, "quantity": quantity, "unit_price": str(product.sale_price)}],
        "amount": str(amount),
        "tendered": str(amount),
    }


def test_two_resends_of_one_offline_sale_at_once_apply_it_once(world):
    product = ProductFactory(name="Resent tea", sale_price=D("3.00"))
    level = stock_shelf(world.east_store, product, 5)
    shift = shift_open(actor=world.clerk, site=world.east_store, opening_float=D("50.00"))
    body = _sale(world.east_store, shift, product, 2)
    answers = _send_at_once([(body, world.clerk), (body, world.clerk)])
    assert sorted(code for code, _answer in answers) == [200, 201], answers
    assert answers[0][1] == answers[1][1]
    assert OfflineSale.objects.count() == 1
    assert Order.objects.filter(site=world.east_store).count() == 1
    assert Payment.objects.filter(order__site=world.east_store).count() == 1
    assert StockLevel.objects.get(pk=level.pk).quantity == 3


def test_two_tills_selling_the_last_units_offline_never_take_the_shelf_below_zero(world):
    product = ProductFactory(name="Last buns", sale_price=D("2.00"))
    level = stock_shelf(world.east_store, product, 3)
    other = UserFactory(role="clerk")
    from core.services import scope_grant
    from staff.models import StaffProfile

    StaffProfile.objects.create(user=other).sites.add(world.east_store)
    scope_grant(actor=None, user=other, target=world.east_store, action="view")
    shifts = [shift_open(actor=user, site=world.east_store, opening_float=D("0")) for user in (world.clerk, other)]
    answers = _send_at_once(
        [
            (_sale(world.east_store, shifts[0], product, 2), world.clerk),
            (_sale(world.east_store, shifts[1], product, 2), other),
        ]
    )
    assert sorted(code for code, _answer in answers) == [201, 201], answers
    assert sorted(answer["flags"] for _code, answer in answers) == [[], ["stock_out"]]
    assert StockLevel.objects.get(pk=level.pk).quantity == 0
    assert Payment.objects.filter(order__site=world.east_store).count() == 2  # the money was taken
