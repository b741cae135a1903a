"""Outbound webhooks: an order a partner created changes status -> a signed POST to its URL, sent
by the Celery task (eager here) to a receiver on 127.0.0.1; retried with backoff on a 500;
delivered once; logged on a console page with a redeliver button."""

import hashlib
import hmac
import json

import pytest
from django.test import Client

from orders import webhooks
from orders.models import Channel, OrderKind, OrderStatus, WebhookDelivery
from orders.services import LineSpec, order_create, order_transition
from orders.tasks import webhook_deliver
from tests.orders.partner_helpers import create_partner, partner_api
from tests.orders.receiver import start_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.PARTNER_WEBHOOK_ALLOW_LOCAL = True  # the receiver is http://127.0.0.1
    receiver, server = start_receiver()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def attempts(monkeypatch):
    """Every attempt's outcome and the delay the task retried after. As in a worker, a retry is
    run again (eagerly, without waiting), not raised to the caller."""
    from config.celery import app

    app.conf.task_eager_propagates = False
    seen = []
    real = webhooks.webhook_attempt

    def spy(**kwargs):
        outcome = real(**kwargs)
        seen.append(outcome)
        return outcome

    monkeypatch.setattr(webhooks, "webhook_attempt", spy)
    return seen


def _verify(secret: str, request) -> dict:
    header = request.headers["X-Signature"]
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected), header
    return json.loads(request.body)


def _partner_order(partner, site):
    # Set-up: the lockers and pickup apps create partner orders through their own endpoints.
    return order_create(
        kind=OrderKind.LOCKER,
        actor=partner,
        site=site,
        channel=Channel.PARTNER,
        partner=partner,
        external_reference="PARCEL-9",
        lines=[LineSpec(description="Parcel storage", unit_price=0)],
    )


def test_a_status_change_is_posted_signed_and_delivered_once(world, receiver, django_capture_on_commit_callbacks):
    partner, key, secret = create_partner(world.admin, region=world.east, webhook_url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        order = _partner_order(partner, world.east_store)
    with django_capture_on_commit_callbacks(execute=True):
        order_transition(order=order, to_status=OrderStatus.CANCELLED, actor=None, reason="parcel withdrawn")

    assert len(receiver.requests) == 2
    created, cancelled = (_verify(secret, request) for request in receiver.requests)
    assert created["type"] == "order.created"
    assert cancelled["type"] == "order.status_changed"
    assert cancelled["data"]["order"]["number"] == order.number
    assert cancelled["data"]["order"]["external_reference"] == "PARCEL-9"
    assert (cancelled["data"]["from_status"], cancelled["data"]["to_status"]) == ("new", "cancelled")
    assert cancelled["data"]["at"]
    assert receiver.requests[1].headers["X-Webhook-Event"] == "order.status_changed"
    assert receiver.requests[1].headers["Content-Type"] == "application/json"

    deliveries = WebhookDelivery.objects.filter(client=partner).order_by("pk")
    assert [(d.status, d.attempts, d.last_status_code) for d in deliveries] == [("delivered", 1, 200)] * 2
    # A copy of the task that runs again (a redelivered message) sends nothing more.
    last = deliveries.last()
    assert webhook_deliver.delay(last.pk, 0).get() == "skipped"
    assert webhook_deliver.delay(last.pk, 1).get() == "skipped"
    assert len(receiver.requests) == 2

    # The partner sees the same log through its key.
    log = partner_api(key).get("/api/v1/partner/webhook-deliveries/").json()
    assert [row["status"] for row in log["results"]] == ["delivered", "delivered"]


def test_a_tampered_body_does_not_verify(world, receiver, django_capture_on_commit_callbacks):
    partner, key, secret = create_partner(world.admin, region=world.east, webhook_url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        partner_api(key).post("/api/v1/partner/webhook-test/", {}, format="json", HTTP_IDEMPOTENCY_KEY="p")
    (request,) = receiver.requests
    assert _verify(secret, request)["type"] == "ping"
    request.body = request.body.replace(b"ping", b"pong")
    with pytest.raises(AssertionError):
        _verify(secret, request)


def test_a_500_is_retried_with_backoff_and_then_delivered(
    world, receiver, attempts, django_capture_on_commit_callbacks
):
    partner, key, secret = create_partner(world.admin, region=world.east, webhook_url=receiver.url)
    receiver.statuses = [500, 503]
    with django_capture_on_commit_callbacks(execute=True):
        response = partner_api(key).post(
            "/api/v1/partner/webhook-test/", {}, format="json", HTTP_IDEMPOTENCY_KEY="ping"
        )
    assert response.status_code == 201
    assert attempts == [("retry", 30), ("retry", 60), ("delivered", 0)]
    assert len(receiver.requests) == 3
    assert len({r.headers["X-Webhook-Id"] for r in receiver.requests}) == 1
    assert len({_verify(secret, r)["id"] for r in receiver.requests}) == 1
    delivery = WebhookDelivery.objects.get(pk=response.json()["id"])
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    assert delivery.delivered_at is not None


def test_a_receiver_that_keeps_failing_is_given_up_after_eight_attempts(
    world, receiver, attempts, django_capture_on_commit_callbacks
):
    partner, key, _secret = create_partner(world.admin, region=world.east, webhook_url=receiver.url)
    receiver.statuses = [500] * 20
    with django_capture_on_commit_callbacks(execute=True):
        partner_api(key).post("/api/v1/partner/webhook-test/", {}, format="json", HTTP_IDEMPOTENCY_KEY="ping")
    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS == 8
    assert [delay for _outcome, delay in attempts[:-1]] == [30, 60, 120, 240, 480, 960, 1920]
    assert attempts[-1] == ("failed", 0)
    delivery = WebhookDelivery.objects.get(client=partner)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 8, "HTTP 500")
    assert webhooks.webhooks_due() == []


def test_a_lost_task_is_sent_by_the_sweep(world, receiver, monkeypatch, django_capture_on_commit_callbacks):
    from orders.tasks import webhooks_sweep

    partner, key, _secret = create_partner(world.admin, region=world.east, webhook_url=receiver.url)
    monkeypatch.setattr("orders.tasks.webhook_deliver.delay", lambda *args: None)  # the broker lost it
    with django_capture_on_commit_callbacks(execute=True):
        partner_api(key).post("/api/v1/partner/webhook-test/", {}, format="json", HTTP_IDEMPOTENCY_KEY="ping")
    assert receiver.requests == []
    monkeypatch.undo()
    assert webhooks_sweep.delay().get() == 1
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get(client=partner).status == "delivered"
    assert webhooks_sweep.delay().get() == 0


def test_the_delivery_log_page_redelivers(world, receiver, attempts, django_capture_on_commit_callbacks):
    partner, key, secret = create_partner(world.admin, region=world.east, webhook_url=receiver.url)
    other, _k, _s = create_partner(world.admin, region=world.west, name="West shop", webhook_url=receiver.url)
    receiver.statuses = [500] * 8
    with django_capture_on_commit_callbacks(execute=True):
        partner_api(key).post("/api/v1/partner/webhook-test/", {}, format="json", HTTP_IDEMPOTENCY_KEY="ping")
        partner_api(_k).post("/api/v1/partner/webhook-test/", {}, format="json", HTTP_IDEMPOTENCY_KEY="ping")
    failed = WebhookDelivery.objects.get(client=partner)
    west_delivery = WebhookDelivery.objects.get(client=other)
    assert failed.status == "failed"

    browser = Client()
    browser.force_login(world.regional)
    page = browser.get("/orders/webhooks/").content.decode()
    assert f'data-pk="{failed.pk}"' in page and f'data-pk="{west_delivery.pk}"' not in page
    assert browser.get(f"/orders/webhooks/{west_delivery.pk}/").status_code == 404
    assert browser.post(f"/orders/webhooks/{west_delivery.pk}/").status_code == 404
    detail = browser.get(f"/orders/webhooks/{failed.pk}/").content.decode()
    assert "Redeliver" in detail and "HTTP 500" in detail

    before = len(receiver.requests)
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(f"/orders/webhooks/{failed.pk}/")
    assert response.status_code == 302
    again = WebhookDelivery.objects.filter(client=partner).latest("pk")
    assert again.pk != failed.pk and again.status == "delivered"
    assert again.payload["id"] == failed.payload["id"]  # the same event, so the receiver can drop repeats
    assert len(receiver.requests) == before + 1
    assert _verify(secret, receiver.requests[-1])["type"] == "ping"


def test_nothing_is_sent_for_a_revoked_partner(world, receiver, django_capture_on_commit_callbacks):
    partner, _key, _secret = create_partner(world.admin, region=world.east, webhook_url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        order = _partner_order(partner, world.east_store)
    assert len(receiver.requests) == 1
    browser = Client()
    browser.force_login(world.admin)
    browser.post(f"/orders/partners/{partner.pk}/revoke/")
    with django_capture_on_commit_callbacks(execute=True):
        order_transition(order=order, to_status=OrderStatus.CANCELLED, actor=None)
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.filter(client=partner).count() == 1


def test_a_private_address_is_refused_at_send_time_in_production(world, settings, attempts):
    partner, _key, _secret = create_partner(world.admin, region=world.east, webhook_url="https://93.184.216.34/h")
    settings.PARTNER_WEBHOOK_ALLOW_LOCAL = False
    # The URL was changed behind the form's back (or its DNS now points inside our network).
    delivery = WebhookDelivery.objects.create(
        client=partner, event="ping", payload={"id": "evt_x"}, url="https://10.0.0.8/h"
    )
    assert webhook_deliver.delay(delivery.pk, 0).get() == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", webhooks.MAX_ATTEMPTS)
    assert delivery.last_error == "Webhooks cannot be sent to a local or private address."
    assert delivery.last_status_code is None


def test_an_operator_sends_a_test_webhook_from_the_partners_page(world, receiver, django_capture_on_commit_callbacks):
    partner, _key, secret = create_partner(world.regional, region=world.east, webhook_url=receiver.url)
    browser = Client()
    browser.force_login(world.regional)
    assert "Send a test webhook" in browser.get(f"/orders/partners/{partner.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(f"/orders/partners/{partner.pk}/ping/")
    delivery = WebhookDelivery.objects.get(client=partner)
    assert response.status_code == 302 and response["Location"] == f"/orders/webhooks/{delivery.pk}/"
    assert delivery.status == "delivered"
    (request,) = receiver.requests
    assert _verify(secret, request)["type"] == "ping"
