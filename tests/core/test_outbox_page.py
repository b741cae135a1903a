"""In the embedded default nothing leaves the machine: every SMS and email lands on the console's
outbox page, where a platform administrator reads the clerk's initial password as the clerk
would have. Nobody else opens the page or sees it in the menu."""

import pytest
from django.urls import reverse

from core.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_the_initial_password_sms_and_email_show_on_the_outbox(
    world, client, settings, django_capture_on_commit_callbacks
):
    settings.SMS_PROVIDER = "core.sms.ConsoleOutboxSMSProvider"
    settings.EMAIL_BACKEND = "core.mail.OutboxEmailBackend"
    client.force_login(world.admin)
    for phone, send_by, email in [("13900002222", "sms", ""), ("13900003333", "email", "li.na@example.com")]:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("staff:clerk-create"),
                {
                    "name": "Li Na",
                    "gender": "female",
                    "phone": phone,
                    "email": email,
                    "role": "clerk",
                    "sites": [world.east_store.pk],
                    "send_by": send_by,
                    "can_collect": "on",
                    "refund_limit": "10",
                    "refund_daily_limit": "20",
                    "reports": "own",
                },
            )
        assert response.status_code == 302, response.context["form"].errors
    sms = OutboxMessage.objects.get(channel="sms")
    email = OutboxMessage.objects.get(channel="email")
    assert sms.address.endswith("13900002222") and email.address == "li.na@example.com"
    page = client.get(reverse("core:outbox"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "13900002222" in html and "li.na@example.com" in html
    # The password itself is readable here (it is what the clerk received), and nowhere in the
    # notification log that other pages read.
    password_line = [line for line in sms.body.splitlines() if "13900002222" in line or "password" in line.lower()]
    assert password_line, sms.body
    filtered = client.get(reverse("core:outbox"), {"channel": "email"}).content.decode()
    assert "li.na@example.com" in filtered and "13900002222" not in filtered
    assert "Message outbox" in client.get(reverse("core:dashboard")).content.decode()


def test_only_platform_administrators_open_the_outbox(world, client):
    OutboxMessage.objects.create(channel="sms", address="+8613900004444", body="Your pickup code is 12345678")
    for user in (world.regional, world.manager, world.clerk, world.finance):
        client.force_login(user)
        assert client.get(reverse("core:outbox")).status_code == 403, user.username
        assert "Message outbox" not in client.get(reverse("core:dashboard")).content.decode()
