"""The service: wires the parts together and owns the one task group.

``async with Service(settings, site) as service:`` opens the store, starts one
:class:`DroneLink` per drone of the site (each a named task in the group), and folds
their telemetry into positions on the event bus. Leaving the block stops the links and
closes the store; it never commands a vehicle.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from dfr.api.auth import Principal, Role, TokenRegistry
from dfr.bus import EventBus, Topic, make_message
from dfr.config import Settings
from dfr.dispatch.incidents import IntakeResult, take_call
from dfr.dispatch.intake import CallData
from dfr.errors import ConfigError
from dfr.fleet.drone_state import DroneState
from dfr.fleet.link import DroneLink
from dfr.site import Drone, Site
from dfr.store import SqliteStore, Store

logger = logging.getLogger(__name__)


def shift_port(url: str, offset: int) -> str:
    """``udpin://0.0.0.0:14540`` + 5 → ``udpin://0.0.0.0:14545`` (for side-by-side fleets)."""
    if offset == 0:
        return url
    parts = urlsplit(url)
    if parts.port is None or parts.hostname is None:
        raise ConfigError(f"cannot shift the port of {url!r}: it has no host:port")
    netloc = f"{parts.hostname}:{parts.port + offset}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _num(value: float, digits: int) -> float | None:
    return round(value, digits) if math.isfinite(value) else None


class Service:
    def __init__(
        self,
        settings: Settings,
        site: Site,
        *,
        store: Store | None = None,
        tokens: TokenRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.site = site
        self.store: Store = store or SqliteStore(settings.db_path)
        self.bus = EventBus()
        self.tokens = tokens or TokenRegistry()
        self.links: dict[str, DroneLink] = {}
        self.drones: dict[str, Drone] = {d.id: d for d in site.drones}
        self._flight_of_drone: dict[str, str] = {}
        self._phase_of_drone: dict[str, str] = {}
        self._group: asyncio.TaskGroup | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._executor: ThreadPoolExecutor | None = None
        self.pilot_token: str | None = None
        self.started_at = datetime.now(UTC)

    # -- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> Service:
        loop = asyncio.get_running_loop()
        # MAVSDK's asyncio wrapper runs every blocking call in the default executor; a
        # command can hold a thread for ~2 s, so give each drone a few.
        self._executor = ThreadPoolExecutor(
            max_workers=8 + 3 * len(self.site.drones), thread_name_prefix="dfr-mavsdk"
        )
        loop.set_default_executor(self._executor)
        self._setup_tokens()
        await self.store.open()
        self._group = asyncio.TaskGroup()
        await self._group.__aenter__()
        for drone in self.site.drones:
            link = DroneLink(
                drone.id,
                shift_port(drone.mavlink_url, self.settings.mavlink_port_offset),
                on_state=self._on_drone_state,
                position_rate_hz=self.settings.position_rate_hz,
            )
            self.links[drone.id] = link
            self._tasks.append(self._group.create_task(link.run(), name=f"{drone.id}: link"))
        logger.info("service: site %s, %d drones", self.site.name, len(self.links))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        group, self._group = self._group, None
        try:
            if group is not None:
                for task in self._tasks:
                    task.cancel()
                await group.__aexit__(None, None, None)
        finally:
            await self.store.close()

    def _setup_tokens(self) -> None:
        if self.settings.api_token is not None:
            self.tokens.add(self.settings.api_token.get_secret_value(), Principal("automation", Role.PILOT))
            self.pilot_token = self.settings.api_token.get_secret_value()
        else:
            self.pilot_token = self.tokens.issue("automation", Role.PILOT)
        if self.settings.viewer_token is not None:
            self.tokens.add(self.settings.viewer_token.get_secret_value(), Principal("viewer", Role.VIEWER))

    # -- telemetry ---------------------------------------------------------------------

    def position_message(self, state: DroneState) -> dict[str, Any]:
        return {
            "type": "position",
            "drone_id": state.drone_id,
            "t": iso_utc(state.updated_at or datetime.now(UTC)),
            "lat": _num(state.lat_deg, 7),
            "lon": _num(state.lon_deg, 7),
            "alt_amsl_m": _num(state.alt_amsl_m, 2),
            "alt_rel_m": _num(state.alt_rel_m, 2),
            "heading_deg": _num(state.heading_deg, 1),
            "ground_speed_mps": _num(state.ground_speed_mps, 2),
            "battery_pct": _num(state.battery_pct, 1),
            "mode": state.mode,
            "armed": state.armed,
            "landed": state.landed.value,
            "link": state.link.value,
            "flight_id": self._flight_of_drone.get(state.drone_id),
            "phase": self._phase_of_drone.get(state.drone_id, "docked"),
        }

    def _on_drone_state(self, state: DroneState) -> None:
        self.bus.publish(
            make_message(Topic.TELEMETRY, self.position_message(state), published_ns=time.monotonic_ns())
        )

    def publish_event(self, body: dict[str, Any]) -> None:
        body.setdefault("t", iso_utc(datetime.now(UTC)))
        self.bus.publish(make_message(Topic.EVENTS, body, published_ns=time.monotonic_ns()))

    # -- calls -------------------------------------------------------------------------

    async def take_call(self, call: CallData) -> IntakeResult:
        result = await take_call(self.store, call, datetime.now(UTC))
        incident = result.incident
        if result.created:
            self.publish_event(
                {
                    "type": "incident",
                    "incident_id": incident.id,
                    "cad_id": incident.cad_id,
                    "status": incident.status.value,
                    "priority": incident.priority,
                    "nature": incident.nature,
                    "lat": incident.lat_deg,
                    "lon": incident.lon_deg,
                }
            )
        elif result.changed:
            self.publish_event(
                {
                    "type": "incident_updated",
                    "incident_id": incident.id,
                    "cad_id": incident.cad_id,
                    "changed": list(result.changed),
                    "status": incident.status.value,
                    "message": (
                        "the CAD reported a new location for an incident being flown; "
                        "the drone keeps its target until a pilot retargets it"
                        if result.pending_location
                        else f"call updated: {', '.join(result.changed)}"
                    ),
                }
            )
        return result
