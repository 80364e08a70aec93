"""The camera's side of H.264 over RTP: Annex-B splitting, the capture-time SEI, RFC 6184
packetization. Written for the simulated camera alone, so that the relay's depacketizer
(``dfr.video``) checks it rather than shares its mistakes.

* Annex-B (H.264 Annex B.1): NAL units separated by ``00 00 01`` start codes, a leading
  zero byte making a 4-byte start code; trailing zero bytes belong to no NAL unit.
* Capture-time SEI: an SEI NAL unit (type 6) holding one ``user_data_unregistered``
  message (payload type 5, H.264 D.1.6) of 24 bytes: the 16 bytes of the UUID
  ``6466722d-6361-7074-7572-652d74696d65`` (ASCII ``dfr-capture-time``), then the
  capture time as 8 bytes big-endian microseconds since the Unix epoch (UTC wall clock);
  then the RBSP stop bit; emulation prevention applied (H.264 7.4.1).
* RTP (RFC 3550 §5.1): version 2, no padding, extension or CSRCs; marker bit on the last
  packet of an access unit (RFC 6184 §5.1); sequence numbers +1 per packet modulo 2^16.
* Payloads (RFC 6184, packetization-mode 1 without aggregation): a NAL unit that fits is
  sent whole (single NAL unit packet, §5.6); a larger one is cut into FU-A fragments
  (§5.8): FU indicator = the NAL header's F and NRI bits with type 28, FU header = S
  (first), E (last), R = 0 and the NAL's type, then a slice of the NAL after its header.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

NAL_SLICE = 1
NAL_IDR = 5
NAL_SEI = 6
NAL_FU_A = 28

RTP_HEADER_BYTES = 12
DEFAULT_PAYLOAD_TYPE = 96  # dynamic, as in the camera's SDP
DEFAULT_MTU_BYTES = 1212  # whole RTP packet (header + payload): 1200 payload bytes at most

CAPTURE_TIME_UUID = b"dfr-capture-time"  # 6466722d-6361-7074-7572-652d74696d65
SEI_USER_DATA_UNREGISTERED = 5


def nal_unit_type(nal: bytes) -> int:
    """The low five bits of the NAL header."""
    return nal[0] & 0x1F


def split_annexb(stream: bytes) -> list[bytes]:
    """NAL units (no start codes) of an Annex-B byte stream."""
    nals: list[bytes] = []
    start = -1  # first byte of the current NAL unit
    i = 0
    end = len(stream)
    while i + 2 < end:
        if stream[i + 2] > 1:  # no start code can end before i + 3
            i += 3
            continue
        if stream[i] == 0 and stream[i + 1] == 0 and stream[i + 2] == 1:
            if start >= 0:
                nals.append(stream[start:i])
            start = i + 3
            i += 3
        else:
            i += 1
    if start >= 0:
        nals.append(stream[start:])
    # zero bytes before a start code (a 4-byte start code, trailing_zero_8bits) end no NAL
    return [stripped for nal in nals if (stripped := nal.rstrip(b"\x00"))]


def _emulation_prevent(rbsp: bytes) -> bytes:
    """Insert 0x03 after every two zero bytes that a byte <= 3 follows (H.264 7.4.1)."""
    out = bytearray()
    zeros = 0
    for byte in rbsp:
        if zeros == 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def capture_time_sei(capture_time_us: int) -> bytes:
    """The capture-time SEI NAL unit (no start code) for a capture time in µs since 1970."""
    body = CAPTURE_TIME_UUID + struct.pack(">Q", capture_time_us)
    message = bytes([SEI_USER_DATA_UNREGISTERED, len(body)]) + body
    return bytes([NAL_SEI]) + _emulation_prevent(message + b"\x80")


def with_capture_time(nals: list[bytes], capture_time_us: int) -> list[bytes]:
    """The access unit with the capture-time SEI put before its first slice (after any
    access unit delimiter, SPS and PPS, as H.264 7.4.1.2.3 orders them)."""
    first_slice = next(
        (i for i, nal in enumerate(nals) if nal_unit_type(nal) in (NAL_SLICE, NAL_IDR)),
        len(nals),
    )
    return [*nals[:first_slice], capture_time_sei(capture_time_us), *nals[first_slice:]]


def nal_payloads(nal: bytes, max_payload_bytes: int) -> list[bytes]:
    """RTP payloads carrying one NAL unit: itself if it fits, else FU-A fragments."""
    if len(nal) <= max_payload_bytes:
        return [nal]
    indicator = (nal[0] & 0xE0) | NAL_FU_A
    kind = nal[0] & 0x1F
    step = max_payload_bytes - 2
    pieces = [nal[i : i + step] for i in range(1, len(nal), step)]
    payloads = []
    for index, piece in enumerate(pieces):
        fu_header = kind
        if index == 0:
            fu_header |= 0x80  # S
        if index == len(pieces) - 1:
            fu_header |= 0x40  # E
        payloads.append(bytes([indicator, fu_header]) + piece)
    return payloads


class RtpH264Packetizer:
    """One RTP stream (one SSRC): access units in, datagrams out.

    ``mtu_bytes`` bounds the whole RTP packet (12-byte header + payload). Not thread-safe:
    one camera worker owns it.
    """

    def __init__(
        self,
        *,
        ssrc: int,
        first_sequence: int,
        payload_type: int = DEFAULT_PAYLOAD_TYPE,
        mtu_bytes: int = DEFAULT_MTU_BYTES,
    ) -> None:
        if mtu_bytes < RTP_HEADER_BYTES + 3:
            raise ValueError(f"mtu_bytes {mtu_bytes} leaves no room for an FU-A fragment")
        if not 0 <= payload_type <= 127:
            raise ValueError(f"payload type {payload_type} is not 0..127")
        self.ssrc = ssrc & 0xFFFFFFFF
        self.payload_type = payload_type
        self.mtu_bytes = mtu_bytes
        self.next_sequence = first_sequence & 0xFFFF

    def packetize(self, nals: Iterable[bytes], rtp_timestamp: int) -> list[bytes]:
        """The RTP packets of one access unit, the last with the marker bit set."""
        max_payload = self.mtu_bytes - RTP_HEADER_BYTES
        payloads = [p for nal in nals if nal for p in nal_payloads(nal, max_payload)]
        packets = []
        for index, payload in enumerate(payloads):
            marker = 0x80 if index == len(payloads) - 1 else 0
            header = struct.pack(
                "!BBHII",
                0x80,  # V=2, P=0, X=0, CC=0
                marker | self.payload_type,
                self.next_sequence,
                rtp_timestamp & 0xFFFFFFFF,
                self.ssrc,
            )
            self.next_sequence = (self.next_sequence + 1) & 0xFFFF
            packets.append(header + payload)
        return packets
