"""The simulated drone camera: a synthetic nadir view, encoded H.264, sent as RTP over UDP.

Like PX4 SITL's gazebo camera plugin (``x264enc tune=zerolatency ! rtph264pay ! udpsink``),
vehicle *i* sends to UDP 5600+*i*. The picture is a procedurally drawn city (roads, blocks,
parks) seen straight down from the drone's position, heading and altitude, with the incident
marker and a text overlay (drone id, UTC time, altitude), drawn by :mod:`sitl.camera_view`.
Every frame carries its capture time in an SEI user-data-unregistered message (:func:`sitl.rtp_h264.capture_time_sei`, the
format the relay reads), so latency can be measured anywhere downstream. Packetization
(RFC 6184) is the camera's own (:mod:`sitl.rtp_h264`), not the relay's.

Rendering and encoding run in the camera's own worker thread; the event loop only
reads the pose and sends the datagrams. A camera is started only when video is wanted, and
``enabled = False`` pauses it (the stream stops, as a real link would).

Run one alone (a slowly circling pose) and watch it with ``ffplay -protocol_whitelist
file,udp,rtp -fflags nobuffer -flags low_delay sitl/camera.sdp``::

    python -m sitl.camera --port 5600 [--width 1280 --height 720 --fps 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import logging
import math
import random
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import av
from av.video.codeccontext import VideoCodecContext

from sitl.camera_view import M_PER_DEG_LAT, M_PER_DEG_LON_EQUATOR, CameraPose, Renderer
from sitl.rtp_h264 import (
    DEFAULT_MTU_BYTES,
    DEFAULT_PAYLOAD_TYPE,
    RtpH264Packetizer,
    split_annexb,
    with_capture_time,
)

logger = logging.getLogger(__name__)

DEFAULT_PORT_BASE = 5600
_Renderer = Renderer  # the name the camera tests draw frames with

__all__ = ["DEFAULT_PORT_BASE", "CameraPose", "SimCamera", "circling_pose", "main", "sdp_for"]


class SimCamera:
    """One simulated drone camera streaming H.264/RTP to ``dest`` until cancelled.

    ``pose`` is called on the event loop once per frame; keep it cheap (read a value).
    Use ``async with SimCamera(...)`` (streams in a task it owns) or ``await camera.run()``.
    ``mtu_bytes`` bounds every RTP packet, its 12-byte header included.
    """

    def __init__(
        self,
        label: str,
        pose: Callable[[], CameraPose],
        dest: tuple[str, int],
        *,
        width: int = 1280,
        height: int = 720,
        fps: float = 30.0,
        keyframe_interval_s: float = 0.5,
        bitrate_bps: int = 2_500_000,
        mtu_bytes: int = DEFAULT_MTU_BYTES,
    ) -> None:
        if width % 4 or height % 4 or width < 64 or height < 64:
            raise ValueError(f"width and height must be multiples of 4, >= 64: {width}x{height}")
        if not 0.1 <= keyframe_interval_s <= 10.0:
            raise ValueError(f"keyframe_interval_s out of range: {keyframe_interval_s}")
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.label = label
        self._pose = pose
        self._dest = dest
        self.width_px = width
        self.height_px = height
        self.fps = fps
        self.keyframe_interval_s = keyframe_interval_s
        self._bitrate_bps = bitrate_bps
        self._packetizer = RtpH264Packetizer(
            ssrc=random.getrandbits(32),
            first_sequence=random.getrandbits(16),
            payload_type=DEFAULT_PAYLOAD_TYPE,
            mtu_bytes=mtu_bytes,
        )
        self._rtp_offset = random.getrandbits(32)
        self._enabled = True
        self._force_keyframe = threading.Event()
        self._encoder: VideoCodecContext | None = None
        self._renderer = Renderer(label, width, height)
        self._task: asyncio.Task[None] | None = None
        self.frames_sent = 0
        self.packets_sent = 0

    # -- control -------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        """Pause (False) or resume (True) the stream; resuming starts with a keyframe."""
        if value and not self._enabled:
            self._force_keyframe.set()
        if value != self._enabled:
            logger.info("%s: camera %s", self.label, "on" if value else "off")
        self._enabled = value

    def request_keyframe(self) -> None:
        self._force_keyframe.set()

    async def __aenter__(self) -> SimCamera:
        self._task = asyncio.create_task(self.run(), name=f"{self.label}: camera")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

    # -- streaming -----------------------------------------------------------------------

    async def run(self) -> None:
        """Stream until cancelled."""
        loop = asyncio.get_running_loop()
        # a loopback destination gets a loopback-only socket (tests bind nothing else)
        local_host = "127.0.0.1" if self._dest[0].startswith("127.") else "0.0.0.0"
        transport, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=(local_host, 0), family=socket.AF_INET
        )
        frame_period_s = 1.0 / self.fps
        # one thread of its own: the encoder is sequential state, and a fleet of cameras
        # must not starve the loop's default executor
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.label} camera")
        logger.info(
            "%s: camera %dx%d@%.0f -> udp://%s:%d",
            self.label,
            self.width_px,
            self.height_px,
            self.fps,
            *self._dest,
        )
        try:
            next_s = loop.time()
            while True:
                if self._enabled:
                    pose = self._pose()
                    packets = await loop.run_in_executor(executor, self._next_packets, pose)
                    for packet in packets:
                        transport.sendto(packet, self._dest)
                    self.packets_sent += len(packets)
                    self.frames_sent += 1
                next_s += frame_period_s
                delay_s = next_s - loop.time()
                if delay_s < -frame_period_s:  # fell behind (busy machine): don't burst
                    next_s = loop.time()
                    delay_s = 0.0
                await asyncio.sleep(max(0.0, delay_s))
        finally:
            transport.close()
            executor.shutdown(wait=False, cancel_futures=True)
            self._encoder = None

    def _open_encoder(self) -> VideoCodecContext:
        keyint = max(1, round(self.keyframe_interval_s * self.fps))
        encoder = av.CodecContext.create("libx264", "w")
        encoder.width = self.width_px
        encoder.height = self.height_px
        encoder.pix_fmt = "yuv420p"
        encoder.time_base = fractions.Fraction(1, 90_000)
        encoder.framerate = fractions.Fraction(self.fps).limit_denominator(1001)
        encoder.bit_rate = self._bitrate_bps
        encoder.max_b_frames = 0
        encoder.gop_size = keyint
        encoder.thread_count = 1
        encoder.options = {
            "preset": "veryfast",
            "tune": "zerolatency",
            "profile": "baseline",
            "x264-params": (
                f"keyint={keyint}:min-keyint={keyint}:scenecut=0:repeat-headers=1:bframes=0"
                f":vbv-maxrate={self._bitrate_bps // 1000}:vbv-bufsize={self._bitrate_bps // 2000}"
            ),
        }
        return encoder

    def _next_packets(self, pose: CameraPose) -> list[bytes]:
        """Render, encode and packetize one frame (worker thread)."""
        capture_time_us = time.time_ns() // 1000
        rtp_timestamp = (time.monotonic_ns() * 9 // 100_000 + self._rtp_offset) & 0xFFFFFFFF
        encoder = self._encoder
        if encoder is None:
            encoder = self._encoder = self._open_encoder()
        picture = self._renderer.render(pose, capture_time_us)
        frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
        frame.pts = rtp_timestamp
        if self._force_keyframe.is_set():
            self._force_keyframe.clear()
            frame.pict_type = av.video.frame.PictureType.I
        packets: list[bytes] = []
        for encoded in encoder.encode(frame):
            nals = with_capture_time(split_annexb(bytes(encoded)), capture_time_us)
            packets += self._packetizer.packetize(nals, rtp_timestamp)
        return packets


def sdp_for(port: int, host: str = "127.0.0.1") -> str:
    """An SDP that ffplay/VLC can open to watch a camera sending to ``host:port``."""
    return (
        "v=0\r\n"
        f"o=- 0 0 IN IP4 {host}\r\n"
        "s=dfr simulated camera\r\n"
        f"c=IN IP4 {host}\r\n"
        "t=0 0\r\n"
        f"m=video {port} RTP/AVP {DEFAULT_PAYLOAD_TYPE}\r\n"
        f"a=rtpmap:{DEFAULT_PAYLOAD_TYPE} H264/90000\r\n"
        f"a=fmtp:{DEFAULT_PAYLOAD_TYPE} packetization-mode=1\r\n"
    )


def circling_pose(
    center_lat_deg: float = 32.7555,
    center_lon_deg: float = -97.3308,
    radius_m: float = 150.0,
    alt_agl_m: float = 90.0,
    period_s: float = 120.0,
) -> Callable[[], CameraPose]:
    """A pose that circles the centre (the incident) with the nose pointing along the track."""
    start = time.monotonic()

    def pose() -> CameraPose:
        angle = 2 * math.pi * (time.monotonic() - start) / period_s
        north_m, east_m = radius_m * math.cos(angle), radius_m * math.sin(angle)
        lat = center_lat_deg + north_m / M_PER_DEG_LAT
        lon = center_lon_deg + east_m / (
            M_PER_DEG_LON_EQUATOR * math.cos(math.radians(center_lat_deg))
        )
        heading = (math.degrees(angle) + 90.0) % 360.0
        return CameraPose(lat, lon, alt_agl_m, heading, center_lat_deg, center_lon_deg)

    return pose


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sitl.camera", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT_BASE)
    parser.add_argument("--label", default="drone-1")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--keyframe-interval", type=float, default=0.5, help="seconds")
    parser.add_argument("--bitrate", type=int, default=2_500_000, help="bits per second")
    parser.add_argument("--print-sdp", action="store_true", help="print the SDP and exit")
    args = parser.parse_args(argv)
    if args.print_sdp:
        print(sdp_for(args.port, args.host), end="")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    camera = SimCamera(
        args.label,
        circling_pose(),
        (args.host, args.port),
        width=args.width,
        height=args.height,
        fps=args.fps,
        keyframe_interval_s=args.keyframe_interval,
        bitrate_bps=args.bitrate,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(camera.run())


if __name__ == "__main__":
    main()
