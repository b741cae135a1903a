"""Remote commands: a state machine with a log, executed at most once, never run late."""

import datetime

import pytest
from django.utils import timezone

from devices import commands as registry
from devices.models import DeviceCommand, DeviceCommandEvent, Fault
from devices.services import (
    command_acknowledge,
    command_cancel,
    command_report,
    command_send,
    commands_expire,
    commands_pending,
)
from tests.devices.helpers import answer_pending
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db
S = DeviceCommand.Status


def test_queued_sent_acknowledged_succeeded_each_logged_with_its_actor(django_user_model):
    user = django_user_model.objects.create_user("ops", password="x-12345-y")
    device = DeviceFactory()
    command = command_send(device=device, kind="open_door", payload={"door": 2}, actor=user)
    assert command.status == S.QUEUED and command.created_by == user
    (delivered,) = commands_pending(device=device)
    assert delivered.status == S.SENT and delivered.attempts == 1
    command_acknowledge(command_id=command.command_id, device=device)
    command_report(command_id=command.command_id, succeeded=True, result={"opened": True}, device=device)
    command.refresh_from_db()
    assert command.status == S.SUCCEEDED and command.result == {"opened": True}
    log = list(DeviceCommandEvent.objects.filter(command=command).values_list("to_status", "actor_label"))
    assert log == [
        ("queued", "ops"),
        ("sent", f"device:{device.serial_number}"),
        ("acknowledged", f"device:{device.serial_number}"),
        ("succeeded", f"device:{device.serial_number}"),
    ]


def test_redelivery_until_acknowledged_then_never_again():
    device = DeviceFactory()
    command = command_send(device=device, kind="reboot")
    assert len(commands_pending(device=device)) == 1
    assert len(commands_pending(device=device)) == 1  # not acknowledged: delivered again, same id
    command.refresh_from_db()
    assert command.attempts == 2
    command_acknowledge(command_id=command.command_id, device=device)
    command_acknowledge(command_id=command.command_id, device=device)  # a retried ack changes nothing
    assert commands_pending(device=device) == []
    assert DeviceCommandEvent.objects.filter(command=command, to_status="acknowledged").count() == 1


def test_a_repeated_result_changes_nothing_and_handlers_run_once(django_capture_on_commit_callbacks):
    seen = []
    registry.result_handler_register("dispense", seen.append)
    device = DeviceFactory()
    with django_capture_on_commit_callbacks(execute=True):
        command = command_send(device=device, kind="dispense", payload={"slot": "11"}, reference="V2611240001")
        answer_pending(device)
        command_report(command_id=command.command_id, succeeded=False, device=device)
    command.refresh_from_db()
    assert command.status == S.SUCCEEDED
    assert [c.reference for c in seen] == ["V2611240001"]


def test_same_idempotency_key_returns_the_same_command():
    device = DeviceFactory()
    first = command_send(device=device, kind="reboot", idempotency_key="k-1")
    assert command_send(device=device, kind="reboot", idempotency_key="k-1") == first
    assert DeviceCommand.objects.count() == 1


def test_a_command_whose_ttl_passed_while_offline_never_runs_late():
    device = DeviceFactory()
    command = command_send(device=device, kind="open_door", ttl_seconds=30)
    later = timezone.now() + datetime.timedelta(seconds=31)
    assert commands_pending(device=device, now=later) == []
    command.refresh_from_db()
    assert command.status == S.EXPIRED
    # The device comes back and reports anyway: recorded, not applied.
    command_report(command_id=command.command_id, succeeded=True, device=device)
    command.refresh_from_db()
    assert command.status == S.EXPIRED


def test_periodic_expiry_and_cancel():
    device = DeviceFactory()
    old = command_send(device=device, kind="reboot", ttl_seconds=1)
    fresh = command_send(device=device, kind="reboot")
    assert commands_expire(now=timezone.now() + datetime.timedelta(seconds=2)) == 1
    command_cancel(command=fresh, actor=None)
    assert set(DeviceCommand.objects.values_list("status", flat=True)) == {"expired", "cancelled"}
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        command_cancel(command=old, actor=None)


def test_a_failed_door_with_a_fault_code_opens_a_fault():
    device = DeviceFactory()
    command = command_send(device=device, kind="open_door", payload={"slot": "7"})
    answer_pending(device, succeeded=False, result={"fault_code": "LOCK_STUCK", "message": "did not open"})
    command.refresh_from_db()
    assert command.status == S.FAILED
    fault = Fault.objects.get(device=device)
    assert (fault.code, fault.slot, fault.is_open) == ("LOCK_STUCK", "7", True)


@pytest.mark.parametrize(
    "kwargs",
    [{"kind": ""}, {"kind": "x" * 41}, {"kind": "reboot", "payload": [1]}, {"kind": "reboot", "ttl_seconds": 0}],
)
def test_bad_commands_are_refused(kwargs):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        command_send(device=DeviceFactory(), **kwargs)
    assert not DeviceCommand.objects.exists()
