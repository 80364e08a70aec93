"""The flights in the air: launching them, following them, recording them, and the
pilot's commands.

:class:`Sorties` owns one :class:`~dfr.fleet.flight.Flight` per active flight, each
run as a named task in the service's task group. It persists every phase change,
samples the track at 1 Hz (each sample on disk within the second, so a crash loses at
most one), runs the monitor every 2 s, and carries out pilot commands after checking
them against the airspace. After a restart it rebuilds every active
flight from the store and live telemetry; a command whose answer never came is marked
``unknown`` and is not sent again.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from shapely.geometry import LineString

from dfr.errors import (
    InvalidInput,
    InvalidStateError,
    LinkError,
    NotFound,
)
from dfr.fleet.commands import CommandOutcome, execute, raise_unless_done
from dfr.fleet.drone_state import DroneState, LinkState
from dfr.fleet.flight import TERMINAL, Flight, FlightPlan
from dfr.fleet.launch import REFUSED_TEXTS
from dfr.fleet.link import DroneLink, MissionProgress
from dfr.fleet.mission_encoding import RawItem, encode_geofence, encode_mission
from dfr.fleet.monitor import AlertSpec, battery_check, deviation_check, zone_check
from dfr.planning.arrival import arrival_orbit
from dfr.planning.mission import (
    MAV_CMD_NAV_TAKEOFF,
    MAV_CMD_NAV_WAYPOINT,
    MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
    MissionItem,
)
from dfr.planning.planner import Candidate, Planner
from dfr.planning.route import Route
from dfr.planning.wind import Wind
from dfr.site import Site
from dfr.records import CommandState, FlightEnd, FlightPhase, IncidentStatus, TrackPoint
from dfr.records import Flight as FlightRecord
from dfr.store.store import Store

logger = logging.getLogger(__name__)

TRACK_INTERVAL_S = 1.0
MONITOR_INTERVAL_S = 2.0
COMMAND_TYPES = ("orbit", "goto", "altitude", "hold", "return", "land")
MAV_CMD_NAV_LAND = 21
ALERT_SEVERITIES = frozenset({"emergency", "alert", "critical", "error"})
AIRBORNE = frozenset(
    {
        FlightPhase.LAUNCHING,
        FlightPhase.ENROUTE,
        FlightPhase.ON_SCENE,
        FlightPhase.RETURNING,
        FlightPhase.LANDING,
        FlightPhase.FAILSAFE,
    }
)


Spawn = Callable[[Coroutine[Any, Any, Any], str], "asyncio.Task[Any]"]


# outcomes of a flight that leave its call unserved, and how to say so
UNSERVED = {
    "launch_failed": "could not launch",
    "landed_short": "came down before reaching the scene",
    "returned_short": "came back to its dock before reaching the scene",
}


def _incident_status_after(outcome: str) -> IncidentStatus:
    """An unserved call waits for a person (never dispatched twice unless one asks)."""
    return IncidentStatus.AWAITING_PILOT if outcome in UNSERVED else IncidentStatus.CLOSED


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True, eq=False)
class ActiveFlight:
    record: FlightRecord
    flight: Flight
    route_xy: LineString
    raised: set[str] = field(default_factory=set)
    track: list[TrackPoint] = field(default_factory=list)


def plan_of(route_feature: dict[str, Any]) -> dict[str, Any]:
    plan: dict[str, Any] = route_feature.get("properties", {}).get("dfr_plan", {})
    return plan


class Sorties:
    def __init__(
        self,
        *,
        site: Site,
        store: Store,
        planner: Planner,
        links: dict[str, DroneLink],
        publish_event: Callable[[dict[str, Any]], None],
        wind: Callable[[], Wind],
        on_drone_free: Callable[[str], None],
        on_flight_start: Callable[[FlightRecord], None] = lambda _r: None,
        on_flight_end: Callable[[FlightRecord], Awaitable[None]] | None = None,
    ) -> None:
        self.site = site
        self.store = store
        self.planner = planner
        self.links = links
        self._publish = publish_event
        self._wind = wind
        self._on_drone_free = on_drone_free
        self._on_flight_start = on_flight_start
        self._on_flight_end = on_flight_end
        self.active: dict[str, ActiveFlight] = {}
        self._spawn: Spawn | None = None
        self._link_seen: dict[str, LinkState] = {}

    def attach(self, spawn: Spawn) -> None:
        """Start the track and monitor loops with the service's task spawner."""
        self._spawn = spawn
        spawn(self._track_loop(), "sorties: track")
        spawn(self._monitor_loop(), "sorties: monitor")

    # -- lookups -------------------------------------------------------------------------

    def flight_of_drone(self, drone_id: str) -> ActiveFlight | None:
        for active in self.active.values():
            if active.record.drone_id == drone_id:
                return active
        return None

    def busy_drones(self) -> set[str]:
        return {a.record.drone_id for a in self.active.values()}

    # -- launching -----------------------------------------------------------------------

    def _flight_plan(
        self, route: Route, dock_alt_amsl_m: float
    ) -> tuple[FlightPlan, dict[str, Any]]:
        mission = encode_mission(self.planner.mission_items(route))
        fence = encode_geofence(self.planner.geofence(route))
        policy = self.site.policy
        orbit = arrival_orbit(self.planner, route, policy.orbit_radius_m)
        plan = FlightPlan(
            mission=mission,
            geofence=fence,
            scene_lat_deg=route.scene.lat,
            scene_lon_deg=route.scene.lon,
            scene_alt_amsl_m=dock_alt_amsl_m + route.cruise_alt_rel_m,
            orbit_lat_deg=orbit.lat_deg,
            orbit_lon_deg=orbit.lon_deg,
            orbit_radius_m=orbit.radius_m,
            orbit_speed_mps=policy.orbit_speed_mps,
            on_scene_time_s=policy.on_scene_time_s,
            last_route_seq=len(mission) - 1,
        )
        stored = {
            "scene_lat_deg": plan.scene_lat_deg,
            "scene_lon_deg": plan.scene_lon_deg,
            "scene_alt_amsl_m": plan.scene_alt_amsl_m,
            "orbit_lat_deg": plan.orbit_lat_deg,
            "orbit_lon_deg": plan.orbit_lon_deg,
            "orbit_note": orbit.note,
            "orbit_radius_m": plan.orbit_radius_m,
            "orbit_speed_mps": plan.orbit_speed_mps,
            "on_scene_time_s": plan.on_scene_time_s,
            "last_route_seq": plan.last_route_seq,
            "mission_items": len(mission),
            "fence_items": len(fence),
        }
        return plan, stored

    async def launch(
        self, incident_id: str | None, candidate: Candidate, reason: str
    ) -> FlightRecord:
        if candidate.route is None:
            raise InvalidStateError(f"{candidate.drone_id}: no route to fly")
        if self.flight_of_drone(candidate.drone_id) is not None:
            raise InvalidStateError(f"{candidate.drone_id} is already on a flight")
        drone = self.planner.drone(candidate.drone_id)
        dock = self.site.dock_of(drone)
        route = candidate.route
        plan, stored_plan = self._flight_plan(route, dock.ground_alt_amsl_m)
        feature = route.to_geojson()
        feature.setdefault("properties", {})["dfr_plan"] = stored_plan
        now = _now()
        record = FlightRecord(
            id=f"flt-{uuid.uuid4().hex[:12]}",
            incident_id=incident_id,
            drone_id=drone.id,
            dock_id=dock.id,
            phase=FlightPhase.DOCKED,
            created_at=now,
            updated_at=now,
            planned_eta_s=route.eta_s if math.isfinite(route.eta_s) else None,
            route=feature,
        )
        await self.store.insert_flight(record, reason)
        self._start(record, plan, FlightPhase.DOCKED, LineString(route.points_xy))
        return record

    def _start(
        self,
        record: FlightRecord,
        plan: FlightPlan,
        phase: FlightPhase,
        line: LineString,
        *,
        reached_scene: bool = False,
    ) -> None:
        link = self.links[record.drone_id]
        holder: dict[str, ActiveFlight] = {}

        async def on_phase(new_phase: FlightPhase, why: str) -> None:
            await self._phase_changed(holder["active"], new_phase, why)

        async def on_problem(what: str, action: str) -> None:
            await self._alert(
                holder["active"], AlertSpec("flight_control", "critical", what, action)
            )

        dock = self.site.dock(record.dock_id)
        flight = Flight(
            record.id,
            link,
            plan,
            on_phase=on_phase,
            on_problem=on_problem,
            phase=phase,
            home_mission=lambda: self._home_mission(record.drone_id),
            dock_lat_lon=(dock.lat, dock.lon),
            record_command=lambda kind, params, action: self._recorded(
                holder["active"], kind, params, action
            ),
            reached_scene=reached_scene,
        )
        active = ActiveFlight(record, flight, line)
        holder["active"] = active
        self.active[record.id] = active
        assert self._spawn is not None, "sorties not attached to the service"
        self._spawn(self._run(active), f"{record.drone_id}: flight {record.id}")
        self._on_flight_start(record)

    async def _recorded(
        self,
        active: ActiveFlight,
        kind: str,
        params: dict[str, Any],
        action: Callable[[], Awaitable[None]],
        issued_by: str = "dfr",
    ) -> None:
        """Run one of dfr's own commands to the vehicle, kept in the flight's record with
        the vehicle's answer (like a pilot's); raises unless it was done."""
        outcome = await self._execute(active, kind, params, action, issued_by)
        raise_unless_done(active.record.drone_id, kind, outcome)

    async def _execute(
        self,
        active: ActiveFlight,
        kind: str,
        params: dict[str, Any],
        action: Callable[[], Awaitable[None]],
        issued_by: str,
    ) -> CommandOutcome:
        return await execute(
            self.store,
            active.flight,
            flight_id=active.record.id,
            drone_id=active.record.drone_id,
            kind=kind,
            params=params,
            issued_by=issued_by,
            action=action,
        )

    def _home_mission(self, drone_id: str) -> list[RawItem] | None:
        """The legal way home from here as a mission at the planned cruise speed, ending
        over the dock in RTL (which lands it). Also when the straight line is legal: PX4's
        RTL alone flies home at MPC_XY_CRUISE (5 m/s by default; it resets the mission's
        speed), twice as long as planned — seen on real PX4 in the ten-call benchmark.
        None without a position (then PX4's RTL is the way)."""
        state = self.links[drone_id].state
        if not state.has_position:
            return None
        home = self.planner.energy_to_home(
            drone_id, state.lat_deg, state.lon_deg, max(0.0, state.alt_rel_m), wind=self._wind()
        )
        drone = self.planner.drone(drone_id)
        alt = self.planner.cruise_alt_rel_m
        items: list[MissionItem] = []
        for x, y in home.points_xy[1:]:
            lat, lon = self.planner.frame.to_latlon(x, y)
            items.append(
                MissionItem(
                    len(items),
                    MAV_CMD_NAV_WAYPOINT,
                    lat,
                    lon,
                    alt,
                    self.planner.performance_of(drone).cruise_speed_mps,
                    param2=10.0,
                )
            )
        if not items:
            return None
        raw = encode_mission(items)
        # land on the dock as the mission's last item, not RTL: a mission start that
        # arrives after a short mission ended would switch RTL back to a finished Mission
        # and leave the drone loitering over its dock (seen in the sim at 20x)
        dock_lat, dock_lon = self.planner.frame.to_latlon(*home.points_xy[-1])
        raw.append(
            RawItem(
                len(raw),
                MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
                MAV_CMD_NAV_LAND,
                0,
                1,
                0.0,
                0.0,
                0.0,
                math.nan,
                round(dock_lat * 1e7),
                round(dock_lon * 1e7),
                0.0,
                0,
            )
        )
        return raw

    async def _run(self, active: ActiveFlight) -> None:
        record = active.record
        flight = active.flight
        while True:
            try:
                final = await flight.run()
                break
            except asyncio.CancelledError:
                raise  # the service is stopping: the flight stays active in the store
            except Exception as exc:
                logger.exception("%s: flight %s control failed", record.drone_id, record.id)
                await self._alert(
                    active,
                    AlertSpec(
                        "flight_control",
                        "critical",
                        f"flight control failed: {exc}",
                        "following the vehicle again in 5 s; pilot: check it",
                    ),
                )
                await asyncio.sleep(5.0)
        try:
            await self._finish(active, final)
        finally:
            self.active.pop(record.id, None)
            self._on_drone_free(record.drone_id)

    async def _finish(self, active: ActiveFlight, final: FlightPhase) -> None:
        """After the terminal phase (which wrote the flight's end and its incident's status
        in one transaction): close what hangs on the flight."""
        record = active.record
        if record.ended_at is None:  # run() ended without a terminal phase change
            await self._phase_changed(active, final, "flight ended", force_end=True)

    async def _close_recordings(self, record: FlightRecord) -> None:
        """Before the flight reads as ended: its recordings are closed and hashed."""
        if self._on_flight_end is not None:
            try:
                await self._on_flight_end(record)
            except Exception:
                logger.exception("%s: closing flight %s failed", record.drone_id, record.id)

    async def _unserved(self, active: ActiveFlight) -> None:
        """Tell the pilot at once when a flight ended without serving its call."""
        record = active.record
        if record.incident_id is None or record.outcome not in UNSERVED:
            return
        incident = await self.store.get_incident(record.incident_id)
        cad_id = incident.cad_id if incident is not None else record.incident_id
        await self._alert(
            active,
            AlertSpec(
                record.outcome,
                "critical",
                f"{record.drone_id} {UNSERVED[record.outcome]} for {cad_id}",
                "the call waits for a pilot: launch again, or choose another drone",
            ),
        )

    async def _phase_changed(
        self, active: ActiveFlight, phase: FlightPhase, reason: str, *, force_end: bool = False
    ) -> None:
        previous = active.record.phase
        end = None
        if phase in TERMINAL or force_end:
            await self._flush_track(active)
            await self._close_recordings(active.record)
            outcome = active.flight.outcome or phase.value
            end = FlightEnd(outcome, _incident_status_after(outcome))
        record = await self.store.set_flight_phase(active.record.id, phase, reason, _now(), end=end)
        active.record = record
        if end is not None:
            await self._unserved(active)
        self._publish(
            {
                "type": "flight_phase",
                "flight_id": record.id,
                "drone_id": record.drone_id,
                "incident_id": record.incident_id,
                "phase": phase.value,
                "reason": reason,
            }
        )
        if phase is FlightPhase.FAILSAFE:
            mode = active.flight.unexpected_mode or "?"
            await self._alert(
                active,
                AlertSpec(
                    "mode_change",
                    "critical",
                    f"the vehicle switched to {mode} by itself while {previous.value} "
                    f"(last vehicle message: {self.links[record.drone_id].state.status_text or 'none'})",
                    "the vehicle's own failsafe is flying it; pilot: check it, then return, land or take over",
                ),
            )

    async def divert(
        self, active: ActiveFlight, incident_id: str, route: Route, reason: str, by: str
    ) -> FlightRecord:
        """Send a flying drone to another scene along a legal route from where it is."""
        flight = active.flight
        mission = encode_mission(
            _mission_from_air(self.planner.mission_items(route), route.cruise_alt_rel_m)
        )
        dock = self.site.dock(active.record.dock_id)
        plan, stored_plan = self._flight_plan(route, dock.ground_alt_amsl_m)
        feature = route.to_geojson()
        feature.setdefault("properties", {})["dfr_plan"] = {
            **stored_plan,
            "last_route_seq": len(mission) - 1,
        }

        async def go() -> None:
            await flight.upload_geofence(plan.geofence)  # the zones along the new route
            await flight.fly_mission(mission, scene_seq=len(mission) - 1)

        target = {"incident_id": incident_id, "lat": route.scene.lat, "lon": route.scene.lon}
        await self._recorded(active, "divert", target, go, issued_by=by)
        flight.plan = replace(plan, mission=mission, last_route_seq=len(mission) - 1)
        active.route_xy = LineString(route.points_xy)
        active.record = await self.store.retarget_flight(
            active.record.id, incident_id, feature, _now()
        )
        active.raised.clear()
        flight.reached_scene = False  # the new call is served once the drone is over it
        if flight.phase is not FlightPhase.ENROUTE:
            await flight.set_phase(FlightPhase.ENROUTE, reason)
        return active.record

    # -- resume after a restart ------------------------------------------------------------

    async def resume(self) -> list[str]:
        """Rebuild active flights from the store; pending commands become ``unknown``."""
        for command in await self.store.list_commands(state=CommandState.PENDING):
            await self.store.finish_command(
                command.id,
                CommandState.UNKNOWN,
                "service stopped before the vehicle answered; not re-sent",
                _now(),
            )
        for record in await self.store.list_flights(limit=1000):
            if record.ended_at is None and record.phase in TERMINAL:
                await self._end_unfinished(record)
        resumed = []
        for record in await self.store.list_flights(active_only=True):
            if record.drone_id not in self.links:
                logger.warning(
                    "flight %s: drone %s is not in this site any more", record.id, record.drone_id
                )
                continue
            stored = plan_of(record.route)
            plan = FlightPlan(
                mission=[],
                geofence=[],
                scene_lat_deg=stored["scene_lat_deg"],
                scene_lon_deg=stored["scene_lon_deg"],
                scene_alt_amsl_m=stored["scene_alt_amsl_m"],
                orbit_lat_deg=stored.get("orbit_lat_deg", stored["scene_lat_deg"]),
                orbit_lon_deg=stored.get("orbit_lon_deg", stored["scene_lon_deg"]),
                orbit_radius_m=stored["orbit_radius_m"],
                orbit_speed_mps=stored["orbit_speed_mps"],
                on_scene_time_s=stored["on_scene_time_s"],
                last_route_seq=stored["last_route_seq"],
            )
            coords = record.route.get("geometry", {}).get("coordinates", [])
            xy = [self.planner.frame.to_xy(lat, lon) for lon, lat, *_ in coords] or [(0.0, 0.0)] * 2
            phase = (
                record.phase if record.phase is not FlightPhase.PREFLIGHT else FlightPhase.LAUNCHING
            )
            history = {p.phase for p in await self.store.list_phases(record.id)}
            self._start(
                record,
                plan,
                phase,
                LineString(xy if len(xy) > 1 else xy * 2),
                reached_scene=FlightPhase.ON_SCENE in history,
            )
            resumed.append(record.id)
            logger.info(
                "%s: resumed flight %s in phase %s", record.drone_id, record.id, record.phase
            )
        return resumed

    async def _end_unfinished(self, record: FlightRecord) -> None:
        """A flight in a terminal phase without an end, decided from what was written: a
        flight that never left ``docked`` sent nothing (it waits for a pilot); one that
        reached ``docked`` again after flying (written by a version that ended flights in a
        second step) is ended as docked. Never dispatched again by itself."""
        phases = [p.phase for p in await self.store.list_phases(record.id)]
        flew = len(phases) > 1
        if record.phase is FlightPhase.DOCKED and not flew:
            phase, reason, outcome = (
                FlightPhase.ABORTED,
                "service stopped before preflight; nothing sent",
                "launch_failed",
            )
        else:
            phase, reason, outcome = record.phase, "ended at restart", record.phase.value
        await self.store.set_flight_phase(
            record.id,
            phase,
            reason,
            _now(),
            end=FlightEnd(outcome, _incident_status_after(outcome)),
        )

    # -- telemetry hooks -------------------------------------------------------------------

    def on_state(self, state: DroneState) -> None:
        active = self.flight_of_drone(state.drone_id)
        if active is not None:
            active.flight.notify()
        seen = self._link_seen.get(state.drone_id)
        if seen is not state.link:
            self._link_seen[state.drone_id] = state.link
            if active is not None and state.link is LinkState.LOST:
                self._spawn_alert(
                    active,
                    AlertSpec(
                        "link_lost",
                        "critical",
                        "MAVLink link lost (no heartbeat)",
                        "the vehicle's own data-link failsafe acts (NAV_DLL_ACT); reconnecting",
                    ),
                )
            elif active is not None and state.link is LinkState.UP and seen is LinkState.LOST:
                self._spawn_alert(
                    active,
                    AlertSpec(
                        "link_back",
                        "info",
                        "MAVLink link back",
                        "monitoring resumed",
                    ),
                )

    def on_status_text(self, drone_id: str, severity: str, text: str) -> None:
        """The vehicle's own warnings (failsafes, geofence) reach the pilot as alerts."""
        active = self.flight_of_drone(drone_id)
        if active is not None:
            active.flight.notify()  # a launch waits on what the vehicle says
        if active is None or severity not in ALERT_SEVERITIES:
            return
        if active.flight.phase is FlightPhase.LAUNCHING and any(
            marker in text for marker in REFUSED_TEXTS
        ):
            return  # the launch asks again; a launch that fails raises its own alert
        self._spawn_alert(
            active,
            AlertSpec(
                "vehicle",
                "critical" if severity != "error" else "warning",
                f"vehicle: {text}",
                "shown to the pilot; the flight follows the vehicle's mode",
            ),
        )

    def on_mission_progress(self, drone_id: str, current: int, total: int) -> None:
        active = self.flight_of_drone(drone_id)
        if active is not None:
            active.flight.mission_progress(MissionProgress(current, total))

    async def alert_incident_flight(self, incident_id: str, spec: AlertSpec) -> bool:
        """Raise an alert on the active flight serving ``incident_id``, if there is one."""
        for active in list(self.active.values()):
            if active.record.incident_id == incident_id:
                await self._alert(active, spec)
                return True
        return False

    def _spawn_alert(self, active: ActiveFlight, spec: AlertSpec) -> None:
        assert self._spawn is not None
        self._spawn(self._alert(active, spec), f"{active.record.drone_id}: alert {spec.kind}")

    async def _alert(self, active: ActiveFlight, spec: AlertSpec) -> None:
        record = active.record
        alert = await self.store.add_alert(
            drone_id=record.drone_id,
            flight_id=record.id,
            kind=spec.kind,
            severity=spec.severity,
            message=spec.message,
            action=spec.action,
            at=_now(),
        )
        logger.warning("%s: %s: %s — %s", record.drone_id, spec.kind, spec.message, spec.action)
        self._publish(
            {
                "type": "alert",
                "alert_id": alert.id,
                "drone_id": record.drone_id,
                "flight_id": record.id,
                "kind": spec.kind,
                "severity": spec.severity,
                "message": spec.message,
                "action": spec.action,
            }
        )

    # -- track and monitor -----------------------------------------------------------------

    async def _track_loop(self) -> None:
        while True:
            await asyncio.sleep(TRACK_INTERVAL_S)
            for active in list(self.active.values()):
                state = self.links[active.record.drone_id].state
                if not state.has_position or active.record.phase not in AIRBORNE:
                    continue
                active.track.append(
                    TrackPoint(
                        flight_id=active.record.id,
                        t=state.updated_at or _now(),
                        lat_deg=state.lat_deg,
                        lon_deg=state.lon_deg,
                        alt_amsl_m=state.alt_amsl_m,
                        alt_rel_m=state.alt_rel_m,
                        heading_deg=state.heading_deg if math.isfinite(state.heading_deg) else 0.0,
                        ground_speed_mps=state.ground_speed_mps
                        if math.isfinite(state.ground_speed_mps)
                        else 0.0,
                        battery_pct=state.battery_pct if math.isfinite(state.battery_pct) else -1.0,
                        mode=state.mode,
                    )
                )
            try:  # every sample is on disk within TRACK_INTERVAL_S: a crash loses at most that
                await self.flush_tracks()
            except Exception:
                logger.exception("track points not written; kept for the next try")

    async def _flush_track(self, active: ActiveFlight) -> None:
        points, active.track = active.track, []
        try:
            await self.store.add_track_points(points)
        except Exception:
            active.track[:0] = points  # written with the next batch
            raise

    async def flush_tracks(self) -> None:
        """Write every flight's pending samples in one transaction."""
        taken = [(active, active.track) for active in self.active.values() if active.track]
        for active, _points in taken:
            active.track = []
        try:
            await self.store.add_track_points([p for _active, points in taken for p in points])
        except Exception:
            for active, points in taken:
                active.track[:0] = points  # written with the next batch
            raise

    async def _monitor_loop(self) -> None:
        while True:
            await asyncio.sleep(MONITOR_INTERVAL_S)
            for active in list(self.active.values()):
                try:
                    await self._monitor(active)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("%s: monitor failed", active.record.drone_id)

    async def _raise_once(self, active: ActiveFlight, spec: AlertSpec | None, kind: str) -> bool:
        if spec is None:
            active.raised.discard(kind)
            return False
        if kind in active.raised:
            return False
        active.raised.add(kind)
        await self._alert(active, spec)
        return True

    async def _monitor(self, active: ActiveFlight) -> None:
        state = self.links[active.record.drone_id].state
        phase = active.flight.phase
        watched = (
            FlightPhase.ENROUTE,
            FlightPhase.ON_SCENE,
            FlightPhase.RETURNING,
            FlightPhase.FAILSAFE,
        )
        if phase not in watched or not state.has_position:
            return
        drone = self.planner.drone(active.record.drone_id)
        home = self.planner.energy_to_home(
            drone, state.lat_deg, state.lon_deg, max(0.0, state.alt_rel_m), wind=self._wind()
        )
        battery = battery_check(state, home, drone.performance.battery_wh)
        going_home = phase in (FlightPhase.RETURNING, FlightPhase.FAILSAFE) and state.mode in (
            "mission",
            "return_to_launch",
            "land",
        )
        if await self._raise_once(active, None if going_home else battery, "battery_reserve"):
            try:
                await self._recorded(
                    active,
                    "return",
                    {"reason": "battery reserve"},
                    lambda: active.flight.return_home(
                        "battery reserve: returning while it can still get home"
                    ),
                )
            except Exception as exc:
                active.raised.discard("battery_reserve")  # checked (and tried) again next round
                await self._alert(
                    active,
                    AlertSpec(
                        "return_failed",
                        "critical",
                        f"battery reserve reached but the return failed: {exc}",
                        "trying again in 2 s; pilot: send it home or land it",
                    ),
                )
            return
        xy = self.planner.frame.to_xy(state.lat_deg, state.lon_deg)
        obstacles = self.planner.obstacles().polygons
        await self._raise_once(active, zone_check(xy, list(obstacles)), "zone_proximity")
        if phase is FlightPhase.ENROUTE and state.mode == "mission":
            await self._raise_once(active, deviation_check(xy, active.route_xy), "route_deviation")

    # -- pilot commands --------------------------------------------------------------------

    async def command(self, flight_id: str, body: dict[str, Any], issued_by: str) -> dict[str, Any]:
        active = self.active.get(flight_id)
        if active is None:
            if await self.store.get_flight(flight_id) is None:
                raise NotFound(f"flight {flight_id} does not exist")
            raise InvalidStateError(f"flight {flight_id} has ended; commands go to active flights")
        kind = body.get("type")
        if kind not in COMMAND_TYPES:
            raise InvalidInput("type", f"must be one of {', '.join(COMMAND_TYPES)}, got {kind!r}")
        if active.flight.phase in TERMINAL or active.flight.phase in (
            FlightPhase.PREFLIGHT,
            FlightPhase.DOCKED,
        ):
            raise InvalidStateError(f"flight {flight_id} is {active.flight.phase}: not flying yet")
        link = self.links[active.record.drone_id]
        if link.state.link is not LinkState.UP:
            raise LinkError(
                active.record.drone_id, f"link {link.state.link}: the command cannot be sent"
            )
        action = self._prepare_command(active, kind, body)  # raises before anything is stored
        params = {k: v for k, v in body.items() if k != "type"}
        outcome = await self._execute(active, kind, params, action, issued_by)
        if outcome.state is not CommandState.ACCEPTED:
            return {
                "command_id": outcome.command_id,
                "state": outcome.state.value,
                "result": outcome.result,
                "detail": outcome.detail,
            }
        flight = active.flight
        if kind in ("goto", "orbit", "hold", "altitude") and flight.phase in (
            FlightPhase.RETURNING,
            FlightPhase.FAILSAFE,
        ):
            await flight.set_phase(FlightPhase.ON_SCENE, f"pilot took control ({kind})")
        self._publish(
            {
                "type": "command",
                "flight_id": flight_id,
                "drone_id": active.record.drone_id,
                "command": kind,
                "state": "accepted",
                "by": issued_by,
            }
        )
        return {
            "command_id": outcome.command_id,
            "state": "accepted",
            "result": outcome.result,
            "detail": "",
        }

    def _prepare_command(
        self, active: ActiveFlight, kind: str, body: dict[str, Any]
    ) -> Callable[[], Any]:
        flight = active.flight
        state = self.links[active.record.drone_id].state
        dock = self.site.dock(active.record.dock_id)
        home_amsl = (
            state.home_alt_amsl_m
            if math.isfinite(state.home_alt_amsl_m)
            else dock.ground_alt_amsl_m
        )
        policy = self.site.policy

        def number(
            name: str, default: float | None = None, lo: float = -math.inf, hi: float = math.inf
        ) -> float:
            value = body.get(name, default)
            if value is None:
                raise InvalidInput(name, "required")
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise InvalidInput(name, f"must be a number, got {value!r}")
            if not lo <= float(value) <= hi:
                raise InvalidInput(name, f"must be between {lo:g} and {hi:g}, got {value}")
            return float(value)

        if kind == "hold":
            return flight.hold
        if kind == "return":
            return lambda: flight.return_home(f"pilot ({body.get('reason', 'return')})")
        if kind == "land":
            return lambda: flight.land("pilot: land here")
        cruise = self.planner.cruise_alt_rel_m
        if kind == "altitude":
            alt = number("alt_rel_m", lo=5.0, hi=120.0)
            if not state.has_position:
                raise InvalidStateError("no position yet: cannot change altitude")
            self.planner.check_altitude(state.lat_deg, state.lon_deg, alt)
            plan = flight.plan
            if flight.phase is FlightPhase.ON_SCENE and plan.orbit_radius_m > 0:
                return lambda: flight.orbit(  # keep orbiting, at the new height
                    plan.orbit_lat_deg,
                    plan.orbit_lon_deg,
                    home_amsl + alt,
                    plan.orbit_radius_m,
                    plan.orbit_speed_mps,
                )
            if flight.phase is FlightPhase.ENROUTE:  # keep going to the scene, at the new height
                route = self._check_path(active, state, plan.scene_lat_deg, plan.scene_lon_deg)
                mission = encode_mission(_mission_from_air(self.planner.mission_items(route), alt))
                return lambda: flight.fly_mission(mission, scene_seq=len(mission) - 1)
            return lambda: flight.goto(state.lat_deg, state.lon_deg, home_amsl + alt)
        lat = number("lat", lo=-90, hi=90)
        lon = number("lon", lo=-180, hi=180)
        alt = number("alt_rel_m", cruise, lo=5.0, hi=120.0)
        if kind == "orbit":
            radius = number("radius_m", policy.orbit_radius_m, lo=10.0, hi=1000.0)
            speed = number("speed_mps", policy.orbit_speed_mps, lo=0.5, hi=20.0)
            self.planner.check_orbit(lat, lon, radius, alt)
            if state.has_position:
                self._check_path(active, state, lat, lon)
            return lambda: flight.orbit(lat, lon, home_amsl + alt, radius, speed)
        # goto: fly there directly when the way is clear, else along the planned route
        self.planner.check_goto(lat, lon, alt)
        way = self._check_path(active, state, lat, lon) if state.has_position else None
        if way is None or len(way.waypoints) <= 2:
            return lambda: flight.goto(lat, lon, home_amsl + alt)
        mission = encode_mission(_mission_from_air(self.planner.mission_items(way), alt))

        return lambda: flight.fly_mission(mission)

    def _check_path(self, active: ActiveFlight, state: DroneState, lat: float, lon: float) -> Route:
        """A legal route from here; raises PlanningError when there is none."""
        return self.planner.plan_route(
            active.record.drone_id,
            lat,
            lon,
            start=(state.lat_deg, state.lon_deg),
            wind=self._wind(),
        )


def _mission_from_air(items: list[MissionItem], alt_rel_m: float) -> list[MissionItem]:
    """A route mission for a drone already flying: no takeoff, at the commanded altitude."""
    out = []
    for item in items:
        command = MAV_CMD_NAV_WAYPOINT if item.command == MAV_CMD_NAV_TAKEOFF else item.command
        out.append(
            replace(item, command=command, alt_rel_m=alt_rel_m, param2=max(item.param2, 10.0))
        )
    return out


__all__ = ["ActiveFlight", "RawItem", "Sorties"]
