"""The cabinet gateway: turns bus traffic into platform events and platform commands into bus
requests.

Each board address on the bus is one platform device (a locker bank or a vending cabinet). The
gateway keeps every lock's last known state — `open`, `closed` or `unknown` (after the adapter
was unplugged, never guessed `closed`) — follows each board's event counter and resyncs the full
status when it sees a gap, and reports through a `Sink`: `LocalSink` calls the devices services in
this process, `gateway.forward.EdgeSink` queues for a remote platform's device API.
"""

from __future__ import annotations

import logging
import struct

from gateway import protocol as p
from gateway.bus import BoardError, Bus, BusError

logger = logging.getLogger(__name__)

EVENT_KINDS = {
    p.EV_DOOR_OPENED: "door_opened",
    p.EV_DOOR_CLOSED: "door_closed",
    p.EV_OCCUPIED: "occupied",
    p.EV_EMPTIED: "emptied",
}
UNKNOWN = "unknown"


class Sink:
    """Where the gateway reports. Implementations must not raise for the platform being away."""

    def event(self, address: int, kind: str, data: dict) -> None:
        raise NotImplementedError

    def status(self, address: int, locks: dict) -> None:
        raise NotImplementedError

    def pending_commands(self, address: int) -> list[dict]:
        return []

    def command_acknowledged(self, address: int, command: dict) -> bool:
        return True

    def command_finished(self, address: int, command: dict, succeeded: bool, result: dict) -> None:
        pass

    def code_entered(self, address: int, code: str) -> None:
        """A pickup code typed or scanned at the bank; it must never be stored or queued."""


class CommandRunner:
    """Runs a board's pending commands through `execute()`, each acknowledged first (so an
    expired or already-taken command is never run late) and reported once. Shared by the
    gateways of both protocols."""

    sink: Sink

    def execute(self, address: int, command: dict) -> tuple[bool, dict]:
        raise NotImplementedError

    def run_commands(self, address: int) -> int:
        done = 0
        for command in self.sink.pending_commands(address):
            if not self.sink.command_acknowledged(address, command):
                continue  # expired or taken elsewhere: never run late
            try:
                succeeded, result = self.execute(address, command)
            except BusError as error:
                succeeded, result = False, {"error": str(error)}
            self.sink.command_finished(address, command, succeeded, result)
            done += 1
        return done


class CabinetGateway(CommandRunner):
    def __init__(self, url: str, addresses, sink: Sink, **bus_options):
        self.sink = sink
        self.addresses = list(addresses)
        self.locks: dict[int, dict[int, dict]] = {address: {} for address in self.addresses}
        self.last_counter: dict[int, int | None] = {address: None for address in self.addresses}
        self.bus = Bus(url, on_event=self._on_event_frame, on_disconnect=self._on_disconnect, **bus_options)
        self.resyncs = 0

    def close(self) -> None:
        self.bus.close()

    # --- state ------------------------------------------------------------------------------
    def _on_disconnect(self) -> None:
        for address in self.addresses:
            self.locks[address] = {
                index: {"lock": UNKNOWN, "door": UNKNOWN, "occupied": None}
                for index in self.locks[address] or range(16)
            }
            self.last_counter[address] = None
            self.sink.status(address, self._public(address))

    def _public(self, address: int) -> dict:
        return {str(index + 1): state for index, state in sorted(self.locks[address].items())}

    def sync_status(self, address: int) -> dict:
        reply = self.bus.request(address, p.STATUS)
        count = reply.data[0] if reply.data else 0
        self.locks[address] = {
            index: {
                "lock": "open" if bits & p.LOCK_OPEN else "closed",
                "door": "open" if bits & p.DOOR_OPEN else "closed",
                "occupied": bool(bits & p.OCCUPIED),
            }
            for index, bits in enumerate(reply.data[1 : 1 + count])
        }
        self.sink.status(address, self._public(address))
        return self.locks[address]

    # --- events -----------------------------------------------------------------------------
    def _on_event_frame(self, frame: p.Frame) -> None:
        if frame.command == p.KEYPAD:
            if frame.address in self.locks and frame.data.isdigit():
                self.sink.code_entered(frame.address, frame.data.decode("ascii"))
            else:
                logger.info("Ignored keypad input from board %s", frame.address)
            return
        if frame.command == p.ASSET_IN:
            tag = frame.data[1:].decode("ascii", errors="replace").strip()
            if frame.address in self.locks and frame.data and tag:
                self.sink.event(frame.address, "asset_returned", {"asset": tag, "slot": str(frame.data[0] + 1)})
            else:
                logger.info("Ignored an asset frame without a tag from board %s", frame.address)
            return
        if frame.address not in self.locks or len(frame.data) != 4:
            logger.info("Ignored an event from an unknown board or of a bad size: %r", frame)
            return
        counter, kind, index = struct.unpack("<HBB", frame.data)
        self._handle_event(frame.address, counter, kind, index)

    def _handle_event(self, address: int, counter: int, kind: int, index: int) -> None:
        last = self.last_counter[address]
        if last is not None and counter <= last and last - counter < 0x8000:
            return  # already seen (a repeated event or one read again from the queue)
        gap = last is not None and counter != (last + 1) & 0xFFFF
        self.last_counter[address] = counter
        name = EVENT_KINDS.get(kind, f"event_{kind}")
        state = self.locks[address].setdefault(index, {"lock": UNKNOWN, "door": UNKNOWN, "occupied": None})
        if kind == p.EV_DOOR_OPENED:
            state.update(lock="open", door="open")
        elif kind == p.EV_DOOR_CLOSED:
            state.update(lock="closed", door="closed")
        elif kind in (p.EV_OCCUPIED, p.EV_EMPTIED):
            state["occupied"] = kind == p.EV_OCCUPIED
        self.sink.event(address, name, {"door": index + 1, "counter": counter})
        if gap:
            logger.warning("Board %s event counter jumped from %s to %s: resyncing its status", address, last, counter)
            self.resyncs += 1
            try:
                self.sync_status(address)
            except BusError as error:
                logger.warning("Resync of board %s failed: %s", address, error)

    def read_events(self, address: int) -> int:
        """Read the board's queued events, handle the new ones, acknowledge them."""
        reply = self.bus.request(address, p.READ_EVENTS)
        events = [struct.unpack("<HBB", reply.data[i : i + 4]) for i in range(0, len(reply.data) - 3, 4)]
        for counter, kind, index in events:
            self._handle_event(address, counter, kind, index)
        if events:
            self.bus.request(address, p.ACK_EVENTS, struct.pack("<H", events[-1][0]))
        return len(events)

    # --- commands ---------------------------------------------------------------------------
    def open_lock(self, address: int, door: int) -> tuple[bool, dict]:
        """Open door `door` (1-based). A lock that does not open is a failure with a fault code,
        and no "opened" event is produced for it."""
        try:
            self.bus.request(address, p.OPEN, bytes([door - 1]))
        except BoardError as error:
            if error.code == p.LOCK_FAILED:
                return False, {"fault_code": "LOCK_STUCK", "message": f"door {door} did not open"}
            return False, {"error": f"board error 0x{error.code:02x}"}
        state = self.locks[address].setdefault(door - 1, {})
        state.update(lock="open", door="open")
        return True, {"door": door}

    def execute(self, address: int, command: dict) -> tuple[bool, dict]:
        kind, payload = command.get("kind"), command.get("payload") or {}
        try:
            if kind in ("open_door", "dispense", "eject"):
                door = int(payload.get("door") or payload.get("slot") or 0)
                if not 1 <= door <= 255:
                    return False, {"error": "no such door"}
                return self.open_lock(address, door)
            if kind == "set_temperature":
                tenths = round(float(payload.get("temperature")) * 10)
                self.bus.request(address, p.SET_TEMPERATURE, struct.pack("<h", tenths))
                return True, {"temperature": tenths / 10}
            if kind == "reboot":
                self.bus.request(address, p.REBOOT)
                return True, {}
            if kind == "status":
                return True, {"locks": self._public(address) if self.sync_status(address) is not None else {}}
        except (ValueError, TypeError):
            return False, {"error": "bad payload"}
        return False, {"error": f"unsupported command {kind}"}

    # --- the loop ---------------------------------------------------------------------------
    def cycle(self, idle: float = 0.05) -> None:
        """One pass: listen for unprompted events, run commands, drain each board's event queue.
        Bus trouble is logged and the next cycle tries again; it never ends the gateway."""
        try:
            self.bus.pump(idle)
        except BusError as error:
            logger.warning("Bus %s: %s", self.bus.url, error)
            return
        for address in self.addresses:
            try:
                if self.last_counter[address] is None:
                    self.sync_status(address)
                    self.last_counter[address] = self.last_counter[address] or 0
                self.run_commands(address)
                self.read_events(address)
            except BusError as error:
                logger.warning("Board %s: %s", address, error)
