"""H.264 parsing: SPS fields from real x264 output, capture-time SEI, Annex-B/AVCC framing."""

from __future__ import annotations

import fractions

import av
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dfr.errors import VideoError
from dfr.video.h264 import (
    CAPTURE_TIME_UUID,
    NalType,
    build_capture_time_sei,
    escape_rbsp,
    join_annexb,
    join_avcc,
    nal_type,
    parse_sps,
    read_capture_time_us,
    split_annexb,
    split_avcc,
    unescape_rbsp,
)


def encode_one(width: int, height: int, profile: str) -> list[bytes]:
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = fractions.Fraction(1, 90_000)
    encoder.options = {"tune": "zerolatency", "profile": profile, "preset": "veryfast"}
    frame = av.VideoFrame.from_ndarray(
        np.zeros((height * 3 // 2, width), np.uint8), format="yuv420p"
    )
    frame.pts = 0
    packets = encoder.encode(frame) + encoder.encode(None)
    return split_annexb(bytes(packets[0]))


@pytest.mark.parametrize(
    ("width", "height", "profile", "profile_idc"),
    [(320, 240, "baseline", 66), (1280, 720, "baseline", 66), (640, 360, "high", 100)],
)
def test_sps_of_x264_output_gives_size_and_codec_string(
    width: int, height: int, profile: str, profile_idc: int
) -> None:
    nals = encode_one(width, height, profile)
    sps = next(nal for nal in nals if nal_type(nal) == NalType.SPS)
    info = parse_sps(sps)
    assert (info.width_px, info.height_px) == (width, height)  # 360 and 720 need cropping
    assert info.profile_idc == profile_idc
    assert info.codec_string == f"avc1.{sps[1]:02x}{sps[2]:02x}{sps[3]:02x}"


def test_parse_sps_refuses_other_nal_units() -> None:
    with pytest.raises(VideoError):
        parse_sps(bytes([NalType.PPS, 1, 2, 3]))


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_capture_time_sei_round_trips(capture_time_us: int) -> None:
    sei = build_capture_time_sei(capture_time_us)
    assert nal_type(sei) == NalType.SEI
    assert b"\x00\x00\x00" not in sei and b"\x00\x00\x01" not in sei  # start-code safe
    assert read_capture_time_us([bytes([NalType.SLICE, 0x88]), sei]) == capture_time_us


def test_sei_with_another_uuid_is_not_a_capture_time() -> None:
    sei = bytearray(build_capture_time_sei(123))
    sei[3] ^= 0xFF  # inside the UUID
    assert read_capture_time_us([bytes(sei)]) is None
    assert CAPTURE_TIME_UUID.bytes == b"dfr-capture-time"


@given(st.binary(max_size=200))
def test_emulation_prevention_round_trips(rbsp: bytes) -> None:
    escaped = escape_rbsp(rbsp)
    for i in range(len(escaped) - 2):
        assert not (escaped[i] == 0 and escaped[i + 1] == 0 and escaped[i + 2] <= 2)
    assert unescape_rbsp(escaped) == rbsp


def test_annexb_and_avcc_framing_round_trip() -> None:
    nals = [b"\x67\x42\x00\x1f", b"\x68\xce", b"\x65" + bytes(range(1, 200))]
    assert split_annexb(join_annexb(nals)) == nals
    assert split_annexb(b"\x00\x00\x01" + nals[0] + b"\x00\x00\x00\x01" + nals[1]) == nals[:2]
    assert split_avcc(join_avcc(nals)) == nals
