"""The airspace of a site: zones projected into the local frame, compiled into obstacles.

:meth:`Airspace.obstacles` turns the zones that apply at one altitude band and time
into the obstacle set the planner needs: each zone buffered by its ``buffer_m`` plus
the site margin (circle arcs are approximated by polygons whose *edges* lie outside
the true buffer), unioned, simplified only outwards, and hashed so that the
visibility graph built from it is cached and rebuilt only when the airspace changes.
The operating boundary becomes the hole of a large frame polygon, so leaving the
boundary is just another obstacle.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point, Polygon, box, mapping
from shapely.geometry.base import BaseGeometry

from dfr.geo.frame import LocalFrame
from dfr.geo.zone import Zone, ZoneKind

logger = logging.getLogger(__name__)

QUAD_SEGS = 3
# polygon chords of a buffer lie inside the true circle by r(1 - cos(pi / (4 q)));
# dividing the distance by this cosine puts every chord outside it instead
_CHORD_FACTOR = 1.0 / math.cos(math.pi / (4 * QUAD_SEGS))
SIMPLIFY_TOLERANCE_M = 1.0
FRAME_MARGIN_M = 20_000.0


@dataclass(frozen=True, slots=True)
class ObstacleSet:
    """Obstacles (metric polygons) for one altitude band at one time, with a content hash."""

    polygons: tuple[Polygon, ...]
    zone_ids: tuple[str, ...]  # the zones that contributed, for messages
    content_hash: str
    alt_agl_m: float


@dataclass(frozen=True, slots=True)
class Violation:
    """A position/shape that is inside a zone, and by how much."""

    zone: Zone
    depth_m: float  # how far inside the buffered zone (horizontal), 0 for altitude-only
    excess_m: float  # how far above a ceiling (altitude), 0 for horizontal-only
    clearance_m: float = 0.0  # the zone's buffer + the site margin that depth counts from

    def message(self, what: str) -> str:
        if self.zone.kind is ZoneKind.BOUNDARY:
            return (
                f"{what} is outside the operating boundary {self.zone.describe()} "
                f"by {self.depth_m:.0f} m (including a {self.clearance_m:.0f} m margin)"
            )
        if self.excess_m > 0:
            return (
                f"{what} is {self.excess_m:.0f} m above the ceiling of {self.zone.describe()} "
                f"({self.zone.ceiling_m:.0f} m {self.zone.datum.value})"
            )
        return (
            f"{what} is {self.depth_m:.0f} m inside {self.zone.describe()} "
            f"(its edge plus a {self.clearance_m:.0f} m clearance)"
        )


def outward_simplify(geom: BaseGeometry, tolerance_m: float) -> BaseGeometry:
    """Fewer vertices, never a smaller shape: grow by the tolerance, then simplify."""
    if tolerance_m <= 0 or geom.is_empty:
        return geom
    simple = shapely.simplify(
        geom.buffer(tolerance_m, quad_segs=2, join_style="mitre"), tolerance_m
    )
    return simple if simple.is_valid and simple.covers(geom) else geom


class Airspace:
    """All zones of a site in one local metric frame."""

    def __init__(
        self, zones: Sequence[Zone], frame: LocalFrame, sources: Sequence[str] = ()
    ) -> None:
        self.frame = frame
        self.zones: tuple[Zone, ...] = tuple(zones)
        self.sources = tuple(sources)
        self._xy: dict[str, BaseGeometry] = {}
        for zone in self.zones:
            if zone.circle is not None:
                cx, cy = frame.to_xy(zone.circle.lat, zone.circle.lon)
                geom: BaseGeometry = Point(cx, cy).buffer(zone.circle.radius_m, quad_segs=16)
            else:
                geom = shapely.transform(
                    zone.geometry_lonlat,
                    lambda c: frame.lonlat_to_xy(c[:, 0], c[:, 1]),
                )
            self._xy[zone.id] = shapely.make_valid(geom) if not geom.is_valid else geom
        definition = "\n".join(
            f"{z.id}|{z.kind}|{z.buffer_m}|{z.floor_m}|{z.ceiling_m}|{z.datum}|"
            f"{[(w.start.isoformat(), w.end.isoformat()) for w in z.windows]}|"
            f"{shapely.to_wkt(self._xy[z.id], rounding_precision=3)}"
            for z in self.zones
        )
        self.content_hash = hashlib.sha256(definition.encode()).hexdigest()[:16]
        self._cache: dict[tuple[Any, ...], ObstacleSet] = {}
        logger.info(
            "airspace: %d zones from %s (hash %s)",
            len(self.zones),
            list(self.sources),
            self.content_hash,
        )

    def zone(self, zone_id: str) -> Zone:
        for zone in self.zones:
            if zone.id == zone_id:
                return zone
        raise KeyError(zone_id)

    def geometry_xy(self, zone_id: str) -> BaseGeometry:
        """The zone's shape in the local frame (metres), without buffer."""
        return self._xy[zone_id]

    def active_zones(self, at: datetime | None = None) -> list[Zone]:
        when = at or datetime.now(UTC)
        return [z for z in self.zones if z.active_at(when)]

    def boundaries(self, at: datetime | None = None) -> list[Zone]:
        return [z for z in self.active_zones(at) if z.kind is ZoneKind.BOUNDARY]

    def blocking_zones(
        self,
        alt_agl_m: float,
        ground_alt_amsl_m: float,
        vertical_margin_m: float,
        at: datetime | None,
    ) -> list[Zone]:
        """No-fly zones and ceiling cells that forbid flying at this altitude (not boundaries)."""
        return [
            z
            for z in self.active_zones(at)
            if z.kind is not ZoneKind.BOUNDARY
            and z.blocks_altitude(alt_agl_m, ground_alt_amsl_m, vertical_margin_m)
        ]

    def buffered_xy(self, zone: Zone, margin_m: float) -> BaseGeometry:
        """Zone grown by its buffer + margin (a boundary: shrunk), in metres."""
        dist = (zone.buffer_m + margin_m) * _CHORD_FACTOR
        geom = self._xy[zone.id]
        if zone.kind is ZoneKind.BOUNDARY:
            return geom.buffer(-(zone.buffer_m + margin_m), quad_segs=QUAD_SEGS) if dist else geom
        return geom.buffer(dist, quad_segs=QUAD_SEGS) if dist else geom

    def obstacles(
        self,
        alt_agl_m: float,
        *,
        ground_alt_amsl_m: float = 0.0,
        margin_m: float = 0.0,
        vertical_margin_m: float = 10.0,
        at: datetime | None = None,
    ) -> ObstacleSet:
        """Compile the obstacles for flying at ``alt_agl_m`` at time ``at`` (default now)."""
        blocking = self.blocking_zones(alt_agl_m, ground_alt_amsl_m, vertical_margin_m, at)
        bounds = self.boundaries(at)
        key = (
            tuple(z.id for z in blocking),
            tuple(z.id for z in bounds),
            round(margin_m, 3),
            round(alt_agl_m, 2),
        )
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        parts = [self.buffered_xy(z, margin_m) for z in blocking]
        if bounds:
            inside = shapely.union_all([self.buffered_xy(z, margin_m) for z in bounds])
            outer = box(*inside.bounds).buffer(FRAME_MARGIN_M, join_style="mitre")
            parts.append(outer.difference(inside))
        merged = shapely.union_all(np.asarray(parts, dtype=object)) if parts else Polygon()
        merged = outward_simplify(merged, SIMPLIFY_TOLERANCE_M)
        polys = tuple(
            p for p in shapely.get_parts(merged) if isinstance(p, Polygon) and not p.is_empty
        )
        digest = hashlib.sha256(
            b"".join(shapely.to_wkb(p, output_dimension=2) for p in polys)
        ).hexdigest()[:16]
        result = ObstacleSet(polys, tuple(z.id for z in blocking + bounds), digest, alt_agl_m)
        self._cache[key] = result
        logger.debug(
            "obstacles at %.0f m AGL: %d polygons (hash %s)", alt_agl_m, len(polys), digest
        )
        return result

    def violations(
        self,
        geom_xy: BaseGeometry,
        alt_agl_m: float,
        *,
        ground_alt_amsl_m: float = 0.0,
        margin_m: float = 0.0,
        vertical_margin_m: float = 0.0,
        at: datetime | None = None,
    ) -> list[Violation]:
        """Zones that a point / circle / line at ``alt_agl_m`` would break, deepest first
        (a ceiling must clear ``alt_agl_m`` by ``vertical_margin_m``)."""
        found: list[Violation] = []
        for zone in self.active_zones(at):
            if zone.kind is ZoneKind.BOUNDARY:
                allowed = self.buffered_xy(zone, margin_m)
                if not allowed.covers(geom_xy):
                    outside = geom_xy.difference(allowed)
                    depth = (
                        float(outside.hausdorff_distance(allowed.boundary))
                        if not outside.is_empty
                        else 0.0
                    )
                    depth = max(depth, float(allowed.distance(geom_xy)))
                    found.append(Violation(zone, depth, 0.0, zone.buffer_m + margin_m))
                continue
            if not zone.blocks_altitude(alt_agl_m, ground_alt_amsl_m, vertical_margin_m):
                continue
            buffered = self.buffered_xy(zone, margin_m)
            if not buffered.intersects(geom_xy):
                continue
            core = self._xy[zone.id]
            clearance = zone.buffer_m + margin_m
            depth = max(
                (
                    clearance + _signed_depth(core, c)
                    for c in _coords(geom_xy.intersection(buffered))
                ),
                default=0.0,
            )
            excess = 0.0
            if zone.kind is ZoneKind.CEILING:
                ceiling = zone.ceiling_agl_m(ground_alt_amsl_m)
                excess = alt_agl_m - (ceiling if ceiling is not None else alt_agl_m)
            found.append(Violation(zone, depth, max(excess, 0.0), clearance))
        found.sort(key=lambda v: (v.excess_m, v.depth_m), reverse=True)
        return found

    def to_geojson(self, at: datetime | None = None) -> dict[str, Any]:
        """A FeatureCollection (lon/lat) of every zone, with ``active`` for time ``at``."""
        when = at or datetime.now(UTC)
        features = []
        for zone in self.zones:
            props: dict[str, Any] = {
                "id": zone.id,
                "kind": zone.kind.value,
                "name": zone.name,
                "source": zone.source,
                "buffer_m": zone.buffer_m,
                "floor_m": zone.floor_m,
                "ceiling_m": zone.ceiling_m,
                "datum": zone.datum.value,
                "active": zone.active_at(when),
            }
            if zone.windows:
                props["active_windows"] = [
                    {"start": w.start.isoformat(), "end": w.end.isoformat()} for w in zone.windows
                ]
            if zone.circle is not None:
                props["radius_m"] = zone.circle.radius_m
            geom = self._xy[zone.id] if zone.circle is not None else zone.geometry_lonlat
            if zone.circle is not None:
                geom = shapely.transform(geom, lambda c: self.frame.xy_to_lonlat(c))
            features.append({"type": "Feature", "geometry": mapping(geom), "properties": props})
        return {"type": "FeatureCollection", "features": features}


def _signed_depth(core: BaseGeometry, xy: tuple[float, float]) -> float:
    """Distance inside ``core`` (positive) or outside it (negative)."""
    p = Point(xy)
    if core.covers(p):
        return float(core.boundary.distance(p))
    return -float(core.distance(p))


def _coords(geom: BaseGeometry) -> list[tuple[float, float]]:
    if geom.is_empty:
        return []
    return [(float(x), float(y)) for x, y in shapely.get_coordinates(geom)]
