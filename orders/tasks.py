"""Partner webhooks and idempotency records: send a delivery (retried with backoff), sweep up
deliveries whose queued task was lost, forget idempotency records after a day."""

from celery import shared_task

from orders import webhooks

# Celery's own limit stays above ours: webhooks.MAX_ATTEMPTS decides when a delivery is given up.
TASK_MAX_RETRIES = webhooks.MAX_ATTEMPTS + 2


@shared_task(bind=True, max_retries=TASK_MAX_RETRIES)
def webhook_deliver(self, delivery_id: int, seen_attempts: int = 0) -> str:
    outcome, delay = webhooks.webhook_attempt(delivery_id=delivery_id, seen_attempts=seen_attempts)
    if outcome == "retry":
        raise self.retry(args=(delivery_id, seen_attempts + 1), countdown=delay)
    return outcome


@shared_task
def webhooks_sweep() -> int:
    due = webhooks.webhooks_due()
    for delivery_id, attempts in due:
        webhook_deliver.delay(delivery_id, attempts)
    return len(due)


@shared_task
def idempotency_records_expire() -> int:
    from orders.idempotency import idempotency_records_expire as expire

    return expire()


BEAT_SCHEDULE = {
    "orders-webhooks-sweep": {"task": "orders.tasks.webhooks_sweep", "schedule": 60.0},
    "orders-idempotency-expire": {"task": "orders.tasks.idempotency_records_expire", "schedule": 3600.0},
}
