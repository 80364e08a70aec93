"""Each drone's answer to an incident, and the order the dispatcher takes them in.

A :class:`Candidate` is built either from a planned route (its ETA, distance and
energy, feasible when the battery and the wind allow) or, when no route exists,
with the reason; :func:`best_first` orders them: feasible first by ETA, then the
infeasible ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from dfr.planning.route import Route
from dfr.site import Drone


@dataclass(frozen=True, slots=True)
class Candidate:
    """One drone's answer to an incident, as the dispatcher ranks it."""

    drone_id: str
    dock_id: str
    feasible: bool
    eta_s: float  # launch -> over the scene (math.inf when no route)
    distance_m: float
    energy_needed_wh: float  # out + on scene + back
    energy_usable_wh: float  # above the reserve, at the given charge
    reasons: tuple[str, ...]  # why not feasible
    route: Route | None


def unreachable(drone: Drone, *, dock_can_launch: bool) -> Candidate:
    """A drone with no legal route to the scene, saying why."""
    why = (
        f"dock {drone.dock} is inside a zone at cruise altitude"
        if not dock_can_launch
        else f"no legal path from dock {drone.dock} to the scene"
    )
    return Candidate(drone.id, drone.dock, False, math.inf, math.inf, math.inf, 0.0, (why,), None)


def candidate_for_route(drone: Drone, route: Route) -> Candidate:
    """A drone with a planned route: feasible, ETA and energy as its estimate says."""
    est = route.estimate
    eta = est.eta_s if math.isfinite(est.eta_s) else math.inf
    return Candidate(
        drone.id,
        drone.dock,
        est.feasible,
        eta,
        route.distance_m,
        est.total_energy_wh,
        est.usable_energy_wh,
        est.reasons,
        route,
    )


def best_first(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Feasible candidates first, by ETA; then the infeasible ones (ties by drone id)."""
    return sorted(candidates, key=lambda c: (not c.feasible, c.eta_s, c.drone_id))
