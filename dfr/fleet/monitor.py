"""The monitor: what it watches on a flying drone, and the loop that watches.

Each check looks at one drone state (and the flight's plan) and returns an
:class:`AlertSpec` to raise, or ``None``. :class:`Monitor` runs the checks on every
watched flight every MONITOR_INTERVAL_S and raises each kind once per flight until the
condition clears, so the pilot is told once, not every second; at the battery reserve it
sends the drone home (a ``return`` command, recorded like a pilot's).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from shapely.geometry import LineString, Point

from dfr.fleet.active_flight import ActiveFlight
from dfr.fleet.command_kinds import Command, Return
from dfr.fleet.drone_state import DroneState
from dfr.planning.planner import HomeEstimate, Planner
from dfr.planning.wind import Wind
from dfr.records import FlightPhase

logger = logging.getLogger(__name__)

MONITOR_INTERVAL_S = 2.0
BATTERY_MARGIN = 1.15  # return when energy home × this reaches what is left above the reserve
ZONE_WARNING_M = 150.0
ROUTE_DEVIATION_M = 200.0


@dataclass(frozen=True, slots=True)
class AlertSpec:
    kind: str
    severity: str  # info | warning | critical
    message: str  # what happened
    action: str  # what the system is doing about it


def battery_check(state: DroneState, home: HomeEstimate, battery_wh: float) -> AlertSpec | None:
    """Return home while the battery still holds the way home plus the reserve."""
    if not math.isfinite(state.battery_pct):
        return None
    left_wh = battery_wh * state.battery_pct / 100.0
    needed_wh = home.energy_wh * BATTERY_MARGIN + home.reserve_wh
    if left_wh > needed_wh:
        return None
    return AlertSpec(
        kind="battery_reserve",
        severity="critical",
        message=(
            f"battery {state.battery_pct:.0f} % ({left_wh:.0f} Wh): getting home needs "
            f"{home.energy_wh:.0f} Wh plus the {home.reserve_wh:.0f} Wh reserve"
        ),
        action="returning to the dock now",
    )


def zone_check(position_xy: tuple[float, float], obstacles: list[object]) -> AlertSpec | None:
    """Warn when the drone is within ZONE_WARNING_M of a no-fly zone's buffered edge."""
    point = Point(position_xy)
    nearest = math.inf
    for geom in obstacles:
        nearest = min(nearest, float(geom.distance(point)))  # type: ignore[attr-defined]
    if nearest > ZONE_WARNING_M:
        return None
    inside = nearest == 0.0
    return AlertSpec(
        kind="zone_proximity",
        severity="critical" if inside else "warning",
        message=(
            "inside a no-fly zone's buffer"
            if inside
            else f"{nearest:.0f} m from a no-fly zone's buffer"
        ),
        action=(
            "the vehicle's geofence holds it; fly it out or return"
            if inside
            else "no action; commands into zones are refused"
        ),
    )


def deviation_check(position_xy: tuple[float, float], route: LineString) -> AlertSpec | None:
    off_m = float(route.distance(Point(position_xy)))
    if off_m <= ROUTE_DEVIATION_M:
        return None
    return AlertSpec(
        kind="route_deviation",
        severity="warning",
        message=f"{off_m:.0f} m off the planned route",
        action="watching; check the vehicle's mode and the wind",
    )


RaiseAlert = Callable[[ActiveFlight, AlertSpec], Awaitable[None]]
# carries out one of dfr's own commands on a flight, recorded; raises unless it was done
SendCommand = Callable[[ActiveFlight, Command, Callable[[], Awaitable[None]]], Awaitable[None]]
WATCHED = (FlightPhase.ENROUTE, FlightPhase.ON_SCENE, FlightPhase.RETURNING, FlightPhase.FAILSAFE)
GOING_HOME_MODES = ("mission", "return_to_launch", "land")


class Monitor:
    """Runs the checks on every watched flight (see the module's docstring)."""

    def __init__(
        self,
        *,
        planner: Planner,
        wind: Callable[[], Wind],
        state_of: Callable[[str], DroneState],
        alert: RaiseAlert,
        send: SendCommand,
    ) -> None:
        self._planner = planner
        self._wind = wind
        self._state_of = state_of
        self._alert = alert
        self._send = send

    async def run(self, flights: Callable[[], Iterable[ActiveFlight]]) -> None:
        while True:
            await asyncio.sleep(MONITOR_INTERVAL_S)
            for active in list(flights()):
                try:
                    await self.check(active)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("%s: monitor failed", active.record.drone_id)

    async def _raise_once(self, active: ActiveFlight, spec: AlertSpec | None, kind: str) -> bool:
        if spec is None:
            active.raised.discard(kind)
            return False
        if kind in active.raised:
            return False
        active.raised.add(kind)
        await self._alert(active, spec)
        return True

    async def check(self, active: ActiveFlight) -> None:
        """One round of the checks on one flight."""
        state = self._state_of(active.record.drone_id)
        phase = active.flight.phase
        if phase not in WATCHED or not state.has_position:
            return
        planner = self._planner
        drone = planner.drone(active.record.drone_id)
        home = planner.energy_to_home(
            drone, state.lat_deg, state.lon_deg, max(0.0, state.alt_rel_m), wind=self._wind()
        )
        battery = battery_check(state, home, drone.performance.battery_wh)
        going_home = (
            phase in (FlightPhase.RETURNING, FlightPhase.FAILSAFE)
            and state.mode in GOING_HOME_MODES
        )
        if await self._raise_once(active, None if going_home else battery, "battery_reserve"):
            await self._return_for_battery(active)
            return
        xy = planner.frame.to_xy(state.lat_deg, state.lon_deg)
        obstacles = planner.obstacles().polygons
        await self._raise_once(active, zone_check(xy, list(obstacles)), "zone_proximity")
        if phase is FlightPhase.ENROUTE and state.mode == "mission":
            await self._raise_once(active, deviation_check(xy, active.route_xy), "route_deviation")

    async def _return_for_battery(self, active: ActiveFlight) -> None:
        try:
            await self._send(
                active,
                Return("battery reserve"),
                lambda: active.flight.return_home(
                    "battery reserve: returning while it can still get home"
                ),
            )
        except Exception as exc:
            active.raised.discard("battery_reserve")  # checked (and tried) again next round
            await self._alert(
                active,
                AlertSpec(
                    "return_failed",
                    "critical",
                    f"battery reserve reached but the return failed: {exc}",
                    "trying again in 2 s; pilot: send it home or land it",
                ),
            )
