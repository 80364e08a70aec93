"""The flights in the air: the one coordinator that owns them.

:class:`Sorties` owns one :class:`~dfr.fleet.flight.Flight` per active flight, each
run as a named task in the service's task group. It starts them (a launch, or
:mod:`~dfr.fleet.resume` after a restart), hands each phase change to
:mod:`~dfr.fleet.phase_changes`, runs the track (:mod:`~dfr.fleet.track`, 1 Hz) and
the monitor (:mod:`~dfr.fleet.monitor`, every 2 s), feeds the flights what their links
say, and carries out commands — the pilot's (checked in :mod:`~dfr.fleet.pilot_commands`)
and its own alike, each recorded with the vehicle's answer (:mod:`~dfr.fleet.commands`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Awaitable, Callable, Collection, Coroutine
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from shapely.geometry import LineString

from dfr.errors import InvalidStateError, NotFound
from dfr.fleet.active_flight import ActiveFlight
from dfr.fleet.alerts import link_alert, raise_alert, vehicle_text_alert
from dfr.fleet.command_kinds import Command, Divert, PilotCommand
from dfr.fleet.commands import CommandOutcome, execute, raise_unless_done
from dfr.fleet.drone_state import DroneState, LinkState
from dfr.fleet.flight import Flight
from dfr.fleet.flight_plan import FlightPlan, mission_from_air, plan_for_route
from dfr.fleet.flight_port import Action
from dfr.fleet.home_mission import home_mission
from dfr.fleet.link_types import MissionProgress
from dfr.fleet.mission_encoding import encode_mission
from dfr.fleet.monitor import AlertSpec, Monitor
from dfr.fleet.phase_changes import PhaseChanges
from dfr.fleet.pilot_commands import after_accepted, answer, prepare
from dfr.fleet.resume import resume_flights
from dfr.fleet.track import flush_tracks, track_loop
from dfr.fleet.vehicle_link import VehicleLink
from dfr.planning.planner import Planner
from dfr.planning.route import Route
from dfr.planning.wind import Wind
from dfr.records import CommandState, FlightPhase
from dfr.records import Flight as FlightRecord
from dfr.site import Site
from dfr.store.store import Store

logger = logging.getLogger(__name__)

Spawn = Callable[[Coroutine[Any, Any, Any], str], "asyncio.Task[Any]"]


def _now() -> datetime:
    return datetime.now(UTC)


class Sorties:
    def __init__(
        self,
        *,
        site: Site,
        store: Store,
        planner: Planner,
        links: dict[str, VehicleLink],
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
        self.active: dict[str, ActiveFlight] = {}
        self._spawn: Spawn | None = None
        self._link_seen: dict[str, LinkState] = {}
        self._phases = PhaseChanges(
            store=store,
            publish=publish_event,
            alert=self._alert,
            status_text_of=lambda drone_id: self.links[drone_id].state.status_text,
            on_flight_end=on_flight_end,
        )
        self._monitor = Monitor(
            planner=planner,
            wind=wind,
            state_of=self._state_of,
            alert=self._alert,
            send=self._recorded,
        )

    def attach(self, spawn: Spawn) -> None:
        """Start the track and monitor loops with the service's task spawner."""
        self._spawn = spawn
        spawn(track_loop(self.store, self.active.values, self._state_of), "sorties: track")
        spawn(self._monitor.run(self.active.values), "sorties: monitor")

    # -- lookups -------------------------------------------------------------------------

    def flight_of_drone(self, drone_id: str) -> ActiveFlight | None:
        for active in self.active.values():
            if active.record.drone_id == drone_id:
                return active
        return None

    def busy_drones(self) -> set[str]:
        return {a.record.drone_id for a in self.active.values()}

    def _state_of(self, drone_id: str) -> DroneState:
        return self.links[drone_id].state

    # -- launching, following, ending ------------------------------------------------------

    async def launch(
        self, incident_id: str | None, drone_id: str, route: Route | None, reason: str
    ) -> FlightRecord:
        if route is None:
            raise InvalidStateError(f"{drone_id}: no route to fly")
        if self.flight_of_drone(drone_id) is not None:
            raise InvalidStateError(f"{drone_id} is already on a flight")
        drone = self.planner.drone(drone_id)
        dock = self.site.dock_of(drone)
        plan, stored_plan = plan_for_route(
            self.planner, self.site.policy, route, dock.ground_alt_amsl_m
        )
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
        reached_scene: bool = False,
    ) -> None:
        holder: dict[str, ActiveFlight] = {}

        async def on_phase(new_phase: FlightPhase, why: str) -> None:
            await self._phases.changed(holder["active"], new_phase, why)

        async def on_problem(what: str, action: str) -> None:
            await self._alert(
                holder["active"], AlertSpec("flight_control", "critical", what, action)
            )

        dock = self.site.dock(record.dock_id)
        drone_id = record.drone_id
        flight = Flight(
            record.id,
            self.links[drone_id],
            plan,
            on_phase=on_phase,
            on_problem=on_problem,
            phase=phase,
            home_mission=lambda: home_mission(
                self.planner, drone_id, self._state_of(drone_id), self._wind()
            ),
            dock_lat_lon=(dock.lat, dock.lon),
            record_command=lambda command, action: self._recorded(
                holder["active"], command, action
            ),
            reached_scene=reached_scene,
        )
        active = ActiveFlight(record, flight, line)
        holder["active"] = active
        self.active[record.id] = active
        assert self._spawn is not None, "sorties not attached to the service"
        self._spawn(self._run(active), f"{drone_id}: flight {record.id}")
        self._on_flight_start(record)

    async def _run(self, active: ActiveFlight) -> None:
        record = active.record
        while True:
            try:
                final = await active.flight.run()
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
            await self._phases.finish(active, final)
        finally:
            self.active.pop(record.id, None)
            self._on_drone_free(record.drone_id)

    async def flush_tracks(self) -> None:
        """Write every flight's pending track samples in one transaction."""
        await flush_tracks(self.store, self.active.values())

    async def resume(self, drones: Collection[str] | None = None) -> list[str]:
        """Rebuild active flights from the store; pending commands become ``unknown``.
        ``drones``: only theirs (taken over from an instance that stopped)."""
        if drones is None:
            return await resume_flights(self.store, self.links, self.planner.frame, self._start)
        return await resume_flights(
            self.store, drones, self.planner.frame, self._start, taken_over=True
        )

    # -- commands --------------------------------------------------------------------------

    async def _recorded(
        self, active: ActiveFlight, command: Command, action: Action, issued_by: str = "dfr"
    ) -> None:
        """Run one of dfr's own commands to the vehicle, kept in the flight's record with
        the vehicle's answer (like a pilot's); raises unless it was done."""
        outcome = await self._execute(active, command, action, issued_by)
        raise_unless_done(active.record.drone_id, command.type, outcome)

    async def _execute(
        self, active: ActiveFlight, command: Command, action: Action, issued_by: str
    ) -> CommandOutcome:
        return await execute(
            self.store,
            active.flight,
            flight_id=active.record.id,
            drone_id=active.record.drone_id,
            command=command,
            issued_by=issued_by,
            action=action,
        )

    async def command(
        self, flight_id: str, command: PilotCommand, issued_by: str
    ) -> dict[str, Any]:
        """A pilot's command to an active flight, checked before anything is stored or
        sent; the answer is the vehicle's (``command_id``, ``state``, ``result``, ``detail``)."""
        active = self.active.get(flight_id)
        if active is None:
            if await self.store.get_flight(flight_id) is None:
                raise NotFound(f"flight {flight_id} does not exist")
            raise InvalidStateError(f"flight {flight_id} has ended; commands go to active flights")
        state = self._state_of(active.record.drone_id)
        action = prepare(
            command, active, state, planner=self.planner, site=self.site, wind=self._wind()
        )
        outcome = await self._execute(active, command, action, issued_by)
        if outcome.state is CommandState.ACCEPTED:
            await after_accepted(active, command)
            self._publish(
                {
                    "type": "command",
                    "flight_id": flight_id,
                    "drone_id": active.record.drone_id,
                    "command": command.type,
                    "state": "accepted",
                    "by": issued_by,
                }
            )
        return answer(outcome)

    async def divert_to(
        self, drone_id: str, incident_id: str, lat_deg: float, lon_deg: float, reason: str, by: str
    ) -> FlightRecord:
        """Send the flying ``drone_id`` to a scene, planned from where it is now."""
        active = self.flight_of_drone(drone_id)
        if active is None:
            raise InvalidStateError(f"{drone_id} is not flying: launch it without divert")
        state = self._state_of(drone_id)
        if not state.has_position:
            raise InvalidStateError(f"{drone_id} has no position yet")
        route = self.planner.plan_route(
            drone_id, lat_deg, lon_deg, start=(state.lat_deg, state.lon_deg), wind=self._wind()
        )
        return await self.divert(active, incident_id, route, reason, by)

    async def divert(
        self, active: ActiveFlight, incident_id: str, route: Route, reason: str, by: str
    ) -> FlightRecord:
        """Send a flying drone to another scene along a legal route from where it is."""
        flight = active.flight
        mission = encode_mission(
            mission_from_air(self.planner.mission_items(route), route.cruise_alt_rel_m)
        )
        dock = self.site.dock(active.record.dock_id)
        plan, stored_plan = plan_for_route(
            self.planner, self.site.policy, route, dock.ground_alt_amsl_m
        )
        feature = route.to_geojson()
        feature.setdefault("properties", {})["dfr_plan"] = {
            **stored_plan,
            "last_route_seq": len(mission) - 1,
        }

        async def go() -> None:
            await flight.upload_geofence(plan.geofence)  # the zones along the new route
            await flight.fly_mission(mission, scene_seq=len(mission) - 1)

        target = Divert(incident_id, route.scene.lat, route.scene.lon)
        await self._recorded(active, target, go, issued_by=by)
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

    # -- alerts and telemetry hooks --------------------------------------------------------

    async def _alert(self, active: ActiveFlight, spec: AlertSpec) -> None:
        await raise_alert(self.store, self._publish, active, spec)

    def _spawn_alert(self, active: ActiveFlight, spec: AlertSpec) -> None:
        assert self._spawn is not None
        self._spawn(self._alert(active, spec), f"{active.record.drone_id}: alert {spec.kind}")

    async def alert_incident_flight(self, incident_id: str, spec: AlertSpec) -> bool:
        """Raise an alert on the active flight serving ``incident_id``, if there is one."""
        for active in list(self.active.values()):
            if active.record.incident_id == incident_id:
                await self._alert(active, spec)
                return True
        return False

    def on_state(self, state: DroneState) -> None:
        active = self.flight_of_drone(state.drone_id)
        if active is not None:
            active.flight.notify()
        seen = self._link_seen.get(state.drone_id)
        if seen is not state.link:
            self._link_seen[state.drone_id] = state.link
            link = self.links.get(state.drone_id)
            spec = link_alert(seen, state.link, link.lost_cause if link else "no heartbeat")
            if active is not None and spec is not None:
                self._spawn_alert(active, spec)

    def on_status_text(self, drone_id: str, severity: str, text: str) -> None:
        """The vehicle's own warnings (failsafes, geofence) reach the pilot as alerts."""
        active = self.flight_of_drone(drone_id)
        if active is None:
            return
        active.flight.notify()  # a launch waits on what the vehicle says
        spec = vehicle_text_alert(active.flight.phase, severity, text)
        if spec is not None:
            self._spawn_alert(active, spec)

    def on_mission_progress(self, drone_id: str, current: int, total: int) -> None:
        active = self.flight_of_drone(drone_id)
        if active is not None:
            active.flight.mission_progress(MissionProgress(current, total))


__all__ = ["ActiveFlight", "Sorties"]
