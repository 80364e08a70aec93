"""A planned route: the legal polyline, its flight estimate, and its GeoJSON form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dfr.planning.profile import FlightEstimate, LegEstimate
from dfr.planning.wind import Wind


@dataclass(frozen=True, slots=True)
class Waypoint:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Route:
    """Dock (or start) → scene, legal at ``cruise_alt_rel_m`` above the start."""

    drone_id: str | None
    waypoints: tuple[Waypoint, ...]  # first = start, last = scene point
    points_xy: tuple[tuple[float, float], ...]  # the same in the site frame, metres
    distance_m: float
    cruise_alt_rel_m: float  # relative to the start / home (dock pad)
    cruise_speed_mps: float
    estimate: FlightEstimate
    wind: Wind
    requested_goal: Waypoint  # what was asked for
    authorisation_required: bool  # the requested goal is inside a zone; scene point moved out
    notes: tuple[str, ...]  # e.g. which zone holds the requested goal
    obstacles_hash: str

    @property
    def start(self) -> Waypoint:
        return self.waypoints[0]

    @property
    def scene(self) -> Waypoint:
        return self.waypoints[-1]

    @property
    def eta_s(self) -> float:
        return self.estimate.eta_s

    def to_geojson(self) -> dict[str, Any]:
        """A GeoJSON LineString Feature (lon, lat) with distance, ETA, energy and legs."""
        est = self.estimate
        return {
            "type": "Feature",
            "geometry": {
                "type": "LineString",
                "coordinates": [[round(w.lon, 7), round(w.lat, 7)] for w in self.waypoints],
            },
            "properties": {
                "drone_id": self.drone_id,
                "distance_m": round(self.distance_m, 1),
                "eta_s": round(est.eta_s, 1),
                "energy_wh": round(est.total_energy_wh, 1),
                "out_energy_wh": round(est.out_energy_wh, 1),
                "on_scene_s": est.on_scene_s,
                "on_scene_energy_wh": round(est.on_scene_energy_wh, 1),
                "return_s": round(est.return_s, 1),
                "return_energy_wh": round(est.return_energy_wh, 1),
                "usable_energy_wh": round(est.usable_energy_wh, 1),
                "reserve_wh": round(est.reserve_wh, 1),
                "climb_s": round(est.climb_s, 1),
                "cruise_alt_rel_m": self.cruise_alt_rel_m,
                "cruise_speed_mps": self.cruise_speed_mps,
                "wind": {"from_deg": self.wind.from_deg, "speed_mps": self.wind.speed_mps},
                "feasible": est.feasible,
                "reasons": list(est.reasons),
                "authorisation_required": self.authorisation_required,
                "requested_goal": [self.requested_goal.lon, self.requested_goal.lat],
                "notes": list(self.notes),
                "legs": [_leg_json(i, leg, self.waypoints) for i, leg in enumerate(est.legs)],
            },
        }


def _leg_json(i: int, leg: LegEstimate, waypoints: tuple[Waypoint, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "index": i,
        "distance_m": round(leg.distance_m, 1),
        "track_deg": round(leg.track_deg, 1),
        "ground_speed_mps": round(leg.ground_speed_mps, 2),
        "time_s": round(leg.time_s, 1) if leg.feasible else None,
        "energy_wh": round(leg.energy_wh, 2) if leg.feasible else None,
        "feasible": leg.feasible,
    }
    if i + 1 < len(waypoints):
        out["from"] = [round(waypoints[i].lon, 7), round(waypoints[i].lat, 7)]
        out["to"] = [round(waypoints[i + 1].lon, 7), round(waypoints[i + 1].lat, 7)]
    return out
