"""The simulated drone camera: a synthetic nadir view, encoded H.264, sent as RTP over UDP.

Like PX4 SITL's gazebo camera plugin (``x264enc tune=zerolatency ! rtph264pay ! udpsink``),
vehicle *i* sends to UDP 5600+*i*. The picture is a procedurally drawn city (roads, blocks,
parks) seen straight down from the drone's position, heading and altitude, with the incident
marker and a text overlay (drone id, UTC time, altitude). Every frame carries its capture time
in an SEI user-data-unregistered message (:func:`sitl.rtp_h264.capture_time_sei`, the
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
import functools
import logging
import math
import random
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import av
import numpy as np
import numpy.typing as npt
from av.video.codeccontext import VideoCodecContext

from sitl.camera_font import GLYPH_HEIGHT, text_mask
from sitl.rtp_h264 import (
    DEFAULT_MTU_BYTES,
    DEFAULT_PAYLOAD_TYPE,
    RtpH264Packetizer,
    split_annexb,
    with_capture_time,
)

logger = logging.getLogger(__name__)

DEFAULT_PORT_BASE = 5600
HORIZONTAL_FOV_DEG = 70.0
MIN_VIEW_ALT_M = 3.0  # a camera on the dock still shows a few metres of ground

_TEXTURE_PX = 2048  # ground tile, repeats in both directions
_TEXTURE_M_PER_PX = 0.5
_BLOCK_PX = 256  # 128 m city blocks
_ROAD_PX = 24  # 12 m roads
_ROOF_COLOURS = ((180, 70, 60), (200, 200, 205), (90, 95, 110), (170, 150, 110))
_M_PER_DEG_LAT = 110_540.0
_M_PER_DEG_LON_EQUATOR = 111_320.0


@dataclass(frozen=True, slots=True)
class CameraPose:
    """Where the camera is and looks from (straight down), and the incident to mark."""

    lat_deg: float
    lon_deg: float
    alt_agl_m: float
    heading_deg: float
    marker_lat_deg: float | None = None
    marker_lon_deg: float | None = None


def _rgb_to_yuv(rgb: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.uint8], ...]:
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 0.257 * r + 0.504 * g + 0.098 * b + 16
    u = -0.148 * r - 0.291 * g + 0.439 * b + 128
    v = 0.439 * r - 0.368 * g - 0.071 * b + 128
    u = u.reshape(u.shape[0] // 2, 2, u.shape[1] // 2, 2).mean(axis=(1, 3))
    v = v.reshape(v.shape[0] // 2, 2, v.shape[1] // 2, 2).mean(axis=(1, 3))
    return tuple(np.clip(p, 0, 255).astype(np.uint8) for p in (y, u, v))


@functools.cache
def ground_texture() -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """The repeating ground tile as Y (full size), U and V (half size) planes. Built once."""
    rng = np.random.default_rng(5600)
    size = _TEXTURE_PX
    rgb = np.empty((size, size, 3), dtype=np.float32)
    rgb[:] = (112, 104, 92)  # bare ground
    rgb += rng.normal(0, 6, (size, size, 1)).astype(np.float32)
    blocks = size // _BLOCK_PX
    for row in range(blocks):
        for col in range(blocks):
            top, left = row * _BLOCK_PX + _ROAD_PX, col * _BLOCK_PX + _ROAD_PX
            inner = _BLOCK_PX - _ROAD_PX
            area = rgb[top : top + inner, left : left + inner]
            kind = rng.random()
            if kind < 0.2:  # park with trees
                area[:] = (70, 128, 62)
                for _ in range(40):
                    ty, tx = rng.integers(6, inner - 6, 2)
                    yy, xx = np.ogrid[-6:7, -6:7]
                    disc = yy * yy + xx * xx <= 30
                    area[ty - 6 : ty + 7, tx - 6 : tx + 7][disc] = (40, 90, 40)
            elif kind < 0.3:  # parking lot
                area[:] = (90, 90, 94)
                area[:, 8::14] = (220, 220, 220)
            else:  # buildings
                area[:] = (150, 146, 138)  # sidewalk / yard
                for _ in range(int(rng.integers(2, 6))):
                    height, width = rng.integers(30, inner // 2, 2)
                    y0 = int(rng.integers(6, inner - height - 6))
                    x0 = int(rng.integers(6, inner - width - 6))
                    roof = rng.choice(
                        [(180, 70, 60), (200, 200, 205), (90, 95, 110), (170, 150, 110)]
                    )
                    area[y0 : y0 + height, x0 : x0 + width] = roof
                    area[y0 : y0 + height, x0 : x0 + 2] *= 0.6  # shadow edge
    # roads with dashed centre lines (the tile starts with a road on each edge)
    for start in range(0, size, _BLOCK_PX):
        rgb[start : start + _ROAD_PX, :] = (60, 60, 64)
        rgb[:, start : start + _ROAD_PX] = (60, 60, 64)
        mid = start + _ROAD_PX // 2
        dashes = (np.arange(size) // 12) % 2 == 0
        rgb[mid, dashes] = (230, 200, 60)
        rgb[dashes, mid] = (230, 200, 60)
    y, u, v = _rgb_to_yuv(rgb)
    return y, u, v


@dataclass(frozen=True, slots=True)
class _EncodedFrame:
    nals: list[bytes]
    keyframe: bool


_FIXED_ONE = 1 << 16


def _texture_index(
    col0: float,
    row0: float,
    col_per_x: float,
    col_per_y: float,
    row_per_x: float,
    row_per_y: float,
    xs: npt.NDArray[np.float64],
    ys: npt.NDArray[np.float64],
    size: int,
) -> npt.NDArray[np.int32]:
    """Flat indices into a repeating ``size``-square texture for an affine pixel mapping.

    The mapping is separable (col = col0 + a*x + b*y), so each full-size grid is one
    broadcast add of two fixed-point vectors — much cheaper than float grids.
    """
    mask = size - 1
    shift = size.bit_length() - 1
    cols = np.add.outer(
        ((col_per_y * ys) * _FIXED_ONE).astype(np.int32),
        ((col0 + col_per_x * xs) * _FIXED_ONE).astype(np.int32),
    )
    rows = np.add.outer(
        ((row0 + row_per_y * ys) * _FIXED_ONE).astype(np.int32),
        ((row_per_x * xs) * _FIXED_ONE).astype(np.int32),
    )
    np.right_shift(cols, 16, out=cols)
    np.bitwise_and(cols, mask, out=cols)
    np.right_shift(rows, 16, out=rows)
    np.bitwise_and(rows, mask, out=rows)
    np.left_shift(rows, shift, out=rows)
    np.bitwise_or(rows, cols, out=rows)
    return rows


class _Renderer:
    """Draws one frame for a pose (YUV 4:2:0) — called from the worker thread only."""

    def __init__(self, label: str, width_px: int, height_px: int) -> None:
        self._label = label
        self._width_px = width_px
        self._height_px = height_px
        self._origin: tuple[float, float] | None = None
        # pixel offsets from the image centre, luma and (every other pixel) chroma
        self._xs = np.arange(width_px, dtype=np.float64) - width_px / 2
        self._ys = np.arange(height_px, dtype=np.float64) - height_px / 2
        self._cxs = self._xs[::2]
        self._cys = self._ys[::2]
        self._text_scale = max(1, height_px // 240)

    def _local_m(self, lat_deg: float, lon_deg: float) -> tuple[float, float]:
        if self._origin is None:
            self._origin = (lat_deg, lon_deg)
        lat0, lon0 = self._origin
        east_m = (lon_deg - lon0) * _M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0))
        north_m = (lat_deg - lat0) * _M_PER_DEG_LAT
        return east_m, north_m

    def render(self, pose: CameraPose, capture_time_us: int) -> npt.NDArray[np.uint8]:
        tex_y, tex_u, tex_v = ground_texture()
        width, height = self._width_px, self._height_px
        alt_m = max(pose.alt_agl_m, MIN_VIEW_ALT_M)
        m_per_px = 2 * alt_m * math.tan(math.radians(HORIZONTAL_FOV_DEG / 2)) / width
        east_m, north_m = self._local_m(pose.lat_deg, pose.lon_deg)
        theta = math.radians(pose.heading_deg)
        cos_t, sin_t = math.cos(theta), math.sin(theta)
        scale = m_per_px / _TEXTURE_M_PER_PX
        # the tile repeats: keep the origin inside it so fixed-point values stay small
        col0 = (east_m / _TEXTURE_M_PER_PX) % _TEXTURE_PX
        row0 = (-north_m / _TEXTURE_M_PER_PX) % _TEXTURE_PX
        out = np.empty((height * 3 // 2, width), dtype=np.uint8)
        # image right = (cos, -sin) in (east, north); image down = (-sin, -cos)
        index = _texture_index(
            col0,
            row0,
            scale * cos_t,
            -scale * sin_t,
            scale * sin_t,
            scale * cos_t,
            self._xs,
            self._ys,
            _TEXTURE_PX,
        )
        np.take(tex_y.reshape(-1), index, out=out[:height])
        u_plane = out[height : height + height // 4].reshape(height // 2, width // 2)
        v_plane = out[height + height // 4 :].reshape(height // 2, width // 2)
        cindex = _texture_index(
            col0 / 2,
            row0 / 2,
            scale * cos_t / 2,
            -scale * sin_t / 2,
            scale * sin_t / 2,
            scale * cos_t / 2,
            self._cxs,
            self._cys,
            _TEXTURE_PX // 2,
        )
        np.take(tex_u.reshape(-1), cindex, out=u_plane)
        np.take(tex_v.reshape(-1), cindex, out=v_plane)
        if pose.marker_lat_deg is not None and pose.marker_lon_deg is not None:
            marker_e, marker_n = self._local_m(pose.marker_lat_deg, pose.marker_lon_deg)
            de, dn = marker_e - east_m, marker_n - north_m
            x = width / 2 + (de * cos_t - dn * sin_t) / m_per_px
            y = height / 2 - (de * sin_t + dn * cos_t) / m_per_px
            self._draw_marker(out, u_plane, v_plane, x, y, max(8.0, 6.0 / m_per_px))
        self._draw_overlay(out, u_plane, v_plane, pose, capture_time_us)
        return out

    def _draw_marker(
        self,
        out: npt.NDArray[np.uint8],
        u_plane: npt.NDArray[np.uint8],
        v_plane: npt.NDArray[np.uint8],
        x: float,
        y: float,
        radius_px: float,
    ) -> None:
        height, width = self._height_px, self._width_px
        thickness_px = max(2.0, min(radius_px / 10, 6.0))
        reach = int(radius_px + thickness_px) + 2
        x0, x1 = max(0, int(x) - reach), min(width, int(x) + reach + 1)
        y0, y1 = max(0, int(y) - reach), min(height, int(y) + reach + 1)
        if x0 >= x1 or y0 >= y1:
            return
        yy, xx = np.ogrid[y0:y1, x0:x1]
        dist = np.hypot(xx - x, yy - y)
        ring = np.abs(dist - radius_px) < thickness_px
        cross = ((np.abs(xx - x) < thickness_px / 2) | (np.abs(yy - y) < thickness_px / 2)) & (
            dist < radius_px * 0.6
        )
        paint = ring | cross
        out[y0:y1, x0:x1][paint] = 82  # red in BT.601: Y 82, U 90, V 240
        cy0, cy1, cx0, cx1 = y0 // 2, (y1 + 1) // 2, x0 // 2, (x1 + 1) // 2
        chroma = paint[::2, ::2][: cy1 - cy0, : cx1 - cx0]
        u_plane[cy0 : cy0 + chroma.shape[0], cx0 : cx0 + chroma.shape[1]][chroma] = 90
        v_plane[cy0 : cy0 + chroma.shape[0], cx0 : cx0 + chroma.shape[1]][chroma] = 240

    def _draw_overlay(
        self,
        out: npt.NDArray[np.uint8],
        u_plane: npt.NDArray[np.uint8],
        v_plane: npt.NDArray[np.uint8],
        pose: CameraPose,
        capture_time_us: int,
    ) -> None:
        stamp = datetime.fromtimestamp(capture_time_us / 1e6, tz=UTC)
        lines = [
            self._label,
            stamp.strftime("%Y-%m-%d %H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            f"ALT {pose.alt_agl_m:.0f}M AGL HDG {pose.heading_deg % 360:03.0f}",
        ]
        scale = self._text_scale
        pad = 2 * scale
        y = pad
        for line in lines:
            mask = text_mask(line, scale)
            rows, cols = mask.shape
            rows = min(rows, self._height_px - y - pad)
            cols = min(cols, self._width_px - 2 * pad)
            if rows <= 0 or cols <= 0:
                break
            box = out[y - scale : y + rows + scale, pad - scale : pad + cols + scale]
            box[:] = box // 3  # darken behind the text
            out[y : y + rows, pad : pad + cols][mask[:rows, :cols]] = 235
            u_plane[(y - scale) // 2 : (y + rows + scale) // 2, : (pad + cols + scale) // 2] = 128
            v_plane[(y - scale) // 2 : (y + rows + scale) // 2, : (pad + cols + scale) // 2] = 128
            y += rows + (GLYPH_HEIGHT // 2 + 2) * scale


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
        self._renderer = _Renderer(label, width, height)
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
        lat = center_lat_deg + north_m / _M_PER_DEG_LAT
        lon = center_lon_deg + east_m / (
            _M_PER_DEG_LON_EQUATOR * math.cos(math.radians(center_lat_deg))
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
