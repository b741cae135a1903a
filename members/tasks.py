"""Nightly member jobs."""

from celery import shared_task
from celery.schedules import crontab


@shared_task
def rfm_recompute() -> int:
    from members.services import rfm_recompute as run

    return run()


BEAT_SCHEDULE = {"members-rfm-nightly": {"task": "members.tasks.rfm_recompute", "schedule": crontab(hour=3, minute=15)}}
