"""Idempotency keys on partner creates (Stripe's semantics), through the webhook test endpoint:
same key and body -> the first answer; same key, other body -> 409; a twin still running -> 409;
a refused request keeps nothing; records are forgotten after a day."""

import datetime
import hashlib
import threading

import pytest
from django.db import connection
from django.utils import timezone

from orders.models import IdempotencyRecord, WebhookDelivery
from tests.orders.partner_helpers import create_partner, partner_api

URL = "/api/v1/partner/webhook-test/"
HOOK = "https://93.184.216.34/hooks"


@pytest.fixture
def partner(world, monkeypatch):
    # The deliveries are not the point here: keep them from being sent.
    monkeypatch.setattr("orders.webhooks._enqueue", lambda delivery: None)
    partner, key, _secret = create_partner(world.admin, region=world.east, webhook_url=HOOK)
    return partner, partner_api(key)


@pytest.mark.django_db
def test_the_same_key_and_body_returns_the_first_answer(partner):
    client, api = partner
    first = api.post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="ping-1")
    assert first.status_code == 201
    again = api.post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="ping-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert WebhookDelivery.objects.filter(client=client).count() == 1
    other = api.post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="ping-2")
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert WebhookDelivery.objects.filter(client=client).count() == 2


@pytest.mark.django_db
def test_the_same_key_with_a_different_body_is_a_409(partner):
    client, api = partner
    assert api.post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    clash = api.post(URL, {"note": "other"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert clash.status_code == 409
    assert "already used for a different request" in clash.json()["detail"]
    assert WebhookDelivery.objects.filter(client=client).count() == 1


@pytest.mark.django_db
def test_keys_belong_to_one_partner(world, partner, monkeypatch):
    _client, api = partner
    _other, other_key, _s = create_partner(world.admin, region=world.east, name="Other", webhook_url=HOOK)
    first = api.post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    second = partner_api(other_key).post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert second.status_code == 201 and "Idempotent-Replayed" not in second
    assert second.json()["id"] != first.json()["id"]


@pytest.mark.django_db
def test_a_create_without_a_key_is_refused_and_writes_nothing(partner):
    client, api = partner
    response = api.post(URL, {}, format="json")
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    response = api.post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert response.status_code == 400
    assert not WebhookDelivery.objects.exists() and not IdempotencyRecord.objects.exists()


def _fingerprint(body: str = "{}") -> str:
    return hashlib.sha256(f"POST {URL}\n{body}".encode()).hexdigest()


@pytest.mark.django_db
def test_a_twin_still_in_progress_gets_a_409_and_a_dead_one_is_taken_over(partner):
    client, api = partner
    IdempotencyRecord.objects.create(client=client, key="busy", method="POST", path=URL, request_hash=_fingerprint())
    busy = api.post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="busy")
    assert busy.status_code == 409
    assert busy.json()["detail"] == "A request with this Idempotency-Key is still in progress; retry shortly."
    assert not WebhookDelivery.objects.exists()
    # Its worker died: after a minute the same request runs again.
    IdempotencyRecord.objects.filter(key="busy").update(started_at=timezone.now() - datetime.timedelta(minutes=2))
    taken_over = api.post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="busy")
    assert taken_over.status_code == 201
    assert WebhookDelivery.objects.count() == 1
    assert IdempotencyRecord.objects.get(key="busy").status_code == 201


@pytest.mark.django_db
def test_a_refused_request_keeps_nothing_and_the_key_can_be_used_again(world, monkeypatch):
    monkeypatch.setattr("orders.webhooks._enqueue", lambda delivery: None)
    client, key, _secret = create_partner(world.admin, region=world.east, webhook_url="")
    api = partner_api(key)
    refused = api.post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert refused.status_code == 400
    assert refused.json()["detail"] == ["No webhook URL is set for this API key; ask the operator to set one."]
    assert not IdempotencyRecord.objects.exists() and not WebhookDelivery.objects.exists()
    client.webhook_url = HOOK
    client.save()
    assert api.post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="retry-me").status_code == 201


@pytest.mark.django_db
def test_records_expire_after_a_day(partner):
    from config.celery import app
    from orders.tasks import idempotency_records_expire

    client, api = partner
    assert api.post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="old").status_code == 201
    IdempotencyRecord.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
    # Not swept yet: an expired record does not replay.
    fresh = api.post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh
    IdempotencyRecord.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
    assert idempotency_records_expire.delay().get() == 1
    assert not IdempotencyRecord.objects.exists()
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"orders.tasks.idempotency_records_expire", "orders.tasks.webhooks_sweep"} <= tasks


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_requests_with_one_key_run_once(world, monkeypatch):
    """On PostgreSQL: two requests with the same key at the same moment (the first held open for
    half a second): one runs, the other is told it is still in progress."""
    from orders import partner_api as module

    client, key, _secret = create_partner(world.admin, region=world.east, webhook_url=HOOK)
    monkeypatch.setattr("orders.webhooks._enqueue", lambda delivery: None)
    real_ping = module.webhook_ping
    inside = threading.Event()

    def slow_ping(**kwargs):
        inside.set()
        threading.Event().wait(0.5)  # hold the first request open while the twin arrives
        return real_ping(**kwargs)

    monkeypatch.setattr(module, "webhook_ping", slow_ping)
    results = []
    barrier = threading.Barrier(2)

    def call():
        try:
            barrier.wait()
            response = partner_api(key).post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="same")
            results.append((response.status_code, response.json(), response.get("Idempotent-Replayed")))
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert inside.is_set()
    codes = sorted(code for code, _body, _replayed in results)
    assert codes == [201, 409], results
    assert "still in progress" in next(body["detail"] for code, body, _r in results if code == 409)
    assert WebhookDelivery.objects.filter(client=client).count() == 1
    # Once the first has finished, the same request gets its answer.
    replay = partner_api(key).post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == next(body for code, body, _r in results if code == 201)
