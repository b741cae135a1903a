"""Roll-up tasks: an order's change (after commit), and the nightly check of yesterday."""

import datetime

from celery import shared_task
from celery.schedules import crontab
from django.db import OperationalError
from django.utils import timezone

from reports import rollups

BEAT_SCHEDULE = {
    # After midnight, local time (CELERY_TIMEZONE): yesterday is complete.
    "reports-check-yesterday": {
        "task": "reports.tasks.rollup_check_yesterday",
        "schedule": crontab(hour=1, minute=15),
    },
}


# A deadlock with a concurrent day check (PostgreSQL aborts one side) is retried.
@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def rollup_order(order_id: int) -> bool:
    return rollups.order_rollup(order_id=order_id)


@shared_task
def rollup_check_yesterday() -> int:
    day = timezone.localdate(timezone=rollups.report_timezone()) - datetime.timedelta(days=1)
    return rollups.rollup_check_day(day=day, trigger="nightly").differences
