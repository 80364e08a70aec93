"""The simulated camera's own RTP/H.264 packetizer (``sitl.rtp_h264``) against the relay's
depacketizer and SEI reader (``dfr.video``): two implementations of RFC 6184 and of the
capture-time SEI that must agree on the wire."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dfr.video.h264 import build_capture_time_sei, read_capture_time_us
from dfr.video.h264 import split_annexb as relay_split_annexb
from dfr.video.rtp import AccessUnit, H264Depacketizer, RtpPacket
from sitl.rtp_h264 import (
    NAL_FU_A,
    RTP_HEADER_BYTES,
    RtpH264Packetizer,
    capture_time_sei,
    split_annexb,
    with_capture_time,
)

SPS = bytes([0x67, 0x42, 0xC0, 0x1E, 0xDA, 0x05, 0x07, 0xE8])
PPS = bytes([0x68, 0xCE, 0x3C, 0x80])
SSRC = 0x5EED1234


def idr(size: int) -> bytes:
    return bytes([0x65]) + bytes((i * 7 + 3) & 0xFF for i in range(size - 1))


def slice_(size: int, tag: int = 2) -> bytes:
    return bytes([0x41]) + bytes([tag]) * (size - 1)


def depacketize(datagrams: list[bytes]) -> tuple[list[RtpPacket], list[AccessUnit]]:
    depacketizer = H264Depacketizer("test")
    packets = [RtpPacket.parse(d) for d in datagrams]
    units = [unit for packet in packets for unit in depacketizer.push(packet)]
    assert depacketizer.lost_packets == 0 and depacketizer.dropped_units == 0
    return packets, units


def test_a_keyframe_in_fu_a_fragments_and_a_slice_come_out_whole() -> None:
    packetizer = RtpH264Packetizer(ssrc=SSRC, first_sequence=65534, mtu_bytes=1000)
    big = idr(3500)  # four FU-A fragments of at most 1000 - 12 - 2 bytes of NAL
    keyframe = with_capture_time([SPS, PPS, big], 1_700_000_000_123_456)
    datagrams = packetizer.packetize(keyframe, 90_000)
    datagrams += packetizer.packetize(
        with_capture_time([slice_(300)], 1_700_000_000_190_000), 96_000
    )
    packets, units = depacketize(datagrams)

    assert all(len(d) <= 1000 for d in datagrams)
    fragments = [p for p in packets if p.payload[0] & 0x1F == NAL_FU_A]
    assert len(fragments) == 4
    assert [p.payload[1] & 0xC0 for p in fragments] == [0x80, 0x00, 0x00, 0x40]  # S, -, -, E
    assert all(p.payload[0] == (0x65 & 0xE0) | NAL_FU_A for p in fragments)  # F, NRI kept
    assert all(p.payload[1] & 0x1F == 5 for p in fragments)  # the NAL's type
    # SPS, PPS, SEI, 4 fragments | SEI, slice: the marker ends each access unit
    assert [p.marker for p in packets] == [False] * 6 + [True] + [False, True]
    assert [p.sequence for p in packets] == [65534, 65535, *range(7)]  # wraps at 2^16
    assert {p.ssrc for p in packets} == {SSRC} and {p.payload_type for p in packets} == {96}
    assert [p.timestamp for p in packets] == [90_000] * 7 + [96_000] * 2

    assert [u.keyframe for u in units] == [True, False]
    assert units[0].nals == (SPS, PPS, capture_time_sei(1_700_000_000_123_456), big)
    assert read_capture_time_us(units[0].nals) == 1_700_000_000_123_456
    assert read_capture_time_us(units[1].nals) == 1_700_000_000_190_000
    assert units[1].nals[1] == slice_(300)


def test_a_nal_that_fills_the_mtu_exactly_goes_whole_and_one_byte_more_is_fragmented() -> None:
    packetizer = RtpH264Packetizer(ssrc=SSRC, first_sequence=0, mtu_bytes=500)
    fits = slice_(500 - RTP_HEADER_BYTES)
    (whole,) = packetizer.packetize([fits], 0)
    assert len(whole) == 500 and whole[RTP_HEADER_BYTES:] == fits
    split = packetizer.packetize([slice_(500 - RTP_HEADER_BYTES + 1)], 3000)
    # the NAL header byte becomes the two FU bytes: 486 of the 488 bytes after it, then 2
    assert [len(d) for d in split] == [500, RTP_HEADER_BYTES + 2 + 2]


@given(
    st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=5),
    st.integers(min_value=RTP_HEADER_BYTES + 3, max_value=1500),
    st.integers(min_value=0, max_value=0xFFFF),
)
def test_any_sizes_and_mtu_round_trip_through_the_relay(
    sizes: list[int], mtu: int, first_sequence: int
) -> None:
    packetizer = RtpH264Packetizer(ssrc=SSRC, first_sequence=first_sequence, mtu_bytes=mtu)
    body = [idr(sizes[0]), *(slice_(size, tag=i) for i, size in enumerate(sizes[1:]))]
    datagrams = packetizer.packetize([SPS, PPS, *body], 0) + packetizer.packetize([slice_(9)], 3000)
    packets, units = depacketize(datagrams)
    assert all(len(d) <= mtu for d in datagrams)
    assert [u.nals for u in units] == [(SPS, PPS, *body), (slice_(9),)]
    assert [p.marker for p in packets].count(True) == 2


@pytest.mark.parametrize(
    "capture_time_us",
    [0, 1, 0x0000_0001_0000_0000, 0x0000_0000_0000_0300, 1_700_000_000_000_000, 2**64 - 1],
)
def test_the_capture_time_sei_is_byte_for_byte_the_relays(capture_time_us: int) -> None:
    sei = capture_time_sei(capture_time_us)
    assert sei == build_capture_time_sei(capture_time_us)
    assert read_capture_time_us([sei]) == capture_time_us
    assert b"\x00\x00\x00" not in sei and b"\x00\x00\x01" not in sei  # emulation prevented


def test_annexb_splitting_agrees_with_the_relay() -> None:
    nals = [SPS, PPS, capture_time_sei(12345), idr(700), slice_(3)]
    stream = (
        b"\x00\x00\x00\x01" + nals[0] + b"\x00\x00\x01" + nals[1] + b"\x00\x00\x00\x01" + nals[2]
    )
    stream += b"\x00\x00\x01" + nals[3] + b"\x00\x00" + b"\x00\x00\x01" + nals[4]
    assert split_annexb(stream) == nals == relay_split_annexb(stream)
    assert split_annexb(b"") == [] and split_annexb(b"\x00\x00\x01") == []


def test_the_sei_goes_after_the_parameter_sets_and_before_the_first_slice() -> None:
    aud = bytes([0x09, 0xF0])
    when_us = 0x1122334455667788  # no zero bytes: nothing to escape
    out = with_capture_time([aud, SPS, PPS, idr(10), idr(10)], when_us)
    assert out == [aud, SPS, PPS, capture_time_sei(when_us), idr(10), idr(10)]
    sei = out[3]
    assert sei[:3] == bytes([6, 5, 24]) and sei[3:19] == b"dfr-capture-time"
    assert struct.unpack(">Q", sei[19:27])[0] == when_us and sei[27:] == b"\x80"


def test_an_mtu_without_room_for_a_fragment_is_refused() -> None:
    with pytest.raises(ValueError, match="no room"):
        RtpH264Packetizer(ssrc=1, first_sequence=0, mtu_bytes=RTP_HEADER_BYTES + 2)
