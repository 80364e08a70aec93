"""A drone owned by another instance, as this one sees it: its owner's positions.

The owner publishes every update of its drones on the bus (``/ws/telemetry``'s position
body, which carries the link, landed state, health, armability and the flight). A
:class:`MirrorLink` folds them into a :class:`DroneState`, so the dispatcher here can rank
the drone and the API can show it. Positions older than ``STALE_S`` show the link
``lost``: the owner is gone, and until another instance takes the drone nobody hears it.
It sends nothing: what acts on the vehicle goes to the owner (:mod:`.owner_calls`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from dfr.errors import LinkError
from dfr.fleet.drone_state import DroneState, LandedState, LinkState
from dfr.fleet.link_types import LinkWarning
from dfr.fleet.mission_encoding import MissionItemLike
from dfr.planning.vehicle_limits import VehicleLimits

STALE_S = 3.0  # an owner publishes at 10 Hz; three seconds of nothing means it is gone


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


class MirrorLink:
    lost_cause = "its owner instance stopped publishing it"

    def __init__(self, drone_id: str, url: str, sysid: int) -> None:
        self.drone_id = drone_id
        self.url = url
        self.sysid = sysid
        self.limits: VehicleLimits | None = None
        self.link_warnings: list[LinkWarning] = []
        self.flight_id: str | None = None
        self.phase = "docked"
        self._state = DroneState(drone_id, LinkState.CONNECTING)
        self._body: dict[str, Any] | None = None
        self._heard = -math.inf  # monotonic time of the last position

    def update(self, body: dict[str, Any]) -> None:
        """A position the owner published (``position_body``)."""
        self._body = body
        self._heard = time.monotonic()
        self.flight_id = body.get("flight_id")
        self.phase = str(body.get("phase", "docked"))
        t = body.get("t")
        self._state = DroneState(
            self.drone_id,
            LinkState(body.get("link", "up")),
            updated_at=datetime.fromisoformat(t) if isinstance(t, str) else None,
            lat_deg=_num(body.get("lat")),
            lon_deg=_num(body.get("lon")),
            alt_amsl_m=_num(body.get("alt_amsl_m")),
            alt_rel_m=_num(body.get("alt_rel_m")),
            heading_deg=_num(body.get("heading_deg")),
            ground_speed_mps=_num(body.get("ground_speed_mps")),
            battery_pct=_num(body.get("battery_pct")),
            mode=str(body.get("mode", "unknown")),
            armed=bool(body.get("armed")),
            landed=LandedState(body.get("landed", "unknown")),
            health_ok=bool(body.get("health_ok")),
            armable=bool(body.get("armable")),
        )

    @property
    def stale(self) -> bool:
        return time.monotonic() - self._heard > STALE_S

    @property
    def state(self) -> DroneState:
        if self.stale and self._state.link is LinkState.UP:
            return replace(self._state, link=LinkState.LOST)
        return self._state

    def position_body(self) -> dict[str, Any] | None:
        """The owner's last position body, its link shown lost when stale."""
        if self._body is None:
            return None
        return {**self._body, "link": self.state.link.value}

    # -- what a VehicleLink offers: reads work, commands go to the owner ----------------

    @property
    def status_count(self) -> int:
        return 0

    def texts_since(self, count: int) -> list[str]:
        return []

    async def wait_connected(self, timeout_s: float) -> None:
        self._refuse()

    def _refuse(self) -> None:
        raise LinkError(self.drone_id, "another instance owns it: commands go there")

    async def arm(self) -> None:
        self._refuse()

    async def takeoff(self) -> None:
        self._refuse()

    async def hold(self) -> None:
        self._refuse()

    async def return_to_launch(self) -> None:
        self._refuse()

    async def disarm(self) -> None:
        self._refuse()

    async def land(self) -> None:
        self._refuse()

    async def set_speed(self, speed_mps: float) -> None:
        self._refuse()

    async def upload_mission(self, items: Sequence[MissionItemLike]) -> None:
        self._refuse()

    async def upload_geofence(self, items: Sequence[MissionItemLike]) -> None:
        self._refuse()

    async def start_mission(self) -> None:
        self._refuse()

    async def reposition(
        self, lat_deg: float, lon_deg: float, alt_amsl_m: float, speed_mps: float | None = None
    ) -> None:
        self._refuse()

    async def orbit(
        self, lat_deg: float, lon_deg: float, alt_amsl_m: float, radius_m: float, speed_mps: float
    ) -> None:
        self._refuse()
