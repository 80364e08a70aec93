"""Reading back what the relay sends, independently of dfr's writer: boxes, fragments, SEI."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import av

from dfr.video.h264 import read_capture_time_us, split_avcc


def boxes(data: bytes) -> dict[bytes, bytes]:
    """Top-level boxes of ``data``: type -> body (last one wins)."""
    out: dict[bytes, bytes] = {}
    i = 0
    while i + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, i)
        out[kind] = data[i + 8 : i + size]
        i += size
    return out


@dataclass(frozen=True)
class Fragment:
    sequence: int  # mfhd sequence_number: the relay's frame index
    decode_time: int
    duration: int
    sync: bool
    nals: list[bytes]

    @property
    def capture_time_us(self) -> int | None:
        return read_capture_time_us(self.nals)


def read_fragment(data: bytes) -> Fragment:
    top = boxes(data)
    moof = boxes(top[b"moof"])
    (sequence,) = struct.unpack_from(">I", moof[b"mfhd"], 4)
    traf = boxes(moof[b"traf"])
    (decode_time,) = struct.unpack_from(">Q", traf[b"tfdt"], 4)
    _count, _offset, duration, _size, flags = struct.unpack_from(">IiIII", traf[b"trun"], 4)
    return Fragment(
        sequence, decode_time, duration, not flags & 0x00010000, split_avcc(top[b"mdat"])
    )


def decode_fmp4(init: bytes, fragments: list[bytes]) -> list[av.VideoFrame]:
    """Decode init segment + fragments with PyAV's own mp4 demuxer and H.264 decoder."""
    with av.open(io.BytesIO(init + b"".join(fragments)), format="mp4") as container:
        return list(container.decode(video=0))
