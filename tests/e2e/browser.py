"""Browser tests' parts: the real service under uvicorn on a free 127.0.0.1 port, with a
copy of the Fort Worth site whose drones listen on free local UDP ports, and Debian's
Chromium driven by Playwright (never ``playwright install``).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from playwright.async_api import BrowserContext, async_playwright
from pydantic import SecretStr

from dfr.api.app import create_app
from dfr.auth.tokens import Role
from dfr.config import Settings
from dfr.service import Service
from dfr.site import load_site
from tests.ports import free_port_offset

PILOT_TOKEN = "pilot-token-for-console-tests-0123"
VIEWER_TOKEN = "viewer-token-for-console-tests-0123"
FORT_WORTH = Path(__file__).resolve().parents[2] / "flightplans" / "fort-worth"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
STARTUP_TIMEOUT_S = 20.0
# where browser tests leave the screenshots a person looks at (build/ is not committed)
SCREENSHOTS = Path(
    os.environ.get("DFR_SCREENSHOTS", Path(__file__).resolve().parents[2] / "build" / "screenshots")
)


def screenshot_path(name: str) -> str:
    """A path for screenshot ``name`` in SCREENSHOTS (made if missing)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS / name)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_site(directory: Path, *, keep_mavlink_ports: bool = False) -> Path:
    """The Fort Worth site with every video URL, and unless ``keep_mavlink_ports`` every
    MAVLink URL, moved to a free local port; MAVLink URLs bind 127.0.0.1 only."""
    directory.mkdir(parents=True, exist_ok=True)
    text = (FORT_WORTH / "site.yaml").read_text()
    if keep_mavlink_ports:  # PX4 SITL's ports; the service and the fleet shift them alike
        text = re.sub(r"udpin://[0-9.]+:", "udpin://127.0.0.1:", text)
        text = re.sub(r"rtp://[0-9.]+:", "rtp://127.0.0.1:", text)
    else:
        text = re.sub(
            r"udpin://[0-9.]+:\d+", lambda _m: f"udpin://127.0.0.1:{free_udp_port()}", text
        )
        text = re.sub(r"rtp://[0-9.]+:\d+", lambda _m: f"rtp://127.0.0.1:{free_udp_port()}", text)
    (directory / "site.yaml").write_text(text)
    for extra in FORT_WORTH.iterdir():
        if extra.name != "site.yaml" and extra.is_file():
            shutil.copy(extra, directory / extra.name)
    return directory


@dataclass(frozen=True, slots=True)
class RunningService:
    base_url: str
    pilot_token: str
    viewer_token: str
    supervisor_token: str  # "sam": holds docks, downloads recordings

    def console_url(self, token: str | None = None) -> str:
        return f"{self.base_url}/" + (f"#token={token}" if token else "")

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        """An API client with ``token`` (default: the pilot's)."""
        return httpx.AsyncClient(
            base_url=f"{self.base_url}/api/v1",
            headers={"Authorization": f"Bearer {token or self.pilot_token}"},
        )


def fleet_port_offset() -> int:
    """A MAVLink/video port offset for a simulated fleet whose ports are all free now."""
    return free_port_offset()


@asynccontextmanager
async def running_service(
    tmp_path: Path, *, fleet_speed: float | None = None, **settings: Any
) -> AsyncIterator[RunningService]:
    """The real app under a real uvicorn on 127.0.0.1, in this event loop; with
    ``fleet_speed``, the site's simulated fleet (sitl) too, on its own ports; ``settings``
    override the service's :class:`Settings` (e.g. ``map_tile_url``)."""
    async with AsyncExitStack() as stack:
        offset = 0
        if fleet_speed is not None:
            from dfr.sim_fleet import specs_for_site
            from sitl.fleet import Fleet, PortPlan

            offset = fleet_port_offset()
            site_dir = write_site(tmp_path / "site", keep_mavlink_ports=True)
            fleet = Fleet(
                specs_for_site(load_site(site_dir), airframe="dfr_quad"),
                ports=PortPlan().shifted(offset),
                speed_factor=fleet_speed,
            )
            await stack.enter_async_context(fleet)
        else:
            site_dir = write_site(tmp_path / "site")
        yield await stack.enter_async_context(_serve(tmp_path, site_dir, offset, settings))


@asynccontextmanager
async def _serve(
    tmp_path: Path, site_dir: Path, offset: int, overrides: dict[str, Any]
) -> AsyncIterator[RunningService]:
    settings = Settings(
        site=site_dir,
        data_dir=tmp_path / "data",
        host="127.0.0.1",
        port=0,
        api_token=SecretStr(PILOT_TOKEN),
        viewer_token=SecretStr(VIEWER_TOKEN),
        mavlink_port_offset=offset,
        **overrides,
    )
    app = create_app(settings, load_site(site_dir))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    # The service's websocket handlers notice a closed browser only when they next send;
    # an idle stream would hold uvicorn's shutdown open, so bound the graceful drain.
    config = uvicorn.Config(
        app, log_config=None, lifespan="on", ws_ping_interval=None, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="console test: uvicorn")
    try:
        async with asyncio.timeout(STARTUP_TIMEOUT_S):
            while not server.started:
                if task.done():
                    task.result()  # raises what stopped it
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.02)
        service: Service = server.lifespan.state["service"]
        supervisor = service.tokens.issue("sam", Role.SUPERVISOR)
        yield RunningService(f"http://127.0.0.1:{port}", PILOT_TOKEN, VIEWER_TOKEN, supervisor)
    finally:
        server.should_exit = True
        try:
            async with asyncio.timeout(STARTUP_TIMEOUT_S):
                await task
        finally:
            sock.close()


@asynccontextmanager
async def chromium() -> AsyncIterator[BrowserContext]:
    """Headless Chromium with a fresh profile, 1280×720 (the console's smallest desktop)."""
    with tempfile.TemporaryDirectory(prefix="dfr-chromium-") as profile:
        async with async_playwright() as p:
            context = await p.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 720},
            )
            try:
                yield context
            finally:
                await context.close()
