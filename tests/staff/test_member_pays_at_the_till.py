"""A member pays at the till with their wallet balance or points. Their consent is the payment
code their app shows: it names them, lives two minutes and pays one order once. A clerk who only
knows a phone number cannot spend a member's money; every refusal is a message on the page and
changes nothing."""

import datetime
import hashlib
import secrets
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from members.models import CustomerToken, PayCode
from orders.models import Order
from tests.factories import CustomerFactory
from wallet.services import balances, recharge_credit

pytestmark = pytest.mark.django_db


def _app(customer):
    key = secrets.token_urlsafe(16)
    CustomerToken.objects.create(customer=customer, key_hash=hashlib.sha256(key.encode()).hexdigest())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Customer {key}")
    return client


def _pay_code(app):
    response = app.post("/api/v1/customer/pay-code/")
    assert response.status_code == 201
    return response.json()["code"]


@pytest.fixture
def till(client, world):
    client.force_login(world.clerk)
    assert (
        client.post(reverse("staff:shift-open"), {"site": world.east_store.pk, "opening_float": "100"}).status_code
        == 302
    )
    return client


def _sale(till, world, phone, amount="12.00"):
    response = till.post(
        reverse("staff:cashier"),
        {
            "form": "sale",
            "site": world.east_store.pk,
            "description": "Snacks",
            "amount": amount,
            "quantity": 1,
            "customer_phone": phone,
        },
    )
    assert response.status_code == 302, response.content.decode()[:800]
    return Order.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def _collect(till, order, **data):
    return till.post(
        reverse("staff:cashier-order", args=[order.pk]), {"form": "collect", "amount": order.balance_due, **data}
    )


def test_the_member_shows_a_code_and_pays_from_the_wallet(till, world, django_capture_on_commit_callbacks):
    member = CustomerFactory(phone="+8613911112222", home_region=world.east)
    recharge_credit(customer=member, amount=D("50.00"), provider="cash", key="seed")
    order = _sale(till, world, "13911112222")
    assert order.customer == member
    code = _pay_code(_app(member))
    with django_capture_on_commit_callbacks(execute=True):
        response = _collect(till, order, method="wallet", reference=code)
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "paid" and balances(customer=member).paid == D("38.00")
    # The same code cannot pay a second order.
    second = _sale(till, world, "13911112222")
    again = _collect(till, second, method="wallet", reference=code)
    assert again.status_code == 200 and "expired or was used" in again.content.decode()
    assert Order.objects.get(pk=second.pk).paid_amount == 0


def test_points_at_the_till_need_the_code_too(till, world, django_capture_on_commit_callbacks):
    member = CustomerFactory(phone="+8613933334444", home_region=world.east, points=2000)
    order = _sale(till, world, "13933334444", amount="3.00")
    refused = _collect(till, order, method="points")
    assert refused.status_code == 200 and "payment code" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert _collect(till, order, method="points", reference=_pay_code(_app(member))).status_code == 302
    member.refresh_from_db()
    assert member.points == 1700


def test_without_the_members_own_fresh_code_nothing_is_spent(till, world):
    member = CustomerFactory(phone="+8613955556666", home_region=world.east)
    recharge_credit(customer=member, amount=D("5.00"), provider="cash", key="seed")
    stranger = CustomerFactory(phone="+8613977778888")
    recharge_credit(customer=stranger, amount=D("500.00"), provider="cash", key="seed-2")
    order = _sale(till, world, "13955556666")
    for reference, message in [
        ("", "Scan the payment code"),
        ("123456789012345678", "Scan the payment code"),
        (_pay_code(_app(stranger)), "another member"),
    ]:
        response = _collect(till, order, method="wallet", reference=reference)
        assert response.status_code == 200 and message in response.content.decode(), message
    stale = _pay_code(_app(member))
    PayCode.objects.filter(customer=member).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert "expired" in _collect(till, order, method="wallet", reference=stale).content.decode()
    # Not enough balance: the clerk is told and the member's code stays usable.
    fresh = _pay_code(_app(member))
    short = _collect(till, order, method="wallet", reference=fresh)
    assert short.status_code == 200
    assert PayCode.objects.get(customer=member, used_at__isnull=True, expires_at__gt=timezone.now())
    order.refresh_from_db()
    assert order.paid_amount == 0 and not order.payments.exists()
    assert balances(customer=member).paid == D("5.00") and balances(customer=stranger).paid == D("500.00")
