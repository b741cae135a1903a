"""The demo shows reports: its history is rolled up, the roll-ups agree with the raw orders after
the listeners ran, and the demo's regional administrator sees their region's sales."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from reports.models import RollupPending, SalesDay
from reports.rollups import rollup_check_day


@pytest.mark.django_db
def test_the_demo_history_is_in_the_reports(client, django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model

    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", days=3, orders_per_day=4, verbosity=0)
    # Orders the apps seeded after the reports' rebuild wait for the beat's batch (every 30 s).
    assert RollupPending.objects.exists()
    call_command("reports_rollup_pending", stdout=io.StringIO())
    assert not RollupPending.objects.exists()
    assert SalesDay.objects.exists()
    today = timezone.localdate()
    for offset in range(5):
        assert rollup_check_day(day=today - datetime.timedelta(days=offset), trigger="rebuild").differences == 0
    regional = get_user_model().objects.get(username="regional")
    client.force_login(regional)
    response = client.get(
        reverse("reports:sales"),
        {"date_from": today - datetime.timedelta(days=5), "date_to": today, "by": "site", "format": "json"},
    )
    rows = response.json()["sections"][0]["rows"]
    assert rows and all(row[1] > 0 for row in rows)
    # The demo's regional administrator receives the daily summary in Chinese, and previews it.
    page = client.get(reverse("reports:summary"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You receive the daily summary at 08:00." in page
    assert '<option value="zh-hans" selected>' in page and "净销售额" in page
