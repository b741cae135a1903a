"""Kerong KR-CU16 boards through the gateway over a real pty: the lock-hook bit's polarity is a
per-board setting whose default ("a set bit is a locked lock") is what most public drivers of
this board read (docs/gateway-protocol.md)."""

import pytest
from django.core.management import CommandError, call_command

from devices.models import DeviceCommand, DeviceEvent, Telemetry
from devices.services import command_send
from gateway import protocol as p
from gateway.kerong import KerongGateway
from gateway.models import LockBoard
from gateway.simulator import KerongCabinet
from gateway.sinks import LocalSink
from tests.factories import DeviceFactory


def locks_reported(device) -> dict:
    return Telemetry.objects.filter(device=device, data__has_key="locks").latest("pk").data["locks"]


def open_locks(device) -> set[int]:
    return {int(n) for n, state in locks_reported(device).items() if state["lock"] == "open"}


def test_a_status_reply_from_the_board_reads_a_set_bit_as_locked_by_default():
    # Board 0, locks 2-16 hooked (bits set), lock 1 open (bit clear); lock 1 occupied.
    head = bytes([0x02, 0x00, 0x35, 0xFE, 0xFF, 0x01, 0x00, 0x03])
    reply = head + bytes([sum(head) & 0xFF])
    assert p.kerong_parse_status(reply).locks_open == frozenset({0})
    assert p.kerong_parse_status(reply, hook_bit="open").locks_open == frozenset(range(1, 16))
    with pytest.raises(ValueError):
        p.kerong_parse_status(reply, hook_bit="sideways")


@pytest.mark.django_db(transaction=True)  # the command closes stale connections between cycles
def test_run_gateway_reads_a_default_board_with_set_bits_as_locked(tmp_path):
    device = DeviceFactory(kind="locker", serial_number="KR-DEFAULT-1")
    with KerongCabinet(addresses=(0,), directory=str(tmp_path)) as cabinet:  # wired as most boards are
        cabinet.open_locks[0] = {2}  # lock 3 stands open, the other 15 are locked
        cabinet.occupied[0] = {5}
        call_command(
            "run_gateway", "--protocol", "kerong", "--port", cabinet.port, "--board", "0=KR-DEFAULT-1",
            "--cycles", "1", "--interval", "0.01",
        )  # fmt: skip
    assert open_locks(device) == {3}  # read as 1 = open, this was {1..16} - {3}
    assert locks_reported(device)["6"]["occupied"] is True
    assert cabinet.requests[0] == bytes([0x02, 0x00, 0x30, 0x03, 0x35])


@pytest.mark.django_db(transaction=True)
def test_the_polarity_is_a_per_board_setting_and_an_open_command_is_checked_against_it(tmp_path):
    default = DeviceFactory(kind="locker", serial_number="KR-BANK-0")
    inverted = DeviceFactory(kind="locker", serial_number="KR-BANK-1")
    LockBoard.objects.create(device=inverted, hook_bit=LockBoard.HookBit.OPEN)  # this board's firmware
    wiring = {0: p.HOOK_BIT_LOCKED, 1: p.HOOK_BIT_OPEN}  # two boards on one line, wired differently
    with KerongCabinet(addresses=(0, 1), directory=str(tmp_path), hook_bit=wiring) as cabinet:
        cabinet.open_locks[0], cabinet.open_locks[1] = {0}, {1}
        command = command_send(device=inverted, kind="open_door", payload={"door": 4})
        call_command(
            "run_gateway", "--protocol", "kerong", "--port", cabinet.port,
            "--board", "0=KR-BANK-0", "--board", "1=KR-BANK-1", "--cycles", "2", "--interval", "0.01",
        )  # fmt: skip
    assert open_locks(default) == {1}
    assert open_locks(inverted) == {2, 4}
    command.refresh_from_db()
    assert command.status == DeviceCommand.Status.SUCCEEDED  # the reply shows lock 4 open, read right
    assert cabinet.requests.count(bytes([0x02, 0x13, 0x31, 0x03, 0x49])) == 1  # board 1, lock 4, once


@pytest.mark.django_db
def test_doors_closing_between_polls_are_events_and_a_stuck_lock_fails(tmp_path):
    device = DeviceFactory(kind="locker")
    with KerongCabinet(addresses=(3,), directory=str(tmp_path)) as cabinet:
        cabinet.open_locks[3] = {0, 7}
        cabinet.stuck[3] = {9}
        gateway = KerongGateway(cabinet.port, [3], LocalSink({3: device}), timeout=0.3)
        try:
            gateway.cycle(idle=0)
            cabinet.close_lock(3, 7)
            stuck = command_send(device=device, kind="open_door", payload={"door": 10})
            gateway.cycle(idle=0)
        finally:
            gateway.close()
    assert {i + 1 for i, state in gateway.locks[3].items() if state["lock"] == "open"} == {1}
    assert DeviceEvent.objects.filter(device=device, kind="door_closed", data__door=8).count() == 1
    assert not DeviceEvent.objects.filter(device=device, kind="door_opened").exists()
    stuck.refresh_from_db()
    assert stuck.status == DeviceCommand.Status.FAILED


@pytest.mark.django_db
def test_run_gateway_checks_its_kerong_options(tmp_path):
    DeviceFactory(kind="locker", serial_number="KR-OPT-1")
    port = str(tmp_path / "nothing")
    with pytest.raises(CommandError, match="address from 0 to 15"):
        call_command("run_gateway", "--protocol", "kerong", "--port", port, "--board", "16=KR-OPT-1")
    with pytest.raises(CommandError, match="locked or open"):
        call_command("run_gateway", "--protocol", "kerong", "--port", port, "--board", "0=KR-OPT-1", "--hook-bit", "1")
    with pytest.raises(CommandError, match="locked or open"):
        call_command(
            "run_gateway", "--protocol", "kerong", "--port", port, "--board", "0=KR-OPT-1", "--hook-bit", "5=open"
        )
    with pytest.raises(CommandError, match="for Kerong boards"):
        call_command("run_gateway", "--port", port, "--board", "1=KR-OPT-1", "--hook-bit", "open")
