"""Following a flying sortie until it is back on the ground.

Once the vehicle is launched, :class:`Follower` wakes on every new drone state (or once a
second) and moves the flight along what the vehicle shows: airborne → ``enroute``; over
the scene → ``on_scene`` and the arrival orbit; on-scene time used up → home; descending
→ ``landing``; on the ground and disarmed → ``docked``; a mode nobody asked for →
``failsafe``. The actions it takes by itself (the arrival orbit, the return home) are
commands like a pilot's, recorded the same way; one that fails is reported and tried
again, never the end of the flight (the drone is still flying).
"""

from __future__ import annotations

import asyncio

from dfr.errors import CommandTimeout
from dfr.fleet.command_kinds import Command, Orbit, Return
from dfr.fleet.drone_state import DroneState, LandedState, airborne, shows_state
from dfr.fleet.flight_phases import TERMINAL, WATCHED_PHASES
from dfr.fleet.flight_port import Action, FlightPort
from dfr.geo.frame import geodesic_distance_m
from dfr.records import FlightPhase

ARRIVAL_RADIUS_M = 25.0
DOCK_RADIUS_M = 30.0  # touchdown further than this from the dock: landed away
RETRY_S = 5.0  # an automatic action that failed is tried again after this


class Follower:
    """Follows one flight's vehicle (see the module's docstring); one per flight, so what
    it keeps (the on-scene clock, a retry due) outlives a restart of :meth:`follow`."""

    def __init__(self, flight: FlightPort) -> None:
        self.flight = flight
        self._retry_at: float | None = None
        loop_time = asyncio.get_running_loop().time()
        self._on_scene_since: float | None = (
            loop_time if flight.phase is FlightPhase.ON_SCENE else None
        )

    async def follow(self) -> FlightPhase:
        """Follow the vehicle until it is on the ground; on scene, start the orbit."""
        flight = self.flight
        loop = asyncio.get_running_loop()
        while flight.phase not in TERMINAL:
            state = flight.link.state
            now = loop.time()
            flight.modes.settle(state.mode, now)
            await self._step(state, now)
            await flight.wait_change(1.0)
        if not flight.outcome:
            flight.outcome = flight.phase.value
        return flight.phase

    async def _step(self, state: DroneState, now: float) -> None:
        """One step per wake-up: the first that applies, in this order."""
        if await self._leaving_the_pad(state, now):
            return
        if await self._at_the_scene(state, now):
            return
        if await self._coming_down(state):
            return
        await self._mode_nobody_asked_for(state)

    async def _leaving_the_pad(self, state: DroneState, now: float) -> bool:
        flight = self.flight
        phase = flight.phase
        if phase is FlightPhase.LAUNCHING and airborne(state):
            await flight.set_phase(
                FlightPhase.ENROUTE, f"airborne: {state.alt_rel_m:.0f} m, {state.mode}"
            )
        elif (
            phase in (FlightPhase.ENROUTE, FlightPhase.ON_SCENE)
            and shows_state(state)
            and (state.landed is LandedState.ON_GROUND or not state.armed)
        ):
            await self._down_unexpectedly(state)
        elif (
            phase is FlightPhase.LAUNCHING
            and state.on_ground
            and not state.armed
            and now > flight.modes.pending_until
        ):
            flight.outcome = "launch_failed"  # disarmed on the ground: it never took off
            await flight.set_phase(FlightPhase.ABORTED, "the vehicle disarmed without taking off")
        else:
            return False
        return True

    async def _at_the_scene(self, state: DroneState, now: float) -> bool:
        flight = self.flight
        phase = flight.phase
        if phase is FlightPhase.ENROUTE and self._arrived(state):
            await flight.set_phase(FlightPhase.ON_SCENE, "reached the scene")
            self._on_scene_since = now
            await self._automatic(self._arrival_orbit(), self._orbit_scene)
        elif self._retry_at is not None and now >= self._retry_at:
            self._retry_at = None
            if phase is FlightPhase.ON_SCENE:
                await self._automatic(self._arrival_orbit(), self._orbit_scene)
            elif phase is FlightPhase.RETURNING:
                await self._automatic(
                    Return("retry"), lambda: flight.return_home("retrying the return")
                )
        elif (
            phase is FlightPhase.ON_SCENE
            and flight.plan.on_scene_time_s > 0
            and self._on_scene_since is not None
            and now - self._on_scene_since >= flight.plan.on_scene_time_s
        ):
            self._on_scene_since = None
            await self._automatic(
                Return("on-scene time used up"),
                lambda: flight.return_home("on-scene time used up"),
            )
        else:
            return False
        return True

    async def _coming_down(self, state: DroneState) -> bool:
        flight = self.flight
        phase = flight.phase
        if phase in (FlightPhase.RETURNING, FlightPhase.FAILSAFE) and (
            state.landed is LandedState.LANDING
        ):
            await flight.set_phase(FlightPhase.LANDING, "descending to land")
        elif (
            phase in (FlightPhase.LANDING, FlightPhase.RETURNING, FlightPhase.FAILSAFE)
            and state.on_ground
        ):
            away = self._distance_from_dock_m(state)
            if away is not None and away > DOCK_RADIUS_M:
                flight.outcome = flight.outcome or "landed_away"
                await flight.set_phase(
                    FlightPhase.DOCKED, f"landed and disarmed {away:.0f} m from its dock"
                )
            else:
                if not flight.reached_scene:  # e.g. the vehicle's failsafe brought it back
                    flight.outcome = flight.outcome or "returned_short"
                await flight.set_phase(FlightPhase.DOCKED, "landed and disarmed")
        else:
            return False
        return True

    async def _mode_nobody_asked_for(self, state: DroneState) -> bool:
        flight = self.flight
        if flight.phase not in WATCHED_PHASES or not flight.modes.surprised_by(state.mode):
            return False
        flight.unexpected_mode = state.mode
        flight.modes.adopt(state.mode)
        await flight.set_phase(FlightPhase.FAILSAFE, f"vehicle switched to {state.mode} by itself")
        return True

    async def _down_unexpectedly(self, state: DroneState) -> None:
        """The vehicle shows it is on the ground or disarmed while it should be flying to or
        over the scene (a false takeoff detection on the pad, a landing or a disarm nobody
        asked for): say so at once and follow what the vehicle shows."""
        flight = self.flight
        enroute = flight.phase is FlightPhase.ENROUTE
        where = "before reaching the scene" if enroute else "on scene"
        shows = "landed" if state.landed is LandedState.ON_GROUND else "reports disarmed"
        if enroute:
            flight.outcome = "landed_short"  # the call was not served
        if state.landed is not LandedState.ON_GROUND:  # disarmed in the air: it is falling
            await flight.problem(
                f"the vehicle {shows} {where} at {state.alt_rel_m:.0f} m ({state.mode})",
                "following it down; the call waits for a pilot"
                if enroute
                else "pilot: check the drone",
            )
            flight.unexpected_mode = f"disarmed ({state.mode})"
            flight.modes.adopt(state.mode)
            await flight.set_phase(FlightPhase.FAILSAFE, f"the vehicle {shows} {where}")
            return
        await flight.problem(
            f"the vehicle {shows} {where} ({state.mode}, {state.alt_rel_m:.0f} m, "
            f"last vehicle message: {state.status_text or 'none'})",
            "the call waits for a pilot" if enroute else "pilot: check the drone where it landed",
        )
        await flight.set_phase(FlightPhase.LANDING, f"the vehicle {shows} {where}")

    async def _automatic(self, command: Command, action: Action) -> None:
        """An action the machine takes by itself: recorded like a pilot's; a failure is
        reported and retried, never the end of the flight (the drone is still flying)."""
        kind = command.type
        try:
            await self.flight.recorded(command, action)
        except CommandTimeout as exc:  # outcome unknown: never re-sent blindly
            await self.flight.problem(
                f"{kind}: no answer and the outcome is unknown ({exc})",
                "not sent again; pilot: check the drone and command it",
            )
        except Exception as exc:
            self._retry_at = asyncio.get_running_loop().time() + RETRY_S
            await self.flight.problem(
                f"could not {kind}: {exc}", f"trying again in {RETRY_S:.0f} s"
            )

    def _arrival_orbit(self) -> Orbit:
        """The orbit dfr flies on arrival, as recorded (its height is the plan's)."""
        plan = self.flight.plan
        return Orbit(
            plan.orbit_lat_deg,
            plan.orbit_lon_deg,
            radius_m=plan.orbit_radius_m,
            speed_mps=plan.orbit_speed_mps,
        )

    async def _orbit_scene(self) -> None:
        flight = self.flight
        plan = flight.plan
        if plan.orbit_radius_m <= 0:  # no legal ring: hold where the mission ended
            await flight.hold()
            return
        await flight.orbit(
            plan.orbit_lat_deg,
            plan.orbit_lon_deg,
            plan.scene_alt_amsl_m,
            plan.orbit_radius_m,
            plan.orbit_speed_mps,
        )

    def _arrived(self, state: DroneState) -> bool:
        """Over the scene: the mission says so, or (after a restart, when the mission's
        progress is not known yet) the position does."""
        flight = self.flight
        progress = flight.progress
        if progress.total > 0 and progress.current >= flight.plan.last_route_seq:
            return True
        if not state.has_position:
            return False
        distance_m = geodesic_distance_m(
            state.lat_deg, state.lon_deg, flight.plan.scene_lat_deg, flight.plan.scene_lon_deg
        )
        return distance_m <= ARRIVAL_RADIUS_M

    def _distance_from_dock_m(self, state: DroneState) -> float | None:
        dock = self.flight.dock_lat_lon
        if dock is None or not state.has_position:
            return None
        return geodesic_distance_m(state.lat_deg, state.lon_deg, *dock)
