"""The gateway's behaviour over a real pty, for both protocols it speaks: our framed protocol
(`Cabinet`) and Kerong KR-CU16 (`KerongCabinet`, which has no sequence numbers on the wire).
The last test runs the two management commands against each other as an operator would."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from devices.models import DeviceCommand, DeviceEvent
from devices.services import command_send
from gateway.driver import CabinetGateway
from gateway.kerong import KerongGateway
from gateway.simulator import Cabinet, KerongCabinet
from tests.factories import DeviceFactory
from tests.gateway.recording import RecordingSink

ROOT = Path(__file__).resolve().parents[2]
ADDRESS = {"frame": 1, "kerong": 0}


class Rig:
    """One simulated board and a gateway driving it, whatever the protocol."""

    def __init__(self, protocol: str, directory: str):
        self.protocol, self.address = protocol, ADDRESS[protocol]
        self.sink = RecordingSink()
        if protocol == "kerong":
            self.cabinet = KerongCabinet(addresses=(self.address,), directory=directory).start()
            self.gateway = KerongGateway(self.cabinet.port, [self.address], self.sink, timeout=0.2, retries=2)
        else:
            self.cabinet = Cabinet(addresses=(self.address,), locks=16, directory=directory).start()
            self.gateway = CabinetGateway(self.cabinet.port, [self.address], self.sink, timeout=0.2, retries=2)

    def pulses(self, door: int) -> int:
        if self.protocol == "kerong":
            return self.cabinet.pulses[self.address][door - 1]
        return self.cabinet.boards[self.address].pulses[door - 1]

    def push_shut(self, door: int) -> None:
        if self.protocol == "kerong":
            self.cabinet.close_lock(self.address, door - 1)
        else:
            self.cabinet.boards[self.address].close_door(door - 1)

    def make_stuck(self, door: int) -> None:
        stuck = (
            self.cabinet.stuck if self.protocol == "kerong" else {self.address: self.cabinet.boards[self.address].stuck}
        )
        stuck[self.address].add(door - 1)

    def send(self, door: int) -> None:
        self.sink.commands[self.address] = [{"id": f"cmd-{door}", "kind": "open_door", "payload": {"door": door}}]

    def events(self) -> list[tuple[str, int]]:
        return [(kind, data.get("door")) for _a, kind, data in self.sink.events if kind.startswith("door_")]

    def close(self) -> None:
        self.gateway.close()
        self.cabinet.stop()


@pytest.fixture(params=["frame", "kerong"])
def rig(request, tmp_path):
    rig = Rig(request.param, str(tmp_path))
    rig.gateway.cycle(idle=0.01)  # the first pass learns every lock's state
    yield rig
    rig.close()


def test_a_lock_opens_exactly_once_through_a_lost_reply(rig):
    rig.cabinet.drop_unlock_replies = 1
    rig.send(5)
    rig.gateway.cycle(idle=0.01)
    rig.gateway.cycle(idle=0.01)
    (_address, _command, succeeded, result) = rig.sink.finished[-1]
    assert succeeded, result
    assert rig.pulses(5) == 1
    assert rig.events() == [("door_opened", 5)]


def test_a_door_pushed_shut_is_reported(rig):
    rig.send(2)
    rig.gateway.cycle(idle=0.01)
    rig.gateway.cycle(idle=0.01)
    rig.push_shut(2)
    rig.gateway.cycle(idle=0.05)
    rig.gateway.cycle(idle=0.01)
    assert rig.events() == [("door_opened", 2), ("door_closed", 2)]


def test_a_stuck_lock_fails_with_a_fault_and_no_opened_event(rig):
    rig.make_stuck(4)
    rig.send(4)
    rig.gateway.cycle(idle=0.01)
    rig.gateway.cycle(idle=0.01)
    (_address, _command, succeeded, result) = rig.sink.finished[-1]
    assert not succeeded and result["fault_code"] == "LOCK_STUCK"
    assert rig.events() == []


def test_kerong_an_unlock_lost_on_the_way_is_sent_again_once(tmp_path):
    rig = Rig("kerong", str(tmp_path))
    try:
        rig.gateway.cycle(idle=0.01)
        rig.cabinet.lost_requests = 1  # the unlock itself never reaches the board
        assert rig.gateway.open_lock(0, 7) == (True, {"door": 7})
        assert rig.pulses(7) == 1
        unlocks = [r for r in rig.cabinet.requests if r[2] == 0x31]
        assert len(unlocks) == 1  # the first was lost; a status read showed it hooked; sent again
    finally:
        rig.close()


def _simulate(protocol: str, directory: Path, *options: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "simulate_cabinet", "--protocol", protocol, "--directory", str(directory),
         "--boards", str(ADDRESS[protocol]), *options],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = process.stdout.readline()
    if " on " not in line:
        process.kill()
        raise AssertionError(f"simulate_cabinet did not start: {line!r} {process.stderr.read()}")
    return process, line.rsplit(" on ", 1)[1].strip()


@pytest.mark.parametrize("protocol", ["frame", "kerong"])
@pytest.mark.django_db(transaction=True)  # run_gateway closes stale connections between cycles
def test_run_gateway_against_simulate_cabinet_opens_once_through_a_lost_reply_and_reports_doors(protocol, tmp_path):
    device = DeviceFactory(kind="locker", serial_number=f"SIM-{protocol}")
    simulator, port = _simulate(protocol, tmp_path, "--drop-unlock-replies", "1", "--auto-close", "1.5")
    try:
        command = command_send(device=device, kind="open_door", payload={"door": 4})
        call_command(
            "run_gateway", "--protocol", protocol, "--port", port, "--board", f"{ADDRESS[protocol]}={device.serial_number}",
            "--cycles", "30", "--interval", "0.1",
        )  # fmt: skip
    finally:
        simulator.send_signal(signal.SIGINT)
        try:
            output, _errors = simulator.communicate(timeout=120)  # an upper bound: it exits at once when idle
        except subprocess.TimeoutExpired:
            simulator.kill()  # never left running after the test
            raise
    command.refresh_from_db()
    assert command.status == DeviceCommand.Status.SUCCEEDED, command.result
    assert f"Pulses board {ADDRESS[protocol]} lock 4: 1" in output.splitlines()  # opened once, not twice
    kinds = list(
        DeviceEvent.objects.filter(device=device, kind__startswith="door_")
        .order_by("pk")
        .values_list("kind", "data__door")
    )
    assert kinds == [("door_opened", 4), ("door_closed", 4)]


def test_simulate_cabinet_checks_its_options():
    with pytest.raises(CommandError, match="0-15"):
        call_command("simulate_cabinet", "--protocol", "kerong", "--boards", "16")
    with pytest.raises(CommandError, match="16 locks"):
        call_command("simulate_cabinet", "--protocol", "kerong", "--locks", "8")
    with pytest.raises(CommandError, match="for Kerong boards"):
        call_command("simulate_cabinet", "--lose", "1")
    with pytest.raises(CommandError, match="No lock 0:17"):
        call_command("simulate_cabinet", "--protocol", "kerong", "--stuck", "0:17")
