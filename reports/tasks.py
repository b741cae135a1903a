"""Roll-up tasks: an order's change (after commit), and the nightly check of yesterday; the
daily summary emails."""

import datetime

from celery import shared_task
from celery.schedules import crontab
from django.db import OperationalError
from django.utils import timezone

from reports import rollups, services
from reports.models import SummarySubscription

BEAT_SCHEDULE = {
    # The orders changed since the last run (the order listener marks them).
    "reports-rollup-pending": {"task": "reports.tasks.rollup_pending", "schedule": 30.0},
    # After midnight, local time (CELERY_TIMEZONE): yesterday is complete.
    "reports-check-yesterday": {
        "task": "reports.tasks.rollup_check_yesterday",
        "schedule": crontab(hour=1, minute=15),
    },
    # Every hour: the summaries whose subscriber's hour has come (after the nightly check).
    "reports-summary-send-due": {"task": "reports.tasks.summary_send_due", "schedule": crontab(minute=30)},
}


# The per-order task of the first release: a copy still queued (or redelivered) after the upgrade
# only marks the order for the next batch.
@shared_task
def rollup_order(order_id: int) -> None:
    rollups.rollup_mark(order_id)


# Beat every 30 s, and on demand (`manage.py reports_rollup_pending`). Batches of waiting orders
# until none wait or a batch budget is spent; two of these at once take different orders.
@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def rollup_pending(max_batches: int = 40) -> int:
    return rollups.rollup_pending(max_batches=max_batches)


@shared_task
def rollup_check_yesterday() -> int:
    day = timezone.localdate(timezone=rollups.report_timezone()) - datetime.timedelta(days=1)
    return rollups.rollup_check_day(day=day, trigger="nightly").differences


@shared_task
def summary_send_due() -> int:
    """Queue yesterday's summary for each subscriber whose hour has come."""
    now = timezone.now()
    day = timezone.localdate(now, timezone=rollups.report_timezone()) - datetime.timedelta(days=1)
    due = services.summary_due(now=now)
    for subscription in due:
        summary_send.delay(subscription.pk, day.isoformat())
    return len(due)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def summary_send(subscription_id: int, day: str) -> bool:
    subscription = SummarySubscription.objects.select_related("user").filter(pk=subscription_id).first()
    if subscription is None:
        return False
    return services.summary_send(subscription=subscription, day=datetime.date.fromisoformat(day))
