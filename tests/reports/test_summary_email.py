"""The daily summary email: a manager subscribes on /reports/summary/ in their language and at
their hour, the preview shows only figures within their grants, and the beat's task sends
yesterday's summary once per subscriber and day, in the subscriber's language."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from reports.models import SummarySend, SummarySubscription
from reports.tasks import BEAT_SCHEDULE, rollup_pending, summary_send, summary_send_due
from tests.factories import DeviceFactory, make_order

pytestmark = pytest.mark.django_db
URL = "/reports/summary/"


def _sales(world, capture):
    with capture(execute=True):
        make_order(
            site=world.east_store, total=Decimal("12.00"), paid=True, device=DeviceFactory(site=world.east_store)
        )
        make_order(
            site=world.west_store, total=Decimal("30.00"), paid=True, device=DeviceFactory(site=world.west_store)
        )
    rollup_pending.apply()


def test_the_page_is_in_the_reports_nav_and_subscribes_in_the_chosen_language(world, client):
    assert reverse("reports:summary") == URL
    client.force_login(world.manager)
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert f'href="{URL}"' in page.content.decode()
    assert "You do not receive the daily summary." in page.content.decode()
    response = client.post(URL, {"action": "subscribe", "language": "zh-hans", "hour": "7"})
    assert response.status_code == 302
    subscription = SummarySubscription.objects.get(user=world.manager)
    assert (subscription.active, subscription.language, subscription.hour) == (True, "zh-hans", 7)
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You receive the daily summary at 07:00." in page
    assert "净销售额" in page and "支付方式" in page  # the preview is written in the subscription's language

    client.post(URL, {"action": "unsubscribe"})
    assert SummarySubscription.objects.get(user=world.manager).active is False


def test_a_bad_hour_or_language_is_refused_with_a_message_and_nothing_saved(world, client):
    client.force_login(world.regional)
    for data in ({"language": "fr", "hour": "7"}, {"language": "en", "hour": "24"}, {"language": "en", "hour": "x"}):
        response = client.post(URL, {"action": "subscribe", **data}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
    assert not SummarySubscription.objects.exists()
    response = client.get(URL, {"day": "not-a-day"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "Enter a valid date." in response.content.decode()


def test_the_default_language_is_the_one_the_console_is_shown_in(world, client):
    client.force_login(world.finance)
    client.cookies["django_language"] = "zh-hans"
    page = client.get(URL)
    assert '<option value="zh-hans" selected>' in page.content.decode()


def test_suppliers_clerks_and_service_staff_cannot_subscribe(world, client):
    for user in (world.supplier_user, world.clerk, world.service):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.post(URL, {"action": "subscribe", "language": "en", "hour": "7"}).status_code == 403
    assert not SummarySubscription.objects.exists()


def test_the_preview_of_a_regional_admin_shows_only_their_regions_figures(
    world, client, django_capture_on_commit_callbacks
):
    _sales(world, django_capture_on_commit_callbacks)
    today = timezone.localdate().isoformat()
    client.force_login(world.regional)
    body = client.get(URL, {"day": today}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Net sales: 12.00" in body
    assert "30.00" not in body and "42.00" not in body
    client.force_login(world.admin)
    body = client.get(URL, {"day": today}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Net sales: 42.00" in body


def test_the_beat_sends_yesterdays_summary_once_in_each_subscribers_language(world, client, mailoutbox):
    assert BEAT_SCHEDULE["reports-summary-send-due"]["task"] == "reports.tasks.summary_send_due"
    client.force_login(world.regional)
    client.post(URL, {"action": "subscribe", "language": "zh-hans", "hour": "0"})
    client.force_login(world.finance)
    client.post(URL, {"action": "subscribe", "language": "en", "hour": "0"})
    client.force_login(world.manager)
    client.post(URL, {"action": "subscribe", "language": "en", "hour": "0"})
    client.post(URL, {"action": "unsubscribe"})

    assert summary_send_due.apply().get() == 2
    assert summary_send_due.apply().get() == 0  # the next hour: both sent already
    assert len(mailoutbox) == 2
    by_address = {message.to[0]: message for message in mailoutbox}
    chinese, english = by_address[world.regional.email], by_address[world.finance.email]
    yesterday = (timezone.localdate() - timezone.timedelta(days=1)).isoformat()
    assert yesterday in chinese.subject
    assert "净销售额" in chinese.body and "支付方式" in chinese.body and "Net sales" not in chinese.body
    assert english.subject == f"Daily summary for {yesterday}"
    assert "Same weekday last week" in english.body
    assert set(SummarySend.objects.values_list("user__username", "language")) == {
        (world.regional.username, "zh-hans"),
        (world.finance.username, "en"),
    }


def test_a_send_task_delivered_twice_sends_one_email(world, client, mailoutbox):
    client.force_login(world.regional)
    client.post(URL, {"action": "subscribe", "language": "en", "hour": "9"})
    subscription = SummarySubscription.objects.get(user=world.regional)
    day = timezone.localdate().isoformat()
    assert summary_send.apply(args=[subscription.pk, day]).get() is True
    assert summary_send.apply(args=[subscription.pk, day]).get() is False
    assert len(mailoutbox) == 1
    assert SummarySend.objects.filter(user=world.regional).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_the_same_moment_send_one_email(client, settings):
    """Both deliveries are inside their transaction when they insert the (user, day) row: on
    PostgreSQL the second insert waits for the first to commit, then finds the row and sends
    nothing."""
    import threading
    from unittest import mock

    from django.db import connection

    from core.models import OutboxMessage
    from tests.factories import build_world

    settings.EMAIL_BACKEND = "core.mail.OutboxEmailBackend"
    world = build_world()
    client.force_login(world.regional)
    client.post(URL, {"action": "subscribe", "language": "en", "hour": "9"})
    subscription = SummarySubscription.objects.get(user=world.regional)
    day = timezone.localdate().isoformat()
    both_inside = threading.Barrier(2, timeout=30)
    real = SummarySend.objects.get_or_create
    results, errors = [], []

    def meeting(*args, **kwargs):
        both_inside.wait()
        return real(*args, **kwargs)

    def deliver():
        try:
            results.append(summary_send.apply(args=[subscription.pk, day]).get())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    with mock.patch.object(SummarySend.objects, "get_or_create", side_effect=meeting):
        threads = [threading.Thread(target=deliver) for _n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert sorted(results) == [False, True]
    assert OutboxMessage.objects.filter(address=world.regional.email).count() == 1
    assert SummarySend.objects.filter(user=world.regional).count() == 1
