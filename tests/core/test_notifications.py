"""Notifications: rendered per language, delivered after commit, recorded with their outcome,
retried when a provider fails, and never able to block or roll back the change that caused them."""

import pytest
from django.core import mail
from django.db import transaction

from core.models import Notification
from core.services import notification_send
from core.sms import OutboxSMSProvider
from orders.models import Order
from tests.factories import CustomerFactory, SiteFactory, UserFactory, make_order


@pytest.fixture
def outbox_sms(settings):
    settings.SMS_PROVIDER = "core.sms.OutboxSMSProvider"
    OutboxSMSProvider.outbox.clear()
    return OutboxSMSProvider.outbox


@pytest.mark.django_db
def test_in_app_email_and_sms_are_sent_after_commit_and_recorded(outbox_sms, django_capture_on_commit_callbacks):
    user = UserFactory(email="clerk@example.test", phone="13800000001")
    with django_capture_on_commit_callbacks(execute=True):
        sent = notification_send(template="test", recipient=user, channels=["in_app", "email", "sms"])
        # Nothing leaves before the transaction commits.
        assert mail.outbox == [] and outbox_sms == []
    assert {n.channel: n.status for n in sent} == {"in_app": "sent", "email": "pending", "sms": "pending"}
    assert {n.channel: n.status for n in Notification.objects.all()} == {
        "in_app": "sent",
        "email": "sent",
        "sms": "sent",
    }
    assert mail.outbox[0].subject == "Test message"
    assert outbox_sms[0][0] == "13800000001"


@pytest.mark.django_db
def test_messages_are_rendered_in_the_recipients_language(outbox_sms, django_capture_on_commit_callbacks):
    user = UserFactory(language="zh-hans")
    (notification,) = notification_send(template="test", recipient=user)
    assert notification.subject != "Test message"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in notification.subject)


@pytest.mark.django_db
def test_a_failing_provider_is_retried_recorded_and_never_blocks_the_order(
    settings, django_capture_on_commit_callbacks
):
    from config.celery import app

    settings.SMS_PROVIDER = "core.sms.FailingSMSProvider"
    app.conf.task_eager_propagates = False  # as in a worker: a failed try is retried, not raised
    customer = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            order = make_order(site=SiteFactory(), customer=customer)
            notification_send(template="test", recipient=customer, channels=["sms"])
    assert Order.objects.filter(pk=order.pk).exists()  # the order committed regardless
    notification = Notification.objects.get(channel="sms")
    assert notification.status == Notification.Status.FAILED
    assert notification.attempts > 1  # retried, not given up after the first try
    assert "unreachable" in notification.last_error

    # The provider recovers: the next retry sends it, and a later duplicate run changes nothing.
    settings.SMS_PROVIDER = "core.sms.OutboxSMSProvider"
    OutboxSMSProvider.outbox.clear()
    from core.tasks import notification_deliver

    notification_deliver.apply(args=[notification.pk])
    notification_deliver.apply(args=[notification.pk])
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert len(OutboxSMSProvider.outbox) == 1


@pytest.mark.django_db
def test_recipient_without_a_phone_gets_no_sms_row():
    user = UserFactory(phone="")
    sent = notification_send(template="test", recipient=user, channels=["sms", "in_app"])
    assert [n.channel for n in sent] == ["in_app"]


@pytest.mark.django_db
def test_staff_see_only_their_own_in_app_notifications(api_client):
    mine, theirs = UserFactory(), UserFactory()
    (own,) = notification_send(template="test", recipient=mine)
    notification_send(template="test", recipient=theirs)
    api_client.force_authenticate(mine)
    response = api_client.get("/api/v1/my/notifications/")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [own.pk]
