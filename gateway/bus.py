"""The bus driver: one serial port, a chain of boards, one request in flight.

Opened through pyserial's `serial_for_url`, so the same code drives `/dev/ttyUSB0`, a pty, or
`socket://host:port`. A request is retried with the SAME sequence number after a timeout or a
corrupt reply (the board answers a repeated sequence from its cache instead of pulsing a lock
again); a reply that arrives after its request gave up is discarded, never matched to the next
request; BUSY is retried with backoff; unsolicited event frames are handed to `on_event` whenever
they arrive. When the adapter disappears the driver reports it (`on_disconnect`: lock states are
now unknown) and reconnects with backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

import serial

from gateway import protocol as p

try:  # termios errors (a pty or USB adapter vanishing mid-flush) are not OSErrors
    from termios import error as TermiosError
except ImportError:  # pragma: no cover - not POSIX
    TermiosError = OSError
LINE_ERRORS = (serial.SerialException, OSError, TermiosError)

logger = logging.getLogger(__name__)


class BusError(Exception):
    pass


class NoReply(BusError):
    pass


class Disconnected(BusError):
    pass


class BoardError(BusError):
    def __init__(self, code: int):
        super().__init__(f"board error 0x{code:02x}")
        self.code = code


class Bus:
    def __init__(
        self,
        url: str,
        *,
        baudrate: int = 19200,
        timeout: float = 0.25,
        retries: int = 3,
        busy_backoff: float = 0.02,
        busy_retries: int = 5,
        reconnect_timeout: float = 2.0,
        on_event: Callable[[p.Frame], None] | None = None,
        on_disconnect: Callable[[], None] | None = None,
    ):
        self.url = url
        self.baudrate = baudrate
        self.timeout = timeout
        self.retries = retries
        self.busy_backoff = busy_backoff
        self.busy_retries = busy_retries
        self.reconnect_timeout = reconnect_timeout
        self.on_event = on_event or (lambda frame: None)
        self.on_disconnect = on_disconnect or (lambda: None)
        self.decoder = p.FrameDecoder()
        self.port: serial.SerialBase | None = None
        self._sequence = 0
        self._lock = threading.RLock()
        self.discarded: list[p.Frame] = []
        self._backlog: deque[p.Frame] = deque()  # decoded but not yet looked at
        self.stats = {"requests": 0, "retries": 0, "busy": 0, "discarded": 0, "reconnects": 0, "bad_frames": 0}

    # --- connection -----------------------------------------------------------------------
    def open(self) -> None:
        self.port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0, write_timeout=1)
        self.decoder = p.FrameDecoder()
        self._backlog.clear()

    def close(self) -> None:
        if self.port is not None:
            try:
                self.port.close()
            except Exception:  # noqa: BLE001 - closing a dead port
                pass
        self.port = None

    def _lost(self, error: Exception) -> None:
        logger.warning("Bus %s lost: %s", self.url, error)
        self.close()
        self.on_disconnect()

    def ensure_open(self) -> None:
        if self.port is not None:
            return
        deadline = time.monotonic() + self.reconnect_timeout
        delay = 0.02
        while True:
            try:
                self.open()
                self.stats["reconnects"] += 1
                return
            except LINE_ERRORS as error:
                if time.monotonic() + delay > deadline:
                    raise Disconnected(f"cannot open {self.url}: {error}") from error
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    # --- I/O ------------------------------------------------------------------------------
    def _next_sequence(self) -> int:
        self._sequence = self._sequence % 255 + 1  # 1..255; 0 is for unsolicited events
        return self._sequence

    def _write(self, data: bytes) -> None:
        try:
            self.port.write(data)
            self.port.flush()
        except LINE_ERRORS as error:
            self._lost(error)
            raise Disconnected(str(error)) from error

    def _next_frame(self, wait: float) -> p.Frame | None:
        if not self._backlog:
            self._backlog.extend(self._read_frames(wait))
        return self._backlog.popleft() if self._backlog else None

    def _read_frames(self, wait: float) -> list[p.Frame]:
        try:
            if self.port.in_waiting == 0 and wait > 0:
                time.sleep(min(wait, 0.005))
            chunk = self.port.read(self.port.in_waiting or 1)
        except (*LINE_ERRORS, TypeError) as error:
            self._lost(error)
            raise Disconnected(str(error)) from error
        if not chunk:
            return []
        before = len(self.decoder.errors)
        frames = self.decoder.feed(chunk)
        for error in self.decoder.errors[before:]:
            self.stats["bad_frames"] += 1
            logger.info("Bus %s dropped bytes: %s", self.url, error)
        return frames

    def _dispatch(self, frame: p.Frame) -> None:
        try:
            self.on_event(frame)
        except Exception:
            logger.exception("Event handler failed for %r", frame)

    def _await_reply(self, address: int, sequence: int, command: int) -> p.Frame | None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            frame = self._next_frame(deadline - time.monotonic())
            if frame is None:
                continue
            if frame.is_event:
                self._dispatch(frame)
            elif (
                frame.address == address
                and frame.sequence == sequence
                and frame.command in (command | p.REPLY, p.ERROR)
            ):
                return frame
            else:
                self._discard(frame)
        return None

    def _discard(self, frame: p.Frame) -> None:
        self.stats["discarded"] += 1
        self.discarded.append(frame)
        del self.discarded[:-100]
        logger.info("Discarded a reply nobody waits for: %r", frame)

    def request(self, address: int, command: int, data: bytes = b"") -> p.Frame:
        """Send one command and return its reply; raises NoReply, BoardError or Disconnected."""
        with self._lock:
            self.ensure_open()
            frame = p.Frame(address, self._next_sequence(), command, data)
            self.stats["requests"] += 1
            attempts = busy = 0
            while True:
                self._write(frame.encode())
                reply = self._await_reply(address, frame.sequence, command)
                if reply is None:
                    attempts += 1
                    if attempts > self.retries:
                        raise NoReply(f"board {address} did not answer command 0x{command:02x}")
                    self.stats["retries"] += 1
                    continue
                if reply.command == p.ERROR:
                    code = reply.data[0] if reply.data else 0
                    if code == p.BUSY and busy < self.busy_retries:
                        busy += 1
                        self.stats["busy"] += 1
                        time.sleep(self.busy_backoff * 2 ** (busy - 1))
                        continue
                    raise BoardError(code)
                return reply

    def pump(self, duration: float = 0.0) -> int:
        """Read while idle, handing unsolicited events to `on_event`; returns how many."""
        with self._lock:
            self.ensure_open()
            deadline = time.monotonic() + duration
            count = 0
            while True:
                frame = self._next_frame(max(0.0, deadline - time.monotonic()))
                if frame is not None and frame.is_event:
                    self._dispatch(frame)
                    count += 1
                elif frame is not None:
                    self._discard(frame)
                elif time.monotonic() >= deadline:
                    return count
