"""A pilot's command, from the typed value to what is sent: checked against the flight's
phase, the link and the airspace before anything is stored or sent, with the site's
defaults filled in, and the answer the pilot gets.

:func:`prepare` is the one place a :data:`~dfr.fleet.command_kinds.PilotCommand` is
handled kind by kind; it raises (``InvalidInput``, ``InvalidStateError``, ``LinkError``,
``PlanningError``) or returns the action that carries the command out, which
:meth:`~dfr.fleet.sorties.Sorties.command` then runs and records like dfr's own.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, assert_never

from dfr.errors import InvalidInput, InvalidStateError, LinkError
from dfr.fleet.active_flight import ActiveFlight
from dfr.fleet.command_kinds import Altitude, Goto, Hold, Land, Orbit, PilotCommand, Return
from dfr.fleet.commands import CommandOutcome
from dfr.fleet.drone_state import DroneState, LinkState
from dfr.fleet.flight_phases import TERMINAL
from dfr.fleet.flight_plan import mission_from_air
from dfr.fleet.mission_encoding import RawItem, encode_mission
from dfr.planning.planner import Planner
from dfr.planning.route import Route
from dfr.planning.wind import Wind
from dfr.records import CommandState, FlightPhase
from dfr.site import Site

Action = Callable[[], Awaitable[None]]
NOT_FLYING = frozenset({*TERMINAL, FlightPhase.PREFLIGHT, FlightPhase.DOCKED})
ALT_REL_M = (5.0, 120.0)
RADIUS_M = (10.0, 1000.0)
SPEED_MPS = (0.5, 20.0)
# after these, a flight returning (or in the vehicle's failsafe) is the pilot's again
TAKES_CONTROL = (Goto, Orbit, Hold, Altitude)


def _within(name: str, value: float, lo: float, hi: float) -> float:
    if not lo <= value <= hi:
        raise InvalidInput(name, f"must be between {lo:g} and {hi:g}, got {value}")
    return value


@dataclass(frozen=True, slots=True)
class _Here:
    """What preparing a command reads: the flight, where its drone is, the airspace."""

    active: ActiveFlight
    state: DroneState
    planner: Planner
    site: Site
    wind: Wind
    home_alt_amsl_m: float  # the altitudes a pilot gives are above this

    def path_to(self, lat_deg: float, lon_deg: float) -> Route:
        """A legal route from here; raises PlanningError when there is none."""
        return self.planner.plan_route(
            self.active.record.drone_id,
            lat_deg,
            lon_deg,
            start=(self.state.lat_deg, self.state.lon_deg),
            wind=self.wind,
        )

    def mission_along(self, route: Route, alt_rel_m: float) -> list[RawItem]:
        return encode_mission(mission_from_air(self.planner.mission_items(route), alt_rel_m))


def refuse_unless_flying(active: ActiveFlight, state: DroneState) -> None:
    """Commands go to a flight in the air over a link that is up."""
    phase = active.flight.phase
    if phase in NOT_FLYING:
        raise InvalidStateError(f"flight {active.record.id} is {phase}: not flying yet")
    if state.link is not LinkState.UP:
        raise LinkError(active.record.drone_id, f"link {state.link}: the command cannot be sent")


def prepare(
    command: PilotCommand,
    active: ActiveFlight,
    state: DroneState,
    *,
    planner: Planner,
    site: Site,
    wind: Wind,
) -> Action:
    """Check ``command`` and return what carries it out; raises before anything is sent."""
    refuse_unless_flying(active, state)
    flight = active.flight
    dock = site.dock(active.record.dock_id)
    home_amsl = (
        state.home_alt_amsl_m if math.isfinite(state.home_alt_amsl_m) else dock.ground_alt_amsl_m
    )
    here = _Here(active, state, planner, site, wind, home_amsl)
    match command:
        case Hold():
            return flight.hold
        case Return(reason=reason):
            why = reason if reason is not None else "return"
            return lambda: flight.return_home(f"pilot ({why})")
        case Land():
            return lambda: flight.land("pilot: land here")
        case Altitude():
            return _altitude(here, command)
        case Orbit():
            return _orbit(here, command)
        case Goto():
            return _goto(here, command)
        case _:
            assert_never(command)


def _altitude(here: _Here, command: Altitude) -> Action:
    flight, state = here.active.flight, here.state
    alt = _within("alt_rel_m", command.alt_rel_m, *ALT_REL_M)
    if not state.has_position:
        raise InvalidStateError("no position yet: cannot change altitude")
    here.planner.check_altitude(state.lat_deg, state.lon_deg, alt)
    plan = flight.plan
    if flight.phase is FlightPhase.ON_SCENE and plan.orbit_radius_m > 0:
        return lambda: flight.orbit(  # keep orbiting, at the new height
            plan.orbit_lat_deg,
            plan.orbit_lon_deg,
            here.home_alt_amsl_m + alt,
            plan.orbit_radius_m,
            plan.orbit_speed_mps,
        )
    if flight.phase is FlightPhase.ENROUTE:  # keep going to the scene, at the new height
        mission = here.mission_along(here.path_to(plan.scene_lat_deg, plan.scene_lon_deg), alt)
        return lambda: flight.fly_mission(mission, scene_seq=len(mission) - 1)
    return lambda: flight.goto(state.lat_deg, state.lon_deg, here.home_alt_amsl_m + alt)


def _position(here: _Here, command: Orbit | Goto) -> tuple[float, float, float]:
    """The command's point and its altitude above the dock (default the cruise altitude)."""
    lat = _within("lat", command.lat_deg, -90, 90)
    lon = _within("lon", command.lon_deg, -180, 180)
    given = command.alt_rel_m
    alt = _within(
        "alt_rel_m", here.planner.cruise_alt_rel_m if given is None else given, *ALT_REL_M
    )
    return lat, lon, alt


def _orbit(here: _Here, command: Orbit) -> Action:
    flight, policy = here.active.flight, here.site.policy
    lat, lon, alt = _position(here, command)
    radius = command.radius_m if command.radius_m is not None else policy.orbit_radius_m
    speed = command.speed_mps if command.speed_mps is not None else policy.orbit_speed_mps
    radius = _within("radius_m", radius, *RADIUS_M)
    speed = _within("speed_mps", speed, *SPEED_MPS)
    here.planner.check_orbit(lat, lon, radius, alt)
    if here.state.has_position:
        here.path_to(lat, lon)
    return lambda: flight.orbit(lat, lon, here.home_alt_amsl_m + alt, radius, speed)


def _goto(here: _Here, command: Goto) -> Action:
    """Fly there directly when the way is clear, else along the planned route."""
    flight = here.active.flight
    lat, lon, alt = _position(here, command)
    here.planner.check_goto(lat, lon, alt)
    way = here.path_to(lat, lon) if here.state.has_position else None
    if way is None or len(way.waypoints) <= 2:
        return lambda: flight.goto(lat, lon, here.home_alt_amsl_m + alt)
    mission = here.mission_along(way, alt)
    return lambda: flight.fly_mission(mission)


async def after_accepted(active: ActiveFlight, command: PilotCommand) -> None:
    """A pilot who flies a returning drone (or one in its failsafe) takes it over."""
    flight = active.flight
    if isinstance(command, TAKES_CONTROL) and flight.phase in (
        FlightPhase.RETURNING,
        FlightPhase.FAILSAFE,
    ):
        await flight.set_phase(FlightPhase.ON_SCENE, f"pilot took control ({command.type})")


def answer(outcome: CommandOutcome) -> dict[str, Any]:
    """The pilot's answer: the vehicle's (accepted, rejected, unknown) and why."""
    accepted = outcome.state is CommandState.ACCEPTED
    return {
        "command_id": outcome.command_id,
        "state": outcome.state.value,
        "result": outcome.result,
        "detail": "" if accepted else outcome.detail,
    }
