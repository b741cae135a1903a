"""Celery tasks of the accounting app; each concern keeps its tasks in its own module."""

from accounting.recon_tasks import BEAT_SCHEDULE as RECON_BEAT_SCHEDULE
from accounting.recon_tasks import reconcile_daily, reconcile_provider_day

BEAT_SCHEDULE = {**RECON_BEAT_SCHEDULE}

__all__ = ["BEAT_SCHEDULE", "reconcile_daily", "reconcile_provider_day"]
