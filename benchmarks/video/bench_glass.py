"""Video benchmark, side by side in one run on one simulated stream: dfr (MSE and
WebCodecs, in headless Chromium) against the Janus WebRTC gateway (its streaming plugin,
played with janus.js in the same Chromium).

    .venv/bin/python benchmarks/video/bench_glass.py [--width 640 --height 360 --fps 30]
        [--seconds 15] [--joins 5] [--viewers 100] [--no-janus] [--json OUT.json]

One camera process (``stamp_camera.py``: ``sitl.camera`` with the capture time also drawn
as pixels) sends each RTP packet to three receivers: the dfr service (``dfr serve``, its
own process, the real app), Janus (its own process), and an in-process relay probe
(``bench_relay``'s instrumented ``DroneVideo``) for the relay-added latency.

Measured per path:

* glass-to-glass: the frame's capture time -> the moment Chromium hands that frame to the
  compositor (MSE and Janus: ``requestVideoFrameCallback`` ``presentationTime``; WebCodecs:
  the frame drawn on the canvas). dfr: capture time from the SEI (the viewer page's own
  readout). Janus drops SEI, so its capture time is read from the pixels; the same pixel
  reading runs on the dfr MSE path too, as a cross-check of the two methods;
* first-frame time for a new viewer: start of connecting (websocket created / Janus session
  started) -> first frame shown, over ``--joins`` fresh pages;
* CPU per viewer: the server process' CPU (``/proc/PID/stat``) with ``--viewers`` receiving
  clients in one Chromium page (websockets for dfr, WebRTC peer connections for Janus; not
  decoded) minus with none, divided by the number of viewers;
* relay-added latency (dfr only): UDP packet completing a frame in -> its fragment written
  to the viewer's socket, 1 viewer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from playwright.async_api import BrowserContext, Page, Route, async_playwright

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.video.bench_relay import Probe, client_latency, make_app, summary  # noqa: E402
from benchmarks.video.janus_peer import janus_available, running_janus  # noqa: E402
from dfr.video.ingest import UdpRtpIngest  # noqa: E402
from dfr.video.relay import DroneVideo  # noqa: E402

logger = logging.getLogger("bench_glass")

PAGE_DIR = Path(__file__).resolve().parent / "glass_page"
# The peer's own client scripts, served from the Debian packages that install them
# (apt-get install janus libjs-janus-gateway libjs-webrtc-adapter), not copied here.
PEER_SCRIPTS = {
    "janus.js": Path("/usr/share/javascript/janus-gateway/janus.js"),
    "adapter.js": Path("/usr/share/javascript/webrtc-adapter/adapter.js"),
}
FORT_WORTH = ROOT / "flightplans" / "fort-worth"
TOKEN = "bench-glass-token-0123456789abcdef"
DRONE = "fw1"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    # the bench pages are served by Playwright (route), which Chromium's local-network-access
    # checks treat as a public origin calling 127.0.0.1
    "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,"
    "WebRtcHideLocalIpsWithMdns",  # host candidates Janus can use without mDNS
]  # fmt: skip
WAIT_MS = 30_000
CLOCK_TICKS_HZ = os.sysconf("SC_CLK_TCK")


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_HZ  # utime, stime


def stats_ms(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 1),
        "max_ms": round(ordered[-1], 1),
    }


def write_site(directory: Path, video_port: int) -> Path:
    """Fort Worth, MAVLink on free local ports (no vehicle answers), fw1's video on ours."""
    shutil.copytree(FORT_WORTH, directory)
    text = (directory / "site.yaml").read_text()
    text = re.sub(r"udpin://[0-9.]+:\d+", lambda _m: f"udpin://127.0.0.1:{free_port()}", text)
    ports = iter([video_port])
    text = re.sub(
        r"rtp://[0-9.]+:\d+",
        lambda _m: f"rtp://127.0.0.1:{next(ports, None) or free_port()}",
        text,
    )
    (directory / "site.yaml").write_text(text)
    return directory


@contextlib.asynccontextmanager
async def dfr_service(tmp: Path, video_port: int) -> AsyncIterator[tuple[str, int]]:
    """``dfr serve`` in its own process; yields (base URL, pid)."""
    site = write_site(tmp / "site", video_port)
    port = free_port(socket.SOCK_STREAM)
    log = (tmp / "dfr.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dfr.cli", "serve", "--site", str(site), "--host", "127.0.0.1",
        "--port", str(port), "--data-dir", str(tmp / "data"), "--token", TOKEN,
        cwd=ROOT, stdout=log, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            async with asyncio.timeout(30):
                while True:
                    if process.returncode is not None:
                        raise RuntimeError(f"dfr serve exited: see {tmp / 'dfr.log'}")
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get(f"{url}/api/v1/me")).status_code == 200:
                            break
                    await asyncio.sleep(0.2)
        yield url, process.pid
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 15)
        log.close()


@contextlib.asynccontextmanager
async def relay_probe() -> AsyncIterator[tuple[DroneVideo, Probe, str]]:
    """bench_relay's instrumented relay under uvicorn in this process."""
    async with DroneVideo("probe", "rtp://127.0.0.1:0") as video:
        probe = Probe(video)
        config = uvicorn.Config(
            make_app(video, probe), host="127.0.0.1", port=0, log_level="warning",
            lifespan="off", ws="websockets-sansio", ws_per_message_deflate=False,
        )  # fmt: skip
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(), name="bench_glass: relay probe")
        try:
            while not server.started:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            port = server.servers[0].sockets[0].getsockname()[1]
            yield video, probe, f"ws://127.0.0.1:{port}/ws/video/probe"
        finally:
            server.should_exit = True
            await serving


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[BrowserContext]:
    with tempfile.TemporaryDirectory(prefix="dfr-bench-chromium-") as profile:
        async with async_playwright() as p:
            context = await p.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 720},
            )  # fmt: skip
            try:
                yield context
            finally:
                await context.close()


async def serve_bench_pages(context: BrowserContext, origin: str) -> None:
    """Pages under ``origin``/bench/ come from glass_page/ (no server of ours needed)."""

    async def fulfil(route: Route) -> None:
        name = route.request.url.split("/bench/", 1)[1].split("?", 1)[0]
        path = PEER_SCRIPTS.get(name, PAGE_DIR / name)
        if name not in PEER_SCRIPTS and path.parent != PAGE_DIR:
            path = PAGE_DIR / "missing"
        if not path.is_file():
            await route.fulfill(status=404)
            return
        kind = "text/html" if name.endswith(".html") else "text/javascript"
        await route.fulfill(body=path.read_bytes(), content_type=kind)

    prefix = f"{origin}/bench/"
    await context.route(lambda url: url.startswith(prefix), fulfil)


async def wait_frames(page: Page, expression: str, count: int) -> None:
    # functions, not expressions: Playwright evals an expression in the page, which dfr's
    # content security policy (no 'unsafe-eval') refuses
    await page.wait_for_function(f"() => ({expression}) >= {count}", timeout=WAIT_MS)


async def glass_dfr(context: BrowserContext, url: str, mode: str, seconds: float) -> dict[str, Any]:
    page = await context.new_page()
    try:
        await page.goto(f"{url}/view.html?drone={DRONE}&mode={mode}#token={TOKEN}")
        await wait_frames(page, "window.dfrViewer ? dfrViewer.framesShown : 0", 30)
        if mode == "mse":
            await page.add_script_tag(content=(PAGE_DIR / "stamp.js").read_text())
            await page.evaluate(
                "window.stampSamples = [];"
                " dfrStamp.watch(document.getElementById('video'), (ms) => stampSamples.push(ms))"
            )
        await page.evaluate(
            "dfrViewer.latencySamplesMs = []; window.framesAtStart = dfrViewer.framesShown"
        )
        await asyncio.sleep(seconds)
        data = await page.evaluate(
            "({sei: dfrViewer.latencySamplesMs, stamp: window.stampSamples || [],"
            " frames: dfrViewer.framesShown - framesAtStart, errors: dfrViewer.errors})"
        )
    finally:
        await page.close()
    result = {
        "glass_to_glass_sei": stats_ms(data["sei"]),
        "frames_shown_per_s": round(data["frames"] / seconds, 1),
        "errors": data["errors"],
    }
    if mode == "mse":
        result["glass_to_glass_pixels"] = stats_ms(data["stamp"])
    return result


async def first_frames(
    context: BrowserContext, url: str, expression: str, joins: int
) -> dict[str, float]:
    samples = []
    for _ in range(joins):
        page = await context.new_page()
        try:
            await page.goto(url)
            samples.append(
                float(
                    await (
                        await page.wait_for_function(f"() => ({expression})", timeout=WAIT_MS)
                    ).json_value()
                )
            )
        finally:
            await page.close()
    return stats_ms(samples)


async def glass_janus(context: BrowserContext, page_url: str, seconds: float) -> dict[str, Any]:
    page = await context.new_page()
    page.on("console", lambda message: logger.info("janus page: %s", message.text))
    page.on("pageerror", lambda error: logger.warning("janus page error: %s", error))
    try:
        await page.goto(page_url)
        await wait_frames(page, "window.janusViewer ? janusViewer.framesShown : 0", 30)
        await page.evaluate(
            "janusViewer.latencySamplesMs = []; window.framesAtStart = janusViewer.framesShown"
        )
        await asyncio.sleep(seconds)
        data = await page.evaluate(
            "({stamp: janusViewer.latencySamplesMs,"
            " frames: janusViewer.framesShown - framesAtStart, errors: janusViewer.errors,"
            " bad: janusViewer.stampCounts.bad})"
        )
    finally:
        await page.close()
    return {
        "glass_to_glass_pixels": stats_ms(data["stamp"]),
        "frames_shown_per_s": round(data["frames"] / seconds, 1),
        "unreadable_stamps": data["bad"],
        "errors": data["errors"],
    }


async def cpu_per_viewer(
    context: BrowserContext, pid: int, page_url: str, connected: str, viewers: int, seconds: float
) -> dict[str, float]:
    """Server CPU with no viewers, then with up to ``viewers`` receiving clients in one page
    (``connected``: a JS expression counting those receiving). Clients that have not
    connected within the wait are left out of the division, and the count is reported."""
    start = process_cpu_s(pid)
    await asyncio.sleep(seconds)
    idle_pct = (process_cpu_s(pid) - start) / seconds * 100
    page = await context.new_page()
    page.on("pageerror", lambda error: logger.warning("page error: %s", error))
    try:
        await page.goto(page_url)
        count = 0
        deadline_s = time.monotonic() + WAIT_MS * 4 / 1000
        while time.monotonic() < deadline_s:
            count = int(await page.evaluate(f"({connected}) || 0"))
            if count >= viewers:
                break
            await asyncio.sleep(1.0)
        if count == 0:
            raise RuntimeError(f"no viewer connected within {WAIT_MS * 4 / 1000:.0f} s")
        await asyncio.sleep(2.0)
        start = process_cpu_s(pid)
        await asyncio.sleep(seconds)
        busy_pct = (process_cpu_s(pid) - start) / seconds * 100
        count = int(await page.evaluate(f"({connected}) || 0"))
    finally:
        await page.close()
    return {
        "viewers_asked": viewers,
        "viewers_connected": count,
        "server_no_viewers_pct_core": round(idle_pct, 2),
        "server_with_viewers_pct_core": round(busy_pct, 2),
        "per_viewer_pct_core": round((busy_pct - idle_pct) / count, 3),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "stream": f"{args.width}x{args.height}@{args.fps:g} H.264 baseline (stamp_camera)",
        "cores_on_machine": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
    }
    janus_reason = "skipped (--no-janus)" if args.no_janus else janus_available()
    async with contextlib.AsyncExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dfr-bench-glass-")))
        dfr_video_port = free_port()
        url, dfr_pid = await stack.enter_async_context(dfr_service(tmp, dfr_video_port))
        video, probe, probe_url = await stack.enter_async_context(relay_probe())
        assert isinstance(video.ingest, UdpRtpIngest)  # an rtp:// URL
        destinations = [f"127.0.0.1:{dfr_video_port}", f"127.0.0.1:{video.ingest.port}"]
        janus = None
        if janus_reason is None:
            try:
                janus = await stack.enter_async_context(running_janus(tmp / "janus"))
                destinations.append(f"127.0.0.1:{janus.rtp_port}")
            except (RuntimeError, TimeoutError) as exc:
                janus_reason = f"Janus did not start: {exc}"
        camera = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "benchmarks/video/stamp_camera.py"),
            *[arg for to in destinations for arg in ("--to", to)],
            "--width", str(args.width), "--height", str(args.height), "--fps", str(args.fps),
            cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        stack.push_async_callback(_stop, camera)
        context = await stack.enter_async_context(chromium())
        await serve_bench_pages(context, url)
        while video.hub.codec is None:  # noqa: ASYNC110
            await asyncio.sleep(0.1)

        logger.info("stream up; relay-added latency")
        # relay-added latency (1 viewer), dfr only
        probe.samples_ms.clear()
        probe.recording = True
        await client_latency(probe_url, probe, args.seconds)
        results["dfr_relay_added_1_viewer"] = summary(probe.samples_ms)

        for mode in ("mse", "webcodecs"):
            logger.info("dfr %s", mode)
            result = await glass_dfr(context, url, mode, args.seconds)
            viewer = f"{url}/view.html?drone={DRONE}&mode={mode}#token={TOKEN}"
            result["first_frame"] = await first_frames(
                context, viewer, "window.dfrViewer && dfrViewer.firstFrameMs", args.joins
            )
            results[f"dfr_{mode}"] = result
        logger.info("dfr CPU per viewer")
        results["dfr_cpu"] = await cpu_per_viewer(
            context, dfr_pid,
            f"{url}/bench/fanout.html?drone={DRONE}&token={TOKEN}&viewers={args.viewers}",
            "window.fanout && fanout.messages > fanout.open * 5 && fanout.open",
            args.viewers, args.seconds,
        )  # fmt: skip

        if janus is not None:
            origin = janus.http_url.removesuffix("/janus")
            await serve_bench_pages(context, origin)
            page_url = f"{origin}/bench/janus.html?server={janus.http_url}&id={janus.mountpoint_id}"
            logger.info("janus")
            try:
                result = await glass_janus(context, page_url, args.seconds)
                result["first_frame"] = await first_frames(
                    context, page_url, "window.janusViewer && janusViewer.firstFrameMs", args.joins
                )
                results["janus_webrtc"] = result
                logger.info("janus CPU per viewer")
                results["janus_cpu"] = await cpu_per_viewer(
                    context, janus.pid, f"{page_url}&viewers={args.viewers}&render=0",
                    "window.janusViewer && janusViewer.peersConnected",
                    args.viewers, args.seconds,
                )  # fmt: skip
            except Exception as exc:  # report why, never invent numbers
                done = ", ".join(k for k in ("janus_webrtc", "janus_cpu") if k in results)
                janus_reason = f"Janus run failed after [{done}]: {type(exc).__name__}: {exc}"[:600]
                logger.warning(
                    "%s; log tail:\n%s", janus_reason, janus.log_path.read_text()[-3000:]
                )
    results["janus_not_measured_because"] = janus_reason
    return results


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)


def _cell(result: dict[str, Any] | None, *keys: str) -> float | None:
    value: Any = result
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return float(value) if isinstance(value, int | float) else None


def table(results: dict[str, Any], viewers: int) -> str:
    dfr_cpu, janus_cpu = results.get("dfr_cpu"), results.get("janus_cpu")
    sei, pixels = "glass_to_glass_sei", "glass_to_glass_pixels"
    columns = [
        ("dfr MSE", results.get("dfr_mse"), sei, dfr_cpu),
        ("dfr WebCodecs", results.get("dfr_webcodecs"), sei, dfr_cpu),
        ("Janus WebRTC", results.get("janus_webrtc"), pixels, janus_cpu),
    ]
    lines = [f"{'':34}" + "".join(f"{name:>16}" for name, *_ in columns)]

    def line(label: str, values: list[float | None]) -> None:
        cells = ("—" if v is None else f"{v:.3g}" for v in values)
        lines.append(f"{label:34}" + "".join(f"{c:>16}" for c in cells))

    line("glass-to-glass median (ms)", [_cell(r, g, "median_ms") for _, r, g, _c in columns])
    line("glass-to-glass p95 (ms)", [_cell(r, g, "p95_ms") for _, r, g, _c in columns])
    line(
        "first frame, new viewer (ms)",
        [_cell(r, "first_frame", "median_ms") for _, r, *_ in columns],
    )
    line(
        f"CPU per viewer at {viewers} (% core)",
        [_cell(c, "per_viewer_pct_core") for *_, c in columns],
    )
    janus = results.get("janus_webrtc")
    for name, result, glass, cpu in columns[:2]:
        glass_ratio = _ratio(_cell(janus, pixels, "median_ms"), _cell(result, glass, "median_ms"))
        first_ratio = _ratio(
            _cell(janus, "first_frame", "median_ms"), _cell(result, "first_frame", "median_ms")
        )
        cpu_ratio = _ratio(
            _cell(janus_cpu, "per_viewer_pct_core"), _cell(cpu, "per_viewer_pct_core")
        )
        lines.append(
            f"Janus / {name}: glass-to-glass {_fmt(glass_ratio)}, first frame {_fmt(first_ratio)},"
            f" CPU per viewer {_fmt(cpu_ratio)}"
        )
    relay = results.get("dfr_relay_added_1_viewer", {})
    lines.append(
        f"dfr relay-added latency (1 viewer): median {relay.get('median_ms')} ms,"
        f" p99 {relay.get('p99_ms')} ms"
    )
    mse_pixels = _cell(results.get("dfr_mse"), pixels, "median_ms")
    if mse_pixels is not None:
        lines.append(
            f"cross-check, dfr MSE glass-to-glass read from pixels: median {mse_pixels:.3g} ms"
        )
    if results.get("janus_not_measured_because"):
        lines.append(f"Janus NOT measured: {results['janus_not_measured_because']}")
    return "\n".join(lines)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--joins", type=int, default=5)
    parser.add_argument("--viewers", type=int, default=100)
    parser.add_argument("--no-janus", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logger.setLevel(logging.INFO)
    started = time.monotonic()
    results = asyncio.run(run(args))
    results["run_s"] = round(time.monotonic() - started, 1)
    text = json.dumps(results, indent=2)
    print(text)
    print()
    print(table(results, args.viewers))
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
