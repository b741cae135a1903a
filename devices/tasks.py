"""Periodic fleet jobs: offline detection and command expiry (safe to run on any schedule and
to retry: both are conditional updates)."""

from celery import shared_task

from devices import services


@shared_task
def devices_detect_offline() -> int:
    return len(services.devices_mark_offline())


@shared_task
def device_commands_expire() -> int:
    return services.commands_expire()


BEAT_SCHEDULE = {
    "devices-detect-offline": {"task": "devices.tasks.devices_detect_offline", "schedule": 30.0},
    "device-commands-expire": {"task": "devices.tasks.device_commands_expire", "schedule": 15.0},
}
