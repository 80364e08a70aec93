"""Recording one flight's video to MP4 by remuxing (never transcoding), then hashing it.

The file is a *fragmented* MP4 (``empty_moov``: the header first, then one ``moof`` +
``mdat`` per keyframe or per :data:`FRAGMENT_S` of video), each fragment handed to the
kernel as soon as it is complete and the file fsync'ed at least every
:data:`FSYNC_INTERVAL_S`. So if the process dies, what is on disk plays up to about the
last second written; :func:`read_back` measures such a file.

The event loop hands access units to :meth:`Recorder.write` (it never blocks); a worker
thread owned by the recorder muxes them with PyAV (``add_mux_stream``: no codec context,
packets go straight to FFmpeg's mp4 muxer, which takes SPS/PPS from the first keyframe).
Timestamps are the RTP timestamps unwrapped to 64 bits, starting at 0; across a source
restart or pause (RTP time jumping or disagreeing with arrival times by more than 5 s) the
arrival time is used, so the file keeps the flight's real duration, pauses included.
Recording starts at the first keyframe. :meth:`Recorder.close` finishes the file and
returns its SHA-256.
"""

from __future__ import annotations

import asyncio
import fractions
import hashlib
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import av

from dfr.errors import VideoError
from dfr.video.h264 import NalType, join_annexb, nal_type, parse_sps
from dfr.video.rtp import H264_CLOCK_HZ, AccessUnit

logger = logging.getLogger(__name__)

_TIME_BASE = fractions.Fraction(1, H264_CLOCK_HZ)
_MAX_STEP = 5 * H264_CLOCK_HZ
_HASH_CHUNK_BYTES = 1 << 20
FRAGMENT_S = 0.5  # at most this much video waits in the muxer for its fragment
FSYNC_INTERVAL_S = 1.0  # and at most this long in the page cache (power loss)
_FSYNC_NS = int(FSYNC_INTERVAL_S * 1e9)
MUXER_OPTIONS = {
    # the moov (no samples) first, then self-contained fragments: playable while growing
    "movflags": "frag_keyframe+empty_moov+default_base_moof",
    "frag_duration": str(int(FRAGMENT_S * 1_000_000)),  # microseconds
    "flush_packets": "1",  # each fragment leaves FFmpeg's buffer when it is written
}


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    """A finished recording: where it is, how long, how big, and its SHA-256."""

    path: Path
    duration_s: float
    size_bytes: int
    sha256_hex: str
    frame_count: int
    started_at: datetime | None
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class FileMeasure:
    """What a recording file holds, read back with PyAV's demuxer (no decoding)."""

    duration_s: float
    frame_count: int
    size_bytes: int
    readable: bool  # False: no header, or not an MP4 at all
    last_write: datetime | None  # the file's mtime: when writing stopped


def read_back(path: Path) -> FileMeasure:
    """Measure an MP4 that may have been cut short (a crash): the packets that can be
    read, from the first to the end of the last; a torn last fragment ends the count."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return FileMeasure(0.0, 0, 0, False, None)
    size_bytes = status.st_size
    last_write = datetime.fromtimestamp(status.st_mtime, UTC)
    if size_bytes == 0:
        return FileMeasure(0.0, 0, 0, False, last_write)
    first: int | None = None
    end = 0
    count = 0
    try:
        with av.open(str(path), "r") as container:
            stream = container.streams.video[0]
            time_base = stream.time_base or _TIME_BASE
            try:
                for packet in container.demux(stream):
                    if packet.size == 0 or packet.pts is None:
                        continue
                    first = packet.pts if first is None else min(first, packet.pts)
                    end = max(end, packet.pts + (packet.duration or 0))
                    count += 1
            except av.FFmpegError:  # torn at the end: keep what came before
                logger.info("%s: cut short after %d frames", path, count)
    except (av.FFmpegError, IndexError):
        return FileMeasure(0.0, 0, size_bytes, False, last_write)
    duration_s = float((end - first) * time_base) if first is not None else 0.0
    return FileMeasure(duration_s, count, size_bytes, True, last_write)


def _fsync_dir(path: Path) -> None:
    """Make the file's name durable too (a new file's directory entry)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


class Recorder:
    """Writes one fragmented MP4 file from access units; ``close()`` returns
    :class:`RecordingInfo`."""

    def __init__(self, path: Path, label: str = "") -> None:
        self.path = path
        self._label = label
        self._queue: queue.SimpleQueue[AccessUnit | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"{label}: recorder", daemon=True)
        self._closed = False
        self._error: BaseException | None = None
        self._frame_count = 0
        self._first_ts: int | None = None
        self._last_ts = 0
        self._frame_step = H264_CLOCK_HZ // 30
        self._started_at: datetime | None = None
        self._ended_at: datetime | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        logger.info("%s: recording to %s", label, path)

    def write(self, unit: AccessUnit) -> None:
        """Queue one access unit (never blocks; the thread catches up)."""
        if not self._closed:
            self._queue.put(unit)

    async def close(self) -> RecordingInfo:
        """Finish the file (off the event loop), hash it, and describe it."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
        await asyncio.to_thread(self._thread.join)
        if self._error is not None:
            raise VideoError(f"{self._label}: recording {self.path} failed: {self._error}")
        if self._frame_count == 0:
            info = RecordingInfo(self.path, 0.0, 0, "", 0, None, None)
            logger.info("%s: recording %s has no frames", self._label, self.path)
            return info
        size_bytes = self.path.stat().st_size
        sha256_hex = await asyncio.to_thread(sha256_file, self.path)
        duration_s = (self._last_ts + self._frame_step) / H264_CLOCK_HZ
        logger.info(
            "%s: recording %s closed: %.1f s, %d bytes, sha256 %s",
            self._label,
            self.path,
            duration_s,
            size_bytes,
            sha256_hex,
        )
        return RecordingInfo(
            self.path,
            duration_s,
            size_bytes,
            sha256_hex,
            self._frame_count,
            self._started_at,
            self._ended_at,
        )

    def _run(self) -> None:
        """The worker thread: mux queued access units until ``None``, fsync'ing as it goes."""
        container: av.container.OutputContainer | None = None
        stream: av.stream.Stream | None = None
        prev_rtp: int | None = None
        prev_arrival_ns = 0
        sync_fd: int | None = None  # our own descriptor on the file, for fsync
        synced_ns = 0
        try:
            while (unit := self._queue.get()) is not None:
                if container is None:
                    if not unit.keyframe:
                        continue
                    container, stream = self._open_container(unit)
                else:
                    assert prev_rtp is not None
                    self._advance_timestamp(unit, prev_rtp, prev_arrival_ns)
                prev_rtp = unit.rtp_timestamp
                prev_arrival_ns = unit.arrival_ns
                container.mux(self._packet(unit, stream))
                if sync_fd is None:  # the header is written now: the file exists
                    sync_fd = os.open(self.path, os.O_RDONLY)
                    _fsync_dir(self.path.parent)
                    synced_ns = time.monotonic_ns()
                self._frame_count += 1
                self._ended_at = datetime.now(UTC)
                if sync_fd is not None and time.monotonic_ns() - synced_ns >= _FSYNC_NS:
                    os.fsync(sync_fd)
                    synced_ns = time.monotonic_ns()
        except Exception as exc:  # reported by close(); the thread must not die silently
            logger.exception("%s: recorder failed", self._label)
            self._error = exc
            while self._queue.get() is not None:  # drain until close()
                pass
        finally:
            self._close_file(container, sync_fd)

    def _open_container(
        self, unit: AccessUnit
    ) -> tuple[av.container.OutputContainer, av.stream.Stream]:
        """Start the file at the first keyframe, sized from its SPS."""
        sps = next(nal for nal in unit.nals if nal_type(nal) == NalType.SPS)
        size = parse_sps(sps)
        container = av.open(str(self.path), "w", format="mp4", options=dict(MUXER_OPTIONS))
        stream = container.add_mux_stream("h264", width=size.width_px, height=size.height_px)
        stream.time_base = _TIME_BASE
        self._started_at = datetime.now(UTC)
        self._first_ts = 0
        return container, stream

    def _advance_timestamp(self, unit: AccessUnit, prev_rtp: int, prev_arrival_ns: int) -> None:
        """Move ``_last_ts`` on by the RTP step, or by the arrival step if RTP time jumped."""
        step = (unit.rtp_timestamp - prev_rtp) & 0xFFFFFFFF
        arrival_step = (unit.arrival_ns - prev_arrival_ns) * H264_CLOCK_HZ // 10**9
        if 0 < step <= _MAX_STEP and abs(step - arrival_step) < _MAX_STEP:
            self._frame_step = step
        else:  # source restarted or paused: its clock says nothing, ours does
            step = max(arrival_step, 1)
        self._last_ts += step

    def _packet(
        self, unit: AccessUnit, stream: av.stream.Stream | None
    ) -> av.Packet[av.stream.Stream]:
        packet = av.Packet(join_annexb(unit.nals))
        packet.pts = packet.dts = self._last_ts
        packet.duration = self._frame_step
        packet.time_base = _TIME_BASE
        packet.is_keyframe = unit.keyframe
        if stream is not None:
            packet.stream = stream
        return packet

    def _close_file(
        self, container: av.container.OutputContainer | None, sync_fd: int | None
    ) -> None:
        """Finish the muxer and fsync the file; the first error is kept for close()."""
        if container is not None:
            try:
                container.close()
            except Exception as exc:
                self._error = self._error or exc
        if sync_fd is not None:
            try:
                os.fsync(sync_fd)
            except OSError as exc:
                self._error = self._error or exc
            finally:
                os.close(sync_fd)
