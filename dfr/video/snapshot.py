"""A JPEG of the latest keyframe: decode that one access unit with PyAV, encode MJPEG.

Runs in a worker thread (``asyncio.to_thread``); only the snapshot endpoint pays for it,
never the relay path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from fractions import Fraction

import av

from dfr.errors import VideoError
from dfr.video.h264 import join_annexb


def keyframe_to_jpeg(nals: Sequence[bytes], quality: int = 5) -> bytes:
    """Decode one keyframe access unit (SPS, PPS, slices) and return a JPEG."""
    decoder = av.CodecContext.create("h264", "r")
    try:
        frames = decoder.decode(av.Packet(join_annexb(nals)))
        frames += decoder.decode(None)
    except av.FFmpegError as exc:
        raise VideoError(f"cannot decode the keyframe for a snapshot: {exc}") from exc
    if not frames:
        raise VideoError("the keyframe decoded to no picture")
    picture = frames[0].reformat(format="yuvj420p")
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width = picture.width
    encoder.height = picture.height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 30)
    encoder.qmin = encoder.qmax = quality
    packets = encoder.encode(picture) + encoder.encode(None)
    if not packets:
        raise VideoError("JPEG encoder produced nothing")
    return bytes(packets[0])


async def snapshot_jpeg(nals: Sequence[bytes]) -> bytes:
    """:func:`keyframe_to_jpeg` off the event loop."""
    return await asyncio.to_thread(keyframe_to_jpeg, tuple(nals))
