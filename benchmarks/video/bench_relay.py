"""Video relay benchmark: relay-added latency, first-frame time, CPU per viewer.

    .venv/bin/python benchmarks/video/bench_relay.py [--width 1280 --height 720 --fps 30]
        [--viewers 100] [--seconds 10] [--json OUT.json]

One simulated camera (``python -m sitl.camera``, its own process) streams RTP to a
``DroneVideo`` served by a real uvicorn websocket endpoint in this process, exactly as the
service wires it. Measured:

* relay-added latency: the RTP packet that completes a frame handed to us by the kernel
  (``datagram_received``) -> that frame's fMP4 fragment in the viewer's transport (direct
  mode: ``transport.write`` returned; ASGI mode: ``send_bytes`` returned), per viewer-frame;
  and the same to the moment a Python client on loopback has the message;
* first-frame time: connect -> codec message, init segment and a keyframe fragment received;
* CPU per viewer: this process's CPU with N viewers (in another process) minus with none,
  divided by N; and relay-added latency at N viewers.

The delivery modes run side by side on the same stream: ``inline`` (the default: the hub
frames each websocket message once and ``publish`` itself writes it to every viewer whose
queue is empty, one ``transport.write`` each), ``queued`` (same pre-framed write, from
each viewer's own task after a queue hand-off) and ``asgi`` (``websocket.send_bytes`` per
viewer through Starlette/uvicorn).

Browser glass-to-glass and the Janus / rtsp-relay peers are measured separately (they need
Chromium and the peers' packages).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import resource
import statistics
import struct
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from websockets.asyncio.client import connect

from dfr.video.relay import DroneVideo
from dfr.video.websocket import TransportWriter, VideoFormat, ViewerLimits, serve_viewer

ROOT = Path(__file__).resolve().parents[2]
logger = logging.getLogger("bench_relay")


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def fragment_sequence(data: bytes) -> int | None:
    """mfhd sequence number (= relay frame index) of a moof+mdat message."""
    if len(data) >= 24 and data[4:8] == b"moof" and data[12:16] == b"mfhd":
        return int(struct.unpack_from(">I", data, 20)[0])
    return None


def summary(samples_ms: list[float]) -> dict[str, float]:
    if not samples_ms:
        return {"n": 0}
    ordered = sorted(samples_ms)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(p99, 3),
        "max_ms": round(ordered[-1], 3),
    }


class Probe:
    """Arrival time of each published frame; relay-added latency samples at send time."""

    def __init__(self, video: DroneVideo) -> None:
        self.arrival_ns: dict[int, int] = {}
        self.samples_ms: list[float] = []
        self.recording = True
        hub = self._hub = video.hub
        publish = hub.publish

        def publish_and_note(unit):  # type: ignore[no-untyped-def]
            # noted before publishing: in inline mode publish itself writes to the viewers
            index = hub.last_index + 1
            self.arrival_ns[index] = unit.arrival_ns
            self.arrival_ns.pop(index - 600, None)
            frame = publish(unit)
            if frame is None:
                self.arrival_ns.pop(index, None)
            return frame

        hub.publish = publish_and_note  # type: ignore[method-assign]

    def latest_index(self) -> int:
        return self._hub.last_index

    def note(self, sequence: int | None, live_from: int) -> None:
        """A frame was handed to a viewer's transport now. Frames up to ``live_from`` (the
        GOP replayed to a new viewer on join) are not relay latency and are not sampled."""
        done_ns = time.monotonic_ns()
        if sequence is None or sequence <= live_from or not self.recording:
            return
        arrival_ns = self.arrival_ns.get(sequence)
        if arrival_ns is not None:
            self.samples_ms.append((done_ns - arrival_ns) / 1e6)


class TimedSend:
    """ASGI path: wraps ``websocket.send_bytes``."""

    def __init__(self, probe: Probe, send_bytes: Callable[[bytes], Awaitable[None]]) -> None:
        self._probe = probe
        self._send_bytes = send_bytes
        self.live_from = probe.latest_index()

    async def __call__(self, data: bytes) -> None:
        await self._send_bytes(data)
        self._probe.note(fragment_sequence(data), self.live_from)


class TimedTransportWriter(TransportWriter):
    """Direct path: notes each pre-framed write."""

    probe: Probe
    live_from: int

    def write(self, websocket_frame: bytes) -> None:
        super().write(websocket_frame)
        header = 2 if websocket_frame[1] < 126 else (4 if websocket_frame[1] == 126 else 10)
        self.probe.note(fragment_sequence(websocket_frame[header:]), self.live_from)


def make_app(video: DroneVideo, probe: Probe) -> FastAPI:
    app = FastAPI()

    @app.websocket("/ws/video/{drone_id}")
    async def video_ws(websocket: WebSocket, drone_id: str, mode: str = "inline") -> None:
        await websocket.accept()
        limits = ViewerLimits(direct_write=mode != "asgi", inline_write=mode == "inline")
        send_bytes = TimedSend(probe, websocket.send_bytes)
        writer = TimedTransportWriter.of(websocket, limits.send_buffer_bytes)
        if writer is not None:
            writer.probe = probe
            writer.live_from = probe.latest_index()
        with contextlib.suppress(WebSocketDisconnect):  # viewers leave between phases
            await serve_viewer(
                websocket.send_text,
                send_bytes,
                video.hub,
                fmt=VideoFormat.FMP4,
                limits=limits,
                direct=writer if limits.direct_write else None,
                buffered_bytes=writer.buffered_bytes if writer is not None else None,
            )

    return app


async def measure(url: str, probe: Probe, args: argparse.Namespace) -> dict[str, object]:
    """All figures for one delivery mode."""
    results: dict[str, object] = {}
    # 1. one viewer: relay-added and client-received latency
    probe.samples_ms.clear()
    probe.recording = True
    client_ms = await client_latency(url, probe, args.seconds)
    results["relay_added_1_viewer"] = summary(probe.samples_ms)
    results["udp_in_to_python_client_1_viewer"] = summary(client_ms)

    # 2. first-frame time for a new viewer
    firsts = [await first_frame_ms(url) for _ in range(args.joins)]
    results["first_frame"] = summary(firsts)

    # 3. CPU with no viewers, then with N viewers in another process
    probe.samples_ms.clear()
    probe.recording = False
    idle_start = cpu_s()
    await asyncio.sleep(args.seconds)
    idle_cpu_s = cpu_s() - idle_start
    viewers = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "benchmarks/video/viewers.py"), url, str(args.viewers),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    assert viewers.stdout is not None and viewers.stdin is not None
    line = await asyncio.wait_for(viewers.stdout.readline(), 60)
    if line.strip() != b"ready":
        raise RuntimeError(f"viewer process said {line!r}")
    await asyncio.sleep(1.0)
    probe.recording = True
    busy_start = cpu_s()
    await asyncio.sleep(args.seconds)
    busy_cpu_s = cpu_s() - busy_start
    probe.recording = False
    viewers.stdin.close()
    out, _ = await viewers.communicate()
    client_stats = json.loads(out.decode().strip().splitlines()[-1])
    per_viewer_pct = (busy_cpu_s - idle_cpu_s) / args.seconds / args.viewers * 100
    results[f"relay_added_{args.viewers}_viewers"] = summary(probe.samples_ms)
    results["cpu"] = {
        "relay_process_no_viewers_pct_core": round(idle_cpu_s / args.seconds * 100, 2),
        f"relay_process_{args.viewers}_viewers_pct_core": round(busy_cpu_s / args.seconds * 100, 2),
        "per_viewer_pct_core": round(per_viewer_pct, 3),
        "viewer_clients_process_cpu_s": round(client_stats["cpu_s"], 2),
    }
    return results


async def client_latency(url: str, probe: Probe, seconds: float) -> list[float]:
    samples: list[float] = []
    live_from = probe.latest_index()
    async with connect(url, max_size=None, compression=None) as ws:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            message = await ws.recv()
            now_ns = time.monotonic_ns()
            if isinstance(message, bytes):
                sequence = fragment_sequence(message)
                if sequence is not None and sequence > live_from and sequence in probe.arrival_ns:
                    samples.append((now_ns - probe.arrival_ns[sequence]) / 1e6)
    return samples


async def first_frame_ms(url: str) -> float:
    start = time.monotonic_ns()
    async with connect(url, max_size=None, compression=None) as ws:
        init_seen = False
        while True:
            message = await ws.recv()
            if isinstance(message, bytes):
                if message[4:8] == b"ftyp":
                    init_seen = True
                elif init_seen and fragment_sequence(message) is not None:
                    return (time.monotonic_ns() - start) / 1e6


async def run(args: argparse.Namespace) -> dict[str, object]:
    results: dict[str, object] = {
        "stream": f"{args.width}x{args.height}@{args.fps:g} H.264 (sitl.camera)",
        "viewers": args.viewers,
        "cores_on_machine": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
    }
    async with DroneVideo("drone-1", "rtp://127.0.0.1:0") as video:
        probe = Probe(video)
        camera = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sitl.camera", "--port", str(video.ingest.port),
            "--width", str(args.width), "--height", str(args.height), "--fps", str(args.fps),
            cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        config = uvicorn.Config(
            make_app(video, probe), host="127.0.0.1", port=0, log_level="warning",
            lifespan="off", ws="websockets-sansio", ws_per_message_deflate=False,
        )  # fmt: skip
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(), name="bench uvicorn")
        try:
            while not server.started or video.hub.codec is None:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            port = server.servers[0].sockets[0].getsockname()[1]
            await asyncio.sleep(1.0)
            for mode in args.modes:
                url = f"ws://127.0.0.1:{port}/ws/video/drone-1?mode={mode}"
                results[mode] = await measure(url, probe, args)
            results["frames_published"] = video.hub.frames_published
        finally:
            camera.terminate()
            await asyncio.wait_for(camera.wait(), 10)
            server.should_exit = True
            await serving
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--viewers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--joins", type=int, default=20)
    parser.add_argument("--modes", nargs="+", default=["inline", "queued", "asgi"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    results = asyncio.run(run(args))
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
