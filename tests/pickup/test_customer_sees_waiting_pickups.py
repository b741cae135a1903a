"""A customer sees in the app what waits for them (where, until when) and, having lost the SMS,
asks for a fresh code: it reaches their phone, the old one stops working, at most once a minute.
Another customer's order is not theirs to see or resend."""

import hashlib
import re
import secrets

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core.models import OutboxMessage
from members.models import Customer, CustomerToken
from orders.models import Order, OrderKind

pytestmark = pytest.mark.django_db
CODE = re.compile(r"\b(\d{8})\b")


def _app(customer):
    key = secrets.token_urlsafe(16)
    CustomerToken.objects.create(customer=customer, key_hash=hashlib.sha256(key.encode()).hexdigest())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Customer {key}")
    return client


def _last_code(phone_end):
    message = OutboxMessage.objects.filter(template="pickup_ready", address__endswith=phone_end).latest("pk")
    return CODE.search(message.body).group(1)


def test_waiting_pickups_are_listed_and_a_lost_code_is_sent_again(world, settings, django_capture_on_commit_callbacks):
    settings.SMS_PROVIDER = "core.sms.ConsoleOutboxSMSProvider"
    manager = Client()
    manager.force_login(world.manager)
    with django_capture_on_commit_callbacks(execute=True):
        manager.post(
            "/pickup/issue/",
            {"action": "new", "site": world.east_store.pk, "recipient_phone": "13900000077", "reference": "WEB-77"},
        )
    order = Order.objects.get(kind=OrderKind.PICKUP, external_reference="WEB-77")
    first = _last_code("13900000077")
    app = _app(Customer.objects.get(phone__endswith="13900000077"))
    [waiting] = app.get("/api/v1/customer/pickups/").json()["results"]
    assert waiting["number"] == order.number and waiting["place"] == world.east_store.name
    assert first not in str(waiting)  # codes are never shown, only sent
    with django_capture_on_commit_callbacks(execute=True):
        assert app.post(f"/api/v1/customer/pickups/{order.pk}/resend/").status_code == 202
    second = _last_code("13900000077")
    assert second != first
    assert app.post(f"/api/v1/customer/pickups/{order.pk}/resend/").status_code == 429  # once a minute
    clerk = Client()
    clerk.force_login(world.clerk)
    stale = clerk.post("/pickup/counter/", {"action": "check", "site": world.east_store.pk, "code": first})
    assert f"Hand over order {order.number}" not in stale.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        fresh = clerk.post("/pickup/counter/", {"action": "check", "site": world.east_store.pk, "code": second})
    assert f"Hand over order {order.number}" in fresh.content.decode()
    assert app.get("/api/v1/customer/pickups/").json()["results"] == []
    stranger = _app(Customer.objects.create(phone="+8613900000078"))
    assert stranger.post(f"/api/v1/customer/pickups/{order.pk}/resend/").status_code == 404
