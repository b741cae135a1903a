"""Accounting's background work: load by id, call one service. Every task is safe to deliver
more than once (the services are idempotent)."""

import datetime

from celery import shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounting import accruals, withdrawals
from accounting.recon_tasks import BEAT_SCHEDULE as RECON_BEAT_SCHEDULE
from accounting.recon_tasks import reconcile_daily, reconcile_provider_day  # noqa: F401  (registered here too)

# Paid orders whose accrual task was lost are found again by the sweep within this window.
SWEEP_WINDOW = datetime.timedelta(days=2)


@shared_task(bind=True, max_retries=5, acks_late=True)
def order_accrue(self, order_id: int) -> int:
    return len(accruals.order_accrue(order_id=order_id))


@shared_task(bind=True, max_retries=5, acks_late=True)
def refund_reverse(self, refund_id: int) -> int:
    return accruals.refund_reverse(refund_id=refund_id)


@shared_task
def accruals_release(as_of: str = "") -> int:
    """`as_of` (ISO time) lets an operator catch up a missed night; the beat passes nothing."""
    return accruals.accruals_release(now=parse_datetime(as_of) if as_of else None)


@shared_task
def accruals_sweep() -> int:
    missed = accruals.orders_missed(since=timezone.now() - SWEEP_WINDOW)
    for order_id in missed:
        order_accrue.delay(order_id)
    return len(missed)


@shared_task
def settlement_run() -> int:
    return len(withdrawals.settlement_run())


BEAT_SCHEDULE = {
    **RECON_BEAT_SCHEDULE,
    "accounting-accruals-release": {"task": "accounting.tasks.accruals_release", "schedule": 3600.0},
    "accounting-accruals-sweep": {"task": "accounting.tasks.accruals_sweep", "schedule": 1800.0},
    "accounting-settlement": {"task": "accounting.tasks.settlement_run", "schedule": 3600.0 * 6},
}
