"""``report.json``: per call, call -> decision -> launch -> airborne -> on scene -> back on
scenario time, the drone chosen and why (the decision's ranked candidates and rejections),
planned vs flown distance, alerts; the faults and what the system did about them; every
step's answer; and every expectation's verdict with its evidence."""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict
from typing import Any

from dfr.geo.frame import geodesic_distance_m
from dfr.scenario.expectations import Evidence, Verdict, time_to_scene_s
from dfr.scenario.scenario_file import Scenario
from dfr.scenario.service_view import JSON
from dfr.scenario.timeline import Timeline

REACTION_WINDOW_S = 60.0  # scenario seconds after a fault in which events count as its reaction


def flown_distance_m(track: JSON | None, until: str | None = None) -> float | None:
    """The track's length (up to the sample at ``until``, ISO 8601, when given)."""
    if not track:
        return None
    points = track["geometry"]["coordinates"]
    if until is not None:
        times = track["properties"]["times"]
        points = [p for p, t in zip(points, times, strict=False) if t <= until]
    total = 0.0
    for (lon1, lat1, *_), (lon2, lat2, *_) in itertools.pairwise(points):
        total += geodesic_distance_m(lat1, lon1, lat2, lon2)
    return round(total, 1)


def _phase_at(evidence: Evidence, flight: JSON, phase: str, last: bool = False) -> float | None:
    found = [p for p in flight.get("phases", []) if p["phase"] == phase]
    return evidence.scenario_s_of(found[-1 if last else 0]["at"]) if found else None


def _phase_iso(flight: JSON, phase: str) -> str | None:
    return next((str(p["at"]) for p in flight.get("phases", []) if p["phase"] == phase), None)


def _flight_json(evidence: Evidence, flight: JSON) -> JSON:
    track = evidence.observed.tracks.get(flight["id"])
    route = flight.get("route") or {}
    planned = (route.get("properties") or {}).get("distance_m")
    return {
        "id": flight["id"],
        "drone_id": flight["drone_id"],
        "dock_id": flight["dock_id"],
        "launch_s": _phase_at(evidence, flight, "launching"),
        "airborne_s": _phase_at(evidence, flight, "enroute"),
        "on_scene_s": _phase_at(evidence, flight, "on_scene"),
        "back_s": _phase_at(evidence, flight, "docked", last=True)
        if len(flight.get("phases", [])) > 1
        else None,
        "ended_s": evidence.scenario_s_of(flight.get("ended_at")),
        "outcome": flight["outcome"],
        "planned_eta_s": flight.get("planned_eta_s"),
        "planned_distance_m": planned,
        "flown_to_scene_m": flown_distance_m(track, _phase_iso(flight, "on_scene")),
        "flown_distance_m": flown_distance_m(track),
        "phases": [
            {**p, "scenario_s": evidence.scenario_s_of(p["at"])} for p in flight.get("phases", [])
        ],
        "alerts": [
            {**a, "scenario_s": evidence.scenario_s_of(a["at"])} for a in flight.get("alerts", [])
        ],
        "commands": [
            {
                "type": c["type"],
                "state": c["state"],
                "result": c["result"],
                "scenario_s": evidence.scenario_s_of(c["issued_at"]),
            }
            for c in flight.get("commands", [])
        ],
    }


def _call_json(evidence: Evidence, timeline: Timeline, cad_id: str) -> JSON:
    observed = evidence.observed
    incident = observed.incidents.get(cad_id)
    posted = next((s for s in evidence.steps if s.step == cad_id), None)
    out: JSON = {
        "cad_id": cad_id,
        "posted_s": posted.scenario_s if posted else None,
        "answer": posted.detail if posted else None,
    }
    if incident is None:
        return {**out, "incident": None}
    decision = incident.get("decision") or {}
    out.update(
        incident_id=incident["id"],
        status=incident["status"],
        priority=incident["priority"],
        location=incident["location"],
        received_s=evidence.scenario_s_of(str(incident["received_at"])),
        decided_s=evidence.scenario_s_of(decision.get("decided_at")),
        decision={
            "outcome": decision.get("outcome"),
            "chosen_drone_id": decision.get("chosen_drone_id"),
            "elapsed_ms": decision.get("elapsed_ms"),
            "candidates": decision.get("ranking", []),
            "rejections": decision.get("rejections", []),
        },
        time_to_scene_s=time_to_scene_s(evidence, cad_id),
        flights=[_flight_json(evidence, f) for f in observed.flights_of(cad_id)],
    )
    return out


def _fault_reactions(evidence: Evidence, timeline: Timeline) -> list[JSON]:
    faults = []
    for fault in timeline.faults:
        start, end = fault.start_s, (fault.end_s or fault.start_s) + REACTION_WINDOW_S
        reaction = []
        for flight in evidence.observed.flights.values():
            if fault.drone is not None and flight["drone_id"] != fault.drone:
                continue
            for alert in flight.get("alerts", []):
                at = evidence.scenario_s_of(alert["at"])
                if at is not None and start - 1 <= at <= end:
                    reaction.append(
                        {
                            "scenario_s": at,
                            "alert": alert["kind"],
                            "message": alert["message"],
                            "action": alert["action"],
                        }
                    )
            for phase in flight.get("phases", []):
                at = evidence.scenario_s_of(phase["at"])
                if at is not None and start - 1 <= at <= end:
                    reaction.append(
                        {"scenario_s": at, "phase": phase["phase"], "reason": phase["reason"]}
                    )
        faults.append(
            {**asdict(fault), "reaction": sorted(reaction, key=lambda r: r["scenario_s"])}
        )
    return faults


def build_report(
    scenario: Scenario,
    timeline: Timeline,
    evidence: Evidence,
    verdicts: list[Verdict],
    *,
    against: str,
    real_s: float,
    events: list[JSON],
) -> JSON:
    cad_ids = [s.id for s in scenario.steps if s.kind in ("call", "eido")]
    failed = [v for v in verdicts if not v.passed]
    report: dict[str, Any] = {
        "scenario": scenario.name,
        "file": str(scenario.path),
        "description": scenario.description,
        "passed": not failed,
        "verdict": "passed"
        if not failed
        else f"failed: {len(failed)} of {len(verdicts)} expectation(s)",
        "against": against,
        "speed_factor": timeline.speed,
        "started_at": timeline.t0_wall.isoformat(),
        "real_s": round(real_s, 1),
        "scenario_s": round(timeline.now_s(), 1),
        "timed_out": timeline.timed_out,
        "calls": [_call_json(evidence, timeline, c) for c in cad_ids],
        "steps": [asdict(s) for s in timeline.results],
        "faults": _fault_reactions(evidence, timeline),
        "expectations": [v.to_json() for v in verdicts],
        "events": events,
        "audit": evidence.audit,
    }
    # JSON has no NaN
    finite: JSON = _finite(report)
    return finite


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
