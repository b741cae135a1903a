"""An administrator who has not set up two-factor sign-in yet cannot be enrolled by whoever knows
the password: the first device needs a one-time link sent to the user's own email (or phone), or
handed over by a platform administrator. Links work once, expire, and are stored hashed."""

from __future__ import annotations

import datetime
import hashlib
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import Notification
from staff.models import OtpEnrolment

PASSWORD = "pass-12345-word"  # tests/factories.py UserFactory

pytestmark = pytest.mark.django_db

SETUP = "/staff/two-factor/setup/"


@pytest.fixture
def second_factor(settings):
    settings.STAFF_OTP_REQUIRED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _sign_in(client, user):
    response = client.post(reverse("staff:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def _link(message) -> str:
    return message.body.split("account: ")[1].split()[0]


def _confirm(client, device) -> int:
    device.refresh_from_db()
    device.throttle_reset()
    return client.post(SETUP, {"token": f"{totp(device.bin_key):06d}"}).status_code


def test_with_only_the_password_an_attacker_cannot_enrol_a_device(world, client, second_factor):
    _sign_in(client, world.regional)
    page = client.get(SETUP)
    assert page.status_code == 200
    html = page.content.decode()
    assert "send-enrolment-link" in html and "u***@example.test" in html
    assert "otp-secret" not in html and "<svg" not in html
    assert not TOTPDevice.objects.filter(user=world.regional).exists()
    # Guessing a code, posting a token, or a made-up link: nothing is enrolled.
    assert client.post(SETUP, {"token": "123456"}).status_code == 302
    refused = client.get(reverse("staff:otp-enrol", args=["not-a-token"]), follow=True)
    assert "not valid, was used already or has expired" in refused.content.decode()
    assert "otp-secret" not in refused.content.decode()
    assert not TOTPDevice.objects.filter(user=world.regional).exists()
    assert client.get(reverse("core:dashboard")).status_code == 302
    assert client.get("/api/v1/orders/").status_code == 403


def test_the_emailed_link_lets_the_user_enrol_once(world, client, second_factor, django_capture_on_commit_callbacks):
    _sign_in(client, world.regional)
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(SETUP, follow=True)
    assert "We sent a link to u***@example.test" in sent.content.decode()
    (message,) = mail.outbox
    assert message.to == [world.regional.email]
    link = _link(message)
    token = link.rstrip("/").rsplit("/", 1)[1]
    # Stored as a hash only, and masked in the stored copy of the message.
    enrolment = OtpEnrolment.objects.get(user=world.regional)
    assert enrolment.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(OtpEnrolment.objects.values_list()))
    assert token not in Notification.objects.get(template="staff_otp_enrolment").body

    assert client.get(link)["Location"] == SETUP
    page = client.get(SETUP).content.decode()
    assert "otp-secret" in page
    device = TOTPDevice.objects.get(user=world.regional, confirmed=False)
    assert _confirm(client, device) == 302
    assert TOTPDevice.objects.get(user=world.regional).confirmed
    assert client.get(reverse("core:dashboard")).status_code == 200
    # The link worked once.
    client.logout()
    _sign_in(client, world.regional)
    again = client.get(link, follow=True).content.decode()
    assert "not valid, was used already or has expired" in again


def test_the_link_is_the_users_own_and_expires(world, client, second_factor, django_capture_on_commit_callbacks):
    _sign_in(client, world.regional)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(SETUP)
    link = _link(mail.outbox[-1])
    # The admin's link is no use in another user's session.
    client.logout()
    _sign_in(client, world.admin)
    client.get(link)
    assert "otp-secret" not in client.get(SETUP).content.decode()
    # Nor after it expired.
    client.logout()
    _sign_in(client, world.regional)
    OtpEnrolment.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert "has expired" in client.get(link, follow=True).content.decode()
    assert "otp-secret" not in client.get(SETUP).content.decode()
    assert not TOTPDevice.objects.filter(user__in=[world.regional, world.admin]).exists()


def test_a_link_opened_signed_out_asks_for_the_password_first(
    world, client, second_factor, django_capture_on_commit_callbacks
):
    _sign_in(client, world.regional)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(SETUP)
    link = _link(mail.outbox[-1])
    client.logout()
    response = client.get(link)
    assert response.status_code == 302 and response["Location"].startswith(reverse("staff:login"))
    _sign_in(client, world.regional)
    assert client.get(link)["Location"] == SETUP
    assert "otp-secret" in client.get(SETUP).content.decode()


def test_asking_again_and_again_sends_one_link_a_minute(
    world, client, second_factor, django_capture_on_commit_callbacks
):
    _sign_in(client, world.regional)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(SETUP)
        refused = client.post(SETUP, follow=True)
    assert "Wait a little" in refused.content.decode()
    assert len(mail.outbox) == 1


def test_a_user_without_email_gets_the_link_by_sms_and_one_without_either_asks_an_administrator(
    world, client, second_factor, settings, django_capture_on_commit_callbacks
):
    from core.sms import OutboxSMSProvider

    settings.SMS_PROVIDER = "core.sms.OutboxSMSProvider"
    OutboxSMSProvider.outbox = []
    world.regional.email, world.regional.phone = "", "+8613800138123"
    world.regional.save()
    _sign_in(client, world.regional)
    assert "*********8123" in client.get(SETUP).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(SETUP)
    assert (
        OutboxSMSProvider.outbox[-1][0] == "+8613800138123" and "/two-factor/enrol/" in OutboxSMSProvider.outbox[-1][1]
    )
    world.regional.phone = ""
    world.regional.save()
    page = client.get(SETUP).content.decode()
    assert "Ask a platform administrator" in page and "send-enrolment-link" not in page


def test_an_operator_at_the_shell_can_hand_over_a_link(world, client, second_factor):
    out = StringIO()
    call_command("otp_enrolment_link", world.admin.username, "--base-url", "http://testserver", stdout=out)
    link = out.getvalue().split()[0]
    _sign_in(client, world.admin)
    assert client.get(link)["Location"] == SETUP
    device_page = client.get(SETUP).content.decode()
    assert "otp-secret" in device_page
    assert _confirm(client, TOTPDevice.objects.get(user=world.admin)) == 302
    assert OtpEnrolment.objects.get().used_at is not None


def test_a_platform_administrator_issues_a_link_from_the_console_and_nobody_else_can(
    world, client, settings, django_capture_on_commit_callbacks
):
    from django.test import Client

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    page = reverse("staff:otp-enrolments")
    client.force_login(world.regional)
    assert client.get(page).status_code == 403
    assert client.post(page, {"username": world.regional.username, "how": "hand_over"}).status_code == 403
    assert not OtpEnrolment.objects.exists()

    admin = Client()
    admin.force_login(world.admin)
    assert admin.get(page).status_code == 200
    unknown = admin.post(page, {"username": "nobody", "how": "send"})
    assert unknown.status_code == 200 and "No active user has this username" in unknown.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.post(page, {"username": world.manager.username, "how": "send"}).status_code == 302
    assert mail.outbox[-1].to == [world.manager.email]
    shown = admin.post(page, {"username": world.regional.username, "how": "hand_over"}).content.decode()
    link = shown.split('id="handed-over-link">')[1].split("<")[0]
    assert OtpEnrolment.objects.get(user=world.regional).issued_by == world.admin

    settings.STAFF_OTP_REQUIRED = True
    regional = Client()
    _sign_in(regional, world.regional)
    assert regional.get(link)["Location"] == SETUP
    assert "otp-secret" in regional.get(SETUP).content.decode()
    assert _confirm(regional, TOTPDevice.objects.get(user=world.regional)) == 302
    assert regional.get(reverse("core:dashboard")).status_code == 200
