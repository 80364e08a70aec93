"""Wind and the wind triangle.

Convention: ``from_deg`` is the direction the wind blows FROM (meteorological), in
degrees clockwise from true north; the local frame has x east, y north. A drone
holding airspeed ``V`` on a track with wind ``W`` (along-track component ``w_a``,
cross-track ``w_c``) crabs into the wind and makes good
``ground speed = w_a + sqrt(V² − w_c²)``; the leg is infeasible when ``|w_c| >= V``
or the ground speed is not positive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Wind:
    from_deg: float = 0.0
    speed_mps: float = 0.0

    @property
    def vector_mps(self) -> tuple[float, float]:
        """Where the air moves to, (east, north) m/s."""
        rad = math.radians(self.from_deg)
        return (-self.speed_mps * math.sin(rad), -self.speed_mps * math.cos(rad))


CALM = Wind()


def ground_speed_mps(
    airspeed_mps: float, track_east: float, track_north: float, wind: Wind
) -> float:
    """Ground speed along the track direction (any length, not zero); <= 0 means infeasible."""
    norm = math.hypot(track_east, track_north)
    if norm == 0:
        return airspeed_mps
    te, tn = track_east / norm, track_north / norm
    we, wn = wind.vector_mps
    along = we * te + wn * tn
    cross = -we * tn + wn * te
    if abs(cross) >= airspeed_mps:
        return 0.0
    return along + math.sqrt(airspeed_mps * airspeed_mps - cross * cross)


def leg_time_s(
    length_m: float, airspeed_mps: float, track_east: float, track_north: float, wind: Wind
) -> float:
    """Time to fly a straight leg at constant airspeed; ``math.inf`` if the wind forbids it."""
    if length_m <= 0:
        return 0.0
    gs = ground_speed_mps(airspeed_mps, track_east, track_north, wind)
    return length_m / gs if gs > 1e-9 else math.inf
