"""A site for dispatch tests, in plain numbers: the scene S; dock ``a`` 1.5 km south of
it, clear; dock ``b`` 2.5 km east, under a no-fly square; dock ``c`` 2 km west, inside a
no-fly ring (free itself, no way out). Any drone listed goes on any of them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dfr.fleet.drone_state import DroneState, LandedState, LinkState
from dfr.records import Incident, IncidentStatus
from dfr.site import Dock
from tests.e2e.harness import write_site
from tests.e2e.scenes import SCENE, offset_ll

FAR = offset_ll(0, 30_000)  # 30 km north: beyond any battery of the default drone
DOCK_A = offset_ll(0, -1500)
DOCK_B = offset_ll(2500, 0)
DOCK_C = offset_ll(-2000, 0)


def _square(x_m: float, y_m: float, half_m: float) -> list[list[float]]:
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)]
    return [
        [lon, lat]
        for lat, lon in (offset_ll(x_m + sx * half_m, y_m + sy * half_m) for sx, sy in corners)
    ]


def _no_fly(name: str, rings: list[list[list[float]]]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"kind": "no_fly", "name": name, "buffer_m": 0},
        "geometry": {"type": "Polygon", "coordinates": rings},
    }


def dispatch_site(
    directory: Path,
    drones: list[dict[str, Any]],
    *,
    policy: dict[str, Any] | None = None,
) -> Path:
    return write_site(
        directory,
        docks=[
            {"id": dock_id, "lat": lat, "lon": lon, "ground_alt_amsl_m": 488.0}
            for dock_id, (lat, lon) in (("a", DOCK_A), ("b", DOCK_B), ("c", DOCK_C))
        ],
        drones=drones,
        airspace=[
            _no_fly("over dock b", [_square(2500, 0, 200)]),
            _no_fly("ring round dock c", [_square(-2000, 0, 400), _square(-2000, 0, 200)[::-1]]),
        ],
        policy={"auto_launch_max_priority": 2, "on_scene_time_s": 0, **(policy or {})},
    )


def incident(
    incident_id: str = "inc-1", *, priority: int = 1, where: tuple[float, float] = SCENE
) -> Incident:
    now = datetime.now(UTC)
    return Incident(
        id=incident_id,
        cad_id=f"cad-{incident_id}",
        source="json",
        nature="test call",
        priority=priority,
        lat_deg=where[0],
        lon_deg=where[1],
        address="",
        notes="",
        received_at=now,
        created_at=now,
        updated_at=now,
        status=IncidentStatus.NEW,
    )


def ready_state(drone_id: str, dock: Dock, **changes: Any) -> DroneState:
    """A drone ready on its dock (link up, healthy, armable, full battery), but ``changes``."""
    base: dict[str, Any] = dict(
        drone_id=drone_id, link=LinkState.UP, updated_at=datetime.now(UTC),
        lat_deg=dock.lat, lon_deg=dock.lon, alt_amsl_m=dock.ground_alt_amsl_m, alt_rel_m=0.0,
        heading_deg=0.0, ground_speed_mps=0.0, battery_pct=100.0, battery_v=16.8, mode="hold",
        armed=False, landed=LandedState.ON_GROUND, health_ok=True, armable=True,
        home_lat_deg=dock.lat, home_lon_deg=dock.lon, home_alt_amsl_m=dock.ground_alt_amsl_m,
    )  # fmt: skip
    return DroneState(**{**base, **changes})
