"""Wallet money under concurrency, on PostgreSQL."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from tests.factories import CustomerFactory
from wallet import services
from wallet.models import Entry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(count, work):
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - collected and asserted on
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_twenty_payments_of_ten_from_seventy_give_seven_successes():
    customer = CustomerFactory()
    services.recharge_credit(customer=customer, amount="70.00", provider="cash", key="seed")
    results = _race(20, lambda i: services.wallet_pay(customer=customer, amount="10.00", key=f"pay-{i}"))
    refusals = [r for r in results if isinstance(r, services.InsufficientFunds)]
    assert len([r for r in results if not isinstance(r, Exception)]) == 7
    assert len(refusals) == 13
    assert all("Insufficient balance" in " ".join(r.messages) for r in refusals)
    balance = services.balances(customer=customer)
    assert balance.paid == Decimal("0.00") and balance.bonus == Decimal("0.00")
    assert sum(Entry.objects.filter(account__customer=customer).values_list("amount", flat=True)) == Decimal("0.00")


def test_the_same_payment_key_from_five_threads_charges_once():
    customer = CustomerFactory()
    services.recharge_credit(customer=customer, amount="50.00", provider="cash", key="seed-2")
    results = _race(5, lambda i: services.wallet_pay(customer=customer, amount="10.00", key="one-payment"))
    assert not [r for r in results if isinstance(r, Exception)]
    assert len({r.pk for r in results}) == 1
    assert services.balances(customer=customer).paid == Decimal("40.00")
