"""Bookings from the app under concurrency on PostgreSQL, through HTTP: eight customers asking for
the last three compartments get three bookings, each charged once, and the rest a clear refusal
with their money untouched; one app sending the same booking five times at once books and pays
once."""

import threading
from decimal import Decimal as D

import pytest
from django.db import connection
from rest_framework.test import APIClient

from devices.models import Device
from lockers.models import Compartment, LockerOrder
from lockers.services import compartments_create
from members.models import Customer
from orders.models import Order
from tests.factories import DeviceFactory
from tests.lockers.test_booked_in_the_app import _member
from wallet.services import balances

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _at_once(count, call):
    barrier, results = threading.Barrier(count), [None] * count

    def run(index):
        try:
            barrier.wait()
            results[index] = call(index)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_eight_customers_for_three_compartments(world):
    bank = DeviceFactory(kind=Device.Kind.LOCKER, site=world.east_store)
    compartments_create(bank=bank, sizes=["S", "S", "M"])
    members = [_member(world.east, balance="10") for _ in range(8)]

    def book(index):
        body = {"bank": bank.pk, "size": "S", "method": "wallet", "request_id": f"c-{index}"}
        return members[index].post("/api/v1/customer/locker-bookings/", body, format="json")

    results = _at_once(8, book)
    won = [r.json() for r in results if r.status_code == 201]
    assert len(won) == 3 and len({b["door"] for b in won}) == 3
    assert sorted(r.status_code for r in results) == [201] * 3 + [400] * 5
    assert all("No free compartment" in str(r.json()) for r in results if r.status_code == 400)
    # The winners paid the S price (the one who got the M compartment too); the others nothing.
    assert sorted(balances(customer=m.customer).paid for m in members) == [D("7.00")] * 3 + [D("10.00")] * 5
    assert Compartment.objects.filter(bank=bank, state="reserved").count() == 3
    assert LockerOrder.objects.filter(bank=bank).exclude(stage="cancelled").count() == 3


def test_the_same_booking_sent_five_times_at_once_books_and_pays_once(world):
    bank = DeviceFactory(kind=Device.Kind.LOCKER, site=world.east_store)
    compartments_create(bank=bank, sizes=["M", "M"])
    member = _member(world.east, balance="10")
    body = {"bank": bank.pk, "size": "M", "method": "wallet", "request_id": "same"}
    apps = [APIClient() for _ in range(5)]  # one phone, five connections
    for app in apps:
        app.credentials(**member._credentials)
    results = _at_once(5, lambda i: apps[i].post("/api/v1/customer/locker-bookings/", body, format="json"))
    assert [r.status_code for r in results] == [201] * 5, [r.content for r in results]
    assert len({r.json()["id"] for r in results}) == 1
    assert balances(customer=member.customer).paid == D("6.00")
    assert Order.objects.filter(customer=Customer.objects.get(pk=member.customer.pk)).count() == 1
    assert Compartment.objects.filter(bank=bank, state="reserved").count() == 1
