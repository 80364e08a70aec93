"""``dfr plan``: plan a route (or rank every drone) for a point and print JSON to stdout."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from dfr.planning.planner import Candidate, Planner
from dfr.planning.wind import Wind
from dfr.site import load_site


def _candidate_json(c: Candidate) -> dict[str, Any]:
    def num(x: float, nd: int = 1) -> float | None:
        return round(x, nd) if math.isfinite(x) else None

    out: dict[str, Any] = {
        "drone_id": c.drone_id,
        "dock_id": c.dock_id,
        "feasible": c.feasible,
        "eta_s": num(c.eta_s),
        "distance_m": num(c.distance_m),
        "energy_needed_wh": num(c.energy_needed_wh),
        "energy_usable_wh": num(c.energy_usable_wh),
        "reasons": list(c.reasons),
    }
    if c.route is not None:
        out["route"] = c.route.to_geojson()
    return out


def run_plan(args: argparse.Namespace) -> int:
    """Entry point wired in :mod:`dfr.cli`; raises DfrError subclasses on bad input."""
    site = load_site(args.site)
    planner = Planner.from_site(site)
    wind = Wind(*args.wind)
    goal_lat, goal_lon = args.goal
    doc: dict[str, Any]
    if args.rank:
        ranked = planner.rank(goal_lat, goal_lon, wind=wind)
        doc = {
            "type": "Ranking",
            "to": [goal_lat, goal_lon],
            "wind": {"from_deg": wind.from_deg, "speed_mps": wind.speed_mps},
            "candidates": [_candidate_json(c) for c in ranked],
        }
    else:
        drone = planner.drone(args.drone) if args.drone else site.drones[0]
        route = planner.plan_route(drone, goal_lat, goal_lon, start=args.origin, wind=wind)
        doc = planner.qgc_plan(route) if args.format == "plan" else route.to_geojson()
    json.dump(doc, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
