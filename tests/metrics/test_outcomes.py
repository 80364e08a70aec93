"""The outcome metrics from constructed records: each figure as the definitions in
dfr.metrics.outcomes say, and the same records always give the same figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from dfr.metrics.csv_export import COLUMNS, incidents_csv
from dfr.metrics.outcomes import OutcomeRecords, Window, outcomes, p90
from dfr.records import (
    DispatchDecision,
    Flight,
    FlightPhase,
    IncidentStatus,
    PhaseChange,
    UnitStatus,
)
from tests.records_builders import flight, incident

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def decision(
    incident_id: str, seconds: float, outcome: str = "auto_launch", n: int = 1
) -> DispatchDecision:
    return DispatchDecision(n, incident_id, at(seconds), outcome, "d1", [], [], 1.0)


def sortie(
    flight_id: str, incident_id: str | None, times: dict[FlightPhase, float], **changes: object
) -> tuple[Flight, list[PhaseChange]]:
    """A flight created at its first phase's time, with those phase changes."""
    first = min(times.values())
    record = flight(flight_id, incident_id, at(first), **changes)
    return record, [PhaseChange(flight_id, p, at(s), "") for p, s in times.items()]


SORTIE = {
    FlightPhase.PREFLIGHT: 1.0,
    FlightPhase.LAUNCHING: 5.0,
    FlightPhase.ENROUTE: 20.0,
    FlightPhase.ON_SCENE: 100.0,
    FlightPhase.RETURNING: 300.0,
    FlightPhase.DOCKED: 400.0,
}


def unit(incident_id: str, unit_id: str, arrived_s: float | None) -> UnitStatus:
    return UnitStatus(
        incident_id, unit_id, at(0.0), None if arrived_s is None else at(arrived_s), T0
    )


def records(
    incidents: Sequence[object],
    flights: Sequence[tuple[Flight, list[PhaseChange]]] = (),
    decisions: Sequence[DispatchDecision] = (),
    units: Sequence[UnitStatus] = (),
    spans: dict[str, tuple[float, float]] | None = None,
    window: Window | None = None,
) -> OutcomeRecords:
    return OutcomeRecords(
        window=window or Window(),
        incidents=incidents,  # type: ignore[arg-type]
        decisions=decisions,
        flights=[f for f, _ in flights],
        phases=[c for _, changes in flights for c in changes],
        units=units,
        battery_spans=spans or {},
        battery_wh={"d1": 200.0},
    )


def test_p90_is_the_nearest_rank() -> None:
    assert p90([]) is None
    assert p90([7.0]) == 7.0
    assert p90([float(v) for v in range(1, 11)]) == 9.0  # ⌈0.9·10⌉ = 9th
    assert p90([float(v) for v in range(1, 12)]) == 10.0  # ⌈0.9·11⌉ = 10th
    assert p90([5.0, 1.0, 3.0]) == 5.0  # unsorted in, ⌈2.7⌉ = 3rd


def test_each_step_is_seconds_from_the_call_with_average_and_p90() -> None:
    a = incident("A", T0, status=IncidentStatus.CLOSED)
    b = incident("B", at(1000.0), status=IncidentStatus.DISPATCHED)
    fa = sortie("fa", a.id, SORTIE, ended_at=at(400.0), outcome="docked")
    fb = sortie(
        "fb",
        b.id,
        {
            FlightPhase.PREFLIGHT: 1001.0,
            FlightPhase.LAUNCHING: 1002.0,
            FlightPhase.ENROUTE: 1010.0,
            FlightPhase.ON_SCENE: 1060.0,
        },
    )
    result = outcomes(
        records([a, b], [fa, fb], [decision(a.id, 0.5), decision(b.id, 1000.25, n=2)])
    )
    by_id = {o.incident.id: o for o in result.incidents}
    assert by_id[a.id].steps_s == {
        "decision_s": 0.5,
        "launch_s": 5.0,
        "airborne_s": 20.0,
        "on_scene_s": 100.0,
        "back_s": 400.0,
        "first_officer_s": None,
    }
    assert by_id[b.id].steps_s["on_scene_s"] == 60.0 and by_id[b.id].steps_s["back_s"] is None
    on_scene = result.steps["on_scene_s"]
    assert (on_scene.count, on_scene.average_s, on_scene.p90_s) == (2, 80.0, 100.0)
    assert result.steps["back_s"].count == 1
    assert result.steps["first_officer_s"].count == 0
    assert result.steps["first_officer_s"].average_s is None  # unknown, never 0
    # the same records, the same figures
    assert (
        outcomes(records([a, b], [fa, fb], [decision(a.id, 0.5), decision(b.id, 1000.25, n=2)]))
        == result
    )


def test_a_diverted_drone_is_timed_from_the_diversion_not_its_old_call() -> None:
    new = incident("NEW", at(50.0), status=IncidentStatus.DISPATCHED)
    # the flight served an older call (on scene at 60 s) and was diverted at 120 s
    times = {FlightPhase.LAUNCHING: 0.0, FlightPhase.ON_SCENE: 60.0}
    record, changes = sortie("f1", new.id, times)
    changes += [
        PhaseChange("f1", FlightPhase.ENROUTE, at(120.0), "diverted"),
        PhaseChange("f1", FlightPhase.ON_SCENE, at(200.0), ""),
    ]
    result = outcomes(
        records([new], [(record, changes)], [decision(new.id, 119.0, "pilot_launch")])
    )
    (only,) = result.incidents
    assert only.steps_s["on_scene_s"] == 150.0  # 200 − 50, not 60 − 50
    assert only.steps_s["launch_s"] is None  # it never launched for this call


def test_drone_first_counts_only_calls_with_a_launch_and_an_officers_arrival() -> None:
    first = incident("FIRST", T0, status=IncidentStatus.CLOSED)  # drone 100 s, officer 250 s
    second = incident("SECOND", at(1.0), status=IncidentStatus.CLOSED)  # officer at 31 s
    never = incident("NEVER", at(2.0), status=IncidentStatus.DISPATCHED)  # drone never there
    no_drone = incident("NODRONE", at(3.0), status=IncidentStatus.QUEUED)  # officer only
    no_units = incident("NOUNITS", at(4.0), status=IncidentStatus.CLOSED)
    flights = [
        sortie("f1", first.id, SORTIE),
        sortie("f2", second.id, {k: v + 1.0 for k, v in SORTIE.items()}),
        sortie("f3", never.id, {FlightPhase.LAUNCHING: 5.0, FlightPhase.ENROUTE: 9.0}),
        sortie("f5", no_units.id, {k: v + 4.0 for k, v in SORTIE.items()}),
    ]
    units = [
        unit(first.id, "4B", 250.0),
        unit(first.id, "7A", None),  # dispatched, not arrived
        unit(second.id, "2C", 31.0),
        unit(never.id, "9D", 40.0),
        unit(no_drone.id, "1A", 60.0),
    ]
    result = outcomes(records([first, second, never, no_drone, no_units], flights, units=units))
    by_cad = {o.incident.cad_id: o for o in result.incidents}
    assert by_cad["FIRST"].drone_first is True and by_cad["FIRST"].drone_lead_s == 150.0
    assert by_cad["SECOND"].drone_first is False and by_cad["SECOND"].drone_lead_s == -70.0
    assert by_cad["NEVER"].drone_first is False and by_cad["NEVER"].drone_lead_s is None
    assert by_cad["NODRONE"].drone_first is None  # no drone went: not judged
    assert by_cad["NOUNITS"].drone_first is None
    assert (result.drone_first.count, result.drone_first.of, result.drone_first.pct) == (1, 3, 33.3)
    assert by_cad["FIRST"].steps_s["first_officer_s"] == 250.0
    assert result.calls_with_unit_reports == 4


def test_cleared_without_an_officer_is_over_with_no_unit_arrival() -> None:
    drone_only = incident("DRONEONLY", T0, status=IncidentStatus.CLOSED)
    cancelled = incident("CANCELLED", at(1.0), status=IncidentStatus.CANCELLED)
    officer = incident("OFFICER", at(2.0), status=IncidentStatus.CLOSED)
    flying = incident("FLYING", at(3.0), status=IncidentStatus.DISPATCHED)  # not over
    sent_only = incident("SENT", at(4.0), status=IncidentStatus.CLOSED)  # unit never arrived
    units = [unit(officer.id, "4B", 90.0), unit(sent_only.id, "5E", None)]
    result = outcomes(records([drone_only, cancelled, officer, flying, sent_only], units=units))
    cleared = {o.incident.cad_id for o in result.incidents if o.cleared_without_officer}
    assert cleared == {"DRONEONLY", "CANCELLED", "SENT"}
    share = result.cleared_without_officer
    assert (share.count, share.of, share.pct) == (3, 4, 75.0)
    # the arrival reported later takes the call out
    later = [units[0], unit(sent_only.id, "5E", 500.0)]
    assert (
        outcomes(
            records([drone_only, cancelled, officer, flying, sent_only], units=later)
        ).cleared_without_officer.count
        == 2
    )


def test_flights_hours_and_battery_per_drone() -> None:
    docked = sortie("f1", None, SORTIE, ended_at=at(400.0), outcome="docked")  # 395 s
    other = sortie(
        "f2",
        None,
        {FlightPhase.LAUNCHING: 1000.0},
        ended_at=at(1205.0),
        outcome="docked",
        drone_id="d2",
    )
    flying = sortie("f3", None, {FlightPhase.LAUNCHING: 2000.0, FlightPhase.ENROUTE: 2010.0})
    aborted = sortie(
        "f4",
        None,
        {FlightPhase.PREFLIGHT: 3000.0, FlightPhase.ABORTED: 3001.0},
        ended_at=at(3001.0),
        outcome="aborted",
    )  # never took off: not a flight
    spans = {"f1": (98.0, 71.5), "f2": (90.0, 80.0), "f3": (100.0, 96.0)}
    result = outcomes(records([], [docked, other, flying, aborted], spans=spans))
    assert [
        (f.flight.id, f.flight_s, f.battery_used_pct, f.battery_used_wh) for f in result.flights
    ] == [
        ("f1", 395.0, 26.5, 53.0),
        ("f2", 205.0, 10.0, None),  # d2's capacity is not known
        ("f3", None, 4.0, 8.0),
    ]
    d1, d2 = result.drones
    assert (d1.drone_id, d1.flights, d1.in_progress, d1.flight_s) == ("d1", 2, 1, 395.0)
    assert (d1.battery_used_pct, d1.battery_used_wh, d1.battery_per_flight_pct) == (
        30.5,
        61.0,
        15.25,
    )
    assert (d2.drone_id, d2.flights, d2.flight_s, d2.battery_used_wh) == ("d2", 1, 205.0, None)


def test_the_window_holds_calls_received_and_flights_created_in_it() -> None:
    early = incident("EARLY", at(-10.0), status=IncidentStatus.CLOSED)
    inside = incident("IN", at(0.0), status=IncidentStatus.CLOSED)
    end = incident("END", at(60.0), status=IncidentStatus.CLOSED)  # the end is not included
    window = Window(T0, at(60.0))
    result = outcomes(
        records(
            [early, inside, end],
            [sortie("f1", None, SORTIE), sortie("f0", None, {FlightPhase.LAUNCHING: -5.0})],
            window=window,
        )
    )
    assert [o.incident.cad_id for o in result.incidents] == ["IN"]
    assert [f.flight.id for f in result.flights] == ["f1"]


def test_csv_has_a_header_and_one_row_per_incident_with_empty_unknowns() -> None:
    a = incident("=HYPERLINK(1)", T0, status=IncidentStatus.CLOSED, nature="fire, smoke")
    fa = sortie("fa", a.id, SORTIE, ended_at=at(400.0), outcome="docked")
    text = incidents_csv(
        outcomes(records([a], [fa], [decision(a.id, 0.5)], spans={"fa": (99.0, 80.0)}))
    )
    header, row, end = text.split("\r\n")
    assert header.split(",") == list(COLUMNS) and end == ""
    assert row.startswith(
        'inc-=HYPERLINK(1),\'=HYPERLINK(1),1,"fire, smoke",closed,2026-11-26T12:00:00Z,fa,d1,0.5,5.0,20.0,100.0,400.0,,0,,,true,19.0'
    )
