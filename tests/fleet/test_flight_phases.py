"""The flight state machine's transition table, through the machine itself: every
transition the sortie diagram allows is taken (and handed on once), a sample of the ones
it does not allow is refused with an error naming the current phase and the reason, and
a refused change leaves the phase as it was."""

from __future__ import annotations

from typing import cast

import pytest

from dfr.errors import InvalidStateError
from dfr.fleet.drone_state import DroneState, LinkState
from dfr.fleet.flight import Flight
from dfr.fleet.flight_phases import ALLOWED, TERMINAL
from dfr.fleet.flight_plan import FlightPlan
from dfr.fleet.link import DroneLink
from dfr.records import FlightPhase

P = FlightPhase
# the sortie diagram of the architecture, written out independently of the code's table
DIAGRAM = {
    (P.DOCKED, P.PREFLIGHT),
    (P.PREFLIGHT, P.LAUNCHING),
    (P.PREFLIGHT, P.ABORTED),
    (P.LAUNCHING, P.ENROUTE),
    (P.LAUNCHING, P.ABORTED),
    (P.LAUNCHING, P.FAILSAFE),
    (P.LAUNCHING, P.RETURNING),
    (P.LAUNCHING, P.LANDING),
    (P.ENROUTE, P.ON_SCENE),
    (P.ENROUTE, P.RETURNING),
    (P.ENROUTE, P.LANDING),
    (P.ENROUTE, P.FAILSAFE),
    (P.ON_SCENE, P.RETURNING),
    (P.ON_SCENE, P.LANDING),
    (P.ON_SCENE, P.FAILSAFE),
    (P.ON_SCENE, P.ENROUTE),  # diverted to another call
    (P.RETURNING, P.LANDING),
    (P.RETURNING, P.FAILSAFE),
    (P.RETURNING, P.DOCKED),
    (P.RETURNING, P.ENROUTE),  # diverted on the way home
    (P.RETURNING, P.ON_SCENE),  # the pilot took it over
    (P.LANDING, P.DOCKED),
    (P.LANDING, P.FAILSAFE),
    (P.LANDING, P.RETURNING),
    (P.FAILSAFE, P.RETURNING),
    (P.FAILSAFE, P.LANDING),
    (P.FAILSAFE, P.DOCKED),
    (P.FAILSAFE, P.ON_SCENE),
    (P.FAILSAFE, P.ENROUTE),
}
FORBIDDEN = [
    (P.DOCKED, P.ENROUTE),  # never in the air without a preflight and a launch
    (P.DOCKED, P.ABORTED),
    (P.PREFLIGHT, P.ENROUTE),
    (P.PREFLIGHT, P.DOCKED),
    (P.ENROUTE, P.DOCKED),  # landing comes first
    (P.ON_SCENE, P.DOCKED),
    (P.LANDING, P.ON_SCENE),
    (P.ABORTED, P.PREFLIGHT),  # an aborted flight stays aborted
    (P.ABORTED, P.DOCKED),
    (P.FAILSAFE, P.ABORTED),
]
PLAN = FlightPlan(
    mission=[],
    geofence=[],
    scene_lat_deg=47.4,
    scene_lon_deg=8.55,
    scene_alt_amsl_m=538.0,
    orbit_lat_deg=47.4,
    orbit_lon_deg=8.55,
    orbit_radius_m=60.0,
    orbit_speed_mps=5.0,
    on_scene_time_s=0.0,
    last_route_seq=3,
)


class _Link:
    """What the machine reads of a link while it only changes phase."""

    drone_id = "d1"
    state = DroneState(drone_id="d1", link=LinkState.UP)


async def _flight_in(phase: FlightPhase) -> tuple[Flight, list[tuple[FlightPhase, str]]]:
    handed_on: list[tuple[FlightPhase, str]] = []

    async def on_phase(new: FlightPhase, reason: str) -> None:
        handed_on.append((new, reason))

    flight = Flight("f1", cast(DroneLink, _Link()), PLAN, on_phase=on_phase, phase=phase)
    return flight, handed_on


def test_the_table_is_the_diagram() -> None:
    table = {(old, new) for old, targets in ALLOWED.items() for new in targets}
    assert table == DIAGRAM
    assert set(ALLOWED) == set(FlightPhase)  # every phase has its row
    assert {P.DOCKED, P.ABORTED} == TERMINAL


@pytest.mark.parametrize(("old", "new"), sorted(DIAGRAM))
async def test_every_allowed_transition_is_taken(old: FlightPhase, new: FlightPhase) -> None:
    flight, handed_on = await _flight_in(old)
    await flight.set_phase(new, "test")
    assert flight.phase is new
    assert handed_on == [(new, "test")]
    assert flight.reached_scene is (new is P.ON_SCENE or old is P.ON_SCENE)


@pytest.mark.parametrize(("old", "new"), FORBIDDEN)
async def test_a_forbidden_transition_is_refused_with_the_reason(
    old: FlightPhase, new: FlightPhase
) -> None:
    flight, handed_on = await _flight_in(old)
    with pytest.raises(InvalidStateError) as refused:
        await flight.set_phase(new, "asked by the test")
    assert str(refused.value) == (
        f"flight f1: cannot go from {old.value} to {new.value} (asked by the test)"
    )
    assert flight.phase is old  # nothing changed, nothing handed on
    assert handed_on == []


async def test_the_same_phase_again_is_no_change() -> None:
    flight, handed_on = await _flight_in(P.ENROUTE)
    await flight.set_phase(P.ENROUTE, "again")
    assert handed_on == []


async def test_an_aborted_flight_goes_nowhere() -> None:
    for new in FlightPhase:
        if new is P.ABORTED:
            continue
        flight, _handed_on = await _flight_in(P.ABORTED)
        with pytest.raises(InvalidStateError, match="cannot go from aborted"):
            await flight.set_phase(new, "test")
