"""Periodic vending jobs. Stuck dispenses need none of their own: a dispense command that expires
is reported to vending's result handler, which fails, refunds and restocks the sale."""

from celery import shared_task

from vending import services


@shared_task
def vends_expire_unpaid() -> int:
    return services.vends_expire_unpaid()


BEAT_SCHEDULE = {"vends-expire-unpaid": {"task": "vending.tasks.vends_expire_unpaid", "schedule": 60.0}}
