"""Periodic lease jobs: long-term billing and closing leases that reached their maximum. Idempotent."""

from celery import shared_task

from leasing import services


@shared_task
def leases_bill_periods() -> int:
    return services.leases_bill_periods()


@shared_task
def leases_close_at_maximum() -> int:
    return services.leases_close_at_maximum()


@shared_task
def leases_overdue_scan() -> dict:
    return services.leases_overdue_scan()


BEAT_SCHEDULE = {
    "leases-overdue-scan": {"task": "leasing.tasks.leases_overdue_scan", "schedule": 900.0},
    "leases-bill-periods": {"task": "leasing.tasks.leases_bill_periods", "schedule": 3600.0},
    "leases-close-at-maximum": {"task": "leasing.tasks.leases_close_at_maximum", "schedule": 600.0},
}
