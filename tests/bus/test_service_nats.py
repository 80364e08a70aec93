"""The whole path on NATS: the service with DFR_BUS_URL set (a real nats-server), its
simulated drone, a viewer on /ws/telemetry and one on /ws/events; and a second
instance's bus, which sees the same positions and the same dispatch through NATS."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import websockets

from dfr.bus import Topic
from dfr.bus_nats import NatsBus
from dfr.site import load_site
from tests.bus.conftest import Pair, body, running_bus
from tests.bus.nats_server import NatsServer
from tests.e2e.harness import VIEWER, port_offset, running_dfr
from tests.e2e.scenes import call, wall_site

POSITIONS = 5  # the first is the picture sent on connect; the rest came over the bus


async def test_service_on_nats_serves_positions_and_events_to_both_instances(
    tmp_path: Path, nats_server: NatsServer
) -> None:
    site_dir = wall_site(tmp_path / "site", drones=[{"id": "far", "dock": "b"}])
    site_name = load_site(site_dir).name
    async with running_bus(NatsBus(nats_server.url, site=site_name)) as other:
        other_positions = other.subscribe(Topic.TELEMETRY, latest_only=False, max_pending=10_000)
        other_events = other.subscribe(Topic.EVENTS, latest_only=False)
        async with running_dfr(
            site_dir, tmp_path / "data", offset=port_offset(), speed=1.0, bus_url=nats_server.url
        ) as dfr:
            assert isinstance(dfr.service.bus, NatsBus)
            positions: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []

            async def watch_telemetry() -> None:
                async with websockets.connect(f"{dfr.ws_url}/ws/telemetry?token={VIEWER}") as ws:
                    async for raw in ws:
                        message = json.loads(raw)
                        if message["drone_id"] == "far" and message["link"] == "up":
                            positions.append(message)
                            if len(positions) == POSITIONS:
                                return

            async def watch_events(connected: asyncio.Event) -> None:
                async with websockets.connect(f"{dfr.ws_url}/ws/events?token={VIEWER}") as ws:
                    connected.set()
                    async for raw in ws:
                        events.append(json.loads(raw))
                        if events[-1]["type"] == "dispatch":
                            return

            async with asyncio.timeout(60), asyncio.TaskGroup() as tg:
                tg.create_task(watch_telemetry(), name="viewer: telemetry")
                connected = asyncio.Event()
                tg.create_task(watch_events(connected), name="viewer: events")
                await connected.wait()
                await asyncio.sleep(0.2)  # the socket's subscription is made after accept
                made = await dfr.client.post("/api/v1/calls", json=call("NATS-1", priority=3))
                assert made.status_code in (200, 201), made.text

            assert {"lat", "lon", "alt_amsl_m", "battery_pct", "phase"} <= positions[-1].keys()
            assert 47.3 < positions[-1]["lat"] < 47.5 and 8.5 < positions[-1]["lon"] < 8.7
            types = [e["type"] for e in events]
            assert "incident" in types and types[-1] == "dispatch"
            incident_id = events[-1]["incident_id"]

            # the other instance got the drone's positions and the same dispatch
            pair = Pair("service->other", dfr.service.bus, other)
            seen = await pair.until(other_positions, lambda m: m.drone_id == "far")
            assert body(seen[-1])["drone_id"] == "far"
            seen = await pair.until(other_events, lambda m: m.key == "dispatch")
            assert body(seen[-1])["incident_id"] == incident_id
            assert "incident" in [m.key for m in seen]
