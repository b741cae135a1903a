"""The nightly refit of every slot's forecast."""

from celery import shared_task
from celery.schedules import crontab

from forecasts import services

BEAT_SCHEDULE = {
    # After the roll-up check of yesterday (reports, 01:15): the history is complete and repaired.
    "forecasts-refit-nightly": {"task": "forecasts.tasks.forecasts_refit", "schedule": crontab(hour=2, minute=30)},
}


@shared_task
def forecasts_refit() -> int:
    return services.forecasts_refit().series
