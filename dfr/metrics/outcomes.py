"""Outcome metrics over a window, computed the same way every time from stored records.

A pure function (:func:`outcomes`) over the records :mod:`dfr.metrics.gather` reads:
no clock, no I/O, so the same store gives the same figures.

Definitions (seconds are from the call's ``received_at``):

* **the steps**: ``decision_s`` the first dispatch decision; ``launch_s`` the serving
  flight's ``launching`` phase, ``airborne_s`` its ``enroute``, ``on_scene_s`` its
  ``on_scene``; ``back_s`` its end, when it ended docked. The serving flight's phases
  count from the incident's last launch decision (``auto_launch`` / ``pilot_launch``)
  on, so a drone diverted to a call is timed from the diversion, not from its old call.
* **average and p90** of each step over the incidents that reached it; p90 by nearest
  rank (the ⌈0.9·n⌉-th smallest value).
* **first officer**: the earliest ``arrived_at`` of the units the CAD reported;
  ``drone_lead_s`` = first officer − drone on scene (positive: the drone was first).
* **drone first**: over the calls with both a drone launched and an officer's arrival
  reported, the share where the drone was on scene before the first officer (a drone
  that never got there was not first).
* **cleared without an officer**: a call that is over for dfr (``closed``: its flight
  ended; or ``cancelled`` by the CAD) with no unit arrival reported. With a CAD that
  never reports units every finished call counts, so ``calls_with_unit_reports`` says
  how many calls had any unit at all; an arrival sent later takes the call out.
* **flights**: flights created in the window that took off (reached ``launching``);
  a flight's time is from ``launching`` to its end (a flight still in the air has no
  time yet and is counted in ``in_progress``).
* **battery used**: first track point's battery minus the last's, in percent (and in
  watt-hours by the drone's ``battery_wh``), never below 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from dfr.records import (
    DispatchDecision,
    Flight,
    FlightPhase,
    Incident,
    IncidentStatus,
    PhaseChange,
    UnitStatus,
)

STEPS = ("decision_s", "launch_s", "airborne_s", "on_scene_s", "back_s", "first_officer_s")
LAUNCH_OUTCOMES = frozenset({"auto_launch", "pilot_launch"})
OVER = frozenset({IncidentStatus.CLOSED, IncidentStatus.CANCELLED})
STEP_PHASES = {
    "launch_s": FlightPhase.LAUNCHING,
    "airborne_s": FlightPhase.ENROUTE,
    "on_scene_s": FlightPhase.ON_SCENE,
}


@dataclass(frozen=True, slots=True)
class Window:
    """``start`` ≤ t < ``end``; None: unbounded on that side."""

    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutcomeRecords:
    """Everything the figures are computed from, as the store holds it."""

    window: Window
    incidents: Sequence[Incident]
    decisions: Sequence[DispatchDecision]
    flights: Sequence[Flight]
    phases: Sequence[PhaseChange]
    units: Sequence[UnitStatus]
    battery_spans: Mapping[str, tuple[float, float]]  # flight id → (first %, last %)
    battery_wh: Mapping[str, float] = field(default_factory=dict)  # drone id → capacity


@dataclass(frozen=True, slots=True)
class IncidentOutcome:
    incident: Incident
    flight: Flight | None
    steps_s: Mapping[str, float | None]
    units_reported: int
    drone_lead_s: float | None
    drone_first: bool | None  # None: not both a launch and an officer's arrival
    cleared_without_officer: bool


@dataclass(frozen=True, slots=True)
class FlightOutcome:
    flight: Flight
    launched_at: datetime
    flight_s: float | None  # None: still flying
    battery_start_pct: float | None
    battery_end_pct: float | None
    battery_used_pct: float | None
    battery_used_wh: float | None


@dataclass(frozen=True, slots=True)
class DroneOutcome:
    drone_id: str
    flights: int
    in_progress: int
    flight_s: float
    battery_used_pct: float
    battery_used_wh: float | None
    battery_per_flight_pct: float | None


@dataclass(frozen=True, slots=True)
class StepFigures:
    count: int
    average_s: float | None
    p90_s: float | None


@dataclass(frozen=True, slots=True)
class Share:
    count: int
    of: int

    @property
    def pct(self) -> float | None:
        return round(100.0 * self.count / self.of, 1) if self.of else None


@dataclass(frozen=True, slots=True)
class Outcomes:
    window: Window
    incidents: list[IncidentOutcome]
    steps: dict[str, StepFigures]
    drone_first: Share
    cleared_without_officer: Share
    calls_with_unit_reports: int
    flights: list[FlightOutcome]
    drones: list[DroneOutcome]


def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile by nearest rank: the ⌈0.9·n⌉-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _in(window: Window, at: datetime) -> bool:
    return (window.start is None or at >= window.start) and (window.end is None or at < window.end)


def _since(start: datetime, at: datetime | None) -> float | None:
    return None if at is None else round((at - start).total_seconds(), 3)


K = TypeVar("K")
V = TypeVar("V")


def _group(items: Iterable[V], key: Callable[[V], K]) -> dict[K, list[V]]:
    grouped: dict[K, list[V]] = {}
    for item in items:
        grouped.setdefault(key(item), []).append(item)
    return grouped


def _incident_outcome(
    incident: Incident,
    decisions: Sequence[DispatchDecision],
    flights: Sequence[Flight],
    phases_of: Mapping[str, list[PhaseChange]],
    units: Sequence[UnitStatus],
) -> IncidentOutcome:
    start = incident.received_at
    launches = [d.decided_at for d in decisions if d.outcome in LAUNCH_OUTCOMES]
    counted_from = max(launches) if launches else start
    first_at: dict[FlightPhase, tuple[datetime, Flight]] = {}
    for flight in flights:
        for change in phases_of.get(flight.id, []):
            if change.at >= counted_from and (
                change.phase not in first_at or change.at < first_at[change.phase][0]
            ):
                first_at[change.phase] = (change.at, flight)
    serving = (
        first_at[FlightPhase.ON_SCENE][1]
        if FlightPhase.ON_SCENE in first_at
        else max(flights, key=lambda f: f.created_at, default=None)
    )
    arrivals = [u.arrived_at for u in units if u.arrived_at is not None]
    first_officer = min(arrivals, default=None)
    steps: dict[str, float | None] = {
        "decision_s": _since(start, decisions[0].decided_at if decisions else None),
        **{
            step: _since(start, first_at[phase][0] if phase in first_at else None)
            for step, phase in STEP_PHASES.items()
        },
        "back_s": _since(
            start,
            serving.ended_at if serving is not None and serving.outcome == "docked" else None,
        ),
        "first_officer_s": _since(start, first_officer),
    }
    on_scene = first_at.get(FlightPhase.ON_SCENE)
    lead_s = (
        _since(on_scene[0], first_officer)
        if on_scene is not None and first_officer is not None
        else None
    )
    drone_first = None
    if first_officer is not None and serving is not None:
        drone_first = on_scene is not None and on_scene[0] < first_officer
    return IncidentOutcome(
        incident=incident,
        flight=serving,
        steps_s=steps,
        units_reported=len(units),
        drone_lead_s=lead_s,
        drone_first=drone_first,
        cleared_without_officer=incident.status in OVER and first_officer is None,
    )


def _flight_outcome(
    flight: Flight,
    phases: Sequence[PhaseChange],
    span: tuple[float, float] | None,
    battery_wh: float | None,
) -> FlightOutcome | None:
    launched = [c.at for c in phases if c.phase is FlightPhase.LAUNCHING]
    if not launched:
        return None  # never took off
    launched_at = min(launched)
    used_pct = None if span is None else round(max(0.0, span[0] - span[1]), 2)
    return FlightOutcome(
        flight=flight,
        launched_at=launched_at,
        flight_s=_since(launched_at, flight.ended_at),
        battery_start_pct=None if span is None else span[0],
        battery_end_pct=None if span is None else span[1],
        battery_used_pct=used_pct,
        battery_used_wh=(
            None
            if used_pct is None or battery_wh is None
            else round(used_pct / 100.0 * battery_wh, 2)
        ),
    )


def _drone_outcome(drone_id: str, flights: Sequence[FlightOutcome]) -> DroneOutcome:
    used = [f.battery_used_pct for f in flights if f.battery_used_pct is not None]
    used_wh = [f.battery_used_wh for f in flights if f.battery_used_wh is not None]
    return DroneOutcome(
        drone_id=drone_id,
        flights=len(flights),
        in_progress=sum(1 for f in flights if f.flight_s is None),
        flight_s=round(sum(f.flight_s for f in flights if f.flight_s is not None), 3),
        battery_used_pct=round(sum(used), 2),
        battery_used_wh=round(sum(used_wh), 2) if used_wh else None,
        battery_per_flight_pct=round(sum(used) / len(used), 2) if used else None,
    )


def _figures(values: Sequence[float]) -> StepFigures:
    if not values:
        return StepFigures(0, None, None)
    return StepFigures(len(values), round(sum(values) / len(values), 3), p90(values))


def outcomes(records: OutcomeRecords) -> Outcomes:
    """The figures for ``records.window`` (see the module's definitions)."""
    window = records.window
    decisions_of = _group(records.decisions, lambda d: d.incident_id)
    flights_of = _group(records.flights, lambda f: f.incident_id)
    phases_of = _group(records.phases, lambda c: c.flight_id)
    units_of = _group(records.units, lambda u: u.incident_id)
    incidents = [
        _incident_outcome(
            incident,
            sorted(decisions_of.get(incident.id, []), key=lambda d: d.id),
            flights_of.get(incident.id, []),
            phases_of,
            units_of.get(incident.id, []),
        )
        for incident in sorted(records.incidents, key=lambda i: (i.received_at, i.id))
        if _in(window, incident.received_at)
    ]
    steps = {
        step: _figures([v for o in incidents if (v := o.steps_s[step]) is not None])
        for step in STEPS
    }
    judged = [o for o in incidents if o.drone_first is not None]
    over = [o for o in incidents if o.incident.status in OVER]
    flights = [
        outcome
        for flight in sorted(records.flights, key=lambda f: (f.created_at, f.id))
        if _in(window, flight.created_at)
        and (
            outcome := _flight_outcome(
                flight,
                phases_of.get(flight.id, []),
                records.battery_spans.get(flight.id),
                records.battery_wh.get(flight.drone_id),
            )
        )
        is not None
    ]
    by_drone = _group(flights, lambda f: f.flight.drone_id)
    return Outcomes(
        window=window,
        incidents=incidents,
        steps=steps,
        drone_first=Share(sum(1 for o in judged if o.drone_first), len(judged)),
        cleared_without_officer=Share(sum(1 for o in over if o.cleared_without_officer), len(over)),
        calls_with_unit_reports=sum(1 for o in incidents if o.units_reported),
        flights=flights,
        drones=[_drone_outcome(d, by_drone[d]) for d in sorted(by_drone)],
    )
