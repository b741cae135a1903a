"""A customer refunds an unspent recharge from the app: 100 paid online with a 10 bonus, refunded
in the app → the money goes back through the provider, and both the paid and the bonus balance are
zero, nothing spendable left. A partly spent recharge, another customer's and one paid in cash at
a store are refused with nothing moved."""

import hashlib
import secrets
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.test import APIClient

from members.models import CustomerToken
from orders.models import Order, Payment
from tests.factories import CustomerFactory
from tests.wallet.test_online_providers import _post, _stripe_notice
from wallet.models import BonusTier
from wallet.recharges import recharge_start
from wallet.services import Balances, balances, wallet_pay

pytestmark = pytest.mark.django_db


def _app(customer):
    key = secrets.token_urlsafe(16)
    CustomerToken.objects.create(customer=customer, key_hash=hashlib.sha256(key.encode()).hexdigest())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Customer {key}")
    return client


def _recharge_online(app, keys, callbacks):
    started = app.post("/api/v1/customer/recharge/", {"amount": "100.00", "method": "stripe"}, format="json")
    assert started.status_code == 201, started.content
    payment = Payment.objects.get(pk=started.json()["payment"])
    with callbacks(execute=True):
        assert _post(Client(), "stripe", _stripe_notice(keys, payment)).status_code == 200
    [recharge] = app.get("/api/v1/customer/recharges/").json()["results"]
    return recharge


def test_an_unspent_recharge_and_its_bonus_leave_the_wallet(keys, world, django_capture_on_commit_callbacks):
    BonusTier.objects.create(region=world.east, min_amount=D("100"), bonus=D("10"))
    customer = CustomerFactory(home_region=world.east)
    app = _app(customer)
    recharge = _recharge_online(app, keys, django_capture_on_commit_callbacks)
    assert recharge["refundable"] is True and recharge["bonus"] == "10.00"
    assert balances(customer=customer) == Balances(paid=D("100.00"), bonus=D("10.00"), held=D("0.00"))
    with django_capture_on_commit_callbacks(execute=True):
        refunded = app.post(f"/api/v1/customer/recharges/{recharge['id']}/refund/", {}, format="json")
    assert refunded.status_code == 200, refunded.content
    assert refunded.json()["refundable"] is False and refunded.json()["status"] == "refunded"
    assert balances(customer=customer) == Balances(paid=D("0.00"), bonus=D("0.00"), held=D("0.00"))
    order = Order.objects.get(number=recharge["number"])
    assert order.refunded_amount == D("100.00") and order.refunds.get().status == "succeeded"
    again = app.post(f"/api/v1/customer/recharges/{recharge['id']}/refund/", {}, format="json")
    assert again.status_code in (200, 400)
    assert balances(customer=customer).paid == D("0.00")


def test_spent_foreign_and_in_store_recharges_are_refused(keys, world, django_capture_on_commit_callbacks):
    customer = CustomerFactory(home_region=world.east)
    app = _app(customer)
    recharge = _recharge_online(app, keys, django_capture_on_commit_callbacks)
    wallet_pay(customer=customer, amount=D("30.00"), key="spent-some")
    spent = app.post(f"/api/v1/customer/recharges/{recharge['id']}/refund/", {}, format="json")
    assert spent.status_code == 400
    assert balances(customer=customer).paid == D("70.00")
    stranger = _app(CustomerFactory(home_region=world.east))
    assert stranger.post(f"/api/v1/customer/recharges/{recharge['id']}/refund/", {}, format="json").status_code == 404
    from orders.services import payment_collect

    with django_capture_on_commit_callbacks(execute=True):
        at_store = recharge_start(customer=customer, amount=D("50.00"), actor=None, site=world.east_store)
        payment_collect(order=at_store.order, provider="cash", amount=D("50.00"), actor=None)
    cash = app.post(f"/api/v1/customer/recharges/{at_store.pk}/refund/", {}, format="json")
    assert cash.status_code == 400 and "store" in str(cash.json())
    assert balances(customer=customer).paid == D("120.00")


def test_recharge_100_with_10_bonus_refunded_at_the_till_leaves_nothing_spendable(
    keys, world, client, django_capture_on_commit_callbacks
):
    """The journey of issue 16: recharge 100 (+10 bonus) in the app, refunded at the till → the
    paid and the bonus balance are both 0, nothing spendable left; the money went back to Stripe."""
    from django.urls import reverse

    BonusTier.objects.create(region=world.east, min_amount=D("100"), bonus=D("10"))
    customer = CustomerFactory(home_region=world.east)
    recharge = _recharge_online(_app(customer), keys, django_capture_on_commit_callbacks)
    assert balances(customer=customer) == Balances(paid=D("100.00"), bonus=D("10.00"), held=D("0.00"))
    order = Order.objects.get(number=recharge["number"])
    client.force_login(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        refunded = client.post(
            reverse("staff:cashier-order", args=[order.pk]),
            {"form": "refund", "amount": "100.00", "reason": "customer moved away"},
        )
    assert refunded.status_code == 302, refunded.content.decode()[:500]
    assert balances(customer=customer) == Balances(paid=D("0.00"), bonus=D("0.00"), held=D("0.00"))
    order.refresh_from_db()
    assert order.status == "refunded" and order.refunds.get().status == "succeeded"
    with pytest.raises(ValidationError):  # not a cent left to spend
        wallet_pay(customer=customer, amount=D("0.01"), key="after-refund")
