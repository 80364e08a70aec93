"""The geofence to upload with a route, within the autopilot's limits.

PX4 enforces polygon and circle fences (MAVLink ``MAV_CMD_NAV_FENCE_*``): each
polygon vertex is one fence item, a circle is one item. We upload the operating
boundary as an inclusion polygon and the zones that forbid the route's altitude
band and lie near the route as exclusions (circles stay circles). The fence is the
zone itself, *not* the planner's buffer: the route keeps ``buffer_m`` clear of it, so
normal tracking error never trips the fence. Nearest zones first; adjacent polygon
zones (a grid of ceiling cells) are merged; polygons are simplified until they fit
(outwards for exclusions unless that brings them within ``route_clearance_m`` of
the route, then inwards; inwards for the boundary). What does not fit is listed in
``Geofence.omitted_zone_ids``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from dfr.geo.airspace import Airspace, outward_simplify
from dfr.geo.zone import Zone, ZoneKind

MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION = 5001
MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION = 5002
MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION = 5003
MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION = 5004


@dataclass(frozen=True, slots=True)
class FenceLimits:
    """What the vehicle accepts. Defaults fit PX4 on flash-constrained boards too."""

    max_items: int = 64
    max_polygon_vertices: int = 24
    corridor_m: float = 3000.0  # exclusions within this distance of the route are uploaded
    route_clearance_m: float = 10.0  # a fence never comes closer to the route than this


PX4_FENCE_LIMITS = FenceLimits()


@dataclass(frozen=True, slots=True)
class FencePolygon:
    inclusion: bool
    vertices: tuple[tuple[float, float], ...]  # (lat, lon), not closed
    zone_id: str


@dataclass(frozen=True, slots=True)
class FenceCircle:
    inclusion: bool
    lat: float
    lon: float
    radius_m: float
    zone_id: str


@dataclass(frozen=True, slots=True)
class FenceItem:
    """One MAVLink fence item (mission_type FENCE): command, param1, lat, lon."""

    command: int
    param1: float  # vertex count (polygons) or radius m (circles)
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Geofence:
    polygons: tuple[FencePolygon, ...]
    circles: tuple[FenceCircle, ...]
    omitted_zone_ids: tuple[str, ...] = field(default=())  # did not fit in max_items

    @property
    def item_count(self) -> int:
        return sum(len(p.vertices) for p in self.polygons) + len(self.circles)

    def items(self) -> list[FenceItem]:
        out: list[FenceItem] = []
        for poly in self.polygons:
            cmd = (
                MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION
                if poly.inclusion
                else MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION
            )
            out.extend(
                FenceItem(cmd, float(len(poly.vertices)), lat, lon) for lat, lon in poly.vertices
            )
        for c in self.circles:
            cmd = (
                MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION
                if c.inclusion
                else MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION
            )
            out.append(FenceItem(cmd, c.radius_m, c.lat, c.lon))
        return out

    def to_qgc(self) -> dict[str, Any]:
        """The ``geoFence`` section of a QGroundControl .plan."""
        return {
            "version": 2,
            "polygons": [
                {
                    "inclusion": p.inclusion,
                    "polygon": [[lat, lon] for lat, lon in p.vertices],
                    "version": 1,
                }
                for p in self.polygons
            ],
            "circles": [
                {
                    "circle": {"center": [c.lat, c.lon], "radius": c.radius_m},
                    "inclusion": c.inclusion,
                    "version": 1,
                }
                for c in self.circles
            ],
        }


def _fit_polygon(geom: BaseGeometry, max_vertices: int, outward: bool) -> Polygon | None:
    """One polygon with at most ``max_vertices`` vertices that contains (outward) or lies
    within (inward) ``geom``; None if it cannot be done."""
    poly = geom if isinstance(geom, Polygon) else shapely.convex_hull(geom) if outward else None
    if not isinstance(poly, Polygon) or poly.is_empty:
        return None
    poly = Polygon(poly.exterior)  # fences have no holes
    tol = 1.0
    for _ in range(30):
        if len(poly.exterior.coords) - 1 <= max_vertices:
            return poly
        if outward:
            cand = outward_simplify(poly, tol)
            if len(cand.exterior.coords) - 1 > max_vertices and tol > 50:
                cand = outward_simplify(shapely.convex_hull(poly), tol)
        else:
            cand = shapely.simplify(poly.buffer(-tol, join_style="mitre"), tol)
        if isinstance(cand, Polygon) and not cand.is_empty:
            poly = Polygon(cand.exterior)
        tol *= 1.6
    return poly if len(poly.exterior.coords) - 1 <= max_vertices else None


def build_geofence(
    airspace: Airspace,
    route_xy: list[tuple[float, float]],
    exclusion_zones: list[Zone],
    boundaries: list[Zone],
    limits: FenceLimits = PX4_FENCE_LIMITS,
) -> Geofence:
    """Fence for a route (site-frame metres): boundary inclusion + nearby exclusions."""
    frame = airspace.frame
    polygons: list[FencePolygon] = []
    circles: list[FenceCircle] = []
    budget = limits.max_items
    omitted: list[str] = []

    def to_latlon(poly: Polygon) -> tuple[tuple[float, float], ...]:
        lonlat = frame.xy_to_lonlat(shapely.get_coordinates(poly.exterior)[:-1])
        return tuple((float(lat), float(lon)) for lon, lat in lonlat)

    for zone in boundaries:
        poly = _fit_polygon(
            airspace.geometry_xy(zone.id), limits.max_polygon_vertices, outward=False
        )
        if poly is None or len(poly.exterior.coords) - 1 > budget:
            omitted.append(zone.id)
            continue
        budget -= len(poly.exterior.coords) - 1
        polygons.append(FencePolygon(True, to_latlon(poly), zone.id))
    line: BaseGeometry = LineString(route_xy) if len(route_xy) > 1 else shapely.points(route_xy[0])
    # circles stay circles; polygon zones near the route (e.g. a grid of ceiling cells)
    # are merged first, so that adjacent cells cost one fence polygon, not one each
    near = [z for z in exclusion_zones if z.kind is not ZoneKind.BOUNDARY]
    near_geoms = [airspace.geometry_xy(z.id) for z in near]
    near_dist = [line.distance(g) for g in near_geoms]
    todo: list[tuple[float, str, BaseGeometry | Zone]] = []
    merge: list[tuple[Zone, BaseGeometry]] = []
    for zone, geom, dist in zip(near, near_geoms, near_dist, strict=True):
        if dist > limits.corridor_m:
            continue
        if zone.circle is not None:
            todo.append((dist, zone.id, zone))
        else:
            merge.append((zone, geom))
    if merge:
        # close the hairline gaps between cells that share edges (projection round-off)
        merged = shapely.union_all([g.buffer(0.5, join_style="mitre") for _, g in merge])
        merged = merged.buffer(-0.5, join_style="mitre")
        for part in shapely.get_parts(merged):
            ids = [z.id for z, g in merge if g.intersects(part)]
            label = ids[0] if len(ids) == 1 else f"{ids[0]} +{len(ids) - 1} merged"
            todo.append((line.distance(part), label, part))
    todo.sort(key=lambda t: t[0])
    for _dist, label, what in todo:
        if isinstance(what, Zone):
            circle = what.circle
            if circle is None or budget < 1:
                omitted.append(label)
                continue
            budget -= 1
            circles.append(FenceCircle(False, circle.lat, circle.lon, circle.radius_m, label))
            continue
        poly = _fit_polygon(what, limits.max_polygon_vertices, outward=True)
        if poly is not None and poly.distance(line) < limits.route_clearance_m:
            # growing it would bring the fence onto the route: simplify inwards instead
            poly = _fit_polygon(what, limits.max_polygon_vertices, outward=False)
        if (
            poly is None
            or poly.distance(line) < limits.route_clearance_m
            or len(poly.exterior.coords) - 1 > budget
        ):
            omitted.append(label)
            continue
        budget -= len(poly.exterior.coords) - 1
        polygons.append(FencePolygon(False, to_latlon(poly), label))
    return Geofence(tuple(polygons), tuple(circles), tuple(dict.fromkeys(omitted)))
