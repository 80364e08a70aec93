"""A scenario's expectations, each checked against what the service said (flights, their
phases, alerts and tracks; incidents and their dispatch decisions) and what the runner
did (step results), each verdict with the evidence a person can check."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

from dfr.geo.frame import LocalFrame
from dfr.scenario.recording_playback import Playback
from dfr.scenario.scenario_file import Expectation, duration_s
from dfr.scenario.service_view import JSON, Observed
from dfr.scenario.timeline import StepResult

# what the service says when the vehicle acted by itself: a mode nobody asked for, a
# landing or a flight-control event the plan did not have
FAILSAFE_ALERTS = {"mode_change", "flight_control", "landed_short"}


@dataclass(frozen=True, slots=True)
class Verdict:
    expectation: Expectation
    passed: bool
    evidence: str

    def to_json(self) -> JSON:
        return {
            "index": self.expectation.index,
            "line": self.expectation.line,
            "kind": self.expectation.kind,
            "args": dict(self.expectation.args),
            "label": self.expectation.label,
            "passed": self.passed,
            "evidence": self.evidence,
        }


@dataclass
class Evidence:
    """What the checks read."""

    observed: Observed
    steps: list[StepResult]
    accepted_calls: set[str]
    scenario_s_of: Callable[[str | None], float | None]
    audit: str | None  # "ok", a failure text, or None (not checked)
    timed_out: bool
    events: list[JSON] = field(default_factory=list)  # /ws/events, as the runner read them
    playbacks: list[Playback] = field(default_factory=list)  # recordings downloaded, decoded


def _alerts(evidence: Evidence, cad_id: str | None) -> list[JSON]:
    observed = evidence.observed
    flights = observed.flights_of(cad_id) if cad_id else list(observed.flights.values())
    return [a for f in flights for a in f.get("alerts", [])]


def _phase_s(evidence: Evidence, flight: JSON, phase: str, last: bool = False) -> float | None:
    found = [p for p in flight.get("phases", []) if p["phase"] == phase]
    if not found:
        return None
    return evidence.scenario_s_of(found[-1 if last else 0]["at"])


def time_to_scene_s(evidence: Evidence, cad_id: str) -> float | None:
    incident = evidence.observed.incidents.get(cad_id)
    flight = evidence.observed.flight_of(cad_id)
    if incident is None or flight is None:
        return None
    received = evidence.scenario_s_of(str(incident["received_at"]))
    on_scene = _phase_s(evidence, flight, "on_scene")
    if received is None or on_scene is None:
        return None
    return round(on_scene - received, 1)


def check_drone_chosen(e: Evidence, args: Mapping[str, Any]) -> tuple[bool, str]:
    cad_id, wanted = args["call"], args["drone"]
    incident = e.observed.incidents.get(cad_id)
    if incident is None:
        return False, f"no incident for call {cad_id}"
    decision = incident.get("decision") or {}
    flight = e.observed.flight_of(cad_id)
    chosen = flight["drone_id"] if flight else decision.get("chosen_drone_id")
    ranking = ", ".join(
        f"{c['drone_id']} {c.get('eta_s') or 0:.0f} s" for c in decision.get("ranking", [])
    )
    rejected = "; ".join(f"{r['drone_id']}: {r['reason']}" for r in decision.get("rejections", []))
    why = f"ranking by ETA: {ranking or 'none'}" + (f"; rejected: {rejected}" if rejected else "")
    return chosen == wanted, f"{chosen or 'no drone'} was chosen, {wanted} expected ({why})"


def check_time_to_scene(e: Evidence, args: Mapping[str, Any]) -> tuple[bool, str]:
    limit_s = duration_s(args["max"])
    took = time_to_scene_s(e, args["call"])
    if took is None:
        return False, f"call {args['call']} never had a drone on scene"
    return took <= limit_s, f"call received -> on scene {took:.0f} s (limit {limit_s:.0f} s)"


def _zones(observed: Observed, frame: LocalFrame) -> list[tuple[str, BaseGeometry]]:
    zones = []
    for feature in observed.airspace.get("features", []):
        props = feature.get("properties", {})
        if props.get("kind") != "no_fly":
            continue
        geometry = shape(feature["geometry"])
        if geometry.geom_type == "Point":
            x, y = frame.to_xy(geometry.y, geometry.x)
            local: BaseGeometry = Point(x, y)
        else:
            exterior = feature["geometry"]["coordinates"][0]
            local = Polygon([frame.to_xy(lat, lon) for lon, lat, *_ in exterior])
        zones.append(
            (
                str(props.get("name", "zone")),
                local.buffer(float(props.get("radius_m") or 0) + float(props.get("buffer_m") or 0)),
            )
        )
    return zones


def check_no_zone_entered(e: Evidence, args: Mapping[str, Any]) -> tuple[bool, str]:
    observed = e.observed
    cad_id = args.get("call")
    flights = observed.flights_of(cad_id) if cad_id else list(observed.flights.values())
    tracks = [observed.tracks.get(f["id"]) for f in flights]
    points = [p for t in tracks if t for p in t["geometry"]["coordinates"]]
    if not points:
        return False, "no flown track to check"
    frame = LocalFrame(points[0][1], points[0][0])
    zones = _zones(observed, frame)
    inside = []
    for lon, lat, *_ in points:
        here = Point(*frame.to_xy(lat, lon))
        inside += [name for name, zone in zones if zone.contains(here)]
    if inside:
        return False, f"entered {sorted(set(inside))} ({len(inside)} track points inside)"
    return (
        True,
        f"{len(points)} track points of {len(flights)} flight(s), none inside {len(zones)} no-fly zone(s) (with their buffers)",
    )


def check_alert(e: Evidence, args: Mapping[str, Any]) -> tuple[bool, str]:
    kinds = [a["kind"] for a in _alerts(e, args.get("call"))]
    return args["kind"] in kinds, f"alerts raised: {kinds or 'none'}"


def check_no_alert(e: Evidence, args: Mapping[str, Any]) -> tuple[bool, str]:
    passed, text = check_alert(e, args)
    return not passed, text


def check_failsafe_seen(e: Evidence, args: Mapping[str, Any]) -> tuple[bool, str]:
    flights = e.observed.flights_of(args["call"])
    phases = [p["phase"] for f in flights for p in f.get("phases", [])]
    alerts = [
        a
        for a in _alerts(e, args["call"])
        if a["kind"] in FAILSAFE_ALERTS or (a["kind"] == "vehicle" and "ailsafe" in a["message"])
    ]
    seen = "failsafe" in phases or bool(alerts)
    shown = (
        "; ".join(f"{a['kind']}: {a['message']}" for a in alerts)
        if alerts
        else f"no alert of {sorted(FAILSAFE_ALERTS)}"
    )
    return seen, f"phases {phases}; {shown}"


def check_docked(e: Evidence, args: Mapping[str, Any]) -> tuple[bool, str]:
    flight = e.observed.flight_of(args["call"])
    if flight is None:
        return False, f"call {args['call']} has no flight"
    phases = [p["phase"] for p in flight.get("phases", [])]
    passed = flight["ended_at"] is not None and len(phases) > 1 and phases[-1] == "docked"
    return passed, f"flight {flight['id']} outcome {flight['outcome'] or 'none'}, phases {phases}"


def check_outcome(e: Evidence, args: Mapping[str, Any]) -> tuple[bool, str]:
    flight = e.observed.flight_of(args["call"])
    if flight is None:
        return False, f"call {args['call']} has no flight"
    return flight["outcome"] == args[
        "is"
    ], f"flight {flight['id']} outcome {flight['outcome'] or 'none'}"


def check_flown_once(e: Evidence, args: Mapping[str, Any]) -> tuple[bool, str]:
    flights = e.observed.flights_of(args["call"])
    ids = [f["id"] for f in flights]
    return len(ids) == 1, f"{len(ids)} flight(s) for call {args['call']}: {ids}"


def check_not_flown(e: Evidence, args: Mapping[str, Any]) -> tuple[bool, str]:
    cad_id = args["call"]
    incident = e.observed.incidents.get(cad_id)
    if incident is None:
        return False, f"no incident for call {cad_id} (was it taken?)"
    flights = e.observed.flights_of(cad_id)
    decision = incident.get("decision") or {}
    reasons = "; ".join(f"{r['drone_id']}: {r['reason']}" for r in decision.get("rejections", []))
    text = f"incident {incident['status']}, decision {decision.get('outcome')}, {len(flights)} flight(s); rejections: {reasons or 'none'}"
    wanted = args.get("reason_contains")
    passed = not flights and decision.get("chosen_drone_id") is None
    if wanted:
        passed = passed and wanted in reasons
    return passed, text


def check_dispatch_rejected(e: Evidence, args: Mapping[str, Any]) -> tuple[bool, str]:
    """Some decision for the call (each ``dispatch`` event, and the stored latest one)
    rejected the drone, with ``reason_contains`` in the reason if given."""
    cad_id, drone = args["call"], args["drone"]
    incident = e.observed.incidents.get(cad_id)
    if incident is None:
        return False, f"no incident for call {cad_id}"
    decisions = [
        ev
        for ev in e.events
        if ev.get("type") == "dispatch" and ev.get("incident_id") == incident["id"]
    ]
    decisions.append(incident.get("decision") or {})
    reasons = [
        str(r["reason"])
        for d in decisions
        for r in d.get("rejections") or []
        if r.get("drone_id") == drone
    ]
    wanted = args.get("reason_contains")
    matching = [r for r in reasons if wanted is None or wanted in r]
    shown = "; ".join(dict.fromkeys(reasons)) or "never rejected"
    return bool(matching), f"{drone} for call {cad_id} in {len(decisions)} decision(s): {shown}"


def check_call_taken(e: Evidence, args: Mapping[str, Any]) -> tuple[bool, str]:
    """The service took the call as the CAD meant it: its source and priority as given,
    and the words given in its nature, address and notes."""
    cad_id = args["call"]
    incident = e.observed.incidents.get(cad_id)
    if incident is None:
        return False, f"no incident for call {cad_id}"
    wrong = [
        f"{key} {incident[key]!r}, {args[key]!r} expected"
        for key in ("source", "priority")
        if key in args and incident[key] != args[key]
    ]
    for key in ("nature", "address", "notes"):
        wanted = args.get(f"{key}_contains")
        if wanted is not None and wanted not in str(incident[key]):
            wrong.append(f"{key} {incident[key]!r} lacks {wanted!r}")
    taken = (
        f"taken from {incident['source']}: priority {incident['priority']}, "
        f"{incident['nature']!r} at {incident['address'] or 'no address'}"
    )
    return not wrong, "; ".join([taken, *wrong])


def check_recordings_playable(e: Evidence, args: Mapping[str, Any]) -> tuple[bool, str]:
    """Every recording of the call's flights downloaded and decoded, ``min_frames`` (1)
    video frames in all."""
    flights = {f["id"] for f in e.observed.flights_of(args["call"])}
    mine = [p for p in e.playbacks if p.flight_id in flights]
    if not mine:
        return False, f"no recording of call {args['call']}'s flight(s) {sorted(flights)}"
    frames = sum(p.frames for p in mine)
    wanted = int(args.get("min_frames", 1))
    shown = "; ".join(
        f"recording {p.recording_id}: {p.size_bytes} bytes, {p.frames} frames, "
        f"{p.duration_s:g} s{f', {p.error}' if p.error else ''}"
        for p in mine
    )
    return all(p.played for p in mine) and frames >= wanted, f"{shown} ({frames} frames in all)"


WAITING_STATUSES = ("new", "queued", "awaiting_pilot")


def check_waiting(e: Evidence, args: Mapping[str, Any]) -> tuple[bool, str]:
    """The call was taken and waits at the end (queued for a drone, or for a pilot), with
    no flight of its own: e.g. the call a diverted drone left."""
    cad_id = args["call"]
    incident = e.observed.incidents.get(cad_id)
    if incident is None:
        return False, f"no incident for call {cad_id}"
    flights = [f["id"] for f in e.observed.flights_of(cad_id)]
    decision = incident.get("decision") or {}
    passed = incident["status"] in WAITING_STATUSES and not flights
    return passed, (
        f"incident {incident['status']} (last decision {decision.get('outcome') or 'none'}), "
        f"flights {flights or 'none'}"
    )


def _step(e: Evidence, step_id: str) -> StepResult | None:
    return next((s for s in e.steps if s.step == step_id), None)


def check_refused(e: Evidence, args: Mapping[str, Any]) -> tuple[bool, str]:
    result = _step(e, args["step"])
    if result is None:
        return False, f"step {args['step']} did not run"
    status = result.status
    wanted = args.get("status")
    passed = status is not None and 400 <= status < 500 and (wanted is None or status == wanted)
    return passed, f"answered {result.detail}"


def check_accepted(e: Evidence, args: Mapping[str, Any]) -> tuple[bool, str]:
    result = _step(e, args["step"])
    if result is None:
        return False, f"step {args['step']} did not run"
    return result.ok, result.detail


def check_nothing_lost(e: Evidence, args: Mapping[str, Any]) -> tuple[bool, str]:
    observed = e.observed
    problems = []
    missing = sorted(c for c in e.accepted_calls if c not in observed.incidents)
    if missing:
        problems.append(f"calls taken but not stored: {missing}")
    extra = sorted(c for c in observed.incidents if c not in e.accepted_calls)
    if extra:
        problems.append(f"incidents nobody called in: {extra}")
    for flight in observed.flights.values():
        track = observed.tracks.get(flight["id"])
        points = len(track["geometry"]["coordinates"]) if track else 0
        if flight["ended_at"] is None:
            problems.append(f"flight {flight['id']} never ended")
        if points == 0:
            problems.append(f"flight {flight['id']} has no stored track")
    if e.audit is not None and e.audit != "ok":
        problems.append(f"audit trail: {e.audit}")
    audit = "audit trail verified" if e.audit == "ok" else "audit trail not checked (--against)"
    if e.audit is not None and e.audit != "ok":
        audit = "audit trail failed"
    summary = (
        f"{len(observed.incidents)} incident(s) for {len(e.accepted_calls)} call(s) taken, "
        f"{len(observed.flights)} flight(s) ended with tracks; {audit}"
    )
    return not problems, "; ".join(problems) if problems else summary


CHECKS: dict[str, Callable[[Evidence, Mapping[str, Any]], tuple[bool, str]]] = {
    "drone_chosen": check_drone_chosen,
    "time_to_scene": check_time_to_scene,
    "no_zone_entered": check_no_zone_entered,
    "alert": check_alert,
    "no_alert": check_no_alert,
    "failsafe_seen": check_failsafe_seen,
    "docked": check_docked,
    "outcome": check_outcome,
    "flown_once": check_flown_once,
    "not_flown": check_not_flown,
    "dispatch_rejected": check_dispatch_rejected,
    "waiting": check_waiting,
    "call_taken": check_call_taken,
    "recordings_playable": check_recordings_playable,
    "refused": check_refused,
    "accepted": check_accepted,
    "nothing_lost": check_nothing_lost,
}


def check_all(expectations: tuple[Expectation, ...], evidence: Evidence) -> list[Verdict]:
    verdicts = []
    for expectation in expectations:
        passed, text = CHECKS[expectation.kind](evidence, expectation.args)
        if evidence.timed_out and not passed:
            text += " (the run reached max_duration)"
        verdicts.append(Verdict(expectation, passed, text))
    return verdicts
