"""A recharge refunded at the till while the same customer pays from the wallet: both go through
their doors (the till page, the lease return scan that bills the wallet), neither ends in a
deadlock or a 500, and the money is right. ADR 3: one global lock order everywhere."""

import contextlib
import datetime
import functools
import threading
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from leasing.models import Asset, Lease, RatePlan
from leasing.services import lease_start
from orders.models import OrderStatus
from orders.services import payment_collect
from tests.factories import CustomerFactory
from wallet.models import Entry, LedgerTransaction
from wallet.recharges import recharge_start
from wallet.services import Balances, balances, recharge_credit

ROUNDS = 16


def _paid_recharge(customer, site, amount, on_commit=contextlib.nullcontext):
    with on_commit():
        recharge = recharge_start(customer=customer, amount=amount, actor=None, site=site)
        payment_collect(order=recharge.order, provider="cash", amount=recharge.amount, actor=None)
    recharge.refresh_from_db()
    assert recharge.credited_id, "the paid recharge was credited to the wallet"
    return recharge


def _refund_at_the_till(client, recharge, amount):
    return client.post(
        reverse("staff:cashier-order", args=[recharge.order_id]),
        {"form": "refund", "amount": str(amount), "reason": "customer changed their mind"},
    )


def _race(world, recharge, asset):
    """The till refunds the recharge while the lease return bills the wallet, each in its own
    thread with its own connection; (refund answer, payment answer), or the exception raised."""
    barrier = threading.Barrier(2)
    answers = {}

    def refund():
        till = Client(raise_request_exception=False)
        till.force_login(world.admin)
        barrier.wait()
        return _refund_at_the_till(till, recharge, "100.00")

    def pay():
        api = APIClient(raise_request_exception=False)
        api.force_authenticate(world.admin)
        barrier.wait()
        return api.post(
            "/api/v1/leases/return-scan/", {"asset": asset.serial, "site": world.east_store.pk}, format="json"
        )

    def run(work, name):
        try:
            answers[name] = work()
        except Exception as error:  # noqa: BLE001 - collected and asserted on
            answers[name] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(refund, "refund")), threading.Thread(target=run, args=(pay, "pay"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers.get("refund"), answers.get("pay")


@pytest.mark.django_db
def test_the_till_refund_of_a_recharge_takes_it_out_of_the_wallet(world, client, django_capture_on_commit_callbacks):
    customer = CustomerFactory(home_region=world.east)
    callbacks = functools.partial(django_capture_on_commit_callbacks, execute=True)
    recharge = _paid_recharge(customer, world.east_store, "100.00", callbacks)
    client.force_login(world.admin)
    partial = _refund_at_the_till(client, recharge, "40.00")
    assert partial.status_code == 200 and "A recharge is refunded in full: 100.00." in partial.content.decode()
    assert balances(customer=customer).paid == D("100.00")

    done = _refund_at_the_till(client, recharge, "100.00")
    assert done.status_code == 302
    recharge.refresh_from_db()
    recharge.order.refresh_from_db()
    assert recharge.refunded_id and recharge.order.status == OrderStatus.REFUNDED
    assert balances(customer=customer) == Balances(paid=D("0.00"), bonus=D("0.00"), held=D("0.00"))


@pytest.mark.django_db
def test_a_spent_recharge_is_refused_at_the_till_and_no_money_moves(world, client, django_capture_on_commit_callbacks):
    from wallet.services import wallet_pay

    customer = CustomerFactory(home_region=world.east)
    callbacks = functools.partial(django_capture_on_commit_callbacks, execute=True)
    recharge = _paid_recharge(customer, world.east_store, "100.00", callbacks)
    wallet_pay(customer=customer, amount="30.00", key="spent")
    client.force_login(world.admin)
    refused = _refund_at_the_till(client, recharge, "100.00")
    assert refused.status_code == 200
    assert "Only 70.00 of this recharge is left in the wallet" in refused.content.decode()
    recharge.refresh_from_db()
    recharge.order.refresh_from_db()
    assert recharge.refunded_id is None and recharge.order.refunded_amount == D("0.00")
    assert recharge.order.refunds.filter(status="succeeded").count() == 0
    assert balances(customer=customer).paid == D("70.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_recharge_refunds_at_the_till_and_wallet_payments_of_the_same_customer_never_deadlock(world):
    RatePlan.objects.create(
        name="Umbrella",
        asset_kind="umbrella",
        region=world.east,
        unit_minutes=60,
        unit_price=D("3.00"),
        free_minutes=5,
        daily_cap=D("30.00"),
        max_total=D("99.00"),
        deposit=D("0.00"),
    )
    failures = []
    for round_ in range(ROUNDS):
        customer = CustomerFactory(home_region=world.east)
        recharge_credit(customer=customer, amount="50.00", provider="cash", key=f"seed-{customer.pk}")
        recharge = _paid_recharge(customer, world.east_store, "100.00")
        asset = Asset.objects.create(serial=f"UM-{round_}", kind="umbrella", site=world.east_store)
        lease = lease_start(customer=customer, asset=asset)
        Lease.objects.filter(pk=lease.pk).update(rented_at=timezone.now() - datetime.timedelta(minutes=90))

        refund_answer, pay_answer = _race(world, recharge, asset)
        if getattr(refund_answer, "status_code", None) != 302 or getattr(pay_answer, "status_code", None) != 200:
            failures.append(
                (
                    round_,
                    getattr(refund_answer, "status_code", refund_answer),
                    getattr(pay_answer, "status_code", pay_answer),
                )
            )
            continue
        assert pay_answer.json()["amount"] == "6.00"
        # 150 paid in, 100 refunded, 6 paid for the umbrella.
        assert balances(customer=customer) == Balances(paid=D("44.00"), bonus=D("0.00"), held=D("0.00"))
        assert LedgerTransaction.objects.filter(customer=customer, kind="recharge_refund").count() == 1
        assert sum(Entry.objects.filter(account__customer=customer).values_list("amount", flat=True)) == D("44.00")
    assert not failures, f"rounds that ended in an error (round, refund, payment): {failures}"
