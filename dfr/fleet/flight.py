"""One sortie's state machine: from the dock to the scene and home again.

:class:`Flight` holds the machine's state — its phase (see :mod:`dfr.fleet.flight_phases`
for the phases and the transition table), its plan, the modes the vehicle may show — and
the actions it sends the vehicle, one at a time (orbit, goto, hold, return, land, a new
mission or geofence). :meth:`Flight.run` drives it: the preflight and the launch
(:mod:`dfr.fleet.preflight`), then following the vehicle until it is back on the ground
(:mod:`dfr.fleet.flight_follow`).

Each transition is checked against the table, logged ``"%s -> %s"`` and handed to
``on_phase`` (which persists it and tells the viewers) with its reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from functools import partial

from dfr.errors import CommandTimeout, LinkError
from dfr.fleet.command_kinds import Command
from dfr.fleet.commands import Resolution
from dfr.fleet.drone_state import DroneState
from dfr.fleet.flight_follow import Follower
from dfr.fleet.flight_phases import TERMINAL, check_transition
from dfr.fleet.flight_plan import FlightPlan
from dfr.fleet.flight_port import Action
from dfr.fleet.link_types import MissionProgress
from dfr.fleet.mission_encoding import MissionItemLike
from dfr.fleet.preflight import preflight
from dfr.fleet.vehicle_link import VehicleLink
from dfr.fleet.vehicle_modes import ExpectedModes, resolve_timeout
from dfr.records import FlightPhase

logger = logging.getLogger(__name__)

NEVER = 1 << 30  # a mission item number no mission reaches
HomeMission = Callable[[], Sequence[MissionItemLike] | None]
# runs one of the machine's own commands and keeps it in the flight's command record:
# (the command, the action that carries it out) -> the action's result
RecordCommand = Callable[[Command, Action], Awaitable[None]]


class Flight:
    """Flies one plan with one drone; :meth:`run` returns when the drone is back on the
    ground and disarmed, or the flight was aborted before takeoff."""

    def __init__(
        self,
        flight_id: str,
        link: VehicleLink,
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
        self.armable_timeout_s = armable_timeout_s
        self._changed = asyncio.Event()
        self.progress = MissionProgress(0, 0)
        self._home_mission = home_mission
        self.dock_lat_lon = dock_lat_lon
        self._record_command = record_command
        self.modes = ExpectedModes(phase)
        self.command_lock = asyncio.Lock()  # one command at a time to this vehicle
        self.unexpected_mode: str | None = None  # the mode the vehicle chose by itself
        self.outcome = ""
        self._follower = Follower(self)

    # -- the machine ---------------------------------------------------------------------

    async def set_phase(self, phase: FlightPhase, reason: str) -> None:
        """The one way the phase changes (by the machine, or from outside, e.g. a
        diversion): checked against the table, logged, handed to ``on_phase``."""
        if phase is self.phase:
            return
        check_transition(self.flight_id, self.phase, phase, reason)
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

    def notify(self) -> None:
        """Call on every new drone state or mission progress; wakes the machine."""
        self._changed.set()

    def mission_progress(self, progress: MissionProgress) -> None:
        self.progress = progress
        self._changed.set()

    async def wait_until(
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

    async def wait_change(self, timeout_s: float) -> None:
        """Until the drone's state or mission progress changes, or ``timeout_s`` passes."""
        self._changed.clear()
        try:
            async with asyncio.timeout(timeout_s):
                await self._changed.wait()
        except TimeoutError:
            pass

    async def problem(self, what: str, action: str) -> None:
        logger.warning("%s: flight %s: %s; %s", self.link.drone_id, self.flight_id, what, action)
        if self._on_problem is not None:
            await self._on_problem(what, action)

    async def recorded(self, command: Command, action: Action) -> None:
        """Carry out one of the machine's own commands, kept in the flight's record."""
        if self._record_command is None:
            await action()
        else:
            await self._record_command(command, action)

    async def run(self) -> FlightPhase:
        if self.phase is FlightPhase.DOCKED:
            await preflight(self)
        if self.phase in TERMINAL:
            return self.phase
        return await self._follower.follow()

    # -- actions (pilot's, monitor's and the machine's own) --------------------------------

    async def _act(self, modes: tuple[str, ...], action: Action) -> None:
        async with self.command_lock:
            self.modes.asked = modes
            self.modes.expect(*modes)
            try:
                await action()
            except CommandTimeout:
                raise  # it may have acted: expectations stay until resolve_timeout decides
            except BaseException:
                self.modes.expect_failed()
                raise

    async def resolve_timeout(self) -> Resolution:
        """The last command got no answer: read the vehicle (its mode, with the next
        heartbeats) to find out whether it acted, before anything is sent again."""
        return await resolve_timeout(lambda: self.link.state, self.modes)

    async def fly_mission(
        self, mission: Sequence[MissionItemLike], *, scene_seq: int | None = None
    ) -> None:
        """Replace the vehicle's mission (a legal route from here) and fly it; ``scene_seq``:
        the item whose arrival means "on scene" in the new mission (None: arrival by
        position only)."""
        await self._act(("mission",), partial(self._upload_and_start, mission))
        self.plan = replace(self.plan, last_route_seq=NEVER if scene_seq is None else scene_seq)
        self.progress = MissionProgress(0, 0)

    async def _upload_and_start(self, mission: Sequence[MissionItemLike]) -> None:
        await self.link.upload_mission(mission)
        await self.link.start_mission()

    async def upload_geofence(self, fence: Sequence[MissionItemLike]) -> None:
        """Replace the vehicle's geofence (e.g. for a new route after a diversion)."""
        async with self.command_lock:
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
            await self._act(
                ("mission", "return_to_launch"), partial(self._upload_and_start, mission)
            )
        else:
            await self._act(("return_to_launch",), self.link.return_to_launch)
        if self.phase in (
            FlightPhase.ENROUTE,
            FlightPhase.ON_SCENE,
            FlightPhase.FAILSAFE,
            FlightPhase.LAUNCHING,
        ):
            await self.set_phase(FlightPhase.RETURNING, reason)

    async def land(self, reason: str) -> None:
        await self._act(("land",), self.link.land)
        if self.phase not in (FlightPhase.LANDING, *TERMINAL):
            await self.set_phase(FlightPhase.LANDING, reason)
