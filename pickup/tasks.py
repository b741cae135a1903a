"""Periodic pickup jobs. Idempotent: a run that finds nothing to do changes nothing."""

from celery import shared_task

from pickup.services import uncollected_expire


@shared_task
def pickup_uncollected_expire() -> int:
    """Counter pickup orders whose code expired past the region's grace hours end as not collected."""
    return uncollected_expire()


BEAT_SCHEDULE = {
    "pickup-uncollected-expire": {"task": "pickup.tasks.pickup_uncollected_expire", "schedule": 900.0},
}
