"""Celery tasks for core: load by id, call one service."""

from celery import shared_task
from celery.schedules import crontab
from django.conf import settings

from core.models import Notification
from core.services import notification_deliver_now

HEARTBEAT_SECONDS = 30
BACKUP_HOUR = settings.BACKUP_HOUR


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=5, retry_backoff_max=600, max_retries=8)
def notification_deliver(
    self, notification_id: int, subject: str = "", body: str = "", params: dict | None = None
) -> None:
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None:
        return
    notification_deliver_now(notification=notification, subject=subject, body=body, params=params)


@shared_task(ignore_result=True)
def broker_probe(token: str) -> None:
    """Proof that a message went through the broker to a worker: touches
    VAR_DIR/broker-probe/<token>. Used to check the embedded broker and its supervised worker."""
    import re

    from django.conf import settings

    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,80}", token or "") or token.startswith("."):
        return
    folder = settings.VAR_DIR / "broker-probe"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / token).touch()


@shared_task
def rate_counters_purge() -> int:
    from core.services import rate_counters_purge as run

    return run()


@shared_task(ignore_result=True, expires=HEARTBEAT_SECONDS)
def heartbeat() -> None:
    """Sent by beat every HEARTBEAT_SECONDS and run by a worker: the health endpoint's proof that
    both are alive (core.health)."""
    from django.utils import timezone

    from core.models import Heartbeat

    Heartbeat.objects.update_or_create(name="beat", defaults={"at": timezone.now()})


@shared_task
def backup_scheduled() -> None:
    """The scheduled backup (`manage.py backup` with the settings' retention)."""
    from django.core.management import call_command

    call_command("backup")


@shared_task(ignore_result=True)
def export_job_run(job_id: int) -> str:
    from core.exports import export_job_run as run

    return run(job_id=job_id)


@shared_task
def export_jobs_expire() -> int:
    from core.exports import export_jobs_expire as run

    return run()


BEAT_SCHEDULE = {
    "core-rate-counters-purge": {"task": "core.tasks.rate_counters_purge", "schedule": 3600.0},
    "core-heartbeat": {"task": "core.tasks.heartbeat", "schedule": float(HEARTBEAT_SECONDS)},
    "core-backup": {
        "task": "core.tasks.backup_scheduled",
        "schedule": crontab(hour=BACKUP_HOUR, minute=30),
    },
    "core-export-jobs-expire": {"task": "core.tasks.export_jobs_expire", "schedule": 3600.0},
}
