"""The Celery application. Tasks live in each app's tasks.py and are found automatically; an
app's periodic jobs are a `BEAT_SCHEDULE` dict in its tasks.py, merged here into the beat
schedule (django-celery-beat's DatabaseScheduler stores them, so administrators can pause or
retime them in the admin)."""

import importlib
import os

from celery import Celery
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from kombu.transport import TRANSPORT_ALIASES  # noqa: E402

# The embedded broker's scheme (`sqlasafe+sqlite:///…`, settings); imported only when used.
TRANSPORT_ALIASES.setdefault("sqlasafe", "core.broker:Transport")

app = Celery("backoffice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _merge_beat_schedules(sender, **kwargs):
    from django.apps import apps

    schedule = dict(sender.conf.beat_schedule or {})
    # The apps' module names: INSTALLED_APPS may name an AppConfig class instead of a module.
    for app_name in (app_config.name for app_config in apps.get_app_configs()):
        try:
            module = importlib.import_module(f"{app_name}.tasks")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app_name}.tasks":
                raise
            continue
        schedule.update(getattr(module, "BEAT_SCHEDULE", {}))
    sender.conf.beat_schedule = schedule


@beat_init.connect
def _heartbeat_at_start(sender, **kwargs):
    """Beat sends the first heartbeat as it starts, not one interval later: after a (re)start
    `/health/` turns green as soon as a worker has run it (core.health)."""
    from core.tasks import HEARTBEAT_SECONDS

    sender.app.send_task("core.tasks.heartbeat", expires=HEARTBEAT_SECONDS)
