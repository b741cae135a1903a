"""Anonymous sign-in is not an SMS pump: codes go out within limits per number, per client address
and for the whole deployment (429 with Retry-After beyond them), and no customer row exists for a
number until a code sent to it has been verified."""

from __future__ import annotations

import pytest

from core.models import Notification
from core.sms import OutboxSMSProvider
from members.models import Customer, LoginCode

pytestmark = pytest.mark.django_db

SIGN_IN = "/api/v1/customer/sign-in/"


@pytest.fixture
def outbox(settings):
    settings.SMS_PROVIDER = "core.sms.OutboxSMSProvider"
    settings.SIGN_IN_SMS_LIMITS = {"number": ["1/min", "3/hour"], "address": ["4/hour"], "global": ["10/hour"]}
    OutboxSMSProvider.outbox = []
    return OutboxSMSProvider.outbox


def _from(address: str, forwarded: str = "") -> dict:
    extra = {"REMOTE_ADDR": address}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return extra


def _address(i: int) -> str:
    return f"198.51.{i // 250 % 250}.{i % 250 + 1}"


def _number(i: int) -> str:
    return f"139{i:08d}"


def _code(outbox) -> str:
    return outbox[-1][1].split("code is ")[1][:6]


def test_two_thousand_wrong_codes_from_rotating_forwarded_for_kill_the_code_send_little_and_create_nobody(
    outbox, api_client, django_capture_on_commit_callbacks
):
    phone = "13900139001"
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [
            api_client.post(
                SIGN_IN, {"phone": phone}, format="json", **_from("203.0.113.7", f"10.0.{i % 250}.{i // 250}")
            ).status_code
            for i in range(10)
        ]
    # One SMS; the rest are refused (the number's minute), and share the address's throttle.
    assert statuses[0] == 202 and statuses[1:] == [429] * 9
    code = _code(outbox)
    wrong = "000000" if code != "000000" else "111111"
    guesses = [
        api_client.post(
            SIGN_IN + "verify/",
            {"phone": phone, "code": wrong},
            format="json",
            **_from("203.0.113.7", f"10.{i // 250 % 250}.{i % 250}.1"),
        )
        for i in range(2000)
    ]
    # The code is dead after five: five wrong answers were compared, nothing after them was.
    assert [g.status_code for g in guesses].count(400) <= 20
    assert sum("not right" in str(g.json()) for g in guesses) == 5
    assert LoginCode.objects.get().attempts == 5
    # At most the configured number of SMS went out, and no customer exists for the number.
    assert len(outbox) == 1 <= 3
    assert not Customer.objects.exists()
    assert Notification.objects.get(template="customer_login_code").recipient_id is None
    assert code not in Notification.objects.get().body


def test_one_number_gets_at_most_its_limit_whatever_the_addresses(
    outbox, api_client, django_capture_on_commit_callbacks
):
    sent = []
    for round_ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            responses = [
                api_client.post(SIGN_IN, {"phone": "13900139002"}, format="json", **_from(_address(round_ * 500 + i)))
                for i in range(500)
            ]
        sent.append(sum(r.status_code == 202 for r in responses))
        refused = [r for r in responses if r.status_code != 202]
        assert {r.status_code for r in refused} == {429}
        assert "for this number" in str(refused[0].json())
        assert 1 <= int(refused[0]["Retry-After"]) <= 3600
        # The minute between two codes has passed; the hour has not.
        from core.models import RateCounter

        RateCounter.objects.filter(key__contains=":1/min:").update(window_end="2000-01-01T00:00Z")
    assert sent == [1, 1, 1]
    with django_capture_on_commit_callbacks(execute=True):
        late = api_client.post(SIGN_IN, {"phone": "13900139002"}, format="json", **_from(_address(1999)))
    assert late.status_code == 429 and int(late["Retry-After"]) > 60
    assert len(outbox) == 3 and {phone for phone, _text in outbox} == {"+8613900139002"}
    assert not Customer.objects.exists()


def test_one_address_gets_at_most_its_limit_whatever_the_numbers_or_header(
    outbox, api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        responses = [
            api_client.post(
                SIGN_IN, {"phone": _number(i)}, format="json", **_from("203.0.113.9", f"10.1.{i % 250}.{i // 250}")
            )
            for i in range(12)
        ]
    assert [r.status_code for r in responses[:4]] == [202] * 4
    assert "from your network" in str(responses[4].json()) and responses[4].status_code == 429
    assert int(responses[4]["Retry-After"]) > 0
    assert len(outbox) == 4
    assert not Customer.objects.exists()


def test_the_whole_deployment_sends_at_most_the_global_limit(outbox, api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        responses = [
            api_client.post(SIGN_IN, {"phone": _number(i)}, format="json", **_from(_address(i))) for i in range(300)
        ]
    assert [r.status_code for r in responses].count(202) == 10
    assert "too many sign-in codes right now" in str(responses[-1].json())
    assert responses[-1]["Retry-After"]
    assert len(outbox) == 10 and LoginCode.objects.count() == 10
    assert not Customer.objects.exists()


def test_a_refused_request_uses_up_no_other_limit(outbox, api_client, django_capture_on_commit_callbacks):
    """A flood from one address toward a victim's number stops at the address limit; it does not
    also spend the number's allowance, so the victim can still sign in from their own phone."""
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(4):
            api_client.post(SIGN_IN, {"phone": _number(i)}, format="json", **_from("203.0.113.10"))
        flood = [
            api_client.post(SIGN_IN, {"phone": "13900139003"}, format="json", **_from("203.0.113.10"))
            for _ in range(20)
        ]
        assert {r.status_code for r in flood} == {429}
        own = api_client.post(SIGN_IN, {"phone": "13900139003"}, format="json", **_from("198.51.100.3"))
    assert own.status_code == 202 and outbox[-1][0] == "+8613900139003"


def test_the_customer_is_created_when_the_code_is_verified_and_found_the_next_time(
    outbox, api_client, django_capture_on_commit_callbacks
):
    phone = "13900139004"
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.post(SIGN_IN, {"phone": phone}, format="json").status_code == 202
    assert not Customer.objects.exists()
    first = api_client.post(SIGN_IN + "verify/", {"phone": phone, "code": _code(outbox)}, format="json")
    assert first.status_code == 201
    customer = Customer.objects.get()
    assert customer.phone == "+8613900139004" and first.json()["customer"] == customer.pk
    from core.models import RateCounter

    RateCounter.objects.update(window_end="2000-01-01T00:00Z")
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.post(SIGN_IN, {"phone": phone}, format="json").status_code == 202
    again = api_client.post(SIGN_IN + "verify/", {"phone": phone, "code": _code(outbox)}, format="json")
    assert again.status_code == 201 and again.json()["customer"] == customer.pk
    assert Customer.objects.count() == 1


def test_a_wrong_phone_number_is_a_clear_400_and_counts_against_nothing(outbox, api_client):
    response = api_client.post(SIGN_IN, {"phone": "12345"}, format="json")
    assert response.status_code == 400 and "valid phone number" in str(response.json())
    from core.models import RateCounter

    assert not RateCounter.objects.exists() and not outbox


def test_a_mistyped_limit_is_found_at_start_up(settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    from core.services import rate_parse

    assert rate_parse("5/hour")[0] == 5 and rate_parse("1/min")[1].total_seconds() == 60
    assert rate_parse("10/30s")[1].total_seconds() == 30
    settings.SIGN_IN_SMS_LIMITS = {"number": ["five per hour"], "address": [], "global": ["1000/hour"]}
    with pytest.raises(SystemCheckError, match="members.E001"):
        call_command("check")
