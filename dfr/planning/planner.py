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

The work is done in modules named for it: :mod:`dfr.planning.airspace_rules` (what is
legal where: the pilot-command checks, approach clearance, the obstacles),
:mod:`dfr.planning.scene` (the legal scene point and the route assembled to it),
:mod:`dfr.planning.candidates` (ranking) and :mod:`dfr.planning.home` (the way home
and its cost). :class:`Candidate` and :class:`HomeEstimate` are importable from here.

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

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from dfr.errors import NoRoute, NotFound, PlanningError
from dfr.geo.airspace import Airspace, ObstacleSet
from dfr.geo.qgc_plan import RallyPoint
from dfr.geo.site_airspace import load_site_airspace
from dfr.planning.airspace_rules import VERTICAL_MARGIN_M, AirspaceRules
from dfr.planning.candidates import Candidate, best_first, candidate_for_route, unreachable
from dfr.planning.geofence import PX4_FENCE_LIMITS, FenceLimits, Geofence, build_geofence
from dfr.planning.home import HomeEstimate, home_estimate, path_home
from dfr.planning.mission import MissionItem, mission_items, qgc_plan
from dfr.planning.prepared import PreparedAirspace
from dfr.planning.route import Route, Waypoint
from dfr.planning.scene import Scene, route_to_scene, scene_for_goal
from dfr.planning.vehicle_limits import VehicleLimits, flown_performance
from dfr.planning.visibility import ShortestPath
from dfr.planning.wind import CALM, Wind
from dfr.site import Dock, Drone, DronePerformance, Site

__all__ = ["VERTICAL_MARGIN_M", "Candidate", "HomeEstimate", "Planner", "PreparedAirspace"]


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
        self.rules = AirspaceRules(
            airspace, self.cruise_alt_rel_m, self.margin_m, self.ground_alt_amsl_m
        )
        # the pilot-command checks and the approach clearance are the rules' own
        self.check_goto = self.rules.check_goto
        self.check_orbit = self.rules.check_orbit
        self.check_altitude = self.rules.check_altitude
        self.clearance_m = self.rules.clearance_m
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
        return self.rules.obstacles(at)

    def prepare(self, at: datetime | None = None) -> PreparedAirspace:
        """Build (or fetch from cache) the graph and the dock trees for time ``at``."""
        obstacles = self.obstacles(at)
        prepared = self._prepared.get(obstacles.content_hash)
        if prepared is None:
            prepared = PreparedAirspace.build(obstacles, self.frame, self.site.docks)
            self._prepared[obstacles.content_hash] = prepared
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

    def _zones_text(self, xy: tuple[float, float], at: datetime | None) -> str:
        return "; ".join(self.rules.zone_names_at(xy, at))

    def _scene(
        self, prepared: PreparedAirspace, goal_lat: float, goal_lon: float, at: datetime | None
    ) -> Scene:
        return scene_for_goal(
            prepared.graph,
            self.frame,
            (goal_lat, goal_lon),
            lambda xy: self.rules.zone_names_at(xy, at),
        )

    def _route(
        self,
        drone: Drone,
        path: ShortestPath,
        scene: Scene,
        start_ll: tuple[float, float],
        *,
        wind: Wind,
        charge_frac: float,
        obstacles_hash: str,
    ) -> Route:
        return route_to_scene(
            drone.id,
            path,
            scene,
            start_ll=start_ll,
            frame=self.frame,
            cruise_alt_rel_m=self.cruise_alt_rel_m,
            perf=self.performance_of(drone),
            vehicle_limits=self._limits.get(drone.id),
            policy=self.site.policy,
            wind=wind,
            charge_frac=charge_frac,
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
        scene = self._scene(prepared, goal_lat, goal_lon, at)
        if start is None:
            dock = self._dock(drone)
            tree = prepared.dock_trees.get(dock.id)
            if tree is None:
                zones = self._zones_text(self.frame.to_xy(dock.lat, dock.lon), at)
                raise PlanningError(
                    f"dock {dock.id} of {drone.id} is inside a zone at cruise altitude: {zones}"
                )
            start_ll: tuple[float, float] = (dock.lat, dock.lon)
            path = graph.paths_from_trees([tree], scene.xy)[0]
            if path is None:
                raise NoRoute(
                    f"no legal path from dock {dock.id} to ({goal_lat:.6f}, {goal_lon:.6f})"
                )
        else:
            start_xy = self.frame.to_xy(*start)
            if not graph.point_free(start_xy):
                zones = self._zones_text(start_xy, at) or "a zone"
                raise PlanningError(f"start ({start[0]:.6f}, {start[1]:.6f}) is not legal: {zones}")
            start_ll = start
            path = graph.shortest_path(start_xy, scene.xy)
        return self._route(
            drone,
            path,
            scene,
            start_ll,
            wind=wind,
            charge_frac=charge_frac,
            obstacles_hash=prepared.obstacles.content_hash,
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
        scene = self._scene(prepared, goal_lat, goal_lon, at)
        drones = list(self.site.drones if drones is None else drones)
        dock_ids = sorted({d.dock for d in drones if d.dock in prepared.dock_trees})
        trees = [prepared.dock_trees[i] for i in dock_ids]
        paths = dict(zip(dock_ids, prepared.graph.paths_from_trees(trees, scene.xy), strict=True))
        out: list[Candidate] = []
        for drone in drones:
            path = paths.get(drone.dock)
            if path is None:
                out.append(unreachable(drone, dock_can_launch=drone.dock in prepared.dock_trees))
                continue
            dock = self._dock(drone)
            route = self._route(
                drone,
                path,
                scene,
                (dock.lat, dock.lon),
                wind=wind,
                charge_frac=1.0 if charge_frac is None else charge_frac.get(drone.id, 1.0),
                obstacles_hash=prepared.obstacles.content_hash,
            )
            out.append(candidate_for_route(drone, route))
        return best_first(out)

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
                zones = self._zones_text(xy, at) or "a zone"
                raise PlanningError(f"{name} is not legal: {zones}")
        path = graph.shortest_path(start_xy, goal_xy)
        lonlat = self.frame.xy_to_lonlat(np.asarray(path.points_xy, dtype=float))
        mid = [Waypoint(float(lat), float(lon)) for lon, lat in lonlat[1:-1]]
        return (Waypoint(start_lat, start_lon), *mid, Waypoint(goal_lat, goal_lon))

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
        dock = self._dock(drone)
        points, legal = path_home(
            prepared.graph,
            prepared.dock_trees.get(dock.id),
            self.frame.to_xy(lat, lon),
            self.frame.to_xy(dock.lat, dock.lon),
        )
        return home_estimate(
            drone.id,
            points,
            legal=legal,
            alt_rel_m=alt_rel_m,
            cruise_alt_rel_m=self.cruise_alt_rel_m,
            perf=self.performance_of(drone),
            vehicle_limits=self._limits.get(drone.id),
            wind=wind,
        )

    def airspace_geojson(self, at: datetime | None = None) -> dict[str, Any]:
        """All zones as a GeoJSON FeatureCollection (lon/lat), with ``active`` flags."""
        return self.airspace.to_geojson(at)
