"""Which drone goes: every drone ranked by planned arrival time, every rejection explained.

A drone is a candidate when it is free (no flight), its link is up, it is healthy and
armable, on the ground, its dock is not on hold (a person's override, with a reason) and
its wind is within the airframe's limit, and the planner
finds a legal route whose energy (out + on scene + back, under the current wind) fits in
the battery above the reserve. Candidates are ranked by the planner's ETA over the real
route, not by straight-line distance.

Policy (``site.yaml`` ``policy.auto_launch_max_priority``): a call with priority ≤ N
launches the best candidate at once; any other call waits for a pilot. With no
candidate the call is queued and served when a drone becomes free.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from dfr.fleet.drone_state import DroneState, LandedState, LinkState
from dfr.planning.planner import Candidate, Planner
from dfr.planning.wind import Wind
from dfr.records import DockHold, Incident
from dfr.site import Policy


class Outcome(StrEnum):
    AUTO_LAUNCH = "auto_launch"
    AWAITING_PILOT = "awaiting_pilot"
    QUEUED = "queued"
    PILOT_LAUNCH = "pilot_launch"


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    chosen: Candidate | None
    ranking: list[dict[str, Any]]  # available and feasible, best first
    rejections: list[dict[str, Any]]  # {"drone_id", "reason"}
    elapsed_ms: float


def readiness_problems(
    state: DroneState | None,
    busy: bool,
    wind: Wind,
    max_wind_mps: float,
    hold: DockHold | None = None,
) -> list[str]:
    """Why a drone cannot take a new call right now (empty: it can); ``hold``: its
    dock's hold, if it is on one."""
    problems = [hold.text] if hold is not None else []
    if state is None:
        return [*problems, "no link to this drone"]
    if busy:
        problems.append("already on a flight")
    if state.link is not LinkState.UP:
        problems.append(f"link {state.link.value}")
        return problems
    if state.armed or state.landed not in (LandedState.ON_GROUND, LandedState.UNKNOWN):
        problems.append("not on its dock")
    if not state.health_ok:
        problems.append("vehicle health checks failing")
    if not state.armable:
        problems.append("vehicle not armable (pre-arm checks)")
    if wind.speed_mps > max_wind_mps:
        problems.append(
            f"weather hold: wind {wind.speed_mps:.0f} m/s above the airframe's {max_wind_mps:.0f} m/s"
        )
    return problems


def candidate_body(c: Candidate) -> dict[str, Any]:
    return {
        "drone_id": c.drone_id,
        "dock_id": c.dock_id,
        "eta_s": round(c.eta_s, 1) if math.isfinite(c.eta_s) else None,
        "distance_m": round(c.distance_m, 1) if math.isfinite(c.distance_m) else None,
        "energy_needed_wh": round(c.energy_needed_wh, 1)
        if math.isfinite(c.energy_needed_wh)
        else None,
        "energy_usable_wh": round(c.energy_usable_wh, 1),
        "authorisation_required": bool(c.route and c.route.authorisation_required),
    }


def decide(
    planner: Planner,
    incident: Incident,
    states: Mapping[str, DroneState],
    busy: Collection[str],
    policy: Policy,
    *,
    wind: Wind,
    at: datetime | None = None,
    only_drone: str | None = None,
    pilot: bool = False,
    holds: Mapping[str, DockHold] | None = None,
) -> Decision:
    """Rank the fleet for ``incident`` and apply the policy (``pilot``: a pilot asked to
    launch; ``only_drone``: the pilot named the drone; ``holds``: the docks on hold, by
    dock id)."""
    holds = holds or {}
    started = time.perf_counter()
    rejections: list[dict[str, Any]] = []
    ready = []
    for drone in planner.site.drones:
        if only_drone is not None and drone.id != only_drone:
            continue
        problems = readiness_problems(
            states.get(drone.id),
            drone.id in busy,
            wind,
            drone.performance.max_wind_mps,
            holds.get(drone.dock),
        )
        if problems:
            rejections.append({"drone_id": drone.id, "reason": "; ".join(problems)})
        else:
            ready.append(drone)
    charge = {
        d.id: min(1.0, max(0.0, states[d.id].battery_pct / 100.0))
        for d in ready
        if math.isfinite(states[d.id].battery_pct)
    }
    ranked = (
        planner.rank(
            incident.lat_deg, incident.lon_deg, drones=ready, wind=wind, charge_frac=charge, at=at
        )
        if ready
        else []
    )
    feasible = [c for c in ranked if c.feasible]
    for c in ranked:
        if not c.feasible:
            rejections.append({"drone_id": c.drone_id, "reason": "; ".join(c.reasons)})
    chosen = feasible[0] if feasible else None
    if chosen is None:
        outcome = Outcome.QUEUED
    elif pilot:
        outcome = Outcome.PILOT_LAUNCH
    elif incident.priority <= policy.auto_launch_max_priority:
        outcome = Outcome.AUTO_LAUNCH
    else:
        outcome = Outcome.AWAITING_PILOT
    return Decision(
        outcome=outcome,
        chosen=chosen,
        ranking=[candidate_body(c) for c in feasible],
        rejections=rejections,
        elapsed_ms=(time.perf_counter() - started) * 1000.0,
    )
