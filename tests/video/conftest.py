from __future__ import annotations

import fractions

import av
import numpy as np
import pytest

from dfr.video.h264 import NalType, build_capture_time_sei, nal_type, split_annexb
from dfr.video.rtp import AccessUnit

FRAME_STEP = 3000  # 90 kHz at 30 fps


def encode_units(
    count: int, keyint: int = 10, width: int = 160, height: int = 128
) -> list[AccessUnit]:
    """Real H.264 access units (x264, zerolatency) with capture-time SEIs, like the camera's."""
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = fractions.Fraction(1, 90_000)
    encoder.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0:repeat-headers=1",
    }
    units: list[AccessUnit] = []
    rng = np.random.default_rng(1)
    for index in range(count):
        picture = rng.integers(0, 255, (height * 3 // 2, width), dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
        frame.pts = index * FRAME_STEP
        for packet in encoder.encode(frame):
            nals = split_annexb(bytes(packet))
            nals.insert(2 if packet.is_keyframe else 0, build_capture_time_sei(1_000_000 + index))
            keyframe = any(nal_type(n) == NalType.IDR for n in nals)
            units.append(AccessUnit(tuple(nals), 1000 + index * FRAME_STEP, keyframe))
    return units


@pytest.fixture(scope="session")
def units() -> list[AccessUnit]:
    return encode_units(40)
