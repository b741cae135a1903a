"""Throttles key on the client address the deployment's own proxies report (`TRUSTED_PROXY_COUNT`),
so a client rotating an `X-Forwarded-For` header it writes itself stays one client."""

from __future__ import annotations

import pytest

from core.sms import OutboxSMSProvider
from members.models import LoginCode

pytestmark = pytest.mark.django_db

SIGN_IN = "/api/v1/customer/sign-in/"
PAIR = "/api/v1/device/pair/"


@pytest.fixture
def outbox(settings):
    settings.SMS_PROVIDER = "core.sms.OutboxSMSProvider"
    OutboxSMSProvider.outbox = []
    return OutboxSMSProvider.outbox


def _forged(i: int) -> dict:
    return {"REMOTE_ADDR": "203.0.113.7", "HTTP_X_FORWARDED_FOR": f"10.{i // 256 % 256}.{i % 256}.1"}


def test_two_thousand_wrong_codes_with_rotating_forwarded_for_burn_the_code_after_five(
    outbox, api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.post(SIGN_IN, {"phone": "13900139001"}, format="json", **_forged(0)).status_code == 202
    code = outbox[-1][1].split("code is ")[1][:6]
    wrong = "000000" if code != "000000" else "111111"
    statuses = [
        api_client.post(
            SIGN_IN + "verify/", {"phone": "13900139001", "code": wrong}, format="json", **_forged(i)
        ).status_code
        for i in range(1, 2001)
    ]
    # The address throttle (20 an hour) stops the flood, whatever the header says.
    assert statuses.count(429) >= 2000 - 20
    assert LoginCode.objects.get().attempts <= 5
    assert len(outbox) == 1
    # Five wrong tries at most were compared, and the code is dead for the right one too.
    with django_capture_on_commit_callbacks(execute=True):
        more = [
            api_client.post(SIGN_IN, {"phone": "13900139001"}, format="json", **_forged(i)).status_code
            for i in range(3000, 3050)
        ]
    assert all(status in (400, 429) for status in more)
    assert len(outbox) == 1, "rotating the header sent more SMS"


def test_device_pairing_throttle_is_not_bypassed_by_rotating_forwarded_for(api_client):
    statuses = [
        api_client.post(PAIR, {"serial_number": f"NOPE-{i}"}, format="json", **_forged(i)).status_code
        for i in range(40)
    ]
    assert statuses[:30].count(429) == 0
    assert statuses[30:] == [429] * 10


def test_behind_a_trusted_proxy_each_client_address_has_its_own_bucket(api_client, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    # Our proxy (REMOTE_ADDR) appends the real client last; what the client wrote before is ignored.
    first = [
        api_client.post(
            PAIR,
            {"serial_number": f"NOPE-{i}"},
            format="json",
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"1.2.3.{i}, 198.51.100.1",
        ).status_code
        for i in range(31)
    ]
    assert first[-1] == 429 and first[:30].count(429) == 0
    other = api_client.post(
        PAIR, {"serial_number": "NOPE-x"}, format="json", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.2"
    )
    assert other.status_code != 429
