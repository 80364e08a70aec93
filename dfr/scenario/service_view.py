"""What the runner knows about the service: only what its HTTP API and its events
websocket say (the same whether the runner started the service or ``--against URL``).

:class:`ServiceView` reads incidents, flights (with phases, alerts, commands), tracks, the
airspace and the docks; :func:`read_events` keeps ``/ws/events`` open (reconnecting while
the service is down) and appends every event with the scenario time it arrived.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
import websockets.asyncio.client

logger = logging.getLogger(__name__)

JSON = dict[str, Any]
RECONNECT_DELAY_S = 0.5


@dataclass
class Observed:
    """The service's state as last read: incidents by CAD id, flights by id."""

    incidents: dict[str, JSON] = field(default_factory=dict)
    flights: dict[str, JSON] = field(default_factory=dict)
    tracks: dict[str, JSON] = field(default_factory=dict)
    airspace: JSON = field(default_factory=dict)
    docks: list[JSON] = field(default_factory=list)
    drones: list[JSON] = field(default_factory=list)

    def flights_of(self, cad_id: str) -> list[JSON]:
        incident = self.incidents.get(cad_id)
        if incident is None:
            return []
        found = [f for f in self.flights.values() if f["incident_id"] == incident["id"]]
        return sorted(found, key=lambda f: str(f["created_at"]))

    def flight_of(self, cad_id: str) -> JSON | None:
        flights = self.flights_of(cad_id)
        return flights[0] if flights else None


class ServiceView:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.observed = Observed()
        # incidents and flights the service had before the run (--against a service that
        # ran other scenarios): never this run's evidence
        self._earlier_incidents: set[str] = set()
        self._earlier_flights: set[str] = set()

    async def set_aside_earlier(self) -> None:
        """Note what the service holds now, so that the run sees only what it makes."""
        self._earlier_incidents = {i["id"] for i in await self.get("/api/v1/incidents")}
        self._earlier_flights = {f["id"] for f in await self.get("/api/v1/flights")}

    async def get(self, path: str) -> Any:
        response = await self.client.get(path)
        response.raise_for_status()
        return response.json()

    async def drones_ready(self, drone_ids: tuple[str, ...] | None) -> bool:
        """Every drone (of ``drone_ids``) linked, armable and healthy; False while the
        service is not answering."""
        try:
            drones = await self.get("/api/v1/drones")
        except (httpx.TransportError, httpx.HTTPStatusError):
            return False
        wanted = [d for d in drones if drone_ids is None or d["id"] in drone_ids]
        return bool(wanted) and all(
            d["link"] == "up" and d["armable"] and d["health_ok"] for d in wanted
        )

    async def refresh(self, *, tracks: bool = False) -> bool:
        """Read incidents and every flight not seen ended; False when the service did not
        answer (it may be down: the last state stays)."""
        try:
            incidents = await self.get("/api/v1/incidents")
            flights = await self.get("/api/v1/flights")
            for incident in incidents:
                if incident["id"] in self._earlier_incidents:
                    continue
                detail = await self.get(f"/api/v1/incidents/{incident['id']}")
                self.observed.incidents[detail["cad_id"]] = detail
            for flight in flights:
                if flight["id"] in self._earlier_flights:
                    continue
                known = self.observed.flights.get(flight["id"])
                if known is None or known["ended_at"] is None or tracks:
                    self.observed.flights[flight["id"]] = await self.get(
                        f"/api/v1/flights/{flight['id']}"
                    )
                if tracks:
                    self.observed.tracks[flight["id"]] = await self.get(
                        f"/api/v1/flights/{flight['id']}/track"
                    )
        except (httpx.TransportError, httpx.HTTPStatusError) as exc:
            logger.debug("service not answering: %s", exc)
            return False
        return True

    async def read_site(self) -> None:
        self.observed.airspace = await self.get("/api/v1/airspace")
        self.observed.docks = await self.get("/api/v1/docks")
        self.observed.drones = await self.get("/api/v1/drones")


async def read_events(
    ws_url: str,
    headers: dict[str, str],
    stop: asyncio.Event,
    now_s: Callable[[], float],
    events: list[JSON],
) -> None:
    """Append every ``/ws/events`` message (with ``scenario_s``) until ``stop`` is set."""
    while not stop.is_set():
        try:
            async with websockets.asyncio.client.connect(
                ws_url, additional_headers=headers, open_timeout=5
            ) as socket:
                while not stop.is_set():
                    try:
                        async with asyncio.timeout(0.5):
                            text = await socket.recv()
                    except TimeoutError:
                        continue
                    event = json.loads(text)
                    if isinstance(event, dict):
                        events.append({**event, "scenario_s": round(now_s(), 2)})
        except (OSError, websockets.exceptions.WebSocketException, TimeoutError) as exc:
            logger.debug("events socket: %s", exc)
            try:
                async with asyncio.timeout(RECONNECT_DELAY_S):
                    await stop.wait()
            except TimeoutError:
                pass
