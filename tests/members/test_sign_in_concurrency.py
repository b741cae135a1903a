"""On PostgreSQL, with real parallel requests through HTTP: simultaneous code requests never send
more SMS than the limits allow, and simultaneous wrong guesses never get more than five codes
compared."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from core.sms import OutboxSMSProvider
from members.models import Customer, LoginCode

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SIGN_IN = "/api/v1/customer/sign-in/"
PARALLEL = 16


@pytest.fixture
def outbox(settings):
    settings.SMS_PROVIDER = "core.sms.OutboxSMSProvider"
    settings.SIGN_IN_SMS_LIMITS = {"number": ["3/hour"], "address": ["100/hour"], "global": ["5/hour"]}
    OutboxSMSProvider.outbox = []
    return OutboxSMSProvider.outbox


def _post_together(requests: list[tuple[str, dict, str]]):
    """Each (url, body, client address) from its own thread and connection, released at once."""
    barrier = threading.Barrier(len(requests))
    results, errors = [None] * len(requests), []

    def worker(index, url, body, address):
        try:
            client = APIClient()
            barrier.wait()
            results[index] = client.post(url, body, format="json", REMOTE_ADDR=address)
        except Exception as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, *request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def test_parallel_code_requests_for_one_number_send_at_most_its_limit(outbox):
    assert connection.vendor == "postgresql"
    responses = _post_together([(SIGN_IN, {"phone": "13900139011"}, f"198.51.100.{i + 1}") for i in range(PARALLEL)])
    statuses = [r.status_code for r in responses]
    assert statuses.count(202) == 3 and statuses.count(429) == PARALLEL - 3
    assert len(outbox) == 3 and LoginCode.objects.count() == 3
    assert not Customer.objects.exists()


def test_parallel_code_requests_for_many_numbers_send_at_most_the_global_limit(outbox):
    responses = _post_together([(SIGN_IN, {"phone": f"139{i:08d}"}, f"198.51.100.{i + 1}") for i in range(PARALLEL)])
    statuses = [r.status_code for r in responses]
    assert statuses.count(202) == 5 and statuses.count(429) == PARALLEL - 5
    assert len(outbox) == 5 and LoginCode.objects.count() == 5
    assert not Customer.objects.exists()


def test_parallel_wrong_guesses_compare_at_most_five(outbox):
    client = APIClient()
    assert client.post(SIGN_IN, {"phone": "13900139012"}, format="json").status_code == 202
    code = outbox[-1][1].split("code is ")[1][:6]
    wrong = "000000" if code != "000000" else "111111"
    responses = _post_together(
        [(SIGN_IN + "verify/", {"phone": "13900139012", "code": wrong}, f"198.51.101.{i + 1}") for i in range(PARALLEL)]
    )
    assert all(r.status_code == 400 for r in responses)
    assert sum("not right" in str(r.json()) for r in responses) == 5
    assert LoginCode.objects.get().attempts == 5
    right = client.post(SIGN_IN + "verify/", {"phone": "13900139012", "code": code}, format="json")
    assert right.status_code == 400 and "token" not in right.json()
    assert not Customer.objects.exists()
