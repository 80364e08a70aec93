"""H.264 bitstream pieces: NAL units, SPS fields, the MSE codec string, capture-time SEI.

Only what the relay needs, written from ITU-T H.264 (7.3 syntax, 7.4 semantics, D.1.6
user_data_unregistered). Nothing here decodes pictures.

Capture time SEI: every frame of the simulated camera carries an SEI NAL (type 6) with a
``user_data_unregistered`` payload (payload type 5) whose 16-byte UUID is
:data:`CAPTURE_TIME_UUID` followed by the capture time as 8-byte big-endian microseconds since
the Unix epoch (wall clock, UTC). Anything downstream that sees the bitstream can measure
latency with it.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from dfr.errors import VideoError

#: UUID of the dfr capture-time SEI (user_data_unregistered). Fixed; documented in README.
CAPTURE_TIME_UUID = uuid.UUID("6466722d-6361-7074-7572-652d74696d65")  # "dfr-capture-time"


class NalType(IntEnum):
    """The NAL unit types the relay looks at (H.264 table 7-1)."""

    SLICE = 1
    IDR = 5
    SEI = 6
    SPS = 7
    PPS = 8
    AUD = 9
    STAP_A = 24  # RTP aggregation (RFC 6184)
    FU_A = 28  # RTP fragmentation (RFC 6184)


PARAMETER_SET_TYPES = frozenset({NalType.SPS, NalType.PPS})
START_CODE = b"\x00\x00\x00\x01"


def nal_type(nal: bytes) -> int:
    """The nal_unit_type of one NAL unit (without start code)."""
    return nal[0] & 0x1F


def is_vcl(nal: bytes) -> bool:
    """True for coded slice NAL units (types 1..5)."""
    return 1 <= nal_type(nal) <= 5


def split_annexb(data: bytes) -> list[bytes]:
    """Split an Annex-B byte stream (3- or 4-byte start codes) into NAL units."""
    nals: list[bytes] = []
    n = len(data)
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        start = i + 3
        nxt = data.find(b"\x00\x00\x01", start)
        end = n if nxt < 0 else nxt
        nal = data[start:end].rstrip(b"\x00") if nxt >= 0 else data[start:end]
        if nal:
            nals.append(nal)
        i = nxt
    return nals


def join_annexb(nals: Iterable[bytes]) -> bytes:
    """Annex-B byte stream from NAL units (4-byte start codes)."""
    return b"".join(START_CODE + nal for nal in nals)


def join_avcc(nals: Iterable[bytes]) -> bytes:
    """AVCC sample (4-byte big-endian length before each NAL) from NAL units."""
    return b"".join(struct.pack(">I", len(nal)) + nal for nal in nals)


def split_avcc(data: bytes) -> list[bytes]:
    """NAL units from an AVCC sample with 4-byte lengths."""
    nals: list[bytes] = []
    i = 0
    while i + 4 <= len(data):
        (size,) = struct.unpack_from(">I", data, i)
        i += 4
        nals.append(data[i : i + size])
        i += size
    return nals


def unescape_rbsp(nal_payload: bytes) -> bytes:
    """Remove emulation-prevention bytes (00 00 03 -> 00 00)."""
    if b"\x00\x00\x03" not in nal_payload:
        return nal_payload
    out = bytearray()
    zeros = 0
    for byte in nal_payload:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def escape_rbsp(rbsp: bytes) -> bytes:
    """Insert emulation-prevention bytes so no 00 00 0x (x <= 3) appears."""
    out = bytearray()
    zeros = 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


class _BitReader:
    """Reads bits and Exp-Golomb codes from an RBSP."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def bit(self) -> int:
        byte_index = self._pos >> 3
        if byte_index >= len(self._data):
            raise VideoError("SPS is truncated")
        value = (self._data[byte_index] >> (7 - (self._pos & 7))) & 1
        self._pos += 1
        return value

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            value = (value << 1) | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise VideoError("bad Exp-Golomb code in SPS")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code & 1 else -(code // 2)


@dataclass(frozen=True, slots=True)
class SpsInfo:
    """The SPS fields a player needs: profile, level, picture size."""

    profile_idc: int
    constraint_flags: int
    level_idc: int
    width_px: int
    height_px: int

    @property
    def codec_string(self) -> str:
        """RFC 6381 codec string for MSE / WebCodecs, e.g. ``avc1.42e01f``."""
        return f"avc1.{self.profile_idc:02x}{self.constraint_flags:02x}{self.level_idc:02x}"


_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})


def _skip_scaling_list(reader: _BitReader, size: int) -> None:
    last, nxt = 8, 8
    for _ in range(size):
        if nxt != 0:
            nxt = (last + reader.se() + 256) % 256
        last = nxt if nxt != 0 else last


def parse_sps(nal: bytes) -> SpsInfo:
    """Profile, constraint flags, level and cropped picture size from an SPS NAL unit."""
    if not nal or nal_type(nal) != NalType.SPS:
        raise VideoError("not an SPS NAL unit")
    rbsp = unescape_rbsp(nal[1:])
    if len(rbsp) < 4:
        raise VideoError("SPS is truncated")
    profile_idc, constraint_flags, level_idc = rbsp[0], rbsp[1], rbsp[2]
    reader = _BitReader(rbsp[3:])
    reader.ue()  # seq_parameter_set_id
    chroma_format_idc = 1
    separate_colour_plane = 0
    if profile_idc in _HIGH_PROFILES:
        chroma_format_idc = reader.ue()
        if chroma_format_idc == 3:
            separate_colour_plane = reader.bit()
        reader.ue()  # bit_depth_luma_minus8
        reader.ue()  # bit_depth_chroma_minus8
        reader.bit()  # qpprime_y_zero_transform_bypass_flag
        if reader.bit():  # seq_scaling_matrix_present_flag
            for index in range(8 if chroma_format_idc != 3 else 12):
                if reader.bit():
                    _skip_scaling_list(reader, 16 if index < 6 else 64)
    reader.ue()  # log2_max_frame_num_minus4
    pic_order_cnt_type = reader.ue()
    if pic_order_cnt_type == 0:
        reader.ue()  # log2_max_pic_order_cnt_lsb_minus4
    elif pic_order_cnt_type == 1:
        reader.bit()
        reader.se()
        reader.se()
        for _ in range(reader.ue()):
            reader.se()
    reader.ue()  # max_num_ref_frames
    reader.bit()  # gaps_in_frame_num_value_allowed_flag
    width_mbs = reader.ue() + 1
    height_map_units = reader.ue() + 1
    frame_mbs_only = reader.bit()
    if not frame_mbs_only:
        reader.bit()  # mb_adaptive_frame_field_flag
    reader.bit()  # direct_8x8_inference_flag
    width_px = width_mbs * 16
    height_px = height_map_units * 16 * (2 - frame_mbs_only)
    if reader.bit():  # frame_cropping_flag
        left, right, top, bottom = reader.ue(), reader.ue(), reader.ue(), reader.ue()
        chroma_array_type = 0 if separate_colour_plane else chroma_format_idc
        crop_x = 1 if chroma_array_type == 0 else (2 if chroma_array_type in (1, 2) else 1)
        crop_y = 1 if chroma_array_type == 0 else (2 if chroma_array_type == 1 else 1)
        crop_y *= 2 - frame_mbs_only
        width_px -= crop_x * (left + right)
        height_px -= crop_y * (top + bottom)
    return SpsInfo(profile_idc, constraint_flags, level_idc, width_px, height_px)


def build_capture_time_sei(capture_time_us: int) -> bytes:
    """An SEI NAL unit (no start code) carrying the capture time in our user-data UUID."""
    payload = CAPTURE_TIME_UUID.bytes + struct.pack(">Q", capture_time_us)
    rbsp = bytes([5, len(payload)]) + payload + b"\x80"  # payload type 5, size, trailing bits
    return bytes([NalType.SEI]) + escape_rbsp(rbsp)


def read_capture_time_us(nals: Sequence[bytes]) -> int | None:
    """The capture time (µs since the epoch) from our SEI among ``nals``, or None."""
    for nal in nals:
        if not nal or nal_type(nal) != NalType.SEI:
            continue
        rbsp = unescape_rbsp(nal[1:])
        i = 0
        while i < len(rbsp) and rbsp[i] != 0x80:
            payload_type = 0
            while i < len(rbsp) and rbsp[i] == 0xFF:
                payload_type += 255
                i += 1
            if i >= len(rbsp):
                break
            payload_type += rbsp[i]
            i += 1
            size = 0
            while i < len(rbsp) and rbsp[i] == 0xFF:
                size += 255
                i += 1
            if i >= len(rbsp):
                break
            size += rbsp[i]
            i += 1
            body = rbsp[i : i + size]
            i += size
            if payload_type == 5 and len(body) >= 24 and body[:16] == CAPTURE_TIME_UUID.bytes:
                (value,) = struct.unpack_from(">Q", body, 16)
                return int(value)
    return None
