"""What a heartbeat writes: every one reaches the live pages, but the database hears only what it
needs — a telemetry sample when a value moves or the last one is old, and last_seen_at at most
every DEVICE_SEEN_WRITE_SECONDS — and a device heard every second never looks offline."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from devices import live
from devices.models import Device, Telemetry
from devices.services import device_heartbeat, devices_mark_offline
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0)


def _beat(device, at, **telemetry):
    return device_heartbeat(device=device, telemetry=telemetry, at=at)


def test_telemetry_is_sampled_on_change_beyond_the_deadband_and_at_the_interval(settings, t0):
    settings.DEVICE_TELEMETRY_SAMPLE_SECONDS = 60
    device = DeviceFactory()
    second = datetime.timedelta(seconds=1)
    _beat(device, t0, temperature="4.0", signal_dbm=-70, power=True)
    _beat(device, t0 + second, temperature="4.0", signal_dbm=-70, power=True)  # nothing moved
    _beat(device, t0 + 2 * second, temperature="4.3", signal_dbm=-73)  # inside both deadbands
    _beat(device, t0 + 3 * second, temperature="4.5")  # 0.5 °C from the last sample
    _beat(device, t0 + 4 * second, power=False)  # a boolean: any change
    _beat(device, t0 + 5 * second, temperature="4.5", power=False)
    _beat(device, t0 + 65 * second, temperature="4.5", power=False)  # the last sample is 60 s old
    samples = list(Telemetry.objects.filter(device=device).order_by("at").values_list("at", "temperature", "powered"))
    assert samples == [
        (t0, Decimal("4.0"), True),
        (t0 + 3 * second, Decimal("4.5"), None),
        (t0 + 4 * second, None, False),
        (t0 + 65 * second, Decimal("4.5"), False),
    ]
    # The device keeps its latest sample: the newest row, whatever it did not report kept as was.
    device.refresh_from_db()
    assert (device.telemetry_at, device.temperature, device.powered, device.signal_dbm) == (
        t0 + 65 * second,
        Decimal("4.5"),
        False,
        -70,
    )


def test_a_firmware_change_is_stored_at_once(t0):
    device = DeviceFactory()
    _beat(device, t0, firmware="2.1")
    _beat(device, t0 + datetime.timedelta(seconds=1), firmware="2.2")
    device.refresh_from_db()
    assert device.firmware == "2.2"
    assert list(Telemetry.objects.filter(device=device).values_list("firmware", flat=True).order_by("at")) == [
        "2.1",
        "2.2",
    ]


def test_last_seen_is_stored_at_most_every_few_seconds_but_every_heartbeat_goes_live(
    settings, t0, monkeypatch, django_capture_on_commit_callbacks
):
    settings.DEVICE_SEEN_WRITE_SECONDS = 10
    settings.DEVICE_OFFLINE_AFTER_SECONDS = 120
    sent = []
    monkeypatch.setattr(live, "group_send_many", lambda groups, message, **kw: sent.append(message))
    device = DeviceFactory()
    for s in range(0, 25):
        with django_capture_on_commit_callbacks(execute=True):
            returned = _beat(device, t0 + datetime.timedelta(seconds=s))
        stored = Device.objects.values_list("last_seen_at", flat=True).get(pk=device.pk)
        # What the caller gets back, and what the live pages got, is this heartbeat's time.
        assert returned.last_seen_at == t0 + datetime.timedelta(seconds=s)
        assert sent[-1]["device"]["last_seen_at"] == returned.last_seen_at.isoformat()
        assert stored == t0 + datetime.timedelta(seconds=(s // 10) * 10)
    assert len(sent) == 25


def test_the_stored_time_lags_by_at_most_a_quarter_of_the_offline_timeout(settings, t0):
    settings.DEVICE_SEEN_WRITE_SECONDS = 300  # set too high: the timeout wins
    settings.DEVICE_OFFLINE_AFTER_SECONDS = 60
    device = DeviceFactory()
    for s in range(0, 200):
        _beat(device, t0 + datetime.timedelta(seconds=s))
        now = t0 + datetime.timedelta(seconds=s)
        stored = Device.objects.values_list("last_seen_at", flat=True).get(pk=device.pk)
        assert (now - stored).total_seconds() < 15
        assert devices_mark_offline(now=now) == []
    assert Device.objects.get(pk=device.pk).state == Device.State.ONLINE


def test_a_device_that_went_offline_comes_back_on_its_next_heartbeat_even_from_a_stale_instance(settings, t0):
    """The caller's instance may still say online; the row decides, so the return is written."""
    settings.DEVICE_OFFLINE_AFTER_SECONDS = 60
    device = DeviceFactory()
    _beat(device, t0)
    assert devices_mark_offline(now=t0 + datetime.timedelta(seconds=61)) == [device.pk]
    returned = _beat(device, t0 + datetime.timedelta(seconds=62))  # the instance was not reloaded
    assert returned.state == Device.State.ONLINE
    row = Device.objects.get(pk=device.pk)
    assert row.state == Device.State.ONLINE and row.last_seen_at == t0 + datetime.timedelta(seconds=62)
