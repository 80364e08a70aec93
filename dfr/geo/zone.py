"""Airspace zones: no-fly areas, altitude-ceiling cells and the operating boundary.

A zone's shape is kept in WGS 84 degrees exactly as it was read (lon, lat order, as
GeoJSON); :class:`dfr.geo.airspace.Airspace` projects it once into the site's metric
frame. Altitudes always say their datum.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shapely.geometry.base import BaseGeometry


class ZoneKind(StrEnum):
    NO_FLY = "no_fly"  # never enter (between floor and ceiling)
    CEILING = "ceiling"  # enter only below ceiling_m (UAS Facility Map cell)
    BOUNDARY = "boundary"  # operating area: stay inside


class AltitudeDatum(StrEnum):
    AGL = "agl"  # above ground level (the site treats ground as the dock's pad altitude)
    AMSL = "amsl"  # above mean sea level


@dataclass(frozen=True, slots=True)
class ActiveWindow:
    """A period during which a zone applies (e.g. a stadium TFR during an event)."""

    start: datetime  # timezone-aware
    end: datetime  # timezone-aware, after start

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class Circle:
    """A circular zone as drawn (kept so a geofence can upload it as one circle item)."""

    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True, slots=True)
class Zone:
    """One airspace zone.

    ``buffer_m`` is the horizontal safety margin the planner keeps around it (for a
    boundary: inside it). ``floor_m``/``ceiling_m`` bound a no-fly zone vertically
    (``ceiling_m=None`` = unlimited); for a ceiling cell ``ceiling_m`` is the highest
    legal altitude. ``windows`` empty = always active.
    """

    id: str
    kind: ZoneKind
    name: str
    geometry_lonlat: BaseGeometry  # Polygon or MultiPolygon in (lon, lat) degrees
    buffer_m: float = 0.0
    floor_m: float = 0.0
    ceiling_m: float | None = None
    datum: AltitudeDatum = AltitudeDatum.AGL
    source: str = ""
    origin: str = ""  # where it was read: "file: features[3]"
    circle: Circle | None = None
    windows: tuple[ActiveWindow, ...] = ()

    def active_at(self, at: datetime) -> bool:
        return not self.windows or any(w.contains(at) for w in self.windows)

    def floor_agl_m(self, ground_alt_amsl_m: float) -> float:
        return (
            self.floor_m - ground_alt_amsl_m if self.datum is AltitudeDatum.AMSL else self.floor_m
        )

    def ceiling_agl_m(self, ground_alt_amsl_m: float) -> float | None:
        if self.ceiling_m is None:
            return None
        if self.datum is AltitudeDatum.AMSL:
            return self.ceiling_m - ground_alt_amsl_m
        return self.ceiling_m

    def blocks_altitude(
        self, alt_agl_m: float, ground_alt_amsl_m: float, vertical_margin_m: float
    ) -> bool:
        """Is flying at ``alt_agl_m`` (± the margin) inside this zone's forbidden band?"""
        ceiling = self.ceiling_agl_m(ground_alt_amsl_m)
        if self.kind is ZoneKind.CEILING:
            return ceiling is not None and alt_agl_m + vertical_margin_m > ceiling
        if self.kind is ZoneKind.NO_FLY:
            floor = self.floor_agl_m(ground_alt_amsl_m)
            above_floor = alt_agl_m + vertical_margin_m >= floor
            below_ceiling = ceiling is None or alt_agl_m - vertical_margin_m <= ceiling
            return above_floor and below_ceiling
        return False

    def describe(self) -> str:
        return f"'{self.name}' ({self.kind.value}, id {self.id})"
