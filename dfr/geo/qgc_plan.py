"""Read zones and rally points from QGroundControl ``.plan`` files.

A ``.plan`` is JSON with ``geoFence.polygons`` (``{"inclusion": bool, "polygon":
[[lat, lon], ...]}``), ``geoFence.circles`` (``{"inclusion": bool, "circle":
{"center": [lat, lon], "radius": m}}``) and ``rallyPoints.points`` ([lat, lon,
alt]). Inclusion fences become operating boundaries, exclusion fences no-fly zones
(no buffer: the fence is the line). Note QGC's [lat, lon] order (GeoJSON is
[lon, lat]). Errors name the file and the JSON path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry import Point, Polygon

from dfr.errors import ConfigError
from dfr.geo.json_file import read_json_file
from dfr.geo.zone import Circle, Zone, ZoneKind


@dataclass(frozen=True, slots=True)
class RallyPoint:
    lat: float
    lon: float
    alt_rel_m: float  # QGC stores rally altitude relative to home


@dataclass(frozen=True, slots=True)
class PlanFile:
    zones: tuple[Zone, ...]
    rally_points: tuple[RallyPoint, ...]


def load_plan_file(path: Path | str) -> PlanFile:
    path = Path(path)
    raw = read_json_file(path)
    return parse_plan(raw, str(path), id_prefix=path.stem)


def _latlon(value: Any, where: str) -> tuple[float, float]:
    if (
        not isinstance(value, list | tuple)
        or len(value) < 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value[:2])
    ):
        raise ConfigError(f"{where}: expected [lat, lon], got {value!r}")
    lat, lon = float(value[0]), float(value[1])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not (
        math.isfinite(lat) and math.isfinite(lon)
    ):
        raise ConfigError(f"{where}: ({lat}, {lon}) is not [lat, lon] in degrees")
    return lat, lon


def parse_plan(raw: Any, origin: str, id_prefix: str = "plan") -> PlanFile:
    if not isinstance(raw, dict) or raw.get("fileType") != "Plan":
        raise ConfigError(f'{origin}: fileType: expected "Plan" (a QGroundControl .plan file)')
    fence = raw.get("geoFence", {})
    if not isinstance(fence, dict):
        raise ConfigError(f"{origin}: geoFence: expected an object")
    zones = _fence_polygons(fence, origin, id_prefix) + _fence_circles(fence, origin, id_prefix)
    return PlanFile(tuple(zones), tuple(_rally_points(raw, origin)))


def _inclusion(item: dict[str, Any], where: str) -> bool:
    inclusion = item.get("inclusion", True)
    if not isinstance(inclusion, bool):
        raise ConfigError(f"{where}.inclusion: expected true or false, got {inclusion!r}")
    return inclusion


def _fence_polygons(fence: dict[str, Any], origin: str, id_prefix: str) -> list[Zone]:
    polygons = fence.get("polygons", [])
    if not isinstance(polygons, list):
        raise ConfigError(f"{origin}: geoFence.polygons: expected a list")
    zones: list[Zone] = []
    for i, item in enumerate(polygons):
        where = f"{origin}: geoFence.polygons[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: expected an object with inclusion and polygon")
        inclusion = _inclusion(item, where)
        vertices = item.get("polygon")
        if not isinstance(vertices, list) or len(vertices) < 3:
            raise ConfigError(f"{where}.polygon: expected at least 3 [lat, lon] vertices")
        pts = [_latlon(v, f"{where}.polygon[{k}]") for k, v in enumerate(vertices)]
        poly = Polygon([(lon, lat) for lat, lon in pts])
        if not poly.is_valid:
            raise ConfigError(f"{where}.polygon: self-intersecting or degenerate polygon")
        zones.append(
            Zone(
                id=f"{id_prefix}-polygon-{i}",
                kind=ZoneKind.BOUNDARY if inclusion else ZoneKind.NO_FLY,
                name=f"{id_prefix} {'inclusion' if inclusion else 'exclusion'} polygon {i}",
                geometry_lonlat=poly,
                source=f"QGroundControl plan {origin}",
                origin=where,
            )
        )
    return zones


def _fence_circles(fence: dict[str, Any], origin: str, id_prefix: str) -> list[Zone]:
    circles = fence.get("circles", [])
    if not isinstance(circles, list):
        raise ConfigError(f"{origin}: geoFence.circles: expected a list")
    zones: list[Zone] = []
    for i, item in enumerate(circles):
        where = f"{origin}: geoFence.circles[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("circle"), dict):
            raise ConfigError(f"{where}.circle: expected {{center: [lat, lon], radius: m}}")
        inclusion = _inclusion(item, where)
        lat, lon = _latlon(item["circle"].get("center"), f"{where}.circle.center")
        radius = item["circle"].get("radius")
        if isinstance(radius, bool) or not isinstance(radius, int | float) or not radius > 0:
            raise ConfigError(f"{where}.circle.radius: expected metres > 0, got {radius!r}")
        zones.append(
            Zone(
                id=f"{id_prefix}-circle-{i}",
                kind=ZoneKind.BOUNDARY if inclusion else ZoneKind.NO_FLY,
                name=f"{id_prefix} {'inclusion' if inclusion else 'exclusion'} circle {i}",
                geometry_lonlat=Point(lon, lat),
                source=f"QGroundControl plan {origin}",
                origin=where,
                circle=Circle(lat, lon, float(radius)),
            )
        )
    return zones


def _rally_points(raw: dict[str, Any], origin: str) -> list[RallyPoint]:
    rally: list[RallyPoint] = []
    rally_raw = raw.get("rallyPoints", {})
    points = rally_raw.get("points", []) if isinstance(rally_raw, dict) else None
    if not isinstance(points, list):
        raise ConfigError(f"{origin}: rallyPoints.points: expected a list")
    for i, p in enumerate(points):
        where = f"{origin}: rallyPoints.points[{i}]"
        lat, lon = _latlon(p, where)
        alt = p[2] if len(p) > 2 and isinstance(p[2], int | float) else 0.0
        rally.append(RallyPoint(lat, lon, float(alt)))
    return rally
