"""Periodic locker and pickup jobs: reminders, overdue fees, expiry with return tasks. Idempotent."""

from celery import shared_task

from lockers import bookings, services
from pickup.services import codes_remind


@shared_task
def lockers_expire() -> int:
    return services.lockers_expire()


@shared_task
def lockers_charge_overdue() -> int:
    return services.lockers_charge_overdue()


@shared_task
def locker_bookings_expire() -> int:
    return bookings.locker_bookings_expire()


@shared_task
def pickup_codes_remind() -> int:
    return codes_remind()


BEAT_SCHEDULE = {
    "lockers-expire": {"task": "lockers.tasks.lockers_expire", "schedule": 300.0},
    "lockers-charge-overdue": {"task": "lockers.tasks.lockers_charge_overdue", "schedule": 3600.0},
    "locker-bookings-expire": {"task": "lockers.tasks.locker_bookings_expire", "schedule": 60.0},
    "pickup-codes-remind": {"task": "lockers.tasks.pickup_codes_remind", "schedule": 900.0},
}
