"""The bus driver and gateway against `simulate_cabinet`'s virtual boards over a real pty."""

import threading
import time

import pytest

from gateway import protocol as p
from gateway.bus import Bus, Disconnected, NoReply
from gateway.driver import CabinetGateway
from gateway.simulator import Cabinet
from tests.gateway.recording import RecordingSink


@pytest.fixture
def cabinet(tmp_path):
    with Cabinet(addresses=(1, 2), locks=8, directory=str(tmp_path)) as cabinet:
        yield cabinet


@pytest.fixture
def bus(cabinet):
    bus = Bus(cabinet.port, timeout=0.2, retries=2)
    bus.open()
    yield bus
    bus.close()


def _opens(cabinet, sequence=None):
    return [f for f in cabinet.received if f.command == p.OPEN and (sequence is None or f.sequence == sequence)]


def test_info_and_status(bus):
    assert bus.request(1, p.INFO).data.startswith(b"SIM-BOARD")
    assert bus.request(2, p.STATUS).data[0] == 8


def test_reply_written_one_byte_at_a_time(cabinet, bus):
    cabinet.split_writes = True
    assert bus.request(1, p.STATUS).command == p.STATUS | p.REPLY


def test_garbage_on_the_line_before_a_reply_is_skipped(cabinet, bus):
    cabinet.write_raw(b"\x00\xff" + bytes([p.START, 0x01]) + b"noise")
    assert bus.request(1, p.INFO).data.startswith(b"SIM-BOARD")
    assert bus.stats["bad_frames"] >= 1


def test_bad_crc_is_dropped_and_retried_with_the_same_sequence(cabinet, bus):
    cabinet.corrupt_replies = 1
    reply = bus.request(1, p.OPEN, b"\x02")
    assert reply.data == b"\x02"
    sequences = {f.sequence for f in _opens(cabinet)}
    assert len(_opens(cabinet)) == 2 and len(sequences) == 1
    assert cabinet.boards[1].pulses[2] == 1


def test_lost_reply_retry_gets_the_cached_reply_and_the_lock_pulses_once(cabinet, bus):
    cabinet.drop_replies = 1
    assert bus.request(1, p.OPEN, b"\x05").data == b"\x05"
    assert len(_opens(cabinet)) == 2
    assert cabinet.boards[1].pulses[5] == 1


def test_a_late_reply_is_discarded_never_matched_to_the_next_request(cabinet):
    bus = Bus(cabinet.port, timeout=0.1, retries=0)
    bus.open()
    cabinet.delay_replies, cabinet.delay_count = 0.3, 1
    with pytest.raises(NoReply):
        bus.request(1, p.READ_TEMPERATURE)
    bus.timeout = 1.0  # the next request waits long enough to see the late reply go by
    reply = bus.request(1, p.INFO)
    assert reply.data.startswith(b"SIM-BOARD")
    assert [f.command for f in bus.discarded] == [p.READ_TEMPERATURE | p.REPLY]
    bus.close()


def test_a_duplicated_reply_is_discarded(cabinet, bus):
    cabinet.duplicate_replies = 1
    first = bus.request(1, p.READ_TEMPERATURE)
    second = bus.request(1, p.INFO)
    assert first.command == p.READ_TEMPERATURE | p.REPLY and second.command == p.INFO | p.REPLY
    assert bus.stats["discarded"] == 1


def test_busy_is_retried_with_backoff(cabinet, bus):
    cabinet.busy_replies = 2
    assert bus.request(1, p.OPEN, b"\x01").data == b"\x01"
    assert bus.stats["busy"] == 2
    assert cabinet.boards[1].pulses[1] == 1


def test_an_unknown_board_stays_silent_and_the_request_gives_up(bus):
    with pytest.raises(NoReply):
        bus.request(9, p.INFO)


@pytest.fixture
def gateway(cabinet):
    sink = RecordingSink()
    gateway = CabinetGateway(cabinet.port, [1, 2], sink, timeout=0.2, retries=2)
    gateway.bus.open()
    gateway.cycle(idle=0.01)  # first pass: full status of every board
    sink.statuses.clear()
    yield gateway
    gateway.bus.close()


def test_lock_did_not_open_fails_with_a_fault_and_no_opened_event(cabinet, gateway):
    cabinet.boards[1].stuck.add(3)
    succeeded, result = gateway.open_lock(1, 4)
    gateway.cycle(idle=0.05)
    assert not succeeded and result["fault_code"] == "LOCK_STUCK"
    assert not [e for e in gateway.sink.events if e[1] == "door_opened"]
    assert gateway.locks[1][3]["lock"] == "closed"


def test_an_opened_door_and_its_closing_reach_the_platform(cabinet, gateway):
    assert gateway.open_lock(1, 2) == (True, {"door": 2})
    gateway.cycle(idle=0.05)
    cabinet.boards[1].close_door(1)
    gateway.cycle(idle=0.05)
    assert [(a, kind, data["door"]) for a, kind, data in gateway.sink.events] == [
        (1, "door_opened", 2),
        (1, "door_closed", 2),
    ]
    assert not cabinet.boards[1].events  # acknowledged, so the board forgets them


def test_an_unprompted_event_while_idle(cabinet, gateway):
    cabinet.send_event(2, p.EV_OCCUPIED, 0)
    gateway.bus.pump(0.1)
    assert gateway.sink.events[-1][:2] == (2, "occupied")
    assert gateway.locks[2][0]["occupied"] is True


def test_an_unprompted_event_between_a_request_and_its_reply(cabinet, gateway):
    cabinet.delay_replies, cabinet.delay_count = 0.1, 1
    result = {}
    worker = threading.Thread(target=lambda: result.update(reply=gateway.bus.request(1, p.INFO)))
    worker.start()
    time.sleep(0.03)
    cabinet.send_event(2, p.EV_DOOR_CLOSED, 4)
    worker.join()
    assert result["reply"].data.startswith(b"SIM-BOARD")
    assert (2, "door_closed", {"door": 5, "counter": 1}) in gateway.sink.events


def test_a_gap_in_the_event_counter_resyncs_the_full_status(cabinet, gateway):
    cabinet.send_event(1, p.EV_DOOR_CLOSED, 0)
    gateway.bus.pump(0.05)
    status_requests = len([f for f in cabinet.received if f.command == p.STATUS])
    cabinet.send_event(1, p.EV_DOOR_CLOSED, 1, skip=3)  # three events were lost on the way
    gateway.bus.pump(0.1)
    assert gateway.resyncs == 1
    assert len([f for f in cabinet.received if f.command == p.STATUS]) == status_requests + 1
    assert gateway.sink.statuses  # the full status went to the platform


def test_adapter_unplugged_mid_session_states_become_unknown_then_reconnects(cabinet, gateway):
    gateway.bus.reconnect_timeout = 0.2
    cabinet.unplug()
    with pytest.raises(Disconnected):
        for _ in range(3):
            gateway.bus.request(1, p.INFO)
    address, locks = gateway.sink.statuses[-1]
    assert {state["lock"] for state in locks.values()} == {"unknown"}  # never "closed"
    cabinet.plug_back()
    gateway.bus.reconnect_timeout = 2
    assert gateway.bus.request(1, p.INFO).data.startswith(b"SIM-BOARD")
    assert gateway.bus.stats["reconnects"] >= 1
