"""The real service for dispatch tests: its SQLite store in the test's directory, its
drones' links on ports of their own; with the simulated fleet flying them, or with no
vehicle at all (then a test sets what a link reports)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from dfr.config import Settings
from dfr.service import Service
from dfr.sim_fleet import specs_for_site
from dfr.site import load_site
from sitl.fleet import Fleet, PortPlan
from tests.dispatch.scene import dispatch_site, ready_state
from tests.e2e.harness import port_offset, wait_for


@asynccontextmanager
async def running_service(
    directory: Path,
    drones: list[dict[str, Any]],
    *,
    policy: dict[str, Any] | None = None,
    fleet: bool = False,
) -> AsyncIterator[Service]:
    """The service on a :func:`dispatch_site` of ``drones``; ``fleet``: flown by the
    simulator (at 10x), and only yielded once every drone is up and armable."""
    site_dir = dispatch_site(directory / "site", drones, policy=policy)
    site = load_site(site_dir)
    offset = port_offset()
    settings = Settings(
        site=site_dir,
        data_dir=directory / "data",
        mavlink_port_offset=offset,
        video=False,
        connect_timeout_s=20.0,
    )
    async with AsyncExitStack() as stack:
        if fleet:
            specs = specs_for_site(site)
            await stack.enter_async_context(
                Fleet(specs, ports=PortPlan().shifted(offset), speed_factor=10.0)
            )
        service = await stack.enter_async_context(Service(settings, site))
        if fleet:

            async def ready() -> bool:
                return all(
                    s.link.value == "up" and s.armable and s.health_ok
                    for s in service.states().values()
                )

            await wait_for(ready, 90, "every drone up and armable")
        yield service


def set_ready(service: Service, drone_id: str, **changes: Any) -> None:
    """The drone's link reports a drone ready on its dock (no vehicle needed), but ``changes``."""
    dock = service.site.dock_of(service.drones[drone_id])
    service.links[drone_id].state = ready_state(drone_id, dock, **changes)
