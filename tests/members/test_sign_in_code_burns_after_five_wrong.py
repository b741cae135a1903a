"""A sign-in code dies after five wrong tries, even though each wrong try answers with an error:
the attempt is counted in its own statement, not rolled back with the request."""

from __future__ import annotations

import pytest

from core.sms import OutboxSMSProvider
from members.models import LoginCode

pytestmark = pytest.mark.django_db

URL = "/api/v1/customer/sign-in/"


@pytest.fixture
def outbox(settings):
    settings.SMS_PROVIDER = "core.sms.OutboxSMSProvider"
    OutboxSMSProvider.outbox = []
    return OutboxSMSProvider.outbox


def test_the_right_code_after_five_wrong_ones_is_refused(
    outbox, api_client, monkeypatch, django_capture_on_commit_callbacks
):
    from members.customer_api import SignInThrottle

    # This test is about the code's own counter, not the address throttle.
    monkeypatch.setattr(SignInThrottle, "allow_request", lambda self, request, view: True)
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.post(URL, {"phone": "13900139001"}, format="json").status_code == 202
    code = outbox[-1][1].split("code is ")[1][:6]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        response = api_client.post(URL + "verify/", {"phone": "13900139001", "code": wrong}, format="json")
        assert response.status_code == 400
    assert LoginCode.objects.get().attempts == 5
    response = api_client.post(URL + "verify/", {"phone": "13900139001", "code": code}, format="json")
    assert response.status_code == 400 and "expired" in str(response.json())
    assert "token" not in response.json()
