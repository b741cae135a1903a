"""Adding a clerk, the forced first-login password change, lockout after failed logins, and the
second factor for administrators."""

import datetime
import logging
from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditEntry, Notification
from core.sms import OutboxSMSProvider
from staff.models import User
from staff.services import clerk_create

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "pass-12345-word"


@pytest.fixture
def outbox(settings):
    settings.SMS_PROVIDER = "core.sms.OutboxSMSProvider"
    OutboxSMSProvider.outbox = []
    return OutboxSMSProvider.outbox


def _new_clerk(world, **kwargs):
    return clerk_create(
        actor=world.manager,
        name="Li Na",
        phone="+86 138-0000-1234",
        sites=[world.east_store],
        gender="female",
        can_refund=True,
        refund_limit=Decimal("50"),
        refund_daily_limit=Decimal("200"),
        **kwargs,
    )


def test_a_new_clerk_logs_in_with_their_phone_and_must_change_the_password_first(world, client, outbox, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    user = _new_clerk(world)
    assert user.username == user.phone == "+8613800001234"
    assert user.must_change_password and user.profile.sites.get() == world.east_store
    (phone, text), *_ = outbox
    password = text.split("the password ")[1].split(".")[0]
    assert phone == user.phone and len(password) == 12

    # Never in the logs, the stored notification, the audit log or anything printed.
    assert password not in caplog.text
    out, err = capsys.readouterr()
    assert password not in out + err
    assert all(password not in n.body + n.subject for n in Notification.objects.all())
    assert all(password not in str(a.changes) for a in AuditEntry.objects.all())
    assert "••••••••••••" in Notification.objects.get(recipient_id=user.pk).body

    response = client.post(reverse("staff:login"), {"username": user.phone, "password": password})
    assert response.status_code == 302
    for url in (reverse("core:dashboard"), reverse("staff:cashier"), "/api/v1/orders/"):
        response = client.get(url)
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert response["Location"] == reverse("staff:password-change")
    response = client.post(
        reverse("staff:password-change"),
        {"old_password": password, "new_password1": "Fresh-Pass-2026!", "new_password2": "Fresh-Pass-2026!"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.must_change_password
    assert client.get(reverse("staff:cashier")).status_code == 200
    assert password not in caplog.text


def test_bad_clerk_input_is_refused_and_creates_nothing(world, outbox):
    before = User.objects.count()
    with pytest.raises(ValidationError) as error:
        clerk_create(actor=world.manager, name="X", phone="12ab", sites=[world.east_store])
    assert "phone" in error.value.message_dict
    with pytest.raises(ValidationError, match="cannot add staff"):
        clerk_create(actor=world.manager, name="X", phone="13800009999", sites=[world.west_store])
    with pytest.raises(ValidationError, match="administrator may add a store manager"):
        clerk_create(actor=world.manager, name="X", phone="13800009999", sites=[world.east_store], role="store_manager")
    with pytest.raises(ValidationError, match="daily limit cannot be lower"):
        clerk_create(
            actor=world.manager,
            name="X",
            phone="13800009999",
            sites=[world.east_store],
            refund_limit=Decimal("100"),
            refund_daily_limit=Decimal("50"),
        )
    _new_clerk(world)
    with pytest.raises(ValidationError, match="already logs in"):
        _new_clerk(world)
    assert User.objects.count() == before + 1 and len(outbox) == 1


def test_password_by_email_is_masked_in_the_stored_copy(world, outbox):
    user = _new_clerk(world, email="li.na@example.test", send_by="email")
    (message,) = mail.outbox
    password = message.body.split("the password ")[1].split(".")[0]
    assert user.check_password(password)
    assert password not in Notification.objects.get(recipient_id=user.pk, channel="email").body
    assert outbox == []


def test_deactivated_clerks_cannot_log_in_and_keep_their_history(world, client):
    from staff.services import staff_set_active

    staff_set_active(actor=world.manager, user=world.clerk, active=False, reason="left the company")
    response = client.post(reverse("staff:login"), {"username": world.clerk.username, "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert User.objects.filter(pk=world.clerk.pk).exists()
    with pytest.raises(ValueError):
        world.clerk.delete()


def test_repeated_failed_logins_lock_the_account_for_the_configured_time(world, client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
    login = reverse("staff:login")
    for _ in range(2):
        assert client.post(login, {"username": world.clerk.username, "password": "wrong"}).status_code == 200
    response = client.post(login, {"username": world.clerk.username, "password": "wrong"})
    assert response.status_code == 429
    # Locked: even the right password is refused, with a clear page; other accounts still work.
    response = client.post(login, {"username": world.clerk.username, "password": PASSWORD})
    assert response.status_code == 429 and "Account locked" in response.content.decode()
    assert "_auth_user_id" not in client.session
    other = client.post(login, {"username": world.manager.username, "password": PASSWORD})
    assert other.status_code == 302
    client.logout()
    # After the configured time the lock lifts.
    AccessAttempt.objects.update(attempt_time=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=16))
    response = client.post(login, {"username": world.clerk.username, "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_administrators_must_set_up_and_use_a_second_factor(
    world, client, settings, django_capture_on_commit_callbacks
):
    settings.STAFF_OTP_REQUIRED = True
    assert (
        client.post(reverse("staff:login"), {"username": world.regional.username, "password": PASSWORD}).status_code
        == 302
    )
    response = client.get(reverse("core:dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("staff:otp-verify"))
    assert client.get("/api/v1/orders/").status_code == 403
    assert client.get(reverse("staff:otp-verify"))["Location"] == reverse("staff:otp-setup")
    # The first device needs the one-time link sent to the user's own email, not only the password.
    assert client.get(reverse("staff:otp-setup")).status_code == 200
    assert not TOTPDevice.objects.filter(user=world.regional).exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("staff:otp-setup"))
    link = mail.outbox[-1].body.split("account: ")[1].split()[0]
    assert client.get(link)["Location"] == reverse("staff:otp-setup")
    assert client.get(reverse("staff:otp-setup")).status_code == 200
    device = TOTPDevice.objects.get(user=world.regional)
    wrong = f"{(totp(device.bin_key) + 1) % 10**6:06d}"
    assert client.post(reverse("staff:otp-setup"), {"token": wrong}).status_code == 200
    device.refresh_from_db()
    device.throttle_reset()  # django-otp slows down retries after a wrong code
    token = f"{totp(device.bin_key):06d}"
    assert client.post(reverse("staff:otp-setup"), {"token": token}).status_code == 302
    assert client.get(reverse("core:dashboard")).status_code == 200

    # A new session asks for the code, and accepts only a valid one.
    client.logout()
    client.post(reverse("staff:login"), {"username": world.regional.username, "password": PASSWORD})
    assert client.get(reverse("core:dashboard")).status_code == 302
    assert client.post(reverse("staff:otp-verify"), {"token": "12345"}).status_code == 200
    assert AuditEntry.objects.filter(actor=world.regional, action="staff.otp_failed").exists()

    # Clerks are not asked.
    client.logout()
    client.post(reverse("staff:login"), {"username": world.clerk.username, "password": PASSWORD})
    assert client.get(reverse("staff:cashier")).status_code == 200
