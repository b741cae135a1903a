"""Virtual cabinet boards on a real pty (or any file descriptor), for tests, demos and `make run`.

A `Cabinet` owns the master side of a pty and answers frames the gateway writes to the slave side
like a chain of real boards would: each board keeps its last reply per sequence number, so a
retried command gets the cached reply and the lock is pulsed once. Switches make it misbehave the
way real buses do: drop or corrupt replies, reply late, answer BUSY, a stuck lock, unplugging.
"""

from __future__ import annotations

import logging
import os
import pty
import select
import struct
import tempfile
import threading
import time
import tty
from collections import Counter, deque
from dataclasses import dataclass, field

from gateway import protocol as p

logger = logging.getLogger(__name__)


@dataclass
class Board:
    address: int
    locks: int = 16
    temperature: float = 4.0
    lock_open: set[int] = field(default_factory=set)
    door_open: set[int] = field(default_factory=set)
    occupied: set[int] = field(default_factory=set)
    stuck: set[int] = field(default_factory=set)
    pulses: Counter = field(default_factory=Counter)
    events: deque = field(default_factory=deque)  # (counter, type, index)
    event_counter: int = 0
    replies: dict[int, p.Frame] = field(default_factory=dict)

    def queue_event(self, kind: int, index: int, *, skip: int = 0) -> tuple[int, int, int]:
        self.event_counter = (self.event_counter + 1 + skip) & 0xFFFF
        event = (self.event_counter, kind, index)
        self.events.append(event)
        return event

    def status_bytes(self) -> bytes:
        return bytes(
            [self.locks]
            + [
                (p.LOCK_OPEN if i in self.lock_open else 0)
                | (p.DOOR_OPEN if i in self.door_open else 0)
                | (p.OCCUPIED if i in self.occupied else 0)
                for i in range(self.locks)
            ]
        )

    def handle(self, frame: p.Frame) -> p.Frame:
        cached = self.replies.get(frame.sequence)
        if cached is not None and cached.command & 0x7F == frame.command:
            return cached  # a retry: same answer, no second pulse
        reply = self._execute(frame)
        if not (reply.command == p.ERROR and reply.data[:1] == bytes([p.BUSY])):
            self.replies[frame.sequence] = reply
        return reply

    def _open(self, index: int) -> bool:
        if not 0 <= index < self.locks:
            return False
        self.pulses[index] += 1
        if index in self.stuck:
            return False
        self.lock_open.add(index)
        self.door_open.add(index)
        self.queue_event(p.EV_DOOR_OPENED, index)
        return True

    def _execute(self, frame: p.Frame) -> p.Frame:
        command, data = frame.command, frame.data
        if command == p.INFO:
            return frame.reply(b"SIM-BOARD v1\x00" + bytes([self.locks]))
        if command == p.STATUS:
            return frame.reply(self.status_bytes())
        if command == p.OPEN:
            if len(data) != 1 or not 0 <= data[0] < self.locks:
                return frame.reply(error=p.BAD_ARGUMENT)
            return frame.reply(bytes([data[0]])) if self._open(data[0]) else frame.reply(error=p.LOCK_FAILED)
        if command == p.OPEN_MANY:
            mask = int.from_bytes(data, "little") if data else 0
            failed = [i for i in range(self.locks) if mask >> i & 1 and not self._open(i)]
            return frame.reply(bytes(failed)) if not failed else frame.reply(error=p.LOCK_FAILED)
        if command == p.LED:
            return frame.reply(data[:2])
        if command == p.READ_EVENTS:
            body = b"".join(struct.pack("<HBB", *event) for event in list(self.events)[:20])
            return frame.reply(body)
        if command == p.ACK_EVENTS:
            if len(data) != 2:
                return frame.reply(error=p.BAD_ARGUMENT)
            upto = struct.unpack("<H", data)[0]
            while self.events and self.events[0][0] <= upto:
                self.events.popleft()
            return frame.reply(data)
        if command == p.READ_TEMPERATURE:
            return frame.reply(struct.pack("<h", round(self.temperature * 10)))
        if command == p.SET_TEMPERATURE:
            if len(data) != 2:
                return frame.reply(error=p.BAD_ARGUMENT)
            self.temperature = struct.unpack("<h", data)[0] / 10
            return frame.reply(data)
        if command == p.REBOOT:
            return frame.reply()
        return frame.reply(error=p.UNKNOWN_COMMAND)

    def close_door(self, index: int) -> None:
        self.lock_open.discard(index)
        self.door_open.discard(index)
        self.queue_event(p.EV_DOOR_CLOSED, index)


class Cabinet:
    """A chain of boards behind one pty. `port` is a stable path (a symlink) the gateway opens,
    so unplugging and plugging back behaves like a USB adapter reappearing at the same name."""

    def __init__(self, addresses=(1,), locks: int = 16, directory: str | None = None):
        self.boards = {address: Board(address=address, locks=locks) for address in addresses}
        self.directory = directory or tempfile.mkdtemp(prefix="cabinet-")
        self.port = os.path.join(self.directory, "ttyCABINET")
        self.drop_replies = 0  # swallow the next N replies
        self.corrupt_replies = 0  # flip a byte in the next N replies
        self.delay_replies = 0.0  # seconds before each reply
        self.delay_count = 0  # how many replies are delayed
        self.busy_replies = 0  # answer BUSY to the next N requests
        self.duplicate_replies = 0  # send the next N replies twice
        self.split_writes = False  # write replies one byte at a time
        self.drop_unlock_replies = 0  # swallow the replies to the next N lock-opening requests
        self.auto_close = 0.0  # seconds after which an opened door is pushed shut again (0 = never)
        self._opened_at: dict[tuple[int, int], float] = {}
        self.received: list[p.Frame] = []
        self._master: int | None = None
        self._slave: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.decoder = p.FrameDecoder()

    # --- wiring ---------------------------------------------------------------------------
    def _plug(self) -> None:
        master, slave = pty.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        self._master, self._slave = master, slave
        temporary = self.port + ".new"
        if os.path.lexists(temporary):
            os.unlink(temporary)
        os.symlink(os.ttyname(slave), temporary)
        os.replace(temporary, self.port)

    def start(self) -> Cabinet:
        self._plug()
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="cabinet-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self._close()

    def _close(self) -> None:
        for fd in (self._master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = None

    def unplug(self) -> None:
        """The adapter is pulled: the gateway's reads and writes fail until `plug_back`."""
        with self._lock:
            self._close()
            if os.path.lexists(self.port):
                os.unlink(self.port)

    def plug_back(self) -> None:
        with self._lock:
            self._plug()
            self.decoder = p.FrameDecoder()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- bus ------------------------------------------------------------------------------
    def write_raw(self, data: bytes) -> None:
        with self._lock:
            if self._master is None:
                return
            if self.split_writes:
                for byte in data:
                    os.write(self._master, bytes([byte]))
                    time.sleep(0.001)
            else:
                os.write(self._master, data)

    def send_event(self, address: int, kind: int, index: int, *, skip: int = 0) -> None:
        """An unprompted event frame, as boards send when a door closes or a parcel is detected."""
        board = self.boards[address]
        counter, kind, index = board.queue_event(kind, index, skip=skip)
        self.write_raw(p.Frame(address, 0, p.EVENT, struct.pack("<HBB", counter, kind, index)).encode())

    def send_keypad(self, address: int, digits: str) -> None:
        """Someone types (or scans) a pickup code at the bank's keypad."""
        self.write_raw(p.Frame(address, 0, p.KEYPAD, digits.encode("ascii")).encode())

    def send_asset_returned(self, address: int, index: int, tag: str) -> None:
        """A rented item is pushed into slot `index` (0-based); its RFID tag is read."""
        self.write_raw(p.Frame(address, 0, p.ASSET_IN, bytes([index]) + tag.encode("ascii")).encode())

    def _serve(self) -> None:
        while not self._stop.is_set():
            master = self._master
            if master is None:
                time.sleep(0.01)
                continue
            if self.auto_close:
                self._close_doors_left_open()
            try:
                ready, _w, _x = select.select([master], [], [], 0.05)
                if not ready:
                    continue
                chunk = os.read(master, 4096)
            except OSError:
                time.sleep(0.01)
                continue
            self._feed(chunk)

    def _doors_open(self) -> set[tuple[int, int]]:
        return {(address, index) for address, board in self.boards.items() for index in board.door_open}

    def _shut(self, address: int, index: int) -> None:
        self.boards[address].close_door(index)

    def _close_doors_left_open(self) -> None:
        """With `auto_close`, someone takes the parcel and pushes the door shut a while later."""
        now = time.monotonic()
        doors = self._doors_open()
        self._opened_at = {door: self._opened_at.get(door, now) for door in doors}
        for door, since in list(self._opened_at.items()):
            if now - since >= self.auto_close:
                with self._lock:
                    self._shut(*door)
                del self._opened_at[door]

    def _feed(self, chunk: bytes) -> None:
        for frame in self.decoder.feed(chunk):
            self._answer(frame)

    def _answer(self, frame: p.Frame) -> None:
        self.received.append(frame)
        board = self.boards.get(frame.address)
        if board is None:
            return  # nobody at that address: silence, like a real bus
        if self.busy_replies:
            self.busy_replies -= 1
            reply = frame.reply(error=p.BUSY)
        else:
            reply = board.handle(frame)
        if self.drop_unlock_replies and frame.command in (p.OPEN, p.OPEN_MANY):
            self.drop_unlock_replies -= 1
            return
        self._emit(reply.encode())

    def _emit(self, data: bytes) -> None:
        """Write one reply through the misbehaviour switches (drop, corrupt, delay, duplicate)."""
        if self.drop_replies:
            self.drop_replies -= 1
            return
        if self.corrupt_replies:
            self.corrupt_replies -= 1
            data = data[:-3] + bytes([data[-3] ^ 0xFF]) + data[-2:]
        if self.delay_count:
            self.delay_count -= 1
            time.sleep(self.delay_replies)
        self.write_raw(data)
        if self.duplicate_replies:
            self.duplicate_replies -= 1
            self.write_raw(data)


class KerongCabinet(Cabinet):
    """KR-CU16 boards (addresses 0-15) behind one pty. `hook_bit` is how the boards report their
    lock hooks (a set bit is a locked lock, or an open one), for all boards or as {address: value};
    the gateway must be told the same."""

    def __init__(
        self, addresses=(0,), directory: str | None = None, *, hook_bit: str | dict[int, str] = p.HOOK_BIT_LOCKED
    ):
        super().__init__(addresses=(), directory=directory)
        self.hook_bits = hook_bit if isinstance(hook_bit, dict) else {address: hook_bit for address in addresses}
        self.open_locks: dict[int, set[int]] = {address: set() for address in addresses}
        self.occupied: dict[int, set[int]] = {address: set() for address in addresses}
        self.stuck: dict[int, set[int]] = {address: set() for address in addresses}
        self.pulses: dict[int, Counter] = {address: Counter() for address in addresses}  # unlock pulses per lock
        self.lost_requests = 0  # the next N requests never reach a board (noise on the line)
        self.requests: list[bytes] = []
        self._pending = b""

    def _feed(self, chunk: bytes) -> None:
        self._pending += chunk
        while len(self._pending) >= 5:
            start = self._pending.find(bytes([p.KERONG_STX]))
            if start < 0:
                self._pending = b""
                return
            request, self._pending = self._pending[start : start + 5], self._pending[start + 5 :]
            if len(request) < 5:
                self._pending = request + self._pending
                return
            self._answer_kerong(request)

    def _answer_kerong(self, request: bytes) -> None:
        if request[3] != p.KERONG_ETX or p.kerong_checksum(request[:4]) != request[4]:
            return  # a real board ignores a frame it cannot check
        if self.lost_requests:
            self.lost_requests -= 1
            return
        self.requests.append(request)
        board, lock, command = request[1] >> 4, request[1] & 0x0F, request[2]
        if board not in self.open_locks:
            return  # nobody at that address
        if command == p.KERONG_UNLOCK:
            self.pulses[board][lock] += 1  # no sequence number: every unlock request pulses
            if lock not in self.stuck[board]:
                self.open_locks[board].add(lock)
        if command == p.KERONG_UNLOCK and self.drop_unlock_replies:
            self.drop_unlock_replies -= 1
            return
        if command in (p.KERONG_STATUS, p.KERONG_UNLOCK):
            self._emit(
                p.kerong_status_reply(
                    board=board,
                    locks_open=self.open_locks[board],
                    occupied=self.occupied[board],
                    hook_bit=self.hook_bits.get(board, p.HOOK_BIT_LOCKED),
                )
            )

    def close_lock(self, board: int, lock: int) -> None:
        """Someone pushes the door shut: the hook engages."""
        self.open_locks[board].discard(lock)

    def _doors_open(self) -> set[tuple[int, int]]:
        return {(board, lock) for board, locks in self.open_locks.items() for lock in locks}

    def _shut(self, board: int, lock: int) -> None:
        self.close_lock(board, lock)
