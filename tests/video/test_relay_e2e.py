"""Camera -> real UDP -> DroneVideo -> a real uvicorn websocket -> Python websocket clients.

The simulated camera runs at 320x240 to keep the CPU low. Everything binds 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import av
import pytest
import uvicorn
from fastapi import FastAPI, WebSocket
from fastapi.responses import Response
from websockets.asyncio.client import ClientConnection, connect

from dfr.video.h264 import read_capture_time_us, split_annexb, split_avcc
from dfr.video.hub import ANNEXB_HEADER
from dfr.video.recorder import sha256_file
from dfr.video.relay import DroneVideo
from dfr.video.websocket import VideoFormat, ViewerLimits, serve_websocket
from sitl.camera import CameraPose, SimCamera
from tests.video.mp4_read import decode_fmp4, read_fragment

WIDTH, HEIGHT, FPS = 320, 240, 20.0
LAT, LON = 32.7555, -97.3308


def pose() -> CameraPose:
    heading = (time.monotonic() * 20) % 360
    return CameraPose(LAT, LON + 1e-5 * (time.monotonic() % 100), 60.0, heading, LAT, LON)


@dataclass
class Stack:
    video: DroneVideo
    camera: SimCamera
    base_url: str
    limits: ViewerLimits

    def camera_again(self) -> SimCamera:
        """A new camera process for the same drone (new SSRC, new encoder)."""
        return make_camera(self.video.ingest.port)


def make_camera(port: int) -> SimCamera:
    return SimCamera(
        "drone-1",
        pose,
        ("127.0.0.1", port),
        width=WIDTH,
        height=HEIGHT,
        fps=FPS,
        keyframe_interval_s=0.5,
        bitrate_bps=600_000,
    )


def make_app(video: DroneVideo, limits: ViewerLimits) -> FastAPI:
    app = FastAPI()

    @app.websocket("/ws/video/{drone_id}")
    async def video_ws(websocket: WebSocket, drone_id: str, format: str = "fmp4") -> None:
        if drone_id != video.drone_id:
            await websocket.close(code=1008)
            return
        await websocket.accept()
        await serve_websocket(websocket, video.hub, fmt=VideoFormat(format), limits=limits)

    @app.get("/snapshot/{drone_id}")
    async def snapshot(drone_id: str) -> Response:
        return Response(await video.snapshot_jpeg(), media_type="image/jpeg")

    return app


@pytest.fixture
async def stack(request: pytest.FixtureRequest) -> AsyncIterator[Stack]:
    param = getattr(request, "param", ViewerLimits())
    limits, deflate = param if isinstance(param, tuple) else (param, False)
    async with DroneVideo("drone-1", "rtp://127.0.0.1:0", loss_timeout_s=0.4) as video:
        config = uvicorn.Config(
            make_app(video, limits),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
            ws_per_message_deflate=deflate,
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(), name="test uvicorn")
        try:
            await until(lambda: server.started, 10)
            port = server.servers[0].sockets[0].getsockname()[1]
            camera = make_camera(video.ingest.port)
            async with camera:
                yield Stack(video, camera, f"ws://127.0.0.1:{port}", limits)
        finally:
            server.should_exit = True
            await serving


async def until(predicate: Callable[[], bool], timeout_s: float) -> None:
    """Wait for a condition on a real component (there is no event to wait on)."""
    async with asyncio.timeout(timeout_s):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def next_text(ws: ClientConnection) -> dict[str, object]:
    while True:
        message = await ws.recv()
        if isinstance(message, str):
            return dict(json.loads(message))


async def read_fmp4_start(ws: ClientConnection) -> tuple[dict[str, object], bytes]:
    """Codec message (skipping state messages before it) and the init segment."""
    while True:
        codec = await next_text(ws)
        if codec["type"] == "codec":
            break
    init = await ws.recv()
    assert isinstance(init, bytes)
    return codec, init


async def read_binary(ws: ClientConnection, count: int) -> list[bytes]:
    out: list[bytes] = []
    while len(out) < count:
        message = await ws.recv()
        if isinstance(message, bytes):
            out.append(message)
    return out


@pytest.mark.parametrize(
    "stack",
    [
        ViewerLimits(),
        ViewerLimits(inline_write=False),
        ViewerLimits(direct_write=False),
        (ViewerLimits(), True),  # permessage-deflate negotiated: our frames go uncompressed
    ],
    indirect=True,
    ids=["inline", "direct-queued", "via-asgi", "inline-deflate-negotiated"],
)
async def test_viewer_gets_codec_init_and_fragments_that_decode_with_recent_capture_times(
    stack: Stack,
) -> None:
    async with connect(f"{stack.base_url}/ws/video/drone-1", max_size=None) as ws:
        codec, init = await read_fmp4_start(ws)
        fragments = await read_binary(ws, 20)
        received_us = time.time_ns() // 1000
    assert codec["codec"] == stack.video.hub.codec.codec if stack.video.hub.codec else False
    assert str(codec["codec"]).startswith("avc1.42")  # constrained baseline
    assert (codec["width"], codec["height"], codec["format"]) == (WIDTH, HEIGHT, "fmp4")
    assert init[4:8] == b"ftyp"
    parsed = [read_fragment(f) for f in fragments]
    assert parsed[0].sync
    frames = decode_fmp4(init, fragments)
    assert len(frames) == 20 and (frames[0].width, frames[0].height) == (WIDTH, HEIGHT)
    captures = [p.capture_time_us for p in parsed]
    assert all(c is not None for c in captures)
    assert captures == sorted(captures)
    assert 0 <= received_us - (captures[-1] or 0) < 5_000_000  # recent (loose, not a timing)
    times = [p.decode_time for p in parsed]
    assert times == sorted(times) and len(set(times)) == len(times)


async def test_late_joiner_starts_at_a_keyframe_and_decodes(stack: Stack) -> None:
    async with connect(f"{stack.base_url}/ws/video/drone-1", max_size=None) as first:
        await read_fmp4_start(first)
        await read_binary(first, 17)  # joins mid-GOP most of the time (GOP = 10 frames)
        async with connect(f"{stack.base_url}/ws/video/drone-1", max_size=None) as late:
            _, init = await read_fmp4_start(late)
            fragments = await read_binary(late, 5)
    parsed = [read_fragment(f) for f in fragments]
    assert parsed[0].sync
    assert len(decode_fmp4(init, fragments)) == 5


async def test_annexb_format_for_webcodecs(stack: Stack) -> None:
    url = f"{stack.base_url}/ws/video/drone-1?format=annexb"
    async with connect(url, max_size=None) as ws:
        codec = await next_text(ws)
        while codec["type"] != "codec":
            codec = await next_text(ws)
        units = await read_binary(ws, 8)
    assert codec["format"] == "annexb"
    decoder = av.CodecContext.create("h264", "r")
    decoded = 0
    timestamps: list[int] = []
    for unit in units:
        timestamp_us, _flags, capture_us = ANNEXB_HEADER.unpack_from(unit)
        body = unit[ANNEXB_HEADER.size :]
        assert capture_us == read_capture_time_us(split_annexb(body)) != 0
        timestamps.append(timestamp_us)
        decoded += len(decoder.decode(av.Packet(body)))
    assert ANNEXB_HEADER.unpack_from(units[0])[1] & 1  # starts at a keyframe
    assert timestamps == sorted(timestamps) and len(set(timestamps)) == len(timestamps)
    assert decoded >= 7  # the decoder may hold none back with zerolatency; allow one


def small_rcvbuf_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return sock


SLOW_LIMITS = ViewerLimits(
    write_timeout_s=30.0, max_lag_s=0.5, max_buffered_bytes=16_384, send_buffer_bytes=8192
)


@pytest.mark.parametrize("stack", [SLOW_LIMITS], indirect=True)
async def test_slow_viewer_does_not_delay_fast_one_and_resumes_at_a_keyframe(
    stack: Stack,
) -> None:
    url = f"{stack.base_url}/ws/video/drone-1"
    fast_fragments: list[bytes] = []
    stalled = asyncio.Event()
    resumed = asyncio.Event()
    fast_during_stall = 0

    async def fast_viewer() -> None:
        nonlocal fast_during_stall
        async with connect(url, max_size=None) as ws:
            await read_fmp4_start(ws)
            while not resumed.is_set():
                message = await ws.recv()
                if isinstance(message, bytes):
                    fast_fragments.append(message)
                    if stalled.is_set():
                        fast_during_stall += 1

    sock = small_rcvbuf_socket()
    sock.connect(("127.0.0.1", int(stack.base_url.rsplit(":", 1)[1])))
    async with asyncio.TaskGroup() as group:
        group.create_task(fast_viewer(), name="fast viewer")
        async with connect(url, max_size=None, sock=sock, max_queue=1) as slow:
            _, init = await read_fmp4_start(slow)
            first = await read_binary(slow, 3)
            published_before = stack.video.hub.frames_published
            stalled.set()
            await asyncio.sleep(3.0)  # the slow viewer reads nothing meanwhile
            published_during = stack.video.hub.frames_published - published_before
            resumed.set()
            rest = await read_binary(slow, 60)
    parsed = [read_fragment(f) for f in first + rest]
    gaps = [i for i in range(1, len(parsed)) if parsed[i].sequence != parsed[i - 1].sequence + 1]
    assert gaps, "the slow viewer was never moved on"
    assert all(parsed[i].sync for i in gaps)  # a jump in time only at a keyframe
    assert len(decode_fmp4(init, first + rest)) == len(parsed)
    # the fast viewer kept receiving while the slow one stalled
    assert fast_during_stall >= published_during - 5


@pytest.mark.parametrize(
    "stack",
    [ViewerLimits(write_timeout_s=1.0, max_buffered_bytes=8192, send_buffer_bytes=4096)],
    indirect=True,
)
async def test_viewer_that_stops_reading_is_dropped(stack: Stack) -> None:
    sock = small_rcvbuf_socket()
    sock.connect(("127.0.0.1", int(stack.base_url.rsplit(":", 1)[1])))
    async with connect(
        f"{stack.base_url}/ws/video/drone-1",
        max_size=None,
        sock=sock,
        max_queue=1,
        close_timeout=1,
    ) as ws:
        await read_fmp4_start(ws)
        assert stack.video.hub.viewer_count == 1
        await until(lambda: stack.video.hub.viewer_count == 0, 30)
        assert ws is not None


async def test_source_loss_and_recovery_are_shown_and_video_resumes(stack: Stack) -> None:
    async with connect(f"{stack.base_url}/ws/video/drone-1", max_size=None) as ws:
        _, init = await read_fmp4_start(ws)
        before = await read_binary(ws, 5)
        stack.camera.enabled = False
        assert await next_text(ws) == {"type": "state", "state": "lost"}
        stack.camera.enabled = True
        assert await next_text(ws) == {"type": "state", "state": "live"}
        after_pause = await read_binary(ws, 5)
        # the camera process restarts: new SSRC, new encoder, new RTP timestamps
        async with stack.camera_again():
            await stack.camera.__aexit__(None, None, None)
            restarted = await read_binary(ws, 15)
    all_fragments = before + after_pause + restarted
    parsed = [read_fragment(f) for f in all_fragments]
    assert parsed[len(before)].sync  # resumed at a keyframe
    times = [p.decode_time for p in parsed]
    assert times == sorted(times)  # one continuous timeline across loss and restart
    assert len(decode_fmp4(init, all_fragments)) == len(all_fragments)


async def test_recording_plays_back_with_its_duration_and_its_hash_verifies(
    stack: Stack, tmp_path: Path
) -> None:
    path = tmp_path / "flight-1" / "drone-1.mp4"
    hub = stack.video.hub
    await until(lambda: hub.frames_published >= 3, 10)
    stack.video.start_recording(path)
    start = hub.frames_published
    await until(lambda: hub.frames_published >= start + 40, 20)
    info = await stack.video.stop_recording()
    assert info.path == path and info.size_bytes == path.stat().st_size > 0
    assert info.sha256_hex == sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        captures = [read_capture_time_us(split_avcc(bytes(p))) for p in packets]
        container.seek(0)
        frames = list(container.decode(video=0))
        file_duration_s = float(container.duration or 0) / av.time_base
    assert len(frames) == len(packets) == info.frame_count >= 30
    assert packets[0].is_keyframe
    frame_s = 1 / FPS
    assert abs(file_duration_s - info.duration_s) <= 2 * frame_s
    first, last = captures[0], captures[-1]
    assert first is not None and last is not None
    capture_span_s = (last - first) / 1e6 + frame_s
    assert abs(info.duration_s - capture_span_s) <= 3 * frame_s + 0.1


async def test_snapshot_is_a_jpeg_of_the_latest_keyframe(stack: Stack) -> None:
    hub = stack.video.hub
    await until(lambda: hub.latest_keyframe is not None, 10)
    jpeg = await stack.video.snapshot_jpeg()
    assert jpeg[:2] == b"\xff\xd8"
    with av.open(io.BytesIO(jpeg)) as container:
        picture = next(container.decode(video=0))
    assert (picture.width, picture.height) == (WIDTH, HEIGHT)
