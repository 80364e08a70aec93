"""Where a drone watches the scene from: an orbit that never crosses a zone.

The arrival orbit is a ring of the site's radius around the scene point. Where the call
lies inside a zone, the route ends at the nearest legal point (the zone's edge plus its
margin), and a ring round that point would cut back into the zone — which is the fence
the vehicle carries: PX4 answers with its geofence failsafe and holds mid-orbit. So the
ring is moved out, away from the requested place, until it only touches the point; then
smaller rings are tried; where no ring fits, the drone holds at the scene point.

Seen on the ten-call benchmark: a call 220 m inside a 100 ft ceiling cell near Meacham
field, a 60 m orbit round the standoff point, and "Failsafe activated: geofence
violation, hold" 25 s after arrival.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from dfr.errors import PlanningError
from dfr.geo.frame import LocalFrame
from dfr.planning.route import Route

MIN_ORBIT_RADIUS_M = 15.0  # smaller than this, a multicopter's orbit is a pirouette


class OrbitChecker(Protocol):
    frame: LocalFrame

    def check_orbit(self, lat: float, lon: float, radius_m: float, alt_rel_m: float) -> None:
        """Raise PlanningError if the ring enters a zone."""
        ...


@dataclass(frozen=True, slots=True)
class ArrivalOrbit:
    lat_deg: float
    lon_deg: float
    radius_m: float  # 0: no ring fits; hold at (lat_deg, lon_deg)
    note: str  # why it is not the plain ring round the scene, or ""


def arrival_orbit(planner: OrbitChecker, route: Route, radius_m: float) -> ArrivalOrbit:
    """The legal ring nearest to the scene: ``radius_m`` round the scene point if it is
    clear, else moved away from the requested goal, else smaller, else a hold."""
    scene = route.scene
    alt = route.cruise_alt_rel_m
    sx, sy = planner.frame.to_xy(scene.lat, scene.lon)
    gx, gy = planner.frame.to_xy(route.requested_goal.lat, route.requested_goal.lon)
    away = (sx - gx, sy - gy)
    away_len = math.hypot(*away)
    radius = radius_m
    while radius >= MIN_ORBIT_RADIUS_M:
        centres = [(sx, sy, "")]
        if away_len > 1.0:  # the scene was moved out of a zone: pass through its edge point
            ux, uy = away[0] / away_len, away[1] / away_len
            centres.append((sx + ux * radius, sy + uy * radius, "moved out of the zone"))
        for x, y, why in centres:
            lat, lon = planner.frame.to_latlon(x, y)
            try:
                planner.check_orbit(lat, lon, radius, alt)
            except PlanningError:
                continue
            notes = [why] if why else []
            if radius < radius_m:
                notes.append(f"radius {radius:.0f} m instead of {radius_m:.0f} m")
            return ArrivalOrbit(lat, lon, radius, "; ".join(notes))
        radius /= 2.0
    return ArrivalOrbit(scene.lat, scene.lon, 0.0, "no orbit fits beside the zones: holding")
