"""The planner's public interface: what the service calls.

    planner = Planner.from_site(load_site("flightplans/fort-worth"))   # once, at start
    planner.rank(lat, lon, wind=...)            # every drone for an incident, best first
    route = planner.plan_route(drone, lat, lon) # dock -> scene, legal, with ETA / energy
    planner.mission_items(route)                # MAVLink mission (alt rel. to home)
    planner.geofence(route)                     # fence items within PX4's limits
    planner.check_goto / check_orbit / check_altitude   # pilot commands: legal or PlanningError
    planner.legal_path(lat0, lon0, lat1, lon1)  # a goto around the zones
    planner.clearance_m(lat, lon, alt_rel_m)    # distance to the nearest zone (approach alerts)
    planner.energy_to_home(drone, lat, lon, alt_rel_m)  # the monitor, every few seconds
    planner.airspace_geojson()                  # the map

Everything is synchronous, pure Python/numpy/shapely, no I/O after construction.
The visibility graph for the current airspace (zones active *now*, at the site's
cruise altitude) is built on first use and cached by the obstacles' content hash,
so it is rebuilt only when a time-windowed zone (e.g. a stadium TFR) switches on or
off. Shortest-path trees from every dock are cached with it. Building can take a
few seconds for large airspaces: call :meth:`Planner.prepare` at start-up, off the
event loop. Not thread-safe while preparing: call it from one worker thread (after
``prepare``, concurrent read-only queries on the same time window are safe).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from shapely.geometry import Point

from dfr.errors import NoRoute, NotFound, PlanningError
from dfr.geo.airspace import Airspace, ObstacleSet
from dfr.geo.qgc_plan import RallyPoint
from dfr.geo.site_airspace import load_site_airspace
from dfr.geo.zone import ZoneKind
from dfr.planning.geofence import PX4_FENCE_LIMITS, FenceLimits, Geofence, build_geofence
from dfr.planning.mission import MissionItem, mission_items, qgc_plan
from dfr.planning.profile import PowerModel, estimate_flight, fly_legs, trajectory_limits
from dfr.planning.px4_flight import climb_s, landing_s
from dfr.planning.route import Route, Waypoint
from dfr.planning.vehicle_limits import VehicleLimits, flown_performance
from dfr.planning.visibility import PathTree, ShortestPath, VisibilityGraph
from dfr.planning.wind import CALM, Wind
from dfr.site import Dock, Drone, DronePerformance, Site

logger = logging.getLogger(__name__)

VERTICAL_MARGIN_M = 10.0  # ceilings must clear cruise altitude by this much


@dataclass(frozen=True, slots=True)
class Candidate:
    """One drone's answer to an incident, as the dispatcher ranks it."""

    drone_id: str
    dock_id: str
    feasible: bool
    eta_s: float  # launch -> over the scene (math.inf when no route)
    distance_m: float
    energy_needed_wh: float  # out + on scene + back
    energy_usable_wh: float  # above the reserve, at the given charge
    reasons: tuple[str, ...]  # why not feasible
    route: Route | None


@dataclass(frozen=True, slots=True)
class HomeEstimate:
    """What it takes to get from the current position back onto the dock, now."""

    drone_id: str
    distance_m: float
    time_s: float
    energy_wh: float  # to get home and land (without the reserve)
    reserve_wh: float
    feasible: bool  # False if the wind forbids a leg
    points_xy: tuple[tuple[float, float], ...]


@dataclass(slots=True)
class PreparedAirspace:
    """The compiled obstacles, their visibility graph and the dock trees, for one airspace state."""

    obstacles: ObstacleSet
    graph: VisibilityGraph
    dock_trees: dict[str, PathTree]


class Planner:
    """Routes, ranking, fences and airspace checks for one site."""

    def __init__(
        self, site: Site, airspace: Airspace, *, fence_limits: FenceLimits = PX4_FENCE_LIMITS
    ) -> None:
        self.site = site
        self.airspace = airspace
        self.frame = airspace.frame
        self.fence_limits = fence_limits
        self.cruise_alt_rel_m = site.policy.cruise_alt_agl_m
        self.margin_m = site.policy.zone_margin_m
        # flat-ground assumption: AGL = above the docks' mean pad altitude (for AMSL zones)
        self.ground_alt_amsl_m = sum(d.ground_alt_amsl_m for d in site.docks) / len(site.docks)
        self._prepared: dict[str, PreparedAirspace] = {}
        self.rally_points: tuple[RallyPoint, ...] = ()  # from the site's .plan files
        self._limits: dict[str, VehicleLimits] = {}  # what each vehicle said it will fly

    @classmethod
    def from_site(cls, site: Site) -> Planner:
        """Load the site's airspace (GeoJSON + .plan files) and build a planner."""
        airspace, rally = load_site_airspace(site)
        planner = cls(site, airspace)
        planner.rally_points = rally
        return planner

    # -- preparation ---------------------------------------------------------------------

    def obstacles(self, at: datetime | None = None) -> ObstacleSet:
        return self.airspace.obstacles(
            self.cruise_alt_rel_m,
            ground_alt_amsl_m=self.ground_alt_amsl_m,
            margin_m=self.margin_m,
            vertical_margin_m=VERTICAL_MARGIN_M,
            at=at,
        )

    def prepare(self, at: datetime | None = None) -> PreparedAirspace:
        """Build (or fetch from cache) the graph and the dock trees for time ``at``."""
        obstacles = self.obstacles(at)
        prepared = self._prepared.get(obstacles.content_hash)
        if prepared is None:
            graph = VisibilityGraph(obstacles.polygons)
            prepared = PreparedAirspace(obstacles, graph, {})
            for dock in self.site.docks:
                xy = self.frame.to_xy(dock.lat, dock.lon)
                if graph.point_free(xy):
                    prepared.dock_trees[dock.id] = graph.tree_from(xy)
                else:
                    logger.warning(
                        "dock %s is inside a zone at cruise altitude: it cannot launch", dock.id
                    )
            self._prepared[obstacles.content_hash] = prepared
            logger.info(
                "planner ready: %d obstacles, %d nodes, %d edges (hash %s)",
                len(obstacles.polygons),
                graph.n_nodes,
                graph.n_edges,
                obstacles.content_hash,
            )
        return prepared

    # -- lookups -------------------------------------------------------------------------

    def drone(self, drone_id: str) -> Drone:
        for drone in self.site.drones:
            if drone.id == drone_id:
                return drone
        raise NotFound(
            f"no drone '{drone_id}' (drones are: {', '.join(d.id for d in self.site.drones)})"
        )

    def set_vehicle_limits(self, drone_id: str, limits: VehicleLimits) -> None:
        """Plan ``drone_id`` from now on with what its autopilot will really fly."""
        self._limits[drone_id] = limits

    def vehicle_limits(self, drone_id: str) -> VehicleLimits | None:
        return self._limits.get(drone_id)

    def performance_of(self, drone: Drone) -> DronePerformance:
        """The site's figures for ``drone``, lowered to its vehicle's limits once known."""
        return flown_performance(drone.performance, self._limits.get(drone.id))

    def _dock(self, drone: Drone) -> Dock:
        return self.site.dock_of(drone)

    def _zone_names_at(self, xy: tuple[float, float], at: datetime | None) -> list[str]:
        violations = self.airspace.violations(
            Point(xy),
            self.cruise_alt_rel_m,
            ground_alt_amsl_m=self.ground_alt_amsl_m,
            margin_m=self.margin_m,
            vertical_margin_m=VERTICAL_MARGIN_M,  # as the fence: cells it would carry
            at=at,
        )
        return [v.message("the point") for v in violations]

    def _scene_point(
        self, prepared: PreparedAirspace, goal_xy: tuple[float, float], at: datetime | None
    ) -> tuple[tuple[float, float], bool, tuple[str, ...]]:
        """Legal scene point for a goal; moved to the nearest legal point if inside a zone."""
        if prepared.graph.point_free(goal_xy):
            return goal_xy, False, ()
        notes = self._zone_names_at(goal_xy, at)
        moved = prepared.graph.nearest_free_point(goal_xy, clearance_m=1.0)
        dist = math.dist(moved, goal_xy)
        note = f"scene moved {dist:.0f} m to the nearest legal point; entering needs authorisation"
        return moved, True, (*notes, note)

    def _route(
        self,
        drone: Drone,
        path: ShortestPath,
        requested: tuple[float, float],  # (lat, lon) as asked
        authorisation: bool,
        notes: tuple[str, ...],
        wind: Wind,
        charge_frac: float,
        obstacles_hash: str,
        start_ll: tuple[float, float] | None = None,
    ) -> Route:
        perf = self.performance_of(drone)
        est = estimate_flight(
            path.points_xy,
            perf,
            cruise_alt_rel_m=self.cruise_alt_rel_m,
            on_scene_s=self.site.policy.on_scene_time_s,
            orbit_speed_mps=self.site.policy.orbit_speed_mps,
            wind=wind,
            charge_frac=charge_frac,
            limits=self._limits.get(drone.id),
        )
        lonlat = self.frame.xy_to_lonlat(np.asarray(path.points_xy, dtype=float))
        wps = [Waypoint(float(lat), float(lon)) for lon, lat in lonlat]
        if start_ll is not None:  # exact coordinates at the start, no round trip
            wps[0] = Waypoint(*start_ll)
        if not authorisation:  # the scene is the requested point: keep it exact
            wps[-1] = Waypoint(*requested)
        return Route(
            drone_id=drone.id,
            waypoints=tuple(wps),
            points_xy=path.points_xy,
            distance_m=path.length_m,
            cruise_alt_rel_m=self.cruise_alt_rel_m,
            cruise_speed_mps=perf.cruise_speed_mps,
            estimate=est,
            wind=wind,
            requested_goal=Waypoint(*requested),
            authorisation_required=authorisation,
            notes=notes,
            obstacles_hash=obstacles_hash,
        )

    # -- public API ----------------------------------------------------------------------

    def plan_route(
        self,
        drone: Drone | str,
        goal_lat: float,
        goal_lon: float,
        *,
        start: tuple[float, float] | None = None,
        wind: Wind = CALM,
        charge_frac: float = 1.0,
        at: datetime | None = None,
    ) -> Route:
        """Shortest legal route for ``drone`` from its dock (or ``start`` lat/lon) to the goal.

        A goal inside a zone gives a route to the nearest legal point with
        ``authorisation_required=True``; a start inside a zone raises
        :class:`PlanningError` naming the zone; no legal path raises :class:`NoRoute`.
        """
        drone = self.drone(drone) if isinstance(drone, str) else drone
        prepared = self.prepare(at)
        graph = prepared.graph
        goal_xy = self.frame.to_xy(goal_lat, goal_lon)
        scene_xy, authorisation, notes = self._scene_point(prepared, goal_xy, at)
        if start is None:
            dock = self._dock(drone)
            tree = prepared.dock_trees.get(dock.id)
            if tree is None:
                zones = "; ".join(self._zone_names_at(self.frame.to_xy(dock.lat, dock.lon), at))
                raise PlanningError(
                    f"dock {dock.id} of {drone.id} is inside a zone at cruise altitude: {zones}"
                )
            start_ll: tuple[float, float] = (dock.lat, dock.lon)
            path = graph.paths_from_trees([tree], scene_xy)[0]
            if path is None:
                raise NoRoute(
                    f"no legal path from dock {dock.id} to ({goal_lat:.6f}, {goal_lon:.6f})"
                )
        else:
            start_xy = self.frame.to_xy(*start)
            if not graph.point_free(start_xy):
                zones = "; ".join(self._zone_names_at(start_xy, at)) or "a zone"
                raise PlanningError(f"start ({start[0]:.6f}, {start[1]:.6f}) is not legal: {zones}")
            start_ll = start
            path = graph.shortest_path(start_xy, scene_xy)
        return self._route(
            drone,
            path,
            (goal_lat, goal_lon),
            authorisation,
            notes,
            wind,
            charge_frac,
            prepared.obstacles.content_hash,
            start_ll,
        )

    def rank(
        self,
        goal_lat: float,
        goal_lon: float,
        *,
        drones: Sequence[Drone] | None = None,
        wind: Wind = CALM,
        charge_frac: Mapping[str, float] | None = None,
        at: datetime | None = None,
    ) -> list[Candidate]:
        """Every drone (default: all of the site's) for an incident, best first.

        Feasible candidates first, by ETA; then the infeasible ones with their reasons.
        Cost: one visibility sweep from the scene + one tree lookup per dock.
        ``charge_frac`` maps drone id -> battery state of charge 0..1 (default full).
        """
        prepared = self.prepare(at)
        graph = prepared.graph
        goal_xy = self.frame.to_xy(goal_lat, goal_lon)
        scene_xy, authorisation, notes = self._scene_point(prepared, goal_xy, at)
        drones = list(self.site.drones if drones is None else drones)
        dock_ids = sorted({d.dock for d in drones if d.dock in prepared.dock_trees})
        paths = dict(
            zip(
                dock_ids,
                graph.paths_from_trees([prepared.dock_trees[i] for i in dock_ids], scene_xy),
                strict=True,
            )
        )
        out: list[Candidate] = []
        for drone in drones:
            charge = 1.0 if charge_frac is None else charge_frac.get(drone.id, 1.0)
            path = paths.get(drone.dock)
            if path is None:
                why = (
                    f"dock {drone.dock} is inside a zone at cruise altitude"
                    if drone.dock not in prepared.dock_trees
                    else f"no legal path from dock {drone.dock} to the scene"
                )
                out.append(
                    Candidate(
                        drone.id, drone.dock, False, math.inf, math.inf, math.inf, 0.0, (why,), None
                    )
                )
                continue
            dock = self._dock(drone)
            route = self._route(
                drone,
                path,
                (goal_lat, goal_lon),
                authorisation,
                notes,
                wind,
                charge,
                prepared.obstacles.content_hash,
                (dock.lat, dock.lon),
            )
            est = route.estimate
            eta = est.eta_s if math.isfinite(est.eta_s) else math.inf
            out.append(
                Candidate(
                    drone.id,
                    drone.dock,
                    est.feasible,
                    eta,
                    route.distance_m,
                    est.total_energy_wh,
                    est.usable_energy_wh,
                    est.reasons,
                    route,
                )
            )
        out.sort(key=lambda c: (not c.feasible, c.eta_s, c.drone_id))
        return out

    def mission_items(self, route: Route) -> list[MissionItem]:
        """Takeoff, waypoints at cruise altitude (relative to the dock), loiter over the scene."""
        return mission_items(route, loiter_radius_m=self.site.policy.orbit_radius_m)

    def geofence(self, route: Route, at: datetime | None = None) -> Geofence:
        """Boundary (inclusion) + zones near the route that forbid its altitude (exclusions)."""
        blocking = self.airspace.blocking_zones(
            route.cruise_alt_rel_m, self.ground_alt_amsl_m, VERTICAL_MARGIN_M, at
        )
        return build_geofence(
            self.airspace,
            list(route.points_xy),
            blocking,
            self.airspace.boundaries(at),
            self.fence_limits,
        )

    def qgc_plan(self, route: Route, at: datetime | None = None) -> dict[str, Any]:
        """The route as a QGroundControl .plan document (mission + fence)."""
        drone = self.drone(route.drone_id) if route.drone_id else self.site.drones[0]
        home_alt = self._dock(drone).ground_alt_amsl_m
        return qgc_plan(route, self.geofence(route, at), home_alt, self.site.policy.orbit_radius_m)

    def _check(self, geom_xy: Any, alt_rel_m: float, what: str, at: datetime | None) -> None:
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
        self._check(
            Point(self.frame.to_xy(lat, lon)),
            alt_rel_m,
            f"goto ({lat:.6f}, {lon:.6f}) at {alt_rel_m:.0f} m",
            at,
        )

    def legal_path(
        self,
        start_lat: float,
        start_lon: float,
        goal_lat: float,
        goal_lon: float,
        *,
        at: datetime | None = None,
    ) -> tuple[Waypoint, ...]:
        """Shortest legal path at cruise altitude between two points (e.g. for a goto).

        The straight line when it is legal; raises PlanningError naming the zone when
        either end is inside one, NoRoute when nothing joins them.
        """
        graph = self.prepare(at).graph
        start_xy = self.frame.to_xy(start_lat, start_lon)
        goal_xy = self.frame.to_xy(goal_lat, goal_lon)
        for name, xy in (("start", start_xy), ("target", goal_xy)):
            if not graph.point_free(xy):
                zones = "; ".join(self._zone_names_at(xy, at)) or "a zone"
                raise PlanningError(f"{name} is not legal: {zones}")
        path = graph.shortest_path(start_xy, goal_xy)
        lonlat = self.frame.xy_to_lonlat(np.asarray(path.points_xy, dtype=float))
        mid = [Waypoint(float(lat), float(lon)) for lon, lat in lonlat[1:-1]]
        return (Waypoint(start_lat, start_lon), *mid, Waypoint(goal_lat, goal_lon))

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
        self._check(ring, alt_rel_m, f"orbit of {radius_m:.0f} m around ({lat:.6f}, {lon:.6f})", at)

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

    def energy_to_home(
        self,
        drone: Drone | str,
        lat: float,
        lon: float,
        alt_rel_m: float,
        *,
        wind: Wind = CALM,
        at: datetime | None = None,
    ) -> HomeEstimate:
        """Legal path home from here, and the time and energy to fly it and land.

        Cheap: one sweep from the current position into the dock's cached tree.
        A position inside a zone (authorised entry) first leaves it by the shortest way.
        """
        drone = self.drone(drone) if isinstance(drone, str) else drone
        prepared = self.prepare(at)
        graph = prepared.graph
        dock = self._dock(drone)
        dock_xy = self.frame.to_xy(dock.lat, dock.lon)
        here = self.frame.to_xy(lat, lon)
        lead: list[tuple[float, float]] = []
        if not graph.point_free(here):
            lead = [here]
            here = graph.nearest_free_point(here, clearance_m=1.0)
        tree = prepared.dock_trees.get(dock.id)
        path = graph.paths_from_trees([tree], here)[0] if tree is not None else None
        # no legal way: straight home (feasible=False, the monitor must alert)
        points = [*lead, here, dock_xy] if path is None else [*lead, *reversed(path.points_xy)]
        perf = self.performance_of(drone)
        power = PowerModel.from_performance(perf)
        limits = trajectory_limits(perf, self._limits.get(drone.id))
        legs, time_s, energy_wh = fly_legs(points, perf, wind, power, limits)
        up_s = climb_s(max(0.0, self.cruise_alt_rel_m - alt_rel_m), limits)
        down_s = landing_s(max(alt_rel_m, self.cruise_alt_rel_m), limits)
        time_s += up_s + down_s
        energy_wh += (power.climb_w * up_s + power.hover_w * down_s) / 3600.0
        feasible = all(leg.feasible for leg in legs) and path is not None
        distance = sum(leg.distance_m for leg in legs)
        return HomeEstimate(
            drone.id,
            distance,
            time_s,
            energy_wh,
            perf.battery_wh * perf.reserve_pct / 100.0,
            feasible,
            tuple(points),
        )

    def airspace_geojson(self, at: datetime | None = None) -> dict[str, Any]:
        """All zones as a GeoJSON FeatureCollection (lon/lat), with ``active`` flags."""
        return self.airspace.to_geojson(at)
