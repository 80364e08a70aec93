"""RTP (RFC 3550) packets and H.264 RTP payloads (RFC 6184): packetizer and depacketizer.

The depacketizer emits an access unit as soon as the packet with the marker bit arrives,
so the relay holds nothing back (PyAV's own RTP demuxer waits for the next frame). It
handles single NAL unit packets, STAP-A and FU-A; caches SPS/PPS and puts them in front
of every keyframe that lacks them; ignores the marker bit on packets that carry only
parameter sets (some cameras set it); and after a lost packet drops everything up to the
next keyframe, so a viewer never gets a picture with holes in it.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from dfr.errors import VideoError
from dfr.video.h264 import NalType, is_vcl, nal_type

logger = logging.getLogger(__name__)

RTP_VERSION = 2
H264_CLOCK_HZ = 90_000
DEFAULT_PAYLOAD_TYPE = 96
DEFAULT_MTU_BYTES = 1200  # RTP payload size limit; fits common path MTUs with headers


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One RTP packet. ``parse`` reads it from a datagram, ``bytes()`` writes it."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        if len(data) < 12:
            raise VideoError(f"RTP packet too short ({len(data)} bytes)")
        first, second, sequence, timestamp, ssrc = struct.unpack_from(">BBHII", data)
        if first >> 6 != RTP_VERSION:
            raise VideoError(f"not RTP version 2 (first byte {first:#04x})")
        offset = 12 + 4 * (first & 0x0F)
        if first & 0x10:  # header extension
            if len(data) < offset + 4:
                raise VideoError("RTP header extension truncated")
            (ext_words,) = struct.unpack_from(">H", data, offset + 2)
            offset += 4 + 4 * ext_words
        end = len(data)
        if first & 0x20:  # padding
            end -= data[-1]
        if offset > end:
            raise VideoError("RTP packet header longer than packet")
        return cls(
            payload_type=second & 0x7F,
            sequence=sequence,
            timestamp=timestamp,
            ssrc=ssrc,
            payload=bytes(data[offset:end]),
            marker=bool(second & 0x80),
        )

    def __bytes__(self) -> bytes:
        header = struct.pack(
            ">BBHII",
            RTP_VERSION << 6,
            (0x80 if self.marker else 0) | (self.payload_type & 0x7F),
            self.sequence & 0xFFFF,
            self.timestamp & 0xFFFFFFFF,
            self.ssrc & 0xFFFFFFFF,
        )
        return header + self.payload


def packetize_h264(nals: Sequence[bytes], mtu_bytes: int = DEFAULT_MTU_BYTES) -> Iterator[bytes]:
    """RTP payloads for one access unit: single NAL packets, FU-A for larger NALs.

    The caller sets the marker bit on the last payload of the access unit.
    """
    for nal in nals:
        if len(nal) <= mtu_bytes:
            yield nal
            continue
        header = nal[0]
        indicator = (header & 0xE0) | NalType.FU_A
        body = nal[1:]
        chunk = mtu_bytes - 2
        for start in range(0, len(body), chunk):
            fu_header = header & 0x1F
            if start == 0:
                fu_header |= 0x80
            if start + chunk >= len(body):
                fu_header |= 0x40
            yield bytes([indicator, fu_header]) + body[start : start + chunk]


@dataclass(frozen=True, slots=True)
class AccessUnit:
    """One coded picture: its NAL units (no start codes), RTP time and arrival time.

    ``nals`` of a keyframe start with SPS and PPS.
    """

    nals: tuple[bytes, ...]
    rtp_timestamp: int
    keyframe: bool
    arrival_ns: int = field(default_factory=time.monotonic_ns)

    @property
    def size_bytes(self) -> int:
        return sum(len(nal) for nal in self.nals)


class H264Depacketizer:
    """RTP packets in, complete access units out (on the marker bit)."""

    def __init__(self, label: str = "") -> None:
        self._label = label
        self._sps: bytes | None = None
        self._pps: bytes | None = None
        self._expected_seq: int | None = None
        self._nals: list[bytes] = []
        self._timestamp: int | None = None
        self._fu: bytearray | None = None
        self._need_keyframe = True
        self.lost_packets = 0
        self.dropped_units = 0

    @property
    def parameter_sets(self) -> tuple[bytes, bytes] | None:
        if self._sps is None or self._pps is None:
            return None
        return self._sps, self._pps

    def reset(self) -> None:
        """Forget the partial unit and wait for a keyframe (e.g. after a source restart)."""
        self._expected_seq = None
        self._nals.clear()
        self._timestamp = None
        self._fu = None
        self._need_keyframe = True

    def push(self, packet: RtpPacket) -> list[AccessUnit]:
        """Feed one packet; returns the access units it completed (usually zero or one)."""
        out: list[AccessUnit] = []
        if self._expected_seq is not None and packet.sequence != self._expected_seq:
            gap = (packet.sequence - self._expected_seq) & 0xFFFF
            if gap > 0x8000:  # late or duplicate packet: ignore it
                return out
            self.lost_packets += gap
            logger.debug("%s: %d RTP packets lost, waiting for a keyframe", self._label, gap)
            self._drop_partial()
            self._need_keyframe = True
        self._expected_seq = (packet.sequence + 1) & 0xFFFF

        if self._timestamp is not None and packet.timestamp != self._timestamp:
            # The previous unit's marker never came: close it with what we have.
            self._fu = None
            self._emit(out)
        self._timestamp = packet.timestamp
        self._take_payload(packet.payload)
        if packet.marker:
            self._fu = None
            self._emit(out)
        return out

    def _drop_partial(self) -> None:
        if any(is_vcl(nal) for nal in self._nals) or self._fu is not None:
            self.dropped_units += 1
        self._nals = [nal for nal in self._nals if not is_vcl(nal)]
        self._fu = None

    def _take_payload(self, payload: bytes) -> None:
        if not payload:
            return
        kind = payload[0] & 0x1F
        if 1 <= kind <= 23:
            self._add_nal(payload)
        elif kind == NalType.STAP_A:
            i = 1
            while i + 2 <= len(payload):
                (size,) = struct.unpack_from(">H", payload, i)
                i += 2
                if size == 0 or i + size > len(payload):
                    break
                self._add_nal(payload[i : i + size])
                i += size
        elif kind == NalType.FU_A:
            if len(payload) < 2:
                return
            fu_header = payload[1]
            if fu_header & 0x80:  # start
                self._fu = bytearray([(payload[0] & 0xE0) | (fu_header & 0x1F)])
                self._fu += payload[2:]
            elif self._fu is not None:
                self._fu += payload[2:]
            else:
                return  # middle of a NAL whose start we lost (already counted as a gap)
            if fu_header & 0x40 and self._fu is not None:  # end
                self._add_nal(bytes(self._fu))
                self._fu = None
        # other types (STAP-B, MTAP, FU-B) are not used by PX4 or IP cameras in non-interleaved mode

    def _add_nal(self, nal: bytes) -> None:
        kind = nal_type(nal)
        if kind == NalType.SPS:
            self._sps = nal
        elif kind == NalType.PPS:
            self._pps = nal
        self._nals.append(nal)

    def _emit(self, out: list[AccessUnit]) -> None:
        nals = self._nals
        if not any(is_vcl(nal) for nal in nals):
            # Parameter sets or SEI alone (some cameras mark them): keep them for the picture.
            return
        self._nals = []
        timestamp = self._timestamp if self._timestamp is not None else 0
        keyframe = any(nal_type(nal) == NalType.IDR for nal in nals)
        if keyframe:
            if self._sps is None or self._pps is None:
                self.dropped_units += 1
                return
            body = [nal for nal in nals if nal_type(nal) not in (NalType.SPS, NalType.PPS)]
            nals = [self._sps, self._pps, *body]
            self._need_keyframe = False
        elif self._need_keyframe:
            self.dropped_units += 1
            return
        out.append(AccessUnit(tuple(nals), timestamp, keyframe))
