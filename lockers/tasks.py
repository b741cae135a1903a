"""Periodic locker jobs: expired pickups (notify, return-to-sender task). Idempotent."""

from celery import shared_task

from lockers import services


@shared_task
def lockers_expire() -> int:
    return services.lockers_expire()


BEAT_SCHEDULE = {"lockers-expire": {"task": "lockers.tasks.lockers_expire", "schedule": 300.0}}
