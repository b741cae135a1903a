"""Celery tasks of reconciliation: the daily run per provider (beat) and the run after an import.
Each loads its arguments and calls one service; running twice changes nothing."""

import datetime

from celery import shared_task
from celery.schedules import crontab

# WeChat Pay publishes the previous day's bill after 09:00 and Alipay by the morning too; finance
# imports in the morning, so the run at 11:30 reconciles those and re-checks the week before.
BEAT_SCHEDULE = {
    "accounting-reconcile-daily": {
        "task": "accounting.recon_tasks.reconcile_daily",
        "schedule": crontab(hour=11, minute=30),
    }
}


@shared_task
def reconcile_daily() -> int:
    from accounting.reconciliation import reconcile_pending

    return reconcile_pending()


@shared_task
def reconcile_provider_day(provider: str, day: str) -> dict:
    from accounting.reconciliation import reconcile_day

    return reconcile_day(provider=provider, day=datetime.date.fromisoformat(day))
