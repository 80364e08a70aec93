"""What the monitor watches on a flying drone, as pure checks.

Each check looks at one drone state (and the flight's plan) and returns an
:class:`Alert` to raise, or ``None``. The caller raises each kind once per flight until
the condition clears, so the pilot is told once, not every second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shapely.geometry import LineString, Point

from dfr.fleet.drone_state import DroneState
from dfr.planning.planner import HomeEstimate

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
