"""Video ingest: RTP/H.264 over UDP (PX4 SITL, most drone links) and RTSP (via PyAV).

Both hand complete :class:`~dfr.video.rtp.AccessUnit` objects to a callback on the event
loop, and report source loss (silence longer than ``loss_timeout_s``) to another callback.
They recover by themselves: UDP when packets come back (a new SSRC means the source
restarted: the depacketizer starts over at the next keyframe), RTSP by reconnecting with a
capped backoff.

UDP takes RTP only from the drone's configured sender (:class:`~dfr.video.source.
VideoSource`, the site's ``video_source``, default 127.0.0.1): a datagram from any other
address is dropped before it is parsed, so it can neither inject frames nor restart the
stream with a new SSRC; each stray sender is logged once.

URLs: ``rtp://HOST:PORT`` or ``udp://HOST:PORT`` binds that local address and listens (the
PX4 SITL form: the camera sends to 5600+i); a path ending in ``.sdp`` is read for the same
(``c=`` address, ``m=video`` port); ``rtsp://…`` (and anything else PyAV opens,
e.g. a file, for tests) is read by PyAV in a thread with low-latency options.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Protocol
from urllib.parse import urlsplit

import av

from dfr.errors import ConfigError, VideoError
from dfr.video.h264 import NalType, nal_type, split_annexb, split_avcc
from dfr.video.rtp import H264_CLOCK_HZ, AccessUnit, H264Depacketizer, RtpPacket
from dfr.video.source import LOOPBACK, VideoSource

logger = logging.getLogger(__name__)

UnitSink = Callable[[AccessUnit], None]
LossSink = Callable[[], None]

DEFAULT_LOSS_TIMEOUT_S = 1.0
STRAY_SENDERS_LOGGED = 64  # stray addresses remembered (and logged once each), at most
RTSP_OPTIONS = {
    "rtsp_transport": "tcp",
    "fflags": "nobuffer",
    "flags": "low_delay",
    "max_delay": "0",
    "reorder_queue_size": "0",
    "analyzeduration": "500000",
    "probesize": "65536",
}


class Ingest(Protocol):
    """What :class:`~dfr.video.relay.DroneVideo` needs from an ingest."""

    async def __aenter__(self) -> Ingest: ...

    async def __aexit__(self, *exc_info: object) -> None: ...


def parse_udp_url(url: str) -> tuple[str, int]:
    """``rtp://127.0.0.1:5600`` -> ("127.0.0.1", 5600)."""
    parts = urlsplit(url)
    if parts.scheme not in ("rtp", "udp") or parts.port is None:
        raise ConfigError(f"video URL {url!r}: expected rtp://HOST:PORT or udp://HOST:PORT")
    return parts.hostname or "0.0.0.0", parts.port


def parse_sdp(text: str, source: str = "SDP") -> tuple[str, int]:
    """Listen address of the first H.264 video stream in an SDP (``c=`` and ``m=video``)."""
    host = "0.0.0.0"
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("c=IN IP4 "):
            host = line.split()[2].split("/")[0]
        elif line.startswith("m=video "):
            fields = line.split()
            if len(fields) < 4 or not fields[1].isdigit():
                raise ConfigError(f"{source}: bad media line {line!r}")
            if "H264" not in text.upper():
                raise ConfigError(f"{source}: the video stream is not H.264")
            return host, int(fields[1])
    raise ConfigError(f"{source}: no m=video line")


def udp_address_of(url: str) -> tuple[str, int] | None:
    """Where to listen for RTP given a video URL or an SDP file path; None if not RTP/UDP."""
    if url.startswith(("rtp://", "udp://")):
        return parse_udp_url(url)
    if url.endswith(".sdp"):
        path = url.removeprefix("file://")
        try:
            with open(path, encoding="utf-8") as stream:
                return parse_sdp(stream.read(), path)
        except OSError as exc:
            raise ConfigError(f"video SDP {path}: {exc}") from exc
    return None


class _RtpProtocol(asyncio.DatagramProtocol):
    def __init__(self, ingest: UdpRtpIngest) -> None:
        self._ingest = ingest

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self._ingest._on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        logger.debug("%s: UDP error %s", self._ingest.label, exc)


class UdpRtpIngest:
    """Listens for RTP/H.264 on a UDP address; an async context manager."""

    def __init__(
        self,
        label: str,
        bind: tuple[str, int],
        on_unit: UnitSink,
        on_loss: LossSink,
        *,
        source: VideoSource = LOOPBACK,
        loss_timeout_s: float = DEFAULT_LOSS_TIMEOUT_S,
    ) -> None:
        self.label = label
        self._bind = bind
        self.source = source  # the only sender taken
        self._on_unit = on_unit
        self._on_loss = on_loss
        self._loss_timeout_s = loss_timeout_s
        self._depacketizer = H264Depacketizer(label)
        self._transport: asyncio.DatagramTransport | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._ssrc: int | None = None
        self._last_packet_s: float | None = None
        self._receiving = False
        self.packets_received = 0
        self.bad_packets = 0
        self.stray_packets = 0  # dropped: not from ``source``
        self.stray_senders: set[tuple[str, int]] = set()  # the first few, each logged once

    @property
    def port(self) -> int:
        """The bound UDP port (useful when bound to port 0)."""
        if self._transport is None:
            raise VideoError(f"{self.label}: ingest is not running")
        return int(self._transport.get_extra_info("sockname")[1])

    @property
    def depacketizer(self) -> H264Depacketizer:
        return self._depacketizer

    async def __aenter__(self) -> UdpRtpIngest:
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _RtpProtocol(self), local_addr=self._bind
            )
        except OSError as exc:
            raise VideoError(f"{self.label}: cannot listen on udp {self._bind}: {exc}") from exc
        self._transport = transport
        self._watchdog = asyncio.create_task(self._watch(), name=f"{self.label}: video watchdog")
        logger.info(
            "%s: video ingest on udp %s:%d, from %s only",
            self.label,
            self._bind[0],
            self.port,
            self.source,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.cancel()
            try:
                await watchdog
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def _on_datagram(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if not self.source.allows(addr):
            self._stray(addr)
            return
        try:
            packet = RtpPacket.parse(data)
        except VideoError:
            self.bad_packets += 1
            return
        self.packets_received += 1
        self._last_packet_s = time.monotonic()
        if not self._receiving:
            self._receiving = True
            logger.info("%s: video packets arriving", self.label)
        if packet.ssrc != self._ssrc:
            if self._ssrc is not None:
                logger.info("%s: video source restarted (new SSRC)", self.label)
            self._ssrc = packet.ssrc
            self._depacketizer.reset()
        for unit in self._depacketizer.push(packet):
            self._on_unit(unit)

    def _stray(self, addr: tuple[str | int, ...]) -> None:
        self.stray_packets += 1
        sender = (str(addr[0]), int(addr[1]))
        if sender in self.stray_senders or len(self.stray_senders) >= STRAY_SENDERS_LOGGED:
            return
        self.stray_senders.add(sender)
        logger.warning(
            "%s: dropping RTP from %s:%d (video is taken from %s only; set the drone's "
            "video_source if the camera really sends from there)",
            self.label,
            sender[0],
            sender[1],
            self.source,
        )

    async def _watch(self) -> None:
        period_s = self._loss_timeout_s / 4
        while True:
            await asyncio.sleep(period_s)
            last = self._last_packet_s
            silent = last is not None and time.monotonic() - last > self._loss_timeout_s
            if self._receiving and silent:
                self._receiving = False
                logger.warning(
                    "%s: no video for %.1f s, source lost", self.label, self._loss_timeout_s
                )
                self._depacketizer.reset()
                self._on_loss()


class PyAvIngest:
    """Reads H.264 from an RTSP URL (or any PyAV input) in a thread; reconnects on failure."""

    def __init__(
        self,
        label: str,
        url: str,
        on_unit: UnitSink,
        on_loss: LossSink,
        *,
        options: dict[str, str] | None = None,
        read_timeout_s: float = 2.0,
        max_backoff_s: float = 5.0,
    ) -> None:
        self.label = label
        self._url = url
        self._on_unit = on_unit
        self._on_loss = on_loss
        self._options = dict(RTSP_OPTIONS if url.startswith("rtsp") else {}, **(options or {}))
        self._read_timeout_s = read_timeout_s
        self._max_backoff_s = max_backoff_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.units_read = 0
        self.connects = 0

    async def __aenter__(self) -> PyAvIngest:
        self._loop = asyncio.get_running_loop()
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"{self.label}: video ingest", daemon=True
        )
        self._thread.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.to_thread(thread.join, self._read_timeout_s * 3)

    def _deliver(self, unit: AccessUnit) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._on_unit, unit)

    def _run(self) -> None:
        backoff_s = 0.25
        while not self._stop.is_set():
            delivered = False
            try:
                delivered = self._read_once()
            except (av.FFmpegError, OSError, VideoError) as exc:
                logger.warning("%s: video source %s: %s", self.label, self._url, exc)
            if self._stop.is_set():
                break
            loop = self._loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._on_loss)
            backoff_s = 0.25 if delivered else min(backoff_s * 2, self._max_backoff_s)
            self._stop.wait(backoff_s)

    def _read_once(self) -> bool:
        """One connection: read until the stream ends or fails; True if it delivered frames."""
        delivered = False
        with av.open(
            self._url, options=self._options, timeout=(5.0, self._read_timeout_s)
        ) as container:
            self.connects += 1
            stream = container.streams.video[0]
            if stream.codec_context.name != "h264":
                raise VideoError(f"{self._url}: video is {stream.codec_context.name}, not H.264")
            sps, pps, avcc = _parameter_sets(stream.codec_context.extradata)
            logger.info("%s: video source %s open", self.label, self._url)
            for packet in container.demux(stream):
                if self._stop.is_set():
                    break
                if packet.size == 0 or packet.pts is None:
                    continue
                data = bytes(packet)
                nals = split_avcc(data) if avcc else split_annexb(data)
                for nal in nals:
                    if nal_type(nal) == NalType.SPS:
                        sps = nal
                    elif nal_type(nal) == NalType.PPS:
                        pps = nal
                keyframe = any(nal_type(nal) == NalType.IDR for nal in nals)
                if keyframe:
                    if sps is None or pps is None:
                        continue
                    nals = [sps, pps] + [
                        nal for nal in nals if nal_type(nal) not in (NalType.SPS, NalType.PPS)
                    ]
                time_base = packet.time_base or Fraction(1, H264_CLOCK_HZ)
                rtp_timestamp = int(packet.pts * time_base * H264_CLOCK_HZ) & 0xFFFFFFFF
                self._deliver(AccessUnit(tuple(nals), rtp_timestamp, keyframe))
                self.units_read += 1
                delivered = True
        return delivered


def _parameter_sets(extradata: bytes | None) -> tuple[bytes | None, bytes | None, bool]:
    """(SPS, PPS, samples_are_avcc) from a stream's extradata (avcC or Annex-B)."""
    if not extradata:
        return None, None, False
    if extradata[0] == 1 and len(extradata) > 8:  # avcC
        sps_len = int.from_bytes(extradata[6:8], "big")
        avcc_sps = extradata[8 : 8 + sps_len]
        offset = 8 + sps_len + 1
        pps_len = int.from_bytes(extradata[offset : offset + 2], "big")
        avcc_pps = extradata[offset + 2 : offset + 2 + pps_len]
        return avcc_sps or None, avcc_pps or None, True
    nals = split_annexb(extradata)
    sps = next((nal for nal in nals if nal_type(nal) == NalType.SPS), None)
    pps = next((nal for nal in nals if nal_type(nal) == NalType.PPS), None)
    return sps, pps, False
