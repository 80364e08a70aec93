"""A small fragmented-MP4 (ISO/IEC 14496-12, -15) writer for live H.264, one frame per fragment.

Why our own: PyAV/FFmpeg's mp4 muxer holds a frame back (it needs the next frame's time for
the sample duration) and with ``frag_keyframe`` waits for a whole GOP. Here the init segment
(``ftyp`` + ``moov`` with ``avcC``, zero durations, ``mvex``/``trex``) is written once per
codec configuration, and each access unit becomes one ``moof`` + ``mdat`` the moment it
arrives. The sample duration is the previous frame interval (an estimate; players place
samples by ``tfdt``). Samples are AVCC (4-byte lengths); SPS/PPS live in ``avcC``.
"""

from __future__ import annotations

import struct

from dfr.errors import VideoError

TRACK_ID = 1
DEFAULT_TIMESCALE_HZ = 90_000
_UNITY_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
# sample_flags (14496-12 8.8.3.1): sync = depends on nothing; non-sync = depends, non-sync bit
SYNC_SAMPLE_FLAGS = 0x02000000
NON_SYNC_SAMPLE_FLAGS = 0x01010000


def box(kind: bytes, *payloads: bytes) -> bytes:
    body = b"".join(payloads)
    return struct.pack(">I", 8 + len(body)) + kind + body


def full_box(kind: bytes, version: int, flags: int, *payloads: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *payloads)


def avc_decoder_configuration(sps: bytes, pps: bytes) -> bytes:
    """The ``avcC`` payload (AVCDecoderConfigurationRecord), 4-byte NAL lengths."""
    if len(sps) < 4:
        raise VideoError("SPS too short for avcC")
    return (
        bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1])
        + struct.pack(">H", len(sps))
        + sps
        + b"\x01"
        + struct.pack(">H", len(pps))
        + pps
    )


def init_segment(
    sps: bytes, pps: bytes, width_px: int, height_px: int, timescale_hz: int = DEFAULT_TIMESCALE_HZ
) -> bytes:
    """``ftyp`` + ``moov`` for one live H.264 video track (duration 0, fragments follow)."""
    ftyp = box(b"ftyp", b"iso5", struct.pack(">I", 512), b"iso5", b"iso6", b"mp41", b"avc1")
    mvhd = full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, 1000, 0),  # creation, modification, timescale, duration
        struct.pack(">IH", 0x10000, 0x100),
        bytes(10),  # rate, volume, reserved
        _UNITY_MATRIX,
        bytes(24),  # matrix, pre_defined
        struct.pack(">I", TRACK_ID + 1),  # next_track_ID
    )
    tkhd = full_box(
        b"tkhd",
        0,
        0x3,  # enabled, in movie
        struct.pack(">IIIII", 0, 0, TRACK_ID, 0, 0),
        bytes(8),
        struct.pack(">hhhH", 0, 0, 0, 0),
        _UNITY_MATRIX,
        struct.pack(">II", width_px << 16, height_px << 16),
    )
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale_hz, 0, 0x55C4, 0))
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I", 0), b"vide", bytes(12), b"dfr video\x00")
    vmhd = full_box(b"vmhd", 0, 1, bytes(8))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    avc1 = box(
        b"avc1",
        bytes(6),
        struct.pack(">H", 1),  # reserved, data_reference_index
        bytes(16),  # pre_defined, reserved
        struct.pack(">HH", width_px, height_px),
        struct.pack(">III", 0x480000, 0x480000, 0),  # 72 dpi, reserved
        struct.pack(">H", 1),
        bytes(32),  # frame_count, compressorname
        struct.pack(">Hh", 0x18, -1),  # depth, pre_defined
        box(b"avcC", avc_decoder_configuration(sps, pps)),
    )
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), avc1),
        full_box(b"stts", 0, 0, struct.pack(">I", 0)),
        full_box(b"stsc", 0, 0, struct.pack(">I", 0)),
        full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0)),
        full_box(b"stco", 0, 0, struct.pack(">I", 0)),
    )
    minf = box(b"minf", vmhd, dinf, stbl)
    trak = box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, minf))
    trex = full_box(b"trex", 0, 0, struct.pack(">IIIII", TRACK_ID, 1, 0, 0, 0))
    moov = box(b"moov", mvhd, trak, box(b"mvex", trex))
    return ftyp + moov


def media_fragment(
    sequence: int, decode_time: int, duration: int, sample: bytes, keyframe: bool
) -> bytes:
    """One ``moof`` + ``mdat`` holding one AVCC sample at ``decode_time`` (timescale units)."""
    flags = SYNC_SAMPLE_FLAGS if keyframe else NON_SYNC_SAMPLE_FLAGS
    mfhd = full_box(b"mfhd", 0, 0, struct.pack(">I", sequence & 0xFFFFFFFF))
    tfhd = full_box(b"tfhd", 0, 0x020000, struct.pack(">I", TRACK_ID))  # default-base-is-moof
    tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", decode_time))
    # trun: data-offset, sample-duration, sample-size, sample-flags present
    trun_flags = 0x000001 | 0x000100 | 0x000200 | 0x000400
    moof_size = 8 + len(mfhd) + 8 + len(tfhd) + len(tfdt) + (8 + 4 + 4 + 4 + 12)
    trun = full_box(
        b"trun",
        0,
        trun_flags,
        struct.pack(">IiIII", 1, moof_size + 8, duration, len(sample), flags),
    )
    moof = box(b"moof", mfhd, box(b"traf", tfhd, tfdt, trun))
    return moof + struct.pack(">I", 8 + len(sample)) + b"mdat" + sample
