"""On-board geofence: inclusion/exclusion polygons and circles, checked in a local frame.

Built from the items of a FENCE upload (mission_type 1): consecutive
``NAV_FENCE_POLYGON_VERTEX_*`` items with the vertex count in param1 form one
polygon; ``NAV_FENCE_CIRCLE_*`` items carry the radius in param1 (a zero radius
circle is accepted and ignored, as MAVSDK's example uploads one). As in PX4
(``navigator/geofence.cpp`` ``Geofence::isInsidePolygonOrCircle``), a point is inside
the fence when it is inside *every* inclusion area and outside every exclusion area
(an empty fence contains every point); :meth:`Geofence.allows` adds PX4's
``GF_MAX_HOR_DIST``/``GF_MAX_VER_DIST`` limits (``checkPointAgainstAllGeofences``).
MAVLink fence vertex altitudes are ignored, as in PX4.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sitl.frame import LocalFrame

CMD_FENCE_RETURN_POINT = 5000
CMD_FENCE_POLYGON_INCLUSION = 5001
CMD_FENCE_POLYGON_EXCLUSION = 5002
CMD_FENCE_CIRCLE_INCLUSION = 5003
CMD_FENCE_CIRCLE_EXCLUSION = 5004


class FenceError(ValueError):
    """A fence plan that cannot be used (e.g. a polygon with fewer than 3 vertices)."""


@dataclass(frozen=True, slots=True)
class FenceVertex:
    command: int
    vertex_count: int
    lat_deg: float
    lon_deg: float
    radius_m: float = 0.0


@dataclass(frozen=True, slots=True)
class Polygon:
    inclusion: bool
    points_ne: tuple[tuple[float, float], ...]

    def contains(self, north_m: float, east_m: float) -> bool:
        inside = False
        pts = self.points_ne
        j = len(pts) - 1
        for i in range(len(pts)):
            ni, ei = pts[i]
            nj, ej = pts[j]
            if (ei > east_m) != (ej > east_m):
                n_cross = ni + (east_m - ei) * (nj - ni) / (ej - ei)
                if north_m < n_cross:
                    inside = not inside
            j = i
        return inside


@dataclass(frozen=True, slots=True)
class Circle:
    inclusion: bool
    center_ne: tuple[float, float]
    radius_m: float

    def contains(self, north_m: float, east_m: float) -> bool:
        dn, de = north_m - self.center_ne[0], east_m - self.center_ne[1]
        return dn * dn + de * de < self.radius_m * self.radius_m


class Geofence:
    def __init__(self, polygons: Sequence[Polygon] = (), circles: Sequence[Circle] = ()) -> None:
        self.polygons = tuple(polygons)
        self.circles = tuple(circles)

    @property
    def empty(self) -> bool:
        return not self.polygons and not self.circles

    @classmethod
    def from_items(cls, items: Sequence[FenceVertex], frame: LocalFrame) -> Geofence:
        polygons: list[Polygon] = []
        circles: list[Circle] = []
        i = 0
        while i < len(items):
            item = items[i]
            if item.command in (CMD_FENCE_POLYGON_INCLUSION, CMD_FENCE_POLYGON_EXCLUSION):
                count = item.vertex_count
                if count < 3 or i + count > len(items):
                    raise FenceError(f"fence item {i}: polygon with vertex count {count}")
                group = items[i : i + count]
                if any(v.command != item.command for v in group):
                    raise FenceError(f"fence item {i}: polygon vertices of mixed kinds")
                pts = tuple(frame.to_ne(v.lat_deg, v.lon_deg) for v in group)
                polygons.append(Polygon(item.command == CMD_FENCE_POLYGON_INCLUSION, pts))
                i += count
                continue
            if item.command in (CMD_FENCE_CIRCLE_INCLUSION, CMD_FENCE_CIRCLE_EXCLUSION):
                if item.radius_m > 0:
                    circles.append(
                        Circle(
                            item.command == CMD_FENCE_CIRCLE_INCLUSION,
                            frame.to_ne(item.lat_deg, item.lon_deg),
                            item.radius_m,
                        )
                    )
            elif item.command != CMD_FENCE_RETURN_POINT:
                raise FenceError(f"fence item {i}: command {item.command} is not a fence item")
            i += 1
        return cls(polygons, circles)

    def inside_areas(self, north_m: float, east_m: float) -> bool:
        """PX4's ``isInsidePolygonOrCircle``: inside every inclusion, outside every exclusion."""
        areas: list[Polygon | Circle] = [*self.polygons, *self.circles]
        return all(a.contains(north_m, east_m) == a.inclusion for a in areas)

    def breached(self, north_m: float, east_m: float) -> bool:
        return not self.inside_areas(north_m, east_m)

    def allows(
        self,
        north_m: float,
        east_m: float,
        alt_above_home_m: float,
        *,
        home_ne: tuple[float, float],
        max_hor_dist_m: float,
        max_ver_dist_m: float,
    ) -> bool:
        """PX4's ``Geofence::checkPointAgainstAllGeofences``: the horizontal distance to home
        below ``GF_MAX_HOR_DIST`` and the height above home below ``GF_MAX_VER_DIST`` (each
        when > 0), and inside the polygons and circles."""
        dist_home_m = math.hypot(north_m - home_ne[0], east_m - home_ne[1])
        if max_hor_dist_m > 0 and dist_home_m >= max_hor_dist_m:
            return False
        if max_ver_dist_m > 0 and alt_above_home_m >= max_ver_dist_m:
            return False
        return self.inside_areas(north_m, east_m)
