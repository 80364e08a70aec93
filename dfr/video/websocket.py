"""Serving one viewer of ``/ws/video/{drone_id}``.

Protocol (text messages are JSON):

1. ``{"type": "codec", "codec": "avc1.42c01f", "width": 1280, "height": 720,
   "format": "fmp4"}`` — again whenever the source's codec configuration changes.
2. Binary. ``fmp4`` (default, for Media Source Extensions): the init segment right after
   each codec message, then one ``moof``+``mdat`` fragment per frame, starting at a
   keyframe. Fragment times are the relay's continuous timeline, not zero-based: a player
   seeks to the start of its buffered range. ``annexb`` (for WebCodecs): one message per
   frame, a 17-byte header (``>QBQ``: timestamp µs, flags bit 0 = keyframe, capture time
   µs since the epoch or 0) then the Annex-B access unit (SPS/PPS before keyframes).
3. ``{"type": "state", "state": "live"|"lost"|"waiting"}`` when the source stops or returns.

A viewer that falls behind (a frame older than ``max_lag_s`` at send time, or more than
``max_buffered_bytes`` waiting in the socket's send buffer) is moved on to the next
keyframe; one that does not take a message within ``write_timeout_s`` is dropped.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import socket
import struct
import termios
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from starlette.websockets import WebSocket, WebSocketDisconnect

from dfr.video.hub import (
    CodecInfo,
    MediaFrame,
    StateChange,
    Subscription,
    VideoHub,
    monotonic_age_s,
)

logger = logging.getLogger(__name__)

SendText = Callable[[str], Awaitable[None]]
SendBytes = Callable[[bytes], Awaitable[None]]


class VideoFormat(StrEnum):
    FMP4 = "fmp4"
    ANNEXB = "annexb"


class ViewerEnd(StrEnum):
    """Why serving a viewer ended."""

    CLOSED = "closed"  # the subscription was closed (hub or caller)
    WRITE_TIMEOUT = "write_timeout"  # the viewer stopped reading
    DISCONNECTED = "disconnected"  # the client went away


@dataclass(slots=True)
class ViewerStats:
    frames_sent: int = 0
    bytes_sent: int = 0
    skipped_frames: int = 0
    skips: int = 0
    end: ViewerEnd = ViewerEnd.CLOSED


@dataclass(frozen=True, slots=True)
class ViewerLimits:
    write_timeout_s: float = 5.0
    max_lag_s: float = 1.0
    max_buffered_bytes: int = 256 * 1024
    max_queue_frames: int = 90
    send_buffer_bytes: int = 96 * 1024  # SO_SNDBUF for video sockets (kernel doubles it)
    direct_write: bool = True  # media frames straight to the transport (see TransportWriter)
    inline_write: bool = True  # with direct_write: write from publish itself when not queued


def _find_transport(send: object) -> asyncio.WriteTransport | None:
    """The server protocol's transport behind an ASGI ``send`` (through middleware closures)."""
    pending: list[object] = [send]
    seen: set[int] = set()
    while pending and len(seen) < 32:
        candidate = pending.pop()
        if candidate is None or id(candidate) in seen:
            continue
        seen.add(id(candidate))
        transport = getattr(getattr(candidate, "__self__", None), "transport", None)
        if isinstance(transport, asyncio.WriteTransport):
            return transport
        for cell in getattr(candidate, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:  # empty cell
                continue
            if callable(value):
                pending.append(value)
    return None


class TransportWriter:
    """The server transport under an accepted websocket, for the per-frame hot path.

    Media messages are framed once per frame by the hub (``MediaFrame.ws_fragment``) and
    written here with one ``transport.write`` — no per-viewer framing or ASGI round trip.
    Text messages still go through the framework. ``buffered_bytes`` is asyncio's buffer
    plus the kernel's unsent bytes (``TIOCOUTQ``); the socket's send buffer is shrunk so a
    stalled client shows up here within a fraction of a second instead of megabytes later.
    """

    def __init__(self, transport: asyncio.WriteTransport, sndbuf_bytes: int) -> None:
        self._transport = transport
        sock = transport.get_extra_info("socket")
        self._fileno = sock.fileno() if sock is not None else -1
        if self._fileno >= 0:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf_bytes)
            except OSError:
                logger.debug("cannot set SO_SNDBUF on a video socket")

    @classmethod
    def of(cls, websocket: WebSocket, sndbuf_bytes: int) -> TransportWriter | None:
        """Best effort: the transport behind uvicorn's ASGI ``send``, or None."""
        transport = _find_transport(getattr(websocket, "_send", None))
        return cls(transport, sndbuf_bytes) if transport is not None else None

    @property
    def closing(self) -> bool:
        return self._transport.is_closing()

    def write(self, websocket_frame: bytes) -> None:
        self._transport.write(websocket_frame)

    def buffered_bytes(self) -> int:
        total = self._transport.get_write_buffer_size()
        if self._fileno >= 0 and not self._transport.is_closing():
            try:
                raw = fcntl.ioctl(self._fileno, termios.TIOCOUTQ, b"\0\0\0\0")
                total += struct.unpack("i", raw)[0]
            except OSError:
                logger.debug("TIOCOUTQ failed on a video socket")
        return total


def codec_message(codec: CodecInfo, fmt: VideoFormat) -> str:
    return json.dumps(
        {
            "type": "codec",
            "codec": codec.codec,
            "width": codec.width_px,
            "height": codec.height_px,
            "format": str(fmt),
        }
    )


class _Viewer:
    """One viewer's send state: the codec it has, how long its socket has been backed up.

    ``sink`` is the inline path (called from ``publish``), ``run`` the queued path; both
    skip to the next keyframe when the viewer falls behind.
    """

    def __init__(
        self,
        send_text: SendText,
        send_bytes: SendBytes,
        hub: VideoHub,
        sub: Subscription,
        *,
        fmt: VideoFormat,
        limits: ViewerLimits,
        buffered_bytes: Callable[[], int] | None,
        direct: TransportWriter | None,
    ) -> None:
        self._send_text = send_text
        self._send_bytes = send_bytes
        self._hub = hub
        self._sub = sub
        self._fmt = fmt
        self._limits = limits
        self._buffered_bytes = buffered_bytes
        self._direct = direct
        self.stats = ViewerStats()
        self._codec_sent: CodecInfo | None = None
        self._backed_up_since_s: float | None = None
        self._end: ViewerEnd | None = None  # set by the inline sink when it closes ``sub``

    async def _send(self, data: str | bytes) -> None:
        async with asyncio.timeout(self._limits.write_timeout_s):
            if isinstance(data, str):
                await self._send_text(data)
            else:
                await self._send_bytes(data)
                self.stats.bytes_sent += len(data)

    def _check_backed_up(self) -> bool:
        """True if the socket is backed up; TimeoutError if it has been for too long."""
        limits = self._limits
        backed_up = (
            self._buffered_bytes is not None and self._buffered_bytes() > limits.max_buffered_bytes
        )
        if not backed_up:
            self._backed_up_since_s = None
            return False
        now_s = time.monotonic()
        self._backed_up_since_s = self._backed_up_since_s or now_s
        if now_s - self._backed_up_since_s > limits.write_timeout_s:
            raise TimeoutError  # its socket has not drained for that long
        return True

    def _write_direct(self, writer: TransportWriter, frame: MediaFrame) -> None:
        data = frame.ws_fragment if self._fmt is VideoFormat.FMP4 else frame.ws_annexb
        writer.write(data)
        self.stats.bytes_sent += len(data)
        self.stats.frames_sent += 1

    def sink(self, frame: MediaFrame) -> bool:
        """Inline from publish while nothing is queued: write now or drop to a keyframe."""
        direct = self._direct
        assert direct is not None
        if frame.codec is not self._codec_sent:
            return False  # let the loop send the codec change first
        if direct.closing:
            self._end = ViewerEnd.DISCONNECTED
            self._sub.close()
            return True
        try:
            backed_up = self._check_backed_up()
        except TimeoutError:
            self._end = ViewerEnd.WRITE_TIMEOUT
            logger.info("%s: video viewer dropped (not reading)", self._hub.label)
            self._sub.close()
            return True
        if backed_up:
            self._sub.skipped_frames += 1
            self._sub.skip_to_keyframe()
            return True
        self._write_direct(direct, frame)
        return True

    async def run(self) -> None:
        """Send queued items until the subscription closes or the client is gone.

        Sets ``stats.end`` except on a write timeout (``TimeoutError`` propagates).
        """
        while True:
            try:
                item = await self._sub.get()
            except EOFError:
                self.stats.end = self._end or ViewerEnd.CLOSED
                return
            if isinstance(item, CodecInfo):
                await self._send_codec(item)
            elif isinstance(item, StateChange):
                await self._send(json.dumps({"type": "state", "state": str(item.state)}))
            elif isinstance(item, MediaFrame) and not await self._send_frame(item):
                return

    async def _send_codec(self, codec: CodecInfo) -> None:
        await self._send(codec_message(codec, self._fmt))
        if self._fmt is VideoFormat.FMP4:
            await self._send(codec.init_segment)
        self._codec_sent = codec

    async def _send_frame(self, frame: MediaFrame) -> bool:
        """Send one queued frame, or skip to a keyframe if late; False if the client is gone."""
        if frame.codec is not self._codec_sent:
            return True  # frame of an older configuration still queued
        backed_up = self._check_backed_up()
        late = (
            frame.index > self._sub.live_from_index  # the GOP replay on join is old anyway
            and monotonic_age_s(frame) > self._limits.max_lag_s
        )
        if backed_up or late:
            self._sub.skipped_frames += 1
            self._sub.skip_to_keyframe()
            return True
        if self._direct is not None:
            if self._direct.closing:
                self.stats.end = ViewerEnd.DISCONNECTED
                return False
            self._write_direct(self._direct, frame)
        else:
            await self._send(frame.fragment if self._fmt is VideoFormat.FMP4 else frame.annexb)
            self.stats.frames_sent += 1
        return True


async def serve_viewer(
    send_text: SendText,
    send_bytes: SendBytes,
    hub: VideoHub,
    *,
    fmt: VideoFormat = VideoFormat.FMP4,
    limits: ViewerLimits | None = None,
    buffered_bytes: Callable[[], int] | None = None,
    direct: TransportWriter | None = None,
) -> ViewerStats:
    """Send the hub's video to one viewer until the viewer is too slow or goes away.

    ``buffered_bytes`` (optional) tells how many bytes wait in the connection's send buffer
    (e.g. ``transport.get_write_buffer_size``). Send errors propagate; a write timeout ends
    the call with ``stats.end == WRITE_TIMEOUT`` (the caller closes the socket).
    With ``direct``, media messages are written pre-framed to the transport.
    """
    if direct is not None:
        buffered_bytes = direct.buffered_bytes
    limits = limits or ViewerLimits()
    with hub.subscribe(limits.max_queue_frames) as sub:
        viewer = _Viewer(
            send_text,
            send_bytes,
            hub,
            sub,
            fmt=fmt,
            limits=limits,
            buffered_bytes=buffered_bytes,
            direct=direct,
        )
        stats = viewer.stats
        if direct is not None and limits.inline_write:
            sub.direct_sink = viewer.sink
        try:
            await viewer.run()
        except TimeoutError:
            stats.end = ViewerEnd.WRITE_TIMEOUT
            logger.info("%s: video viewer dropped (not reading)", hub.label)
        finally:
            sub.direct_sink = None
            stats.skipped_frames = sub.skipped_frames
            stats.skips = sub.skips
    return stats


async def serve_websocket(
    websocket: WebSocket,
    hub: VideoHub,
    *,
    fmt: VideoFormat = VideoFormat.FMP4,
    limits: ViewerLimits | None = None,
) -> ViewerStats:
    """Serve an accepted Starlette/FastAPI websocket; returns when the viewer is gone.

    Reads the socket concurrently so a client that leaves is noticed even while the
    source is silent. Closes the socket with 1008 (policy) after a write timeout.
    """
    stats = ViewerStats()
    limits = limits or ViewerLimits()

    async def receive_until_disconnect() -> None:
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
        except (WebSocketDisconnect, RuntimeError):
            return

    writer = TransportWriter.of(websocket, limits.send_buffer_bytes)

    async def run_sender() -> None:
        nonlocal stats
        try:
            stats = await serve_viewer(
                websocket.send_text,
                websocket.send_bytes,
                hub,
                fmt=fmt,
                limits=limits,
                direct=writer if limits.direct_write else None,
                buffered_bytes=writer.buffered_bytes if writer is not None else None,
            )
        except (WebSocketDisconnect, RuntimeError, OSError):
            stats.end = ViewerEnd.DISCONNECTED

    async with asyncio.TaskGroup() as group:
        sender = group.create_task(run_sender(), name=f"{hub.label}: video viewer send")
        receiver = group.create_task(
            receive_until_disconnect(), name=f"{hub.label}: video viewer receive"
        )
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        sender.cancel()
        receiver.cancel()
    if sender.cancelled():
        stats.end = ViewerEnd.DISCONNECTED
    elif stats.end is ViewerEnd.WRITE_TIMEOUT:
        try:
            async with asyncio.timeout(limits.write_timeout_s):
                await websocket.close(code=1008, reason="viewer not reading")
        except (TimeoutError, RuntimeError, OSError):
            logger.debug("%s: close after write timeout failed", hub.label)
    return stats
