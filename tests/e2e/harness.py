"""A running dfr for whole-path tests: a site on disk, the simulated fleet on its own
ports, and the real service under uvicorn on a free 127.0.0.1 port."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from pydantic import SecretStr

from dfr.api.app import create_app
from dfr.config import Settings
from dfr.service import Service
from dfr.sim_fleet import specs_for_site
from dfr.site import load_site
from sitl.fleet import Fleet, PortPlan
from tests.ports import free_port_offset

PILOT = "pilot-token-e2e-0123456789abcdef"
VIEWER = "viewer-token-e2e-0123456789abcdef"
# the phases of a sortie that flew to the scene and back to its dock, in order
FULL_SORTIE = [
    "docked",
    "preflight",
    "launching",
    "enroute",
    "on_scene",
    "returning",
    "landing",
    "docked",
]


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_offset() -> int:
    """A MAVLink and video port offset whose ports are free now (tests/ports.py)."""
    return free_port_offset()


def write_site(
    directory: Path,
    *,
    docks: list[dict[str, Any]],
    drones: list[dict[str, Any]],
    airspace: list[dict[str, Any]],
    policy: dict[str, Any],
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    site = {
        "name": "e2e test site",
        "docks": docks,
        "drones": [
            # PX4 SITL's ports; the service shifts them by its mavlink_port_offset
            {**d, "mavlink_url": f"udpin://127.0.0.1:{14540 + i}"}
            for i, d in enumerate(drones)
        ],
        "policy": policy,
    }
    (directory / "site.yaml").write_text(json.dumps(site))  # JSON is YAML
    (directory / "airspace.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": airspace})
    )
    return directory


@dataclass
class Running:
    fleet: Fleet  # with external_fleet: an empty fleet (the vehicles are another process's)
    service: Service
    url: str
    client: httpx.AsyncClient

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")


@asynccontextmanager
async def running_dfr(
    site_dir: Path,
    data_dir: Path,
    *,
    offset: int,
    speed: float,
    fleet: Fleet | None = None,
    airframe: str = "dfr_quad",
    fleet_params: dict[str, float | int] | None = None,
    settings_changes: dict[str, Any] | None = None,
    external_fleet: bool = False,
    bus_url: str | None = None,
    database_url: str | None = None,
) -> AsyncIterator[Running]:
    """The service on ``site_dir`` with ``fleet``, or with a fleet of its own: the site's
    drones at their docks, flying ``airframe`` (default ``dfr_quad``: the speeds and
    battery the test sites' default drone performance describes) with ``fleet_params``;
    its event bus on NATS at ``bus_url`` if given; ``database_url``: its store in that
    PostgreSQL database, not in ``data_dir``. ``settings_changes`` override any setting;
    ``external_fleet``: the vehicles are another process's (``dfr sim``)."""
    site = load_site(site_dir)
    values: dict[str, Any] = {
        "site": site_dir,
        "data_dir": data_dir,
        "host": "127.0.0.1",
        "port": free_tcp_port(),
        "api_token": SecretStr(PILOT),
        "viewer_token": SecretStr(VIEWER),
        "mavlink_port_offset": offset,
        "connect_timeout_s": 20.0,
        "bus_url": bus_url,
        "database_url": database_url,
    }
    settings = Settings(**{**values, **(settings_changes or {})})
    own_fleet = fleet is None and not external_fleet
    fleet = fleet or Fleet(
        [] if external_fleet else specs_for_site(site, airframe=airframe, params=fleet_params),
        ports=PortPlan().shifted(offset),
        speed_factor=speed,
    )
    if own_fleet:
        await fleet.__aenter__()
    try:
        service = Service(settings, site)
        app = create_app(settings, site, service=service)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=settings.port,
                log_config=None,
                lifespan="on",
                timeout_graceful_shutdown=5,
            )
        )
        task = asyncio.create_task(server.serve(), name="e2e: uvicorn")
        try:
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.05)
            url = f"http://127.0.0.1:{settings.port}"
            async with httpx.AsyncClient(
                base_url=url, headers={"Authorization": f"Bearer {PILOT}"}, timeout=30.0
            ) as client:
                yield Running(fleet, service, url, client)
        finally:
            server.should_exit = True
            await task
    finally:
        if own_fleet:
            await fleet.__aexit__(None, None, None)


async def wait_for(
    predicate_coro: Any, timeout_s: float, what: str, interval_s: float = 0.2
) -> Any:
    """Poll an async predicate until it returns something truthy."""
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                value = await predicate_coro()
                if value:
                    return value
                await asyncio.sleep(interval_s)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def flight_record(client: httpx.AsyncClient, flight_id: str) -> dict[str, Any]:
    """``GET /api/v1/flights/{flight_id}``, which must answer 200."""
    response = await client.get(f"/api/v1/flights/{flight_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def wait_for_phase(
    client: httpx.AsyncClient, flight_id: str, phase: str, timeout_s: float = 120
) -> None:
    async def reached() -> bool:
        return bool((await flight_record(client, flight_id))["phase"] == phase)

    await wait_for(reached, timeout_s, f"flight {flight_id} in phase {phase}")
