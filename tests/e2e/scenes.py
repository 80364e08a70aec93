"""Test scenes for whole-path tests, in plain numbers.

The wall scene: the scene S, dock A 1.5 km south of it behind a 6 km no-fly wall, dock B
2.5 km east with a clear line. Straight-line nearest is A; ETA-best is B.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.harness import write_site

SCENE = (47.40, 8.55)
M_PER_DEG_LAT = 111_200.0
M_PER_DEG_LON = 75_300.0  # at 47.4° N
DOCK_A = (SCENE[0] - 1500 / M_PER_DEG_LAT, SCENE[1])
DOCK_B = (SCENE[0], SCENE[1] + 2500 / M_PER_DEG_LON)
WALL_BUFFER_M = 50.0


def offset_ll(x_m: float, y_m: float) -> tuple[float, float]:
    """(lat, lon) of a point x metres east and y metres north of the scene."""
    return SCENE[0] + y_m / M_PER_DEG_LAT, SCENE[1] + x_m / M_PER_DEG_LON


def _lonlat(x_m: float, y_m: float) -> list[float]:
    lat, lon = offset_ll(x_m, y_m)
    return [lon, lat]


WALL = [
    _lonlat(-3000, -900),
    _lonlat(3000, -900),
    _lonlat(3000, -600),
    _lonlat(-3000, -600),
    _lonlat(-3000, -900),
]
INSIDE_WALL = offset_ll(0, -750)


def wall_site(
    directory: Path,
    *,
    drones: list[dict[str, Any]] | None = None,
    policy: dict[str, Any] | None = None,
) -> Path:
    return write_site(
        directory,
        docks=[
            {"id": "a", "lat": DOCK_A[0], "lon": DOCK_A[1], "ground_alt_amsl_m": 488.0},
            {"id": "b", "lat": DOCK_B[0], "lon": DOCK_B[1], "ground_alt_amsl_m": 488.0},
        ],
        drones=drones or [{"id": "near", "dock": "a"}, {"id": "far", "dock": "b"}],
        airspace=[
            {
                "type": "Feature",
                "properties": {"kind": "no_fly", "name": "test wall", "buffer_m": WALL_BUFFER_M},
                "geometry": {"type": "Polygon", "coordinates": [WALL]},
            }
        ],
        policy={
            "auto_launch_max_priority": 2,
            "on_scene_time_s": 0,
            "orbit_radius_m": 60,
            "orbit_speed_mps": 5,
            "cruise_alt_agl_m": 60,
            **(policy or {}),
        },
    )


def call(cad_id: str, priority: int = 1, where: tuple[float, float] = SCENE) -> dict[str, Any]:
    return {
        "cad_id": cad_id,
        "nature": "test call",
        "priority": priority,
        "location": {"lat": where[0], "lon": where[1]},
    }
