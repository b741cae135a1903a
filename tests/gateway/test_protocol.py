"""Frame codecs: our cabinet protocol and the Kerong KR-CU16 board."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway import protocol as p

frames = st.builds(
    p.Frame,
    address=st.integers(0, 255),
    sequence=st.integers(0, 255),
    command=st.integers(0, 255),
    data=st.binary(max_size=40),
)


def test_crc16_modbus_known_vector():
    assert p.crc16_modbus(b"123456789") == 0x4B37


@given(frames)
def test_round_trip(frame):
    assert p.FrameDecoder().feed(frame.encode()) == [frame]


def test_one_byte_at_a_time_and_two_frames_in_one_read():
    a, b = p.Frame(1, 1, p.STATUS), p.Frame(2, 2, p.OPEN, b"\x03")
    decoder = p.FrameDecoder()
    out = []
    for byte in a.encode():
        out += decoder.feed(bytes([byte]))
    assert out == [a]
    assert p.FrameDecoder().feed(a.encode() + b.encode()) == [a, b]


def test_garbage_before_a_frame_and_a_false_start_byte_are_skipped_with_reasons():
    frame = p.Frame(1, 7, p.OPEN, bytes([p.START, 0x10, p.START]))  # start bytes inside the data
    decoder = p.FrameDecoder()
    assert decoder.feed(b"\x00\x13junk" + bytes([p.START, 0x02]) + frame.encode()) == [frame]
    reasons = {error.reason for error in decoder.errors}
    assert "garbage before a start byte" in reasons
    assert reasons & {"impossible length", "bad CRC", "no end byte where the length says"}


def test_a_bad_crc_is_dropped():
    data = bytearray(p.Frame(1, 1, p.STATUS).encode())
    data[-2] ^= 0x01
    decoder = p.FrameDecoder()
    assert decoder.feed(bytes(data)) == []
    assert any(error.reason == "bad CRC" for error in decoder.errors)
    with pytest.raises(p.DecodeError):
        decoder.decode_one(bytes(data))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=30), frames.map(lambda f: f.encode())), max_size=8), st.data())
def test_random_and_mutated_input_never_raises_and_never_yields_a_bad_frame(chunks, data):
    stream = bytearray(b"".join(chunks))
    if stream:
        for _ in range(data.draw(st.integers(0, 4))):  # mutate some bytes of the valid frames too
            position = data.draw(st.integers(0, len(stream) - 1))
            stream[position] = data.draw(st.integers(0, 255))
    decoder = p.FrameDecoder()
    cut = data.draw(st.integers(0, len(stream)))
    try:
        decoded = decoder.feed(bytes(stream[:cut])) + decoder.feed(bytes(stream[cut:]))
    except p.DecodeError:
        decoded = []
    for frame in decoded:
        encoded = frame.encode()
        body = encoded[1:-3]
        assert p.crc16_modbus(body) == encoded[-3] | encoded[-2] << 8
        assert encoded in bytes(stream)  # only frames that were really on the line


def test_kerong_open_lock_one_of_board_zero():
    assert p.kerong_request(board=0, lock=0, command=p.KERONG_UNLOCK) == bytes([0x02, 0x00, 0x31, 0x03, 0x36])


def test_kerong_status_reply_round_trip_and_checksum():
    reply = p.kerong_status_reply(board=2, locks_open={0, 9}, occupied={3})
    status = p.kerong_parse_status(reply)
    assert (status.board, status.locks_open, status.occupied) == (2, frozenset({0, 9}), frozenset({3}))
    broken = reply[:-1] + bytes([(reply[-1] + 1) & 0xFF])
    with pytest.raises(p.DecodeError):
        p.kerong_parse_status(broken)
    with pytest.raises(p.DecodeError):
        p.kerong_parse_status(b"\x02\x00")
