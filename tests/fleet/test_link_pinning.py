"""A drone's link takes only its own system id (real UDP, real MAVSDK, simulated vehicles).

Two vehicles speak on one port (PX4's shared API port rule, or an impostor): the link of
the drone whose site says sysid 2 connects to system 2, commands reach system 2 only, and
system 1 is reported once. A site whose drone says sysid 2 while only a system 1 speaks
on its port never connects, and ``GET /api/v1/drones/{id}`` shows the stranger.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from dfr.api.app import create_app
from dfr.config import Settings
from dfr.errors import CommandTimeout, LinkError
from dfr.fleet.drone_state import DroneState, LinkState
from dfr.fleet.link import DroneLink, LinkWarning
from dfr.site import load_site
from sitl.fleet import Fleet, PortPlan, VehicleSpec
from tests.sitl.mavsdk_session import free_port_offset

pytestmark = pytest.mark.timeout(120)

HOME = (47.397742, 8.545594, 488.0)
TOKEN = "pilot-token-for-tests-0123456789"


def _vehicle(instance: int, sysid: int) -> VehicleSpec:
    return VehicleSpec(
        instance, HOME[0], HOME[1] + instance * 1e-4, HOME[2], params={"MAV_SYS_ID": sysid}
    )


def _one_port(vehicles: int) -> PortPlan:
    """Every vehicle sends its API link to the same port (PX4 does so from instance 9)."""
    return replace(PortPlan().shifted(free_port_offset(vehicles)), api_remote_shared_from=0)


async def _until(condition: Any, timeout_s: float) -> None:
    """Wait for a condition on a real component (a vehicle's state has no event)."""
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


@pytest.fixture
async def running_link() -> AsyncIterator[Any]:
    tasks: list[asyncio.Task[None]] = []

    def start(link: DroneLink) -> DroneLink:
        tasks.append(asyncio.create_task(link.run(), name=f"{link.drone_id}: test link"))
        return link

    yield start
    for task in tasks:
        task.cancel()
    for task in tasks:
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_link_takes_its_sysid_and_reports_the_other_system_once(
    running_link: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="dfr.fleet.link")
    ports = _one_port(2)
    warnings: list[LinkWarning] = []
    states: list[DroneState] = []
    # instance 0 is system 1, instance 1 is system 2: the drone's id is the second
    async with Fleet([_vehicle(0, 1), _vehicle(1, 2)], ports=ports, speed_factor=10.0) as fleet:
        link = running_link(
            DroneLink(
                "d2",
                f"udpin://127.0.0.1:{ports.api_remote(0)}",
                sysid=2,
                on_state=states.append,
                on_link_warning=warnings.append,
            )
        )
        await link.wait_connected(30)
        await _until(lambda: warnings, 15)
        await _until(lambda: link.state.armable, 30)
        await link.arm()
        await _until(lambda: fleet.vehicle(2).armed, 10)
        assert not fleet.vehicle(1).armed, "the command reached the other system"
        await link.disarm()
        await _until(lambda: not fleet.vehicle(2).armed, 10)
        assert link.state.link is LinkState.UP
    assert [(w.kind, w.sysid) for w in warnings] == [("stranger_system", 1)]
    assert link.link_warnings == warnings
    reported = [r for r in caplog.records if "system 1 speaks MAVLink" in r.getMessage()]
    assert len(reported) == 1, "the stranger is logged once, not on every heartbeat"


async def test_a_link_alone_with_another_system_never_connects(running_link: Any) -> None:
    ports = _one_port(1)
    warnings: list[LinkWarning] = []
    async with Fleet([_vehicle(0, 1)], ports=ports, speed_factor=10.0):
        link = running_link(
            DroneLink(
                "d2",
                f"udpin://127.0.0.1:{ports.api_remote(0)}",
                sysid=2,
                on_state=lambda state: None,
                on_link_warning=warnings.append,
            )
        )
        await _until(lambda: warnings, 15)
        with pytest.raises(LinkError):
            await link.wait_connected(4)  # heartbeats every second: four chances to be taken
        assert link.state.link is LinkState.CONNECTING
    assert [w.sysid for w in warnings] == [1]


def _write_site(directory: Path, port: int, sysid: int) -> Path:
    directory.mkdir()
    site = {
        "name": "pinned link site",
        "docks": [{"id": "a", "lat": HOME[0], "lon": HOME[1], "ground_alt_amsl_m": HOME[2]}],
        "drones": [{"id": "d0", "dock": "a", "mavlink_url": f"udpin://127.0.0.1:{port}"}],
    }
    if sysid:
        site["drones"][0]["sysid"] = sysid  # type: ignore[index]
    (directory / "site.yaml").write_text(json.dumps(site))
    return directory


@pytest.mark.parametrize("site_sysid", [2, 0], ids=["impostor", "site-default-sysid"])
async def test_service_shows_the_stranger_or_connects(tmp_path: Path, site_sysid: int) -> None:
    """Site sysid 2 with system 1 on the port: link stays down, the drone's body names
    system 1 in ``link_warnings``. No sysid in the site: drone 0 is system 1 and connects."""
    ports = _one_port(1)
    site_dir = _write_site(tmp_path / "site", ports.api_remote(0), site_sysid)
    settings = Settings(site=site_dir, data_dir=tmp_path / "data", api_token=SecretStr(TOKEN))
    app = create_app(settings, load_site(site_dir))
    async with (
        Fleet([_vehicle(0, 1)], ports=ports, speed_factor=10.0),
        app.router.lifespan_context(app) as state,
    ):

        async def with_state(scope, receive, send):  # type: ignore[no-untyped-def]
            scope["state"] = dict(state)
            await app(scope, receive, send)

        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=with_state),
            base_url="http://dfr.test",
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as client:

            async def body() -> dict[str, Any]:
                response = await client.get("/api/v1/drones/d0")
                assert response.status_code == 200
                return dict(response.json())

            async with asyncio.timeout(30):
                while True:
                    drone = await body()
                    if drone["link_warnings"] or drone["link"] == "up":
                        break
                    await asyncio.sleep(0.2)
            if site_sysid == 2:
                assert drone["sysid"] == 2
                assert [w["sysid"] for w in drone["link_warnings"]] == [1]
                assert "system 1" in drone["link_warnings"][0]["message"]
                await asyncio.sleep(3.0)  # three more heartbeats of system 1
                drone = await body()
                assert drone["link"] == "connecting"
                assert len(drone["link_warnings"]) == 1
            else:
                assert drone["sysid"] == 1
                assert drone["link"] == "up"
                assert drone["link_warnings"] == []
                # leave once the link has read the vehicle's limits (after its first
                # commands): a MAVSDK call cut short by shutdown can block its thread
                async with asyncio.timeout(30):
                    while (await body())["vehicle_limits"] is None:  # noqa: ASYNC110
                        await asyncio.sleep(0.2)


@pytest.mark.timeout(240)  # a dozen unanswered parameter reads, each retried by MAVSDK
async def test_mavsdk_hears_a_signed_vehicle_but_cannot_command_it(running_link: Any) -> None:
    """Why the README sends signed links through a signing proxy: MAVSDK takes the
    vehicle's signed telemetry, but its own unsigned commands are ignored (timeout)."""
    ports = _one_port(1)
    spec = replace(_vehicle(0, 1), signing_key=bytes(range(32)))
    async with Fleet([spec], ports=ports, speed_factor=10.0) as fleet:
        link = running_link(
            DroneLink("d1", f"udpin://127.0.0.1:{ports.api_remote(0)}", on_state=lambda s: None)
        )
        await link.wait_connected(30)
        await _until(lambda: link.state.has_position, 15)
        # its parameter reads go unanswered too; let them end (a MAVSDK call cut short by
        # shutdown can block its thread for good)
        await _until(lambda: link.limits is not None, 100)
        with pytest.raises(CommandTimeout):
            await link.arm()
        assert not fleet.vehicles[0].armed
        assert fleet.vehicles[0].api_link.rejected_unsigned > 0
