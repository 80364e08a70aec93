"""A local metric frame (north/east metres) around a vehicle's origin.

Equirectangular projection about the origin: exact enough (well under 0.1 %) over
the few kilometres one DFR sortie spans, and cheap enough to run every physics
step for twenty vehicles. Geometry is never done in degrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_000.0


@dataclass(frozen=True, slots=True)
class LocalFrame:
    origin_lat_deg: float
    origin_lon_deg: float

    @property
    def _m_per_deg_lat(self) -> float:
        return math.radians(1.0) * EARTH_RADIUS_M

    @property
    def _m_per_deg_lon(self) -> float:
        return math.radians(1.0) * EARTH_RADIUS_M * math.cos(math.radians(self.origin_lat_deg))

    def to_ne(self, lat_deg: float, lon_deg: float) -> tuple[float, float]:
        north_m = (lat_deg - self.origin_lat_deg) * self._m_per_deg_lat
        east_m = (lon_deg - self.origin_lon_deg) * self._m_per_deg_lon
        return north_m, east_m

    def to_lat_lon(self, north_m: float, east_m: float) -> tuple[float, float]:
        lat = self.origin_lat_deg + north_m / self._m_per_deg_lat
        lon = self.origin_lon_deg + east_m / self._m_per_deg_lon
        return lat, lon
