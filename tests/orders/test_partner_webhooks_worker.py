"""The webhook path with a real Celery worker on Redis and PostgreSQL: the order change commits,
the listener queues the task, a worker thread sends it; a 500 is retried after its countdown
through the broker; the receiver gets each event delivered once."""

import hashlib
import hmac
import time

import pytest
from django.db import connection

from orders import webhooks
from orders.models import Channel, OrderKind, OrderStatus, WebhookDelivery
from orders.services import LineSpec, order_create, order_transition
from tests.orders.partner_helpers import create_partner
from tests.orders.receiver import start_receiver

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(settings, monkeypatch):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    broker = app.conf.broker_url
    app.conf.task_always_eager = False
    app.conf.broker_url = settings.REDIS_URL
    # A second of backoff instead of thirty, so the retry goes through the broker within the test.
    monkeypatch.setattr(webhooks, "FIRST_BACKOFF_SECONDS", 1)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield
    app.conf.task_always_eager = True
    app.conf.broker_url = broker


def _wait_for(predicate, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_worker_delivers_each_change_once_and_retries_a_500(world, settings, worker):
    settings.PARTNER_WEBHOOK_ALLOW_LOCAL = True
    receiver, server = start_receiver()
    try:
        partner, _key, secret = create_partner(world.admin, region=world.east, webhook_url=receiver.url)
        receiver.statuses = [200, 500]  # the creation is taken at once, the cancellation on the retry
        order = order_create(
            kind=OrderKind.LOCKER,
            actor=partner,
            site=world.east_store,
            channel=Channel.PARTNER,
            partner=partner,
            lines=[LineSpec(description="Parcel storage", unit_price=0)],
        )
        assert _wait_for(lambda: len(receiver.requests) == 1)
        order_transition(order=order, to_status=OrderStatus.CANCELLED, actor=None)
        assert _wait_for(
            lambda: WebhookDelivery.objects.filter(client=partner, status="delivered").count() == 2, seconds=30
        )
        time.sleep(1.5)  # nothing more arrives after delivery
        assert len(receiver.requests) == 3
        created, failed, retried = receiver.requests
        assert failed.headers["X-Webhook-Id"] == retried.headers["X-Webhook-Id"] != created.headers["X-Webhook-Id"]
        for request in receiver.requests:
            t, v1 = (part.split("=", 1)[1] for part in request.headers["X-Signature"].split(","))
            expected = hmac.new(secret.encode(), f"{t}.".encode() + request.body, hashlib.sha256).hexdigest()
            assert v1 == expected
        cancelled = WebhookDelivery.objects.get(client=partner, event="order.status_changed")
        assert (cancelled.attempts, cancelled.last_status_code) == (2, 200)
    finally:
        server.shutdown()
        server.server_close()
        connection.close()
