"""Fan-out of one drone's video to any number of viewers, without ever waiting for one.

Each access unit is turned once into a shared :class:`MediaFrame` (an fMP4 fragment and a
timestamped Annex-B unit); every viewer's :class:`Subscription` gets a reference to it. The
hub keeps the codec configuration (codec string, size, init segment) and the current group
of pictures, so a new viewer starts with a keyframe at once.

Per viewer: a bounded queue. ``publish`` never awaits: when a viewer's queue is full, its
queued frames are dropped and it waits for the next keyframe, so it never sees a timestamp
gap except at a keyframe. The viewer's sender (``dfr.video.websocket``) also calls
:meth:`Subscription.skip_to_keyframe` when frames wait too long or the socket's send
buffer backs up — a queue alone let slow viewers drift seconds behind.

Timeline: the hub keeps its own 90 kHz decode timeline, advanced by the RTP timestamp
difference between frames; after a source loss, a restart or a jump larger than 5 s it
advances by one frame interval instead, so viewers see one continuous stream (no hole for
a Media Source buffer to stall on). Recordings keep real time instead (see recorder).
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType

from dfr.video.fmp4 import init_segment, media_fragment
from dfr.video.h264 import (
    NalType,
    join_annexb,
    join_avcc,
    nal_type,
    parse_sps,
    read_capture_time_us,
)
from dfr.video.rtp import H264_CLOCK_HZ, AccessUnit

logger = logging.getLogger(__name__)

#: Header before each Annex-B unit on ``?format=annexb``: timestamp µs (hub timeline),
#: flags (bit 0 = keyframe), capture time µs since the epoch (0 = unknown); big-endian.
ANNEXB_HEADER = struct.Struct(">QBQ")
ANNEXB_FLAG_KEYFRAME = 0x01

_MAX_TIMESTAMP_STEP = 5 * H264_CLOCK_HZ
_DEFAULT_FRAME_DURATION = H264_CLOCK_HZ // 30


class StreamState(StrEnum):
    """The source as viewers see it."""

    WAITING = "waiting"  # no picture yet
    LIVE = "live"  # frames are arriving
    LOST = "lost"  # the source went silent; the last picture is stale


@dataclass(frozen=True, slots=True)
class CodecInfo:
    """What a player needs before the first frame."""

    codec: str  # RFC 6381, e.g. avc1.42c01f
    width_px: int
    height_px: int
    sps: bytes
    pps: bytes
    init_segment: bytes  # fMP4 ftyp+moov


@dataclass(frozen=True, slots=True)
class MediaFrame:
    """One access unit, prepared once for every viewer."""

    index: int
    keyframe: bool
    decode_time: int  # 90 kHz, hub timeline
    duration: int  # 90 kHz (estimate: previous frame interval)
    fragment: bytes  # fMP4 moof+mdat
    annexb: bytes  # ANNEXB_HEADER + Annex-B NAL units (SPS/PPS before keyframes)
    capture_time_us: int | None  # from the capture-time SEI, if the source sends it
    arrival_ns: int  # monotonic, when the access unit was complete
    codec: CodecInfo
    nals: tuple[bytes, ...]
    ws_fragment: bytes  # ``fragment`` framed as one websocket binary message (server side)
    ws_annexb: bytes  # ``annexb`` framed likewise

    @property
    def timestamp_us(self) -> int:
        return self.decode_time * 1_000_000 // H264_CLOCK_HZ


@dataclass(frozen=True, slots=True)
class StateChange:
    state: StreamState


HubItem = MediaFrame | StateChange | CodecInfo


class Subscription:
    """One viewer's bounded queue of hub items. Use as a context manager to unsubscribe."""

    def __init__(self, hub: VideoHub, max_frames: int) -> None:
        self._hub = hub
        self._max_frames = max_frames
        self._items: deque[HubItem] = deque()
        self._frames = 0
        self._ready = asyncio.Event()
        self.waiting_for_keyframe = True
        self.skipped_frames = 0
        self.skips = 0  # how many times this viewer was moved on to a keyframe
        self.closed = False
        self.live_from_index = hub.last_index  # frames up to here are the GOP replay
        # Inline delivery: when nothing is queued, publish hands the frame to this callable
        # (which writes it to the viewer's socket without awaiting); True = dealt with.
        self.direct_sink: Callable[[MediaFrame], bool] | None = None

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._hub._unsubscribe(self)
            self._ready.set()

    @property
    def queued_frames(self) -> int:
        return self._frames

    def _put(self, item: HubItem) -> None:
        self._items.append(item)
        if isinstance(item, MediaFrame):
            self._frames += 1
        self._ready.set()

    def _offer(self, frame: MediaFrame) -> None:
        """Called by the hub for each new frame; never blocks."""
        if self.waiting_for_keyframe:
            if not frame.keyframe:
                self.skipped_frames += 1
                return
            self.waiting_for_keyframe = False
        elif self._frames >= self._max_frames:
            if not self.skip_to_keyframe(keep_front=False) and not frame.keyframe:
                self.skipped_frames += 1
                return
            self.waiting_for_keyframe = False
        if self.direct_sink is not None and not self._items and self.direct_sink(frame):
            return
        self._put(frame)

    def skip_to_keyframe(self, *, keep_front: bool = True) -> bool:
        """Drop queued frames up to the newest queued keyframe, or all and wait for the next.

        With ``keep_front=False`` a keyframe that is already the first queued frame does not
        count (dropping nothing would not help a full queue). Returns True if the queue now
        starts at a queued keyframe.
        """
        self.skips += 1
        frames = [i for i, item in enumerate(self._items) if isinstance(item, MediaFrame)]
        keyframes = [
            i for i in frames if isinstance(item := self._items[i], MediaFrame) and item.keyframe
        ]
        if not keep_front and keyframes and keyframes[-1] == frames[0]:
            keyframes = []
        keep_from = keyframes[-1] if keyframes else len(self._items)
        kept: deque[HubItem] = deque()
        for i, item in enumerate(self._items):
            if isinstance(item, MediaFrame) and i < keep_from:
                self.skipped_frames += 1
                continue
            kept.append(item)
        self._items = kept
        self._frames = sum(1 for item in kept if isinstance(item, MediaFrame))
        if not keyframes:
            self.waiting_for_keyframe = True
        logger.debug("%s: viewer skipped to keyframe", self._hub.label)
        return bool(keyframes)

    async def get(self) -> HubItem:
        """The next item; raises :class:`asyncio.CancelledError` only if cancelled."""
        while not self._items:
            if self.closed:
                raise EOFError("subscription closed")
            self._ready.clear()
            await self._ready.wait()
        item = self._items.popleft()
        if isinstance(item, MediaFrame):
            self._frames -= 1
        return item


class VideoHub:
    """One drone's video: publish access units, subscribe viewers."""

    def __init__(self, label: str, *, max_queue_frames: int = 90) -> None:
        self.label = label
        self._max_queue_frames = max_queue_frames
        self._subscriptions: set[Subscription] = set()
        self._codec: CodecInfo | None = None
        self._gop: list[MediaFrame] = []
        self._state = StreamState.WAITING
        self._decode_time = 0
        self._last_rtp: int | None = None
        self._frame_duration = _DEFAULT_FRAME_DURATION
        self._index = 0
        self.frames_published = 0

    @property
    def state(self) -> StreamState:
        return self._state

    @property
    def codec(self) -> CodecInfo | None:
        return self._codec

    @property
    def latest_keyframe(self) -> MediaFrame | None:
        return self._gop[0] if self._gop else None

    @property
    def last_index(self) -> int:
        """Index of the newest published frame (0 before the first)."""
        return self._index

    @property
    def viewer_count(self) -> int:
        return len(self._subscriptions)

    def subscribe(self, max_frames: int | None = None) -> Subscription:
        """A new viewer: gets the codec info, the current state, then the GOP so far."""
        sub = Subscription(self, max_frames or self._max_queue_frames)
        if self._codec is not None:
            sub._put(self._codec)
        if self._state is not StreamState.LIVE:
            sub._put(StateChange(self._state))
        if self._gop:
            sub.waiting_for_keyframe = False
            for frame in self._gop:
                sub._put(frame)
        self._subscriptions.add(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        self._subscriptions.discard(sub)

    def set_state(self, state: StreamState) -> None:
        if state is self._state:
            return
        logger.info("%s: video %s -> %s", self.label, self._state, state)
        self._state = state
        change = StateChange(state)
        for sub in tuple(self._subscriptions):  # a sink may unsubscribe its viewer
            sub._put(change)

    def publish(self, unit: AccessUnit) -> MediaFrame | None:
        """Prepare the access unit once and offer it to every viewer. Never awaits."""
        if unit.keyframe:
            self._update_codec(unit)
        codec = self._codec
        if codec is None:
            return None  # no keyframe yet
        if self._last_rtp is not None:
            step = (unit.rtp_timestamp - self._last_rtp) & 0xFFFFFFFF
            if self._state is StreamState.LOST:
                step = self._frame_duration  # no hole in the viewers' timeline after a loss
            elif 0 < step <= _MAX_TIMESTAMP_STEP:
                self._frame_duration = step
            else:
                step = self._frame_duration
            self._decode_time += step
        self._last_rtp = unit.rtp_timestamp
        sample_nals = [
            nal for nal in unit.nals if nal_type(nal) not in (NalType.SPS, NalType.PPS, NalType.AUD)
        ]
        capture_time_us = read_capture_time_us(unit.nals)
        self._index += 1
        fragment = media_fragment(
            self._index,
            self._decode_time,
            self._frame_duration,
            join_avcc(sample_nals),
            unit.keyframe,
        )
        annexb = ANNEXB_HEADER.pack(
            self._decode_time * 1_000_000 // H264_CLOCK_HZ,
            ANNEXB_FLAG_KEYFRAME if unit.keyframe else 0,
            capture_time_us or 0,
        ) + join_annexb(unit.nals)
        frame = MediaFrame(
            index=self._index,
            keyframe=unit.keyframe,
            decode_time=self._decode_time,
            duration=self._frame_duration,
            fragment=fragment,
            annexb=annexb,
            capture_time_us=capture_time_us,
            arrival_ns=unit.arrival_ns,
            codec=codec,
            nals=unit.nals,
            ws_fragment=websocket_binary_frame(fragment),
            ws_annexb=websocket_binary_frame(annexb),
        )
        if unit.keyframe:
            self._gop = [frame]
        elif self._gop:
            self._gop.append(frame)
        self.frames_published += 1
        if self._state is not StreamState.LIVE:
            self.set_state(StreamState.LIVE)
        for sub in tuple(self._subscriptions):  # a sink may unsubscribe its viewer
            try:
                sub._offer(frame)
            except Exception:  # one broken viewer must not cost the others this frame
                logger.exception("%s: video viewer failed, dropping it", self.label)
                sub.close()
        return frame

    def _update_codec(self, unit: AccessUnit) -> None:
        sps = next((nal for nal in unit.nals if nal_type(nal) == NalType.SPS), None)
        pps = next((nal for nal in unit.nals if nal_type(nal) == NalType.PPS), None)
        if sps is None or pps is None:
            return
        if self._codec is not None and self._codec.sps == sps and self._codec.pps == pps:
            return
        info = parse_sps(sps)
        self._codec = CodecInfo(
            codec=info.codec_string,
            width_px=info.width_px,
            height_px=info.height_px,
            sps=sps,
            pps=pps,
            init_segment=init_segment(sps, pps, info.width_px, info.height_px),
        )
        logger.info(
            "%s: video %s %dx%d", self.label, info.codec_string, info.width_px, info.height_px
        )
        self._gop = []
        for sub in tuple(self._subscriptions):  # a sink may unsubscribe its viewer
            sub._put(self._codec)


def websocket_binary_frame(payload: bytes) -> bytes:
    """One unmasked, uncompressed, final binary websocket frame (RFC 6455 5.2).

    Valid on any server connection, also with permessage-deflate negotiated (RSV1 clear
    means "not compressed", RFC 7692 6).
    """
    size = len(payload)
    if size < 126:
        header = struct.pack(">BB", 0x82, size)
    elif size < 1 << 16:
        header = struct.pack(">BBH", 0x82, 126, size)
    else:
        header = struct.pack(">BBQ", 0x82, 127, size)
    return header + payload


def monotonic_age_s(frame: MediaFrame) -> float:
    """Seconds since the frame's access unit was complete."""
    return (time.monotonic_ns() - frame.arrival_ns) / 1e9
