"""`/health/` for load balancers and monitors (django-health-check): the database, the cache, the
channel layer, a Celery worker, the beat heartbeat and free disk. Answers 200 when every check
passes and 503 naming the failed checks otherwise (the library answers 500; a load balancer and a
person both read 503 as "this instance cannot serve")."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import shutil
import uuid

from django.conf import settings
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

# Beat sends core.tasks.heartbeat every HEARTBEAT_SECONDS; a heartbeat older than this means beat
# or every worker has stopped.
HEARTBEAT_STALE_SECONDS = 150


@dataclasses.dataclass
class ChannelLayer(HealthCheck):
    """A message sent to a fresh channel of the channel layer comes back."""

    timeout: datetime.timedelta = dataclasses.field(default=datetime.timedelta(seconds=3), repr=False)

    async def run(self):
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is None:
            raise ServiceUnavailable("no channel layer configured")
        try:
            channel = await layer.new_channel("health.")
            token = uuid.uuid4().hex
            await layer.send(channel, {"type": "health.probe", "token": token})
            message = await asyncio.wait_for(layer.receive(channel), timeout=self.timeout.total_seconds())
        except Exception as exc:
            raise ServiceUnavailable(f"unreachable ({type(exc).__name__})") from exc
        if message.get("token") != token:
            raise ServiceUnavailable("answered with another message")


@dataclasses.dataclass
class CeleryWorker(HealthCheck):
    """A worker answers: over the broker's broadcast (Redis) with a ping; with the embedded broker,
    which has no broadcast, by having run the last heartbeat task in time."""

    timeout: datetime.timedelta = dataclasses.field(default=datetime.timedelta(seconds=2), repr=False)

    def run(self):
        if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
            from config.celery import app

            try:
                answers = app.control.ping(timeout=self.timeout.total_seconds())
            except Exception as exc:
                raise ServiceUnavailable(f"broker unreachable ({type(exc).__name__})") from exc
            if not any(answer.get("ok") == "pong" for reply in answers for answer in reply.values()):
                raise ServiceUnavailable("no worker answered")
            return
        _fresh_heartbeat("no worker has run the heartbeat task")


@dataclasses.dataclass
class BeatHeartbeat(HealthCheck):
    """Beat sent the heartbeat task recently (and a worker ran it)."""

    def run(self):
        _fresh_heartbeat("beat has not sent a heartbeat")


def _fresh_heartbeat(problem: str) -> None:
    from django.db import connection

    from core.models import Heartbeat

    try:  # checks run in worker threads: do not leave their connections open
        beat = Heartbeat.objects.filter(name="beat").first()
    finally:
        connection.close()
    if beat is None:
        raise ServiceUnavailable(f"{problem} yet")
    age = (timezone.now() - beat.at).total_seconds()
    if age > HEARTBEAT_STALE_SECONDS:
        raise ServiceUnavailable(f"{problem} for {int(age)} s")


@dataclasses.dataclass
class Disk(HealthCheck):
    """Free space where the database file, media and backups live (VAR_DIR)."""

    max_used_percent: float = dataclasses.field(default=95.0, repr=False)

    def run(self):
        usage = shutil.disk_usage(settings.VAR_DIR)
        used = 100.0 * usage.used / usage.total if usage.total else 0.0
        if used >= self.max_used_percent:
            raise ServiceUnavailable(f"{used:.0f}% of the disk used")


class HealthView(HealthCheckView):
    checks = (
        (Database, {}),
        (Cache, {}),
        (ChannelLayer, {}),
        (CeleryWorker, {}),
        (BeatHeartbeat, {}),
        (Disk, {}),
    )

    async def get(self, request, *args, **kwargs):
        response = await super().get(request, *args, **kwargs)
        if response.status_code == 500:
            response.status_code = 503
        return response
