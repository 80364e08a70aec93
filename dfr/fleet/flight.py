"""One sortie's state machine: from the dock to the scene and home again.

::

    docked → preflight → launching → enroute → on_scene → returning → landing → docked
                 │            │          │          │           │
                 └────────────┴──────────┴──────────┴───────────┴──► aborted / failsafe

* **preflight**: upload the route as a mission and the geofence (so the autopilot
  enforces the zones too); wait until the vehicle reports armable.
* **launching**: arm and start the mission (the mission's first item is the takeoff).
* **enroute**: the vehicle flies the mission; progress comes from MISSION_CURRENT.
* **on_scene**: the last route waypoint is reached; orbit the scene.
* **returning**: return-to-launch (pilot's command, on-scene time used up, or the
  monitor's battery reserve); **landing** once the vehicle descends to land;
  **docked** when it is on the ground and disarmed.
* **failsafe**: the vehicle switched itself to RTL/Land/Hold (its own failsafe); we follow it
  and return to the matching phase when it lands.

Each transition is checked against a table, logged ``"%s -> %s"`` and handed to
``on_phase`` (which persists it and tells the viewers) with its reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dfr.errors import CommandTimeout, InvalidStateError, LinkError
from dfr.fleet.commands import Resolution
from dfr.fleet.drone_state import (
    AIRBORNE_ALT_M,
    DroneState,
    LandedState,
    LinkState,
    airborne,
    shows_state,
)
from dfr.fleet.launch import start_mission_when_ready
from dfr.fleet.link import DroneLink, MissionItemLike, MissionProgress
from dfr.geo.frame import geodesic_distance_m
from dfr.records import CommandState, FlightPhase

logger = logging.getLogger(__name__)

P = FlightPhase
ALLOWED: dict[FlightPhase, frozenset[FlightPhase]] = {
    P.DOCKED: frozenset({P.PREFLIGHT}),
    P.PREFLIGHT: frozenset({P.LAUNCHING, P.ABORTED}),
    P.LAUNCHING: frozenset({P.ENROUTE, P.ABORTED, P.FAILSAFE, P.RETURNING, P.LANDING}),
    P.ENROUTE: frozenset({P.ON_SCENE, P.RETURNING, P.LANDING, P.FAILSAFE}),
    P.ON_SCENE: frozenset({P.RETURNING, P.LANDING, P.FAILSAFE, P.ENROUTE}),
    P.RETURNING: frozenset({P.LANDING, P.FAILSAFE, P.DOCKED, P.ENROUTE, P.ON_SCENE}),
    P.LANDING: frozenset({P.DOCKED, P.FAILSAFE, P.RETURNING}),
    P.FAILSAFE: frozenset({P.RETURNING, P.LANDING, P.DOCKED, P.ON_SCENE, P.ENROUTE}),
    P.ABORTED: frozenset(),
}
TERMINAL = frozenset({P.DOCKED, P.ABORTED})
ARRIVAL_RADIUS_M = 25.0
DOCK_RADIUS_M = 30.0  # touchdown further than this from the dock: landed away
MODE_SETTLE_S = 3.0  # PX4 reports a new mode with its next 1 Hz HEARTBEAT
RETRY_S = 5.0  # an automatic action that failed is tried again after this
RESOLVE_S = 3.0  # after a timeout, how long to read the vehicle (3 heartbeats) for its mode
MISSION_CHECK_SETTLE_S = 1.0  # after the uploads, before arming (see _preflight)
NEVER = 1 << 30  # a mission item number no mission reaches
# the modes the vehicle should be in, per phase, when resuming after a restart
MODES_OF_PHASE: dict[FlightPhase, frozenset[str]] = {
    P.LAUNCHING: frozenset({"mission", "takeoff", "hold"}),
    P.ENROUTE: frozenset({"mission"}),
    P.ON_SCENE: frozenset({"posctl", "hold", "mission"}),
    P.RETURNING: frozenset({"mission", "return_to_launch"}),
}
# A mode change nobody asked for, in these phases, means the vehicle acted on its own
# (geofence, battery, link-loss or GPS failsafe).
WATCHED_PHASES = frozenset({P.ENROUTE, P.ON_SCENE, P.RETURNING})
HomeMission = Callable[[], Sequence[MissionItemLike] | None]
# runs one of the machine's own commands and keeps it in the flight's command record:
# (command type, parameters, the action) -> the action's result
RecordCommand = Callable[[str, dict[str, Any], Callable[[], Awaitable[None]]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class FlightPlan:
    """What a sortie flies: the mission (takeoff first, scene last), the fence, the scene."""

    mission: Sequence[MissionItemLike]
    geofence: Sequence[MissionItemLike]
    scene_lat_deg: float
    scene_lon_deg: float
    scene_alt_amsl_m: float  # altitude to orbit at
    orbit_lat_deg: float  # the ring's centre: the scene, or beside it where a zone is near
    orbit_lon_deg: float
    orbit_radius_m: float  # 0: no ring fits beside the zones; hold over the scene point
    orbit_speed_mps: float
    on_scene_time_s: float  # 0 = stay until a pilot sends it home
    last_route_seq: int  # the mission item whose arrival means "on scene"


class Flight:
    """Flies one plan with one drone; :meth:`run` returns when the drone is back on the
    ground and disarmed, or the flight was aborted before takeoff."""

    def __init__(
        self,
        flight_id: str,
        link: DroneLink,
        plan: FlightPlan,
        *,
        on_phase: Callable[[FlightPhase, str], Awaitable[None]],
        on_problem: Callable[[str, str], Awaitable[None]] | None = None,
        phase: FlightPhase = FlightPhase.DOCKED,
        armable_timeout_s: float = 30.0,
        home_mission: HomeMission | None = None,
        dock_lat_lon: tuple[float, float] | None = None,
        record_command: RecordCommand | None = None,
        reached_scene: bool = False,
    ) -> None:
        self.flight_id = flight_id
        self.reached_scene = reached_scene or phase is FlightPhase.ON_SCENE
        self.link = link
        self.plan = plan
        self.phase = phase
        self._on_phase = on_phase
        self._on_problem = on_problem
        self._armable_timeout_s = armable_timeout_s
        self._changed = asyncio.Event()
        self._progress = MissionProgress(0, 0)
        self._home_mission = home_mission
        self._dock = dock_lat_lon
        self._record_command = record_command
        # modes the vehicle may show: what it settled in, plus what a command just asked for
        self._expected: frozenset[str] = MODES_OF_PHASE.get(phase, frozenset())
        self._pending: frozenset[str] = frozenset()
        self._asked: tuple[str, ...] = ()  # the modes the last command asked for
        self._pending_until = 0.0
        self._actions = asyncio.Lock()  # one command at a time to this vehicle
        self._retry_at: float | None = None
        self.unexpected_mode: str | None = None  # the mode the vehicle chose by itself
        self.outcome = ""
        loop_time = asyncio.get_running_loop().time()
        self._on_scene_since: float | None = loop_time if phase is FlightPhase.ON_SCENE else None

    # -- the machine ---------------------------------------------------------------------

    async def _set_phase(self, phase: FlightPhase, reason: str) -> None:
        if phase is self.phase:
            return
        if phase not in ALLOWED[self.phase]:
            raise InvalidStateError(
                f"flight {self.flight_id}: cannot go from {self.phase} to {phase} ({reason})"
            )
        logger.info(
            "%s: flight %s: %s -> %s (%s)",
            self.link.drone_id,
            self.flight_id,
            self.phase,
            phase,
            reason,
        )
        self.phase = phase
        if phase is FlightPhase.ON_SCENE:
            self.reached_scene = True
        await self._on_phase(phase, reason)

    async def set_phase(self, phase: FlightPhase, reason: str) -> None:
        """A phase change decided outside the machine (e.g. a diversion)."""
        await self._set_phase(phase, reason)

    def notify(self) -> None:
        """Call on every new drone state or mission progress; wakes the machine."""
        self._changed.set()

    def mission_progress(self, progress: MissionProgress) -> None:
        self._progress = progress
        self._changed.set()

    async def _wait(
        self, condition: Callable[[DroneState], bool], timeout_s: float, what: str
    ) -> None:
        try:
            async with asyncio.timeout(timeout_s):
                while not condition(self.link.state):
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError as exc:
            raise LinkError(
                self.link.drone_id, f"timed out after {timeout_s:.0f} s waiting for {what}"
            ) from exc

    async def _problem(self, what: str, action: str) -> None:
        logger.warning("%s: flight %s: %s; %s", self.link.drone_id, self.flight_id, what, action)
        if self._on_problem is not None:
            await self._on_problem(what, action)

    # -- phases ------------------------------------------------------------------------

    async def run(self) -> FlightPhase:
        if self.phase is FlightPhase.DOCKED:
            await self._preflight()
        if self.phase in TERMINAL:
            return self.phase
        return await self._follow()

    async def _preflight(self) -> None:
        await self._set_phase(FlightPhase.PREFLIGHT, "dispatched")
        try:
            async with self._actions:
                await self.link.upload_geofence(self.plan.geofence)
                await self.link.upload_mission(self.plan.mission)
            # PX4 loads a new fence and checks the mission against it before it allows
            # Mission mode (seen ready 0.26-0.29 s after the uploads): arm only after that,
            # so the start is not refused while PX4's preflight auto-disarm clock runs
            await asyncio.sleep(MISSION_CHECK_SETTLE_S)
            await self._wait(
                lambda s: s.armable and s.health_ok, self._armable_timeout_s, "armable"
            )
        except Exception as exc:
            self.outcome = "launch_failed"
            await self._set_phase(FlightPhase.ABORTED, f"preflight failed: {exc}")
            return
        await self._set_phase(
            FlightPhase.LAUNCHING, "mission and geofence on board, vehicle armable"
        )

        async def launch() -> None:
            async with self._actions:
                self._expect("mission", "takeoff")
                await self.link.arm()
                report = await start_mission_when_ready(
                    self.link, wait_for_change=self._wait_change
                )
                if report.refusals:
                    logger.info(
                        "%s: flight %s: mission started on attempt %d after %s",
                        self.link.drone_id,
                        self.flight_id,
                        report.attempts,
                        "; ".join(report.refusals),
                    )

        try:
            await self._recorded("launch", {"mission_items": len(self.plan.mission)}, launch)
        except Exception as exc:
            await self._launch_failed(exc)

    async def _launch_failed(self, exc: Exception) -> None:
        state = self.link.state
        if not state.armed:
            self.outcome = "launch_failed"
            await self._set_phase(FlightPhase.ABORTED, f"launch refused: {exc}")
            return
        if state.landed in (LandedState.ON_GROUND, LandedState.UNKNOWN) and not (
            state.alt_rel_m > AIRBORNE_ALT_M
        ):
            # armed on the pad but the mission never started: disarm rather than leave
            # it to PX4's preflight auto-disarm, and give the call to the next drone
            try:
                async with self._actions:
                    await self.link.disarm()
            except Exception as disarm_exc:
                await self._problem(f"disarm refused: {disarm_exc}", "pilot: disarm it")
            self.outcome = "launch_failed"
            await self._set_phase(FlightPhase.ABORTED, f"mission did not start: {exc}")
            return
        # armed and off the ground but the mission did not start: bring it down here
        await self._problem(f"launch failed after takeoff: {exc}", "landing in place")
        try:
            await self.land("launch failed after takeoff")
        except Exception as land_exc:
            await self._problem(f"land refused: {land_exc}", "pilot: take control")

    async def _wait_change(self, timeout_s: float) -> None:
        self._changed.clear()
        try:
            async with asyncio.timeout(timeout_s):
                await self._changed.wait()
        except TimeoutError:
            pass

    async def _follow(self) -> FlightPhase:
        """Follow the vehicle until it is on the ground; on scene, start the orbit."""
        loop = asyncio.get_running_loop()
        while self.phase not in TERMINAL:
            state = self.link.state
            now = loop.time()
            if self._pending and (state.mode in self._pending or now >= self._pending_until):
                if state.mode in self._pending:
                    self._expected = self._pending
                self._pending = frozenset()
            if self.phase is FlightPhase.LAUNCHING and airborne(state):
                await self._set_phase(
                    FlightPhase.ENROUTE, f"airborne: {state.alt_rel_m:.0f} m, {state.mode}"
                )
            elif (
                self.phase in (FlightPhase.ENROUTE, FlightPhase.ON_SCENE)
                and shows_state(state)
                and (state.landed is LandedState.ON_GROUND or not state.armed)
            ):
                await self._down_unexpectedly(state)
            elif (
                self.phase is FlightPhase.LAUNCHING
                and state.on_ground
                and not state.armed
                and now > self._pending_until
            ):
                self.outcome = "launch_failed"  # disarmed on the ground: it never took off
                await self._set_phase(
                    FlightPhase.ABORTED, "the vehicle disarmed without taking off"
                )
            elif self.phase is FlightPhase.ENROUTE and self._arrived(state):
                await self._set_phase(FlightPhase.ON_SCENE, "reached the scene")
                self._on_scene_since = now
                await self._automatic("orbit", self._orbit_params(), self._orbit_scene)
            elif self._retry_at is not None and now >= self._retry_at:
                self._retry_at = None
                if self.phase is FlightPhase.ON_SCENE:
                    await self._automatic("orbit", self._orbit_params(), self._orbit_scene)
                elif self.phase is FlightPhase.RETURNING:
                    await self._automatic(
                        "return",
                        {"reason": "retry"},
                        lambda: self.return_home("retrying the return"),
                    )
            elif (
                self.phase is FlightPhase.ON_SCENE
                and self.plan.on_scene_time_s > 0
                and self._on_scene_since is not None
                and now - self._on_scene_since >= self.plan.on_scene_time_s
            ):
                self._on_scene_since = None
                await self._automatic(
                    "return",
                    {"reason": "on-scene time used up"},
                    lambda: self.return_home("on-scene time used up"),
                )
            elif (
                self.phase in (FlightPhase.RETURNING, FlightPhase.FAILSAFE)
                and state.landed is LandedState.LANDING
            ):
                await self._set_phase(FlightPhase.LANDING, "descending to land")
            elif (
                self.phase in (FlightPhase.LANDING, FlightPhase.RETURNING, FlightPhase.FAILSAFE)
                and state.on_ground
            ):
                away = self._distance_from_dock_m(state)
                if away is not None and away > DOCK_RADIUS_M:
                    self.outcome = self.outcome or "landed_away"
                    await self._set_phase(
                        FlightPhase.DOCKED, f"landed and disarmed {away:.0f} m from its dock"
                    )
                else:
                    if not self.reached_scene:  # e.g. the vehicle's failsafe brought it back
                        self.outcome = self.outcome or "returned_short"
                    await self._set_phase(FlightPhase.DOCKED, "landed and disarmed")
            elif (
                self.phase in WATCHED_PHASES
                and self._expected
                and not self._pending
                and state.mode not in self._expected
                and state.mode != "unknown"
            ):
                self.unexpected_mode = state.mode
                self._expected = frozenset({state.mode})
                await self._set_phase(
                    FlightPhase.FAILSAFE, f"vehicle switched to {state.mode} by itself"
                )
            self._changed.clear()
            try:
                async with asyncio.timeout(1.0):
                    await self._changed.wait()
            except TimeoutError:
                pass
        if not self.outcome:
            self.outcome = self.phase.value
        return self.phase

    async def _down_unexpectedly(self, state: DroneState) -> None:
        """The vehicle shows it is on the ground or disarmed while it should be flying to or
        over the scene (a false takeoff detection on the pad, a landing or a disarm nobody
        asked for): say so at once and follow what the vehicle shows."""
        where = "before reaching the scene" if self.phase is FlightPhase.ENROUTE else "on scene"
        shows = "landed" if state.landed is LandedState.ON_GROUND else "reports disarmed"
        if self.phase is FlightPhase.ENROUTE:
            self.outcome = "landed_short"  # the call was not served
        if state.landed is not LandedState.ON_GROUND:  # disarmed in the air: it is falling
            await self._problem(
                f"the vehicle {shows} {where} at {state.alt_rel_m:.0f} m ({state.mode})",
                "following it down; the call waits for a pilot"
                if self.phase is FlightPhase.ENROUTE
                else "pilot: check the drone",
            )
            self.unexpected_mode = f"disarmed ({state.mode})"
            self._expected = frozenset({state.mode})
            await self._set_phase(FlightPhase.FAILSAFE, f"the vehicle {shows} {where}")
            return
        await self._problem(
            f"the vehicle {shows} {where} ({state.mode}, {state.alt_rel_m:.0f} m, "
            f"last vehicle message: {state.status_text or 'none'})",
            "the call waits for a pilot"
            if self.phase is FlightPhase.ENROUTE
            else "pilot: check the drone where it landed",
        )
        await self._set_phase(FlightPhase.LANDING, f"the vehicle {shows} {where}")

    async def _recorded(
        self, kind: str, params: dict[str, Any], action: Callable[[], Awaitable[None]]
    ) -> None:
        if self._record_command is None:
            await action()
        else:
            await self._record_command(kind, params, action)

    async def _automatic(
        self, kind: str, params: dict[str, Any], action: Callable[[], Awaitable[None]]
    ) -> None:
        """An action the machine takes by itself: recorded like a pilot's; a failure is
        reported and retried, never the end of the flight (the drone is still flying)."""
        try:
            await self._recorded(kind, params, action)
        except CommandTimeout as exc:  # outcome unknown: never re-sent blindly
            await self._problem(
                f"{kind}: no answer and the outcome is unknown ({exc})",
                "not sent again; pilot: check the drone and command it",
            )
        except Exception as exc:
            self._retry_at = asyncio.get_running_loop().time() + RETRY_S
            await self._problem(f"could not {kind}: {exc}", f"trying again in {RETRY_S:.0f} s")

    def _orbit_params(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "lat": plan.orbit_lat_deg,
            "lon": plan.orbit_lon_deg,
            "radius_m": plan.orbit_radius_m,
            "speed_mps": plan.orbit_speed_mps,
        }

    async def _orbit_scene(self) -> None:
        plan = self.plan
        if plan.orbit_radius_m <= 0:  # no legal ring: hold where the mission ended
            await self.hold()
            return
        await self.orbit(
            plan.orbit_lat_deg,
            plan.orbit_lon_deg,
            plan.scene_alt_amsl_m,
            plan.orbit_radius_m,
            plan.orbit_speed_mps,
        )

    def _arrived(self, state: DroneState) -> bool:
        """Over the scene: the mission says so, or (after a restart, when the mission's
        progress is not known yet) the position does."""
        if self._progress.total > 0 and self._progress.current >= self.plan.last_route_seq:
            return True
        if not state.has_position:
            return False
        distance_m = geodesic_distance_m(
            state.lat_deg, state.lon_deg, self.plan.scene_lat_deg, self.plan.scene_lon_deg
        )
        return distance_m <= ARRIVAL_RADIUS_M

    def _distance_from_dock_m(self, state: DroneState) -> float | None:
        if self._dock is None or not state.has_position:
            return None
        return geodesic_distance_m(state.lat_deg, state.lon_deg, *self._dock)

    # -- pilot and monitor actions -----------------------------------------------------

    def _expect(self, *modes: str) -> None:
        """A command asks for one of ``modes``: allow them from now, and the old ones until
        the vehicle shows a new mode (or MODE_SETTLE_S passes)."""
        self._pending = frozenset(modes)
        self._pending_until = asyncio.get_running_loop().time() + MODE_SETTLE_S

    def _expect_failed(self) -> None:
        self._pending = frozenset()

    async def _act(self, modes: tuple[str, ...], action: Callable[[], Awaitable[None]]) -> None:
        async with self._actions:
            self._asked = modes
            self._expect(*modes)
            try:
                await action()
            except CommandTimeout:
                raise  # it may have acted: expectations stay until resolve_timeout decides
            except BaseException:
                self._expect_failed()
                raise

    async def resolve_timeout(self) -> Resolution:
        """The last command got no answer: read the vehicle (its mode, with the next
        heartbeats) to find out whether it acted, before anything is sent again."""
        modes = self._asked
        loop = asyncio.get_running_loop()
        until = loop.time() + RESOLVE_S
        if modes:
            self._expect(*modes)  # while we look, the mode asked for is no surprise
        while True:
            state = self.link.state
            if state.link is not LinkState.UP:
                self._expect_failed()
                return Resolution(
                    CommandState.UNKNOWN,
                    f"no answer, and the link is {state.link}: outcome unknown; not re-sent",
                )
            if modes and state.mode in modes:
                self._expect(*modes)  # it did: the new mode is the one asked for
                return Resolution(
                    CommandState.ACCEPTED,
                    f"no answer in time; resolved by reading the vehicle: it shows {state.mode}",
                )
            left = until - loop.time()
            if left <= 0 or not modes:
                self._expect_failed()
                return Resolution(
                    CommandState.REJECTED,
                    f"no answer in time; resolved by reading the vehicle: still {state.mode}, "
                    f"not {'/'.join(modes) or 'a new mode'}: not done, may be sent again",
                )
            await asyncio.sleep(min(left, 0.2))

    async def fly_mission(
        self, mission: Sequence[MissionItemLike], *, scene_seq: int | None = None
    ) -> None:
        """Replace the vehicle's mission (a legal route from here) and fly it; ``scene_seq``:
        the item whose arrival means "on scene" in the new mission (None: arrival by
        position only)."""

        async def go() -> None:
            await self.link.upload_mission(mission)
            await self.link.start_mission()

        await self._act(("mission",), go)
        self.plan = replace(self.plan, last_route_seq=NEVER if scene_seq is None else scene_seq)
        self._progress = MissionProgress(0, 0)

    async def upload_geofence(self, fence: Sequence[MissionItemLike]) -> None:
        """Replace the vehicle's geofence (e.g. for a new route after a diversion)."""
        async with self._actions:
            await self.link.upload_geofence(fence)

    async def orbit(
        self, lat_deg: float, lon_deg: float, alt_amsl_m: float, radius_m: float, speed_mps: float
    ) -> None:
        # MAVSDK shows PX4's Orbit as POSCTL
        await self._act(
            ("posctl",), lambda: self.link.orbit(lat_deg, lon_deg, alt_amsl_m, radius_m, speed_mps)
        )

    async def goto(self, lat_deg: float, lon_deg: float, alt_amsl_m: float) -> None:
        await self._act(("hold",), lambda: self.link.reposition(lat_deg, lon_deg, alt_amsl_m))

    async def hold(self) -> None:
        await self._act(("hold",), self.link.hold)

    async def return_home(self, reason: str) -> None:
        mission = self._home_mission() if self._home_mission is not None else None
        if mission:
            # along the legal route: PX4's RTL flies straight home, through zones if need be
            async def go() -> None:
                await self.link.upload_mission(mission)
                await self.link.start_mission()

            await self._act(("mission", "return_to_launch"), go)
        else:
            await self._act(("return_to_launch",), self.link.return_to_launch)
        if self.phase in (
            FlightPhase.ENROUTE,
            FlightPhase.ON_SCENE,
            FlightPhase.FAILSAFE,
            FlightPhase.LAUNCHING,
        ):
            await self._set_phase(FlightPhase.RETURNING, reason)

    async def land(self, reason: str) -> None:
        await self._act(("land",), self.link.land)
        if self.phase not in (FlightPhase.LANDING, *TERMINAL):
            await self._set_phase(FlightPhase.LANDING, reason)
