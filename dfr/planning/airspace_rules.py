"""What is legal where: the site's airspace with its margins, asked about points and shapes.

:class:`AirspaceRules` binds an :class:`~dfr.geo.airspace.Airspace` to the site's
policy (cruise altitude, zone margin, the ground altitude AMSL zones are measured
from) and answers the pilot-command checks (goto, orbit, altitude), the approach
clearance the monitor alerts on, and the obstacle set the visibility graph is built
from. Every check raises :class:`~dfr.errors.PlanningError` naming the zone and by
how much.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shapely.geometry import Point

from dfr.errors import PlanningError
from dfr.geo.airspace import Airspace, ObstacleSet
from dfr.geo.frame import LocalFrame
from dfr.geo.zone import ZoneKind

VERTICAL_MARGIN_M = 10.0  # ceilings must clear cruise altitude by this much


@dataclass(frozen=True, slots=True)
class AirspaceRules:
    """The airspace checks for one site, at its cruise altitude and margins."""

    airspace: Airspace
    cruise_alt_rel_m: float
    margin_m: float
    # flat-ground assumption: AGL = above the docks' mean pad altitude (for AMSL zones)
    ground_alt_amsl_m: float

    @property
    def frame(self) -> LocalFrame:
        return self.airspace.frame

    def obstacles(self, at: datetime | None = None) -> ObstacleSet:
        """The zones that forbid cruise altitude at ``at``, as buffered metric obstacles."""
        return self.airspace.obstacles(
            self.cruise_alt_rel_m,
            ground_alt_amsl_m=self.ground_alt_amsl_m,
            margin_m=self.margin_m,
            vertical_margin_m=VERTICAL_MARGIN_M,
            at=at,
        )

    def zone_names_at(self, xy: tuple[float, float], at: datetime | None) -> list[str]:
        """A message for each zone that holds ``xy`` at cruise altitude (empty if none)."""
        violations = self.airspace.violations(
            Point(xy),
            self.cruise_alt_rel_m,
            ground_alt_amsl_m=self.ground_alt_amsl_m,
            margin_m=self.margin_m,
            vertical_margin_m=VERTICAL_MARGIN_M,  # as the fence: cells it would carry
            at=at,
        )
        return [v.message("the point") for v in violations]

    def check(self, geom_xy: Any, alt_rel_m: float, what: str, at: datetime | None) -> None:
        """Raise PlanningError naming every zone ``geom_xy`` at ``alt_rel_m`` enters."""
        violations = self.airspace.violations(
            geom_xy,
            alt_rel_m,
            ground_alt_amsl_m=self.ground_alt_amsl_m,
            margin_m=self.margin_m,
            vertical_margin_m=VERTICAL_MARGIN_M,  # as the fence: cells it would carry
            at=at,
        )
        if violations:
            raise PlanningError("; ".join(v.message(what) for v in violations))

    def check_goto(
        self, lat: float, lon: float, alt_rel_m: float, *, at: datetime | None = None
    ) -> None:
        """A click-to-fly target: raise PlanningError naming the zone and by how much."""
        self.check(
            Point(self.frame.to_xy(lat, lon)),
            alt_rel_m,
            f"goto ({lat:.6f}, {lon:.6f}) at {alt_rel_m:.0f} m",
            at,
        )

    def check_orbit(
        self,
        lat: float,
        lon: float,
        radius_m: float,
        alt_rel_m: float,
        *,
        at: datetime | None = None,
    ) -> None:
        """An orbit circle (the flown ring) at ``alt_rel_m``."""
        ring = Point(self.frame.to_xy(lat, lon)).buffer(radius_m, quad_segs=16).exterior
        self.check(ring, alt_rel_m, f"orbit of {radius_m:.0f} m around ({lat:.6f}, {lon:.6f})", at)

    def check_altitude(
        self, lat: float, lon: float, alt_rel_m: float, *, at: datetime | None = None
    ) -> None:
        """An altitude change at the current position (ceilings, no-fly floors)."""
        xy = Point(self.frame.to_xy(lat, lon))
        if alt_rel_m < 0:
            raise PlanningError(f"altitude {alt_rel_m:.0f} m is below the dock")
        violations = [
            v
            for v in self.airspace.violations(
                xy,
                alt_rel_m,
                ground_alt_amsl_m=self.ground_alt_amsl_m,
                margin_m=self.margin_m,
                vertical_margin_m=VERTICAL_MARGIN_M,
                at=at,
            )
            if v.zone.kind is not ZoneKind.BOUNDARY
        ]
        if violations:
            raise PlanningError(
                "; ".join(v.message(f"altitude {alt_rel_m:.0f} m") for v in violations)
            )

    def clearance_m(
        self, lat: float, lon: float, alt_rel_m: float, *, at: datetime | None = None
    ) -> float:
        """Horizontal distance to the nearest zone (with its buffer) that forbids
        ``alt_rel_m`` here; negative when inside one. For the monitor's approach alerts."""
        xy = Point(self.frame.to_xy(lat, lon))
        best = math.inf
        for zone in self.airspace.blocking_zones(alt_rel_m, self.ground_alt_amsl_m, 0.0, at):
            core = self.airspace.geometry_xy(zone.id)
            clearance = zone.buffer_m + self.margin_m
            dist = (
                float(core.distance(xy))
                if not core.covers(xy)
                else -float(core.boundary.distance(xy))
            )
            best = min(best, dist - clearance)
        for zone in self.airspace.boundaries(at):
            core = self.airspace.geometry_xy(zone.id)
            clearance = zone.buffer_m + self.margin_m
            inside = core.covers(xy)
            dist = float(core.boundary.distance(xy))
            best = min(best, (dist if inside else -dist) - clearance)
        return best
