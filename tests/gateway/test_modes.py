"""The gateway in local mode (devices services in-process) and edge mode (device API over HTTP
with a store-and-forward queue)."""

import datetime

import pytest
from django.utils import timezone

from devices.models import DeviceCommand, DeviceEvent, Fault, Telemetry
from devices.services import command_send, device_pair
from gateway import protocol as p
from gateway.driver import CabinetGateway
from gateway.forward import EdgeSink, HttpTransport, Outbox
from gateway.simulator import Cabinet
from gateway.sinks import LocalSink
from tests.asgi_server import free_port, serve
from tests.factories import DeviceFactory


@pytest.fixture
def cabinet(tmp_path):
    with Cabinet(addresses=(1,), locks=8, directory=str(tmp_path)) as cabinet:
        yield cabinet


@pytest.fixture
def local(cabinet, db):
    device = DeviceFactory(kind="locker")
    gateway = CabinetGateway(cabinet.port, [1], LocalSink({1: device}), timeout=0.2, retries=2)
    gateway.bus.open()
    yield device, gateway
    gateway.bus.close()


def test_local_mode_runs_a_door_command_once_and_reports_the_result(cabinet, local):
    device, gateway = local
    command = command_send(device=device, kind="open_door", payload={"door": 3})
    gateway.cycle(idle=0.02)
    gateway.cycle(idle=0.05)
    command.refresh_from_db()
    assert command.status == DeviceCommand.Status.SUCCEEDED
    assert cabinet.boards[1].pulses[2] == 1
    assert DeviceEvent.objects.filter(device=device, kind="door_opened", data__door=3).count() == 1
    assert Telemetry.objects.filter(device=device, data__has_key="locks").exists()


def test_local_mode_stuck_lock_fails_the_command_and_raises_a_fault(cabinet, local):
    device, gateway = local
    cabinet.boards[1].stuck.add(0)
    command = command_send(device=device, kind="open_door", payload={"door": 1})
    gateway.cycle(idle=0.02)
    command.refresh_from_db()
    assert command.status == DeviceCommand.Status.FAILED
    assert Fault.objects.get(device=device).code == "LOCK_STUCK"
    assert not DeviceEvent.objects.filter(device=device, kind="door_opened").exists()


def test_a_command_whose_ttl_expired_while_the_board_was_offline_never_runs(cabinet, local):
    device, gateway = local
    command = command_send(device=device, kind="open_door", payload={"door": 2}, ttl_seconds=30)
    cabinet.unplug()
    gateway.bus.reconnect_timeout = 0.1
    gateway.cycle(idle=0.01)  # the bus is gone: nothing delivered
    DeviceCommand.objects.filter(pk=command.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    cabinet.plug_back()
    gateway.bus.reconnect_timeout = 2
    gateway.cycle(idle=0.02)
    command.refresh_from_db()
    assert command.status == DeviceCommand.Status.EXPIRED
    assert cabinet.boards[1].pulses[1] == 0
    assert not [f for f in cabinet.received if f.command == p.OPEN]


@pytest.mark.django_db(transaction=True)
def test_edge_mode_queues_while_the_platform_is_down_and_delivers_every_event_once(tmp_path):
    device = DeviceFactory(kind="locker")
    _device, token = device_pair(serial_number=device.serial_number)
    port = free_port()
    outbox = Outbox(str(tmp_path / "outbox.sqlite3"))
    transport = HttpTransport(f"http://127.0.0.1:{port}", timeout=10)
    sink = EdgeSink(outbox=outbox, transport=transport, tokens={1: token})
    for index in range(500):
        sink.event(1, "door_closed", {"door": index % 8 + 1, "n": index})
    assert outbox.deliver(transport) == 0  # the platform is stopped
    assert len(outbox) == 500

    with serve(port):
        # One delivery whose answer is lost: the platform stored it, the box sends it again.
        first_id = outbox._connect().execute("SELECT MIN(id) FROM outbox").fetchone()[0]
        _token, path, body = (
            outbox._connect().execute("SELECT token, path, body FROM outbox WHERE id = ?", (first_id,)).fetchone()
        )
        import json

        status, _answer = transport.call("POST", path, token, json.loads(body))
        assert status == 201
        # A box keeps delivering while entries wait (a slow answer on a loaded machine counts as
        # unreachable and is simply sent again later); the platform stores each event once.
        delivered = 0
        for _attempt in range(5):
            delivered += outbox.deliver(transport)
            if not len(outbox):
                break
        assert delivered == 500
    assert len(outbox) == 0
    numbers = sorted(DeviceEvent.objects.filter(device=device, kind="door_closed").values_list("data__n", flat=True))
    assert numbers == list(range(500))
    assert outbox.dead_letters() == []


@pytest.mark.django_db(transaction=True)
def test_edge_mode_refused_entries_go_to_dead_letters_without_blocking(tmp_path):
    device = DeviceFactory(kind="locker")
    _device, token = device_pair(serial_number=device.serial_number)
    outbox = Outbox(str(tmp_path / "outbox.sqlite3"))
    outbox.put(token=token, path="/api/v1/device/events/", body={"kind": "NOT A KIND"})
    outbox.put(token=token, path="/api/v1/device/events/", body={"kind": "door_closed"})
    with serve() as url:
        assert outbox.deliver(HttpTransport(url)) == 1
    assert [(path, status) for path, status, _r in outbox.dead_letters()] == [("/api/v1/device/events/", 400)]
    assert DeviceEvent.objects.filter(device=device, kind="door_closed").count() == 1


@pytest.mark.django_db(transaction=True)  # the command closes stale connections between cycles
def test_run_gateway_command_validates_its_arguments_and_runs_cycles(cabinet):
    from django.core.management import CommandError, call_command

    device = DeviceFactory(kind="locker", serial_number="LK-CMD-1")
    with pytest.raises(CommandError):
        call_command("run_gateway", "--port", cabinet.port)
    with pytest.raises(CommandError):
        call_command("run_gateway", "--port", cabinet.port, "--board", "x=LK-CMD-1")
    with pytest.raises(CommandError):
        call_command("run_gateway", "--port", cabinet.port, "--board", "1=NOPE")
    command = command_send(device=device, kind="open_door", payload={"door": 1})
    call_command("run_gateway", "--port", cabinet.port, "--board", "1=LK-CMD-1", "--cycles", "2", "--interval", "0.02")
    command.refresh_from_db()
    assert command.status == DeviceCommand.Status.SUCCEEDED
