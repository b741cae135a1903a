"""Online / offline from the last message and a timeout; one "online" event per return; alerts."""

import datetime
import threading

import pytest
from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils import timezone

from core.models import Notification
from devices.models import Device, DeviceEvent
from devices.services import device_heartbeat, devices_mark_offline, fault_open, fault_resolve, open_fault_exists_sql
from tests.factories import DeviceFactory


@pytest.mark.django_db
def test_offline_after_the_timeout_raises_an_alert_and_return_writes_one_online_event(world, settings):
    settings.DEVICE_OFFLINE_AFTER_SECONDS = 60
    device = DeviceFactory(site=world.east_store)
    long_ago = timezone.now() - datetime.timedelta(minutes=5)
    device_heartbeat(device=device, at=long_ago)
    assert devices_mark_offline() == [device.pk]
    assert devices_mark_offline() == []  # once
    device.refresh_from_db()
    assert device.state == Device.State.OFFLINE
    alerted = set(Notification.objects.filter(template="device_offline").values_list("recipient_id", flat=True))
    assert world.regional.pk in alerted and world.service.pk in alerted
    # west's people are not told about an east machine
    assert DeviceEvent.objects.filter(device=device, kind="offline").count() == 1
    device_heartbeat(device=device)
    device_heartbeat(device=device)
    assert DeviceEvent.objects.filter(device=device, kind="online").count() == 2  # first pairing-time + return
    device.refresh_from_db()
    assert device.state == Device.State.ONLINE


@pytest.mark.django_db
def test_a_recent_device_stays_online(settings):
    settings.DEVICE_OFFLINE_AFTER_SECONDS = 60
    device = DeviceFactory()
    device_heartbeat(device=device)
    assert devices_mark_offline() == []


@pytest.mark.django_db
def test_faults_open_once_and_block_the_slot_until_resolved():
    device = DeviceFactory()
    fault = fault_open(device=device, code="MOTOR", slot="12")
    assert fault_open(device=device, code="MOTOR", slot="12") == fault
    assert _slot_blocked(device, "12") and not _slot_blocked(device, "13")
    fault_resolve(fault=fault, actor=None)
    assert not _slot_blocked(device, "12")


def _slot_blocked(device, slot: str) -> bool:
    """The question a vending sale's slot lookup asks, in the SQL it asks it with."""
    blocked = RawSQL(open_fault_exists_sql(device_column='"devices_device"."id"', slot_column="%s"), [slot])
    return Device.objects.filter(pk=device.pk).annotate(blocked=blocked).values_list("blocked", flat=True).get()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_heartbeats_of_a_returning_device_write_exactly_one_online_event():
    device = DeviceFactory()
    Device.objects.filter(pk=device.pk).update(state=Device.State.OFFLINE)
    barrier = threading.Barrier(8)

    def beat():
        try:
            barrier.wait()
            device_heartbeat(device=Device.objects.get(pk=device.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert DeviceEvent.objects.filter(device=device, kind="online").count() == 1


def test_the_periodic_jobs_are_scheduled():
    from config.celery import app

    app.finalize()
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"devices.tasks.devices_detect_offline", "devices.tasks.device_commands_expire"} <= tasks
    assert "devices.tasks.devices_detect_offline" in app.tasks
