"""RTP parsing and the H.264 depacketizer, with hand-made packets."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dfr.errors import VideoError
from dfr.video.h264 import NalType
from dfr.video.rtp import AccessUnit, H264Depacketizer, RtpPacket, packetize_h264

SPS = bytes([0x67, 0x42, 0xC0, 0x1E, 0xDA, 0x05, 0x07, 0xE8])
PPS = bytes([0x68, 0xCE, 0x3C, 0x80])
SEI = bytes([0x06, 0x05, 0x01, 0xAA, 0x80])


def idr(size: int = 50, tag: int = 1) -> bytes:
    return bytes([0x65]) + bytes([tag]) * (size - 1)


def slice_(size: int = 30, tag: int = 2) -> bytes:
    return bytes([0x41]) + bytes([tag]) * (size - 1)


class Sender:
    """Builds packets with consecutive sequence numbers."""

    def __init__(self, seq: int = 65530, ssrc: int = 0x1234) -> None:
        self.seq = seq
        self.ssrc = ssrc

    def packet(self, payload: bytes, ts: int, marker: bool = False) -> RtpPacket:
        packet = RtpPacket(96, self.seq, ts, self.ssrc, payload, marker)
        self.seq = (self.seq + 1) & 0xFFFF
        return packet

    def unit(self, nals: list[bytes], ts: int, mtu: int = 1200) -> list[RtpPacket]:
        payloads = list(packetize_h264(nals, mtu))
        return [self.packet(p, ts, i == len(payloads) - 1) for i, p in enumerate(payloads)]


def feed(depacketizer: H264Depacketizer, packets: list[RtpPacket]) -> list[AccessUnit]:
    out: list[AccessUnit] = []
    for packet in packets:
        out += depacketizer.push(RtpPacket.parse(bytes(packet)))
    return out


def test_rtp_header_round_trip_and_extension_padding() -> None:
    packet = RtpPacket(96, 65535, 0xFFFFFFFF, 0xDEADBEEF, b"\x41abc", marker=True)
    assert RtpPacket.parse(bytes(packet)) == packet
    # version 2, padding, extension, one CSRC; marker, pt 96
    raw = (
        bytes([0xB1, 0xE0])
        + struct.pack(">HII", 7, 9000, 5)
        + struct.pack(">I", 42)  # CSRC
        + struct.pack(">HH", 0xBEDE, 1)
        + b"\x10\x00\x00\x00"  # one-word extension
        + b"\x41xyz"
        + b"\x00\x00\x03"  # 3 bytes of padding
    )
    parsed = RtpPacket.parse(raw)
    assert (parsed.sequence, parsed.timestamp, parsed.marker) == (7, 9000, True)
    assert parsed.payload == b"\x41xyz"
    with pytest.raises(VideoError):
        RtpPacket.parse(b"\x40" + bytes(11))  # version 1


def test_single_nal_and_fu_a_units_come_out_whole_with_parameter_sets() -> None:
    sender, dep = Sender(), H264Depacketizer()
    big_idr = idr(5000)
    packets = sender.unit([SPS, PPS, SEI, big_idr], ts=1000, mtu=1200)
    assert any(p.payload[0] & 0x1F == NalType.FU_A for p in packets)
    assert [p.marker for p in packets].count(True) == 1
    units = feed(dep, packets + sender.unit([slice_()], ts=4000))
    assert [u.keyframe for u in units] == [True, False]
    assert units[0].nals == (SPS, PPS, SEI, big_idr)
    assert units[0].rtp_timestamp == 1000
    assert units[1].nals == (slice_(),)


def test_stap_a_is_split_into_its_nal_units() -> None:
    sender, dep = Sender(), H264Depacketizer()
    stap = bytes([0x18]) + b"".join(struct.pack(">H", len(n)) + n for n in (SPS, PPS))
    packets = [sender.packet(stap, 10), sender.packet(idr(), 10, marker=True)]
    (unit,) = feed(dep, packets)
    assert unit.nals == (SPS, PPS, idr()) and unit.keyframe


def test_marked_parameter_set_packets_do_not_end_the_picture() -> None:
    sender, dep = Sender(), H264Depacketizer()
    packets = [
        sender.packet(SPS, 10, marker=True),
        sender.packet(PPS, 10, marker=True),
        sender.packet(idr(), 10, marker=True),
    ]
    (unit,) = feed(dep, packets)
    assert unit.nals == (SPS, PPS, idr())


def test_cached_parameter_sets_are_put_before_keyframes_without_them() -> None:
    sender, dep = Sender(), H264Depacketizer()
    units = feed(dep, sender.unit([SPS, PPS, idr(tag=1)], 0) + sender.unit([idr(tag=9)], 3000))
    assert units[1].nals == (SPS, PPS, idr(tag=9))


def test_nothing_before_the_first_keyframe_and_a_keyframe_needs_parameter_sets() -> None:
    sender, dep = Sender(), H264Depacketizer()
    units = feed(dep, sender.unit([slice_()], 0) + sender.unit([idr()], 3000))
    assert units == []  # P frame before any keyframe; keyframe with no SPS/PPS known
    units = feed(dep, sender.unit([SPS, PPS, idr()], 6000))
    assert [u.keyframe for u in units] == [True]


def test_lost_packet_drops_until_next_keyframe() -> None:
    sender, dep = Sender(), H264Depacketizer()
    first = feed(dep, sender.unit([SPS, PPS, idr()], 0))
    broken = sender.unit([slice_(3000)], 3000, mtu=1000)  # three FU-A fragments
    del broken[1]
    after = broken + sender.unit([slice_()], 6000) + sender.unit([idr(tag=5)], 9000)
    after += sender.unit([slice_(tag=6)], 12000)
    units = first + feed(dep, after)
    assert [(u.rtp_timestamp, u.keyframe) for u in units] == [
        (0, True),
        (9000, True),
        (12000, False),
    ]
    assert dep.lost_packets == 1
    assert units[1].nals[:2] == (SPS, PPS)


def test_missing_marker_is_closed_by_the_next_timestamp() -> None:
    sender, dep = Sender(), H264Depacketizer()
    packets = [sender.packet(SPS, 0), sender.packet(PPS, 0), sender.packet(idr(), 0)]
    packets += sender.unit([slice_()], 3000)
    units = feed(dep, packets)
    assert [u.rtp_timestamp for u in units] == [0, 3000]


def test_late_duplicate_packet_is_ignored() -> None:
    sender, dep = Sender(), H264Depacketizer()
    packets = sender.unit([SPS, PPS, idr()], 0)
    units = feed(dep, [*packets, packets[-1], *sender.unit([slice_()], 3000)])
    assert [u.rtp_timestamp for u in units] == [0, 3000]
    assert dep.lost_packets == 0


@given(
    st.lists(st.integers(min_value=1, max_value=4000), min_size=1, max_size=6),
    st.integers(min_value=100, max_value=1400),
)
def test_packetize_then_depacketize_gives_the_same_units(sizes: list[int], mtu: int) -> None:
    sender, dep = Sender(seq=65000), H264Depacketizer()
    body = [
        bytes([0x41 if i else 0x65]) + bytes([i + 1]) * (size - 1) for i, size in enumerate(sizes)
    ]
    keyframe_nals = [SPS, PPS, *body]
    units = feed(dep, sender.unit(keyframe_nals, 0, mtu) + sender.unit([slice_()], 3000, mtu))
    assert [u.nals for u in units] == [tuple(keyframe_nals), (slice_(),)]
    assert all(len(p.payload) <= mtu for p in sender.unit(keyframe_nals, 6000, mtu))
