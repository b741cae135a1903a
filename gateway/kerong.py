"""The gateway for Kerong KR-CU16 lock boards (`run_gateway --protocol kerong`).

A KR-CU16 has no event queue: the gateway polls each board's status (`0x30`), keeps every lock's
last state, reports the states through the same `Sink` as our own boards, and turns a change
between two polls into a `door_opened` / `door_closed` event. An `open_door` command is an unlock
request (`0x31`) whose status reply must show the lock open, or the command fails with a
LOCK_STUCK fault code. What a set lock-hook bit means is each board's own setting (`hook_bit`,
docs/gateway-protocol.md).

The KR-CU16 has no sequence numbers, so a board cannot recognise a repeated unlock and would
pulse the lock again. When an unlock's reply is lost, the gateway therefore never simply resends
it: it asks for the status (a read, harmless to repeat) and only if that shows the lock still
hooked does it send the unlock again (the request itself was lost). A lock opens once per
command id through a lost reply, unless someone opened and shut the door again within the
status read's timeout (well under a second), which the board gives no way to tell apart.
"""

from __future__ import annotations

import logging
import time

import serial

from gateway import protocol as p
from gateway.bus import LINE_ERRORS, BusError, Disconnected, NoReply
from gateway.driver import UNKNOWN, CommandRunner, Sink

logger = logging.getLogger(__name__)

STATUS_REPLY_SIZE = 9
LOCKS_PER_BOARD = 16


class KerongGateway(CommandRunner):
    def __init__(
        self,
        url: str,
        addresses,
        sink: Sink,
        *,
        hook_bits: dict[int, str] | None = None,
        baudrate: int = 19200,
        timeout: float = 0.3,
        retries: int = 3,
    ):
        self.url, self.baudrate, self.timeout, self.retries = url, baudrate, timeout, retries
        self.addresses = list(addresses)
        for address in self.addresses:
            if not 0 <= address <= 0x0F:
                raise ValueError(f"KR-CU16 board addresses are 0..15, not {address}")
        self.sink = sink
        self.hook_bits = {address: (hook_bits or {}).get(address, p.HOOK_BIT_LOCKED) for address in self.addresses}
        self.locks: dict[int, dict[int, dict]] = {address: {} for address in self.addresses}
        self.port: serial.SerialBase | None = None

    # --- the line -----------------------------------------------------------------------------
    def open(self) -> None:
        if self.port is None:
            self.port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=self.timeout)

    def close(self) -> None:
        if self.port is not None:
            try:
                self.port.close()
            except LINE_ERRORS:
                pass
            self.port = None

    def _request(self, frame: bytes) -> bytes:
        try:
            self.open()
            self.port.reset_input_buffer()  # a late reply to an earlier request is not this one's
            self.port.write(frame)
            reply = self.port.read(STATUS_REPLY_SIZE)
        except LINE_ERRORS as error:
            self._lost()
            raise Disconnected(str(error)) from None
        if len(reply) < STATUS_REPLY_SIZE:
            raise NoReply(f"no KR-CU16 reply to {frame.hex()}")
        return reply

    def _lost(self) -> None:
        """The adapter went away: every lock is unknown until a board answers again."""
        self.close()
        for address in self.addresses:
            self.locks[address] = {index: {"lock": UNKNOWN, "occupied": None} for index in self.locks[address]}
            self.sink.status(address, self._public(address))

    def _status(self, reply: bytes, address: int) -> p.KerongStatus:
        try:
            status = p.kerong_parse_status(reply, hook_bit=self.hook_bits[address])
        except p.DecodeError as error:
            raise NoReply(f"board {address}: {error.reason}") from None
        if status.board != address:
            raise NoReply(f"board {status.board} answered for board {address}")
        return status

    # --- state --------------------------------------------------------------------------------
    def _public(self, address: int) -> dict:
        return {str(index + 1): state for index, state in sorted(self.locks[address].items())}

    def _apply(self, address: int, status: p.KerongStatus) -> None:
        before = self.locks[address]
        after = {
            index: {
                "lock": "open" if index in status.locks_open else "closed",
                "occupied": index in status.occupied,
            }
            for index in range(LOCKS_PER_BOARD)
        }
        self.locks[address] = after
        for index, state in after.items():
            previous = before.get(index, {}).get("lock")
            if previous in ("open", "closed") and previous != state["lock"]:
                kind = "door_opened" if state["lock"] == "open" else "door_closed"
                self.sink.event(address, kind, {"door": index + 1})
        if after != before:
            self.sink.status(address, self._public(address))

    def _read_status(self, address: int) -> p.KerongStatus:
        """The board's status; a status request is a read, so it is retried freely."""
        frame = p.kerong_request(board=address, lock=0, command=p.KERONG_STATUS)
        for attempt in range(self.retries + 1):
            try:
                return self._status(self._request(frame), address)
            except NoReply:
                if attempt == self.retries:
                    raise
        raise NoReply(f"board {address} did not answer")  # pragma: no cover - the loop returns or raises

    def poll(self, address: int) -> dict:
        self._apply(address, self._read_status(address))
        return self.locks[address]

    # --- commands -----------------------------------------------------------------------------
    def open_lock(self, address: int, door: int) -> tuple[bool, dict]:
        if not 1 <= door <= LOCKS_PER_BOARD:
            return False, {"error": "no such door"}
        unlock = p.kerong_request(board=address, lock=door - 1, command=p.KERONG_UNLOCK)
        status = None
        for attempt in range(self.retries + 1):
            try:
                status = self._status(self._request(unlock), address)
                break
            except NoReply:
                # Did the unlock arrive? Ask, never pulse blindly: the board cannot tell a retry.
                status = self._read_status(address)
                if door - 1 in status.locks_open or attempt == self.retries:
                    break
                logger.info("KR-CU16 board %s: lock %s still hooked after a lost reply; unlocking again", address, door)
        before = self.locks[address].get(door - 1, {}).get("lock")
        self._apply(address, status)
        if door - 1 not in status.locks_open:
            return False, {"fault_code": "LOCK_STUCK", "message": f"door {door} did not open"}
        if before not in ("open", "closed"):  # not known before (a first cycle): _apply saw no change
            self.sink.event(address, "door_opened", {"door": door})
        return True, {"door": door}

    def execute(self, address: int, command: dict) -> tuple[bool, dict]:
        kind, payload = command.get("kind"), command.get("payload") or {}
        try:
            if kind in ("open_door", "dispense", "eject"):
                return self.open_lock(address, int(payload.get("door") or payload.get("slot") or 0))
            if kind == "status":
                return True, {"locks": self._public(address) if self.poll(address) is not None else {}}
        except (ValueError, TypeError):
            return False, {"error": "bad payload"}
        return False, {"error": f"unsupported command {kind}"}

    # --- the loop -----------------------------------------------------------------------------
    def cycle(self, idle: float = 0.05) -> None:
        """One pass: each board's commands, then its status. Line trouble is logged; the next
        cycle tries again."""
        for address in self.addresses:
            try:
                self.run_commands(address)
                self.poll(address)
            except BusError as error:
                logger.warning("KR-CU16 board %s: %s", address, error)
        time.sleep(idle)
