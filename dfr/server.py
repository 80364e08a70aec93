"""Runs the service under uvicorn, alone (``dfr serve``) or with the simulated fleet of
the site in the same event loop (``dfr demo``). SIGINT/SIGTERM stop it gracefully:
uvicorn drains, the service stops its links, the fleet stops its vehicles."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack

import uvicorn

from dfr.api.app import create_app
from dfr.config import Settings
from dfr.service import Service
from dfr.site import Site
from dfr.store.backend import check_store
from dfr.tls import check_tls_files

logger = logging.getLogger(__name__)

GIL_SWITCH_INTERVAL_S = 0.0005
TOKEN_IN_URL = re.compile(r"(token=)[^&\s\"']+")


class RedactTokens(logging.Filter):
    """Websockets carry the bearer token as ``?token=``: keep it out of the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message:
            record.msg, record.args = TOKEN_IN_URL.sub(r"\1<redacted>", message), ()
        return True


def redact_tokens_in_logs() -> None:
    for name in ("uvicorn.access", "uvicorn.error"):
        target = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in target.filters):
            target.addFilter(RedactTokens())


async def _enter_fleet(
    stack: AsyncExitStack,
    settings: Settings,
    site: Site,
    fleet_speed: float,
    fleet_camera: bool,
    fleet_airframe: str,
) -> None:
    """The site's simulated fleet (and its cameras), left when ``stack`` closes."""
    from dfr.sim_fleet import specs_for_site
    from sitl.fleet import Fleet, PortPlan

    ports = PortPlan().shifted(settings.mavlink_port_offset)
    specs = specs_for_site(site, airframe=fleet_airframe)
    fleet = Fleet(specs, ports=ports, speed_factor=fleet_speed)
    await stack.enter_async_context(fleet)
    logger.info(
        "demo: simulated fleet of %d (airframe %s) at %gx speed",
        len(specs),
        fleet_airframe,
        fleet_speed,
    )
    if fleet_camera:
        from sitl.fleet_cameras import enter_cameras

        await enter_cameras(stack, fleet)
        logger.info("demo: a simulated camera per drone (RTP/H.264 to port %d+i)", ports.video_base)


async def run_server(
    settings: Settings,
    site: Site,
    *,
    fleet_speed: float | None = None,
    fleet_camera: bool = False,
    fleet_airframe: str = "dfr_quad",
    on_ready: Callable[[str, str], None] | None = None,
) -> None:
    """Serve until a signal. ``fleet_speed`` set: also run the site's simulated fleet,
    on the ports the site's drone URLs name (shifted by ``settings.mavlink_port_offset``),
    every vehicle flying ``fleet_airframe`` (a name in sitl/airframes/ or a file).
    ``on_ready(console_url, pilot_token)`` is called once the server listens."""
    tls = check_tls_files(settings)  # before anything starts
    await check_store(settings)  # likewise: the database is there and of this dfr's schema
    redact_tokens_in_logs()
    # MAVSDK hands every telemetry item from its own threads to the loop; a shorter GIL
    # switch interval lets those hand-offs and the websocket fan-out interleave (measured:
    # p95 vehicle -> viewer 161 -> 73 ms at 100 viewers; benchmarks/telemetry)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    async with AsyncExitStack() as stack:
        if fleet_speed is not None:
            await _enter_fleet(stack, settings, site, fleet_speed, fleet_camera, fleet_airframe)
        service = Service(settings, site)
        app = create_app(settings, site, service=service)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            lifespan="on",
            ws_ping_interval=20.0,
            timeout_graceful_shutdown=5,
            ssl_certfile=tls[0] if tls else None,
            ssl_keyfile=tls[1] if tls else None,
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )
        server = uvicorn.Server(config)

        async def announce() -> None:
            while not server.started:  # noqa: ASYNC110 (uvicorn has no startup event to await)
                await asyncio.sleep(0.05)
            sockets = [s for srv in server.servers for s in srv.sockets]
            port = sockets[0].getsockname()[1] if sockets else settings.port
            if on_ready is not None:
                scheme = "https" if tls else "http"
                on_ready(f"{scheme}://{settings.host}:{port}/", service.pilot_token or "")

        async with asyncio.TaskGroup() as tg:
            watcher = tg.create_task(announce(), name="server: announce")
            await server.serve()
            watcher.cancel()
