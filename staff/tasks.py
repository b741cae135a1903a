"""Background work of the staff app."""

from celery import shared_task


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def anomaly_check(kind: str, pk: int) -> int:
    from staff.anomalies import anomaly_check_now

    return len(anomaly_check_now(kind, pk))
