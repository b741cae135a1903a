"""Frame codecs for locally attached cabinets (see docs/gateway-protocol.md).

`Frame` / `FrameDecoder` implement our cabinet protocol:

    START(0x7E) LEN ADDR SEQ CMD DATA… CRC_LO CRC_HI END(0x7F)

LEN counts ADDR+SEQ+CMD+DATA; the CRC is CRC-16/MODBUS over LEN…DATA. The decoder is
incremental (bytes may arrive one at a time or several frames in one read), skips garbage, resyncs
after a false start byte, and reports every dropped byte run with a reason. It never raises on
input: bad input becomes a `DecodeError` in `decoder.errors`, never a frame.

`kerong_*` implement the Kerong KR-CU16 lock board's framing (`02 ADDR CMD 03 SUM`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

START = 0x7E
END = 0x7F
MAX_DATA = 250
HEADER = 3  # ADDR SEQ CMD

# Commands (a reply sets the high bit: INFO → 0x81)
INFO = 0x01
STATUS = 0x02
OPEN = 0x03
OPEN_MANY = 0x04
LED = 0x05
READ_EVENTS = 0x06
ACK_EVENTS = 0x07
READ_TEMPERATURE = 0x08
SET_TEMPERATURE = 0x09
REBOOT = 0x0A
EVENT = 0x40  # unsolicited, SEQ 0
KEYPAD = 0x41  # unsolicited, SEQ 0: digits typed or scanned at the bank (ASCII), never stored
ASSET_IN = 0x42  # unsolicited, SEQ 0: slot index (1 byte) + the RFID tag read (ASCII) of an asset put back
ERROR = 0xFF  # reply carrying an error code
REPLY = 0x80

# Error codes in an ERROR reply
BUSY = 0x01
UNKNOWN_COMMAND = 0x02
LOCK_FAILED = 0x03
BAD_ARGUMENT = 0x04

# Lock status bits in a STATUS reply
LOCK_OPEN = 0x01
DOOR_OPEN = 0x02
OCCUPIED = 0x04

# Event types in EVENT frames / READ_EVENTS replies
EV_DOOR_OPENED = 0x01
EV_DOOR_CLOSED = 0x02
EV_OCCUPIED = 0x03
EV_EMPTIED = 0x04


def crc16_modbus(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


class DecodeError(ValueError):
    """A run of bytes that was not a valid frame, with the reason it was dropped."""

    def __init__(self, reason: str, dropped: bytes = b""):
        super().__init__(f"{reason} ({len(dropped)} bytes dropped)")
        self.reason = reason
        self.dropped = dropped


@dataclass(frozen=True)
class Frame:
    address: int
    sequence: int
    command: int
    data: bytes = b""

    def __post_init__(self):
        for name, value in (("address", self.address), ("sequence", self.sequence), ("command", self.command)):
            if not 0 <= value <= 0xFF:
                raise ValueError(f"{name} must be a byte, not {value}")
        if len(self.data) > MAX_DATA:
            raise ValueError(f"at most {MAX_DATA} data bytes")

    def encode(self) -> bytes:
        body = bytes([HEADER + len(self.data), self.address, self.sequence, self.command]) + bytes(self.data)
        crc = crc16_modbus(body)
        return bytes([START]) + body + bytes([crc & 0xFF, crc >> 8, END])

    @property
    def is_reply(self) -> bool:
        return bool(self.command & REPLY)  # ERROR (0xFF) included

    @property
    def is_event(self) -> bool:
        return self.command in (EVENT, KEYPAD, ASSET_IN)

    def reply(self, data: bytes = b"", *, error: int | None = None) -> Frame:
        if error is not None:
            return Frame(self.address, self.sequence, ERROR, bytes([error]))
        return Frame(self.address, self.sequence, self.command | REPLY, data)


@dataclass
class FrameDecoder:
    """Feed bytes as they arrive; get whole, CRC-checked frames back."""

    buffer: bytearray = field(default_factory=bytearray)
    errors: list[DecodeError] = field(default_factory=list)
    max_errors_kept: int = 100

    def _error(self, reason: str, dropped: bytes) -> None:
        self.errors.append(DecodeError(reason, dropped))
        del self.errors[: -self.max_errors_kept]

    def feed(self, chunk: bytes) -> list[Frame]:
        self.buffer.extend(chunk)
        frames: list[Frame] = []
        while self.buffer:
            start = self.buffer.find(START)
            if start < 0:
                self._error("garbage without a start byte", bytes(self.buffer))
                self.buffer.clear()
                break
            if start > 0:
                self._error("garbage before a start byte", bytes(self.buffer[:start]))
                del self.buffer[:start]
            if len(self.buffer) < 2:
                break
            length = self.buffer[1]
            if length < HEADER or length > HEADER + MAX_DATA:
                self._error("impossible length", bytes(self.buffer[:2]))
                del self.buffer[:1]  # a false start: look for the next start byte
                continue
            total = 1 + 1 + length + 2 + 1
            if len(self.buffer) < total:
                break
            candidate = bytes(self.buffer[:total])
            body = candidate[1 : 2 + length]
            crc = candidate[2 + length] | candidate[3 + length] << 8
            if candidate[-1] != END:
                self._error("no end byte where the length says", candidate[:1])
                del self.buffer[:1]
                continue
            if crc16_modbus(body) != crc:
                self._error("bad CRC", candidate[:1])
                del self.buffer[:1]
                continue
            frames.append(Frame(body[1], body[2], body[3], bytes(body[4:])))
            del self.buffer[:total]
        return frames

    def decode_one(self, data: bytes) -> Frame:
        """Decode exactly one frame or raise DecodeError (for tools and tests)."""
        decoder = FrameDecoder()
        frames = decoder.feed(data)
        if len(frames) != 1 or decoder.buffer:
            reason = decoder.errors[-1].reason if decoder.errors else "incomplete or extra bytes"
            raise DecodeError(reason, data)
        return frames[0]


# --- Kerong KR-CU16 -------------------------------------------------------------------------
KERONG_STX = 0x02
KERONG_ETX = 0x03
KERONG_STATUS = 0x30
KERONG_UNLOCK = 0x31
KERONG_STATUS_REPLY = 0x35


def kerong_checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def kerong_request(*, board: int, lock: int, command: int) -> bytes:
    """`02 ADDR CMD 03 SUM`; ADDR's high nibble is the board, the low nibble the lock (0-based)."""
    if not (0 <= board <= 0x0F and 0 <= lock <= 0x0F):
        raise ValueError("board and lock are 0..15")
    head = bytes([KERONG_STX, board << 4 | lock, command, KERONG_ETX])
    return head + bytes([kerong_checksum(head)])


# What a set lock-hook bit in a status reply means. Most boards (and the public drivers that agree
# on it) report a set bit for a hook that is engaged, i.e. a locked lock; some firmware and wiring
# report the opposite. Per board: `gateway.LockBoard.hook_bit`, `run_gateway --hook-bit`.
HOOK_BIT_LOCKED = "locked"
HOOK_BIT_OPEN = "open"
HOOK_BITS = (HOOK_BIT_LOCKED, HOOK_BIT_OPEN)


@dataclass(frozen=True)
class KerongStatus:
    board: int
    locks_open: frozenset[int]
    occupied: frozenset[int]


def kerong_parse_status(frame: bytes, *, hook_bit: str = HOOK_BIT_LOCKED) -> KerongStatus:
    """`02 ADDR 35 D1 D2 D3 D4 03 SUM`: D1/D2 lock-hook bitmaps (locks 1-8, 9-16; a set bit is a
    locked lock unless the board's `hook_bit` says "open"), D3/D4 infrared occupancy. Raises
    DecodeError on anything else."""
    if hook_bit not in HOOK_BITS:
        raise ValueError(f"hook_bit is one of {HOOK_BITS}")
    if len(frame) != 9 or frame[0] != KERONG_STX or frame[2] != KERONG_STATUS_REPLY or frame[7] != KERONG_ETX:
        raise DecodeError("not a KR-CU16 status reply", bytes(frame))
    if kerong_checksum(frame[:8]) != frame[8]:
        raise DecodeError("bad KR-CU16 checksum", bytes(frame))
    hooks = frame[3] | frame[4] << 8
    infrared = frame[5] | frame[6] << 8
    set_means_open = hook_bit == HOOK_BIT_OPEN
    return KerongStatus(
        board=frame[1] >> 4,
        locks_open=frozenset(i for i in range(16) if bool(hooks >> i & 1) == set_means_open),
        occupied=frozenset(i for i in range(16) if infrared >> i & 1),
    )


def kerong_status_reply(*, board: int, locks_open=(), occupied=(), hook_bit: str = HOOK_BIT_LOCKED) -> bytes:
    """The reply a board wired with `hook_bit` polarity sends (for the simulator and tests)."""
    open_bits = sum(1 << i for i in locks_open)
    hooks = open_bits if hook_bit == HOOK_BIT_OPEN else ~open_bits & 0xFFFF
    infrared = sum(1 << i for i in occupied)
    head = bytes(
        [
            KERONG_STX,
            board << 4,
            KERONG_STATUS_REPLY,
            hooks & 0xFF,
            hooks >> 8,
            infrared & 0xFF,
            infrared >> 8,
            KERONG_ETX,
        ]
    )
    return head + bytes([kerong_checksum(head)])
