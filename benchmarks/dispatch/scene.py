"""A synthetic dispatch site: N docked drones spread over a square, M no-fly zones.

Written as a real site directory (``site.yaml`` + ``airspace.geojson``) so the service
loads it the way it loads any site. Zones are the planner benchmark's random star
polygons (non-overlapping) with a 30 m buffer; docks and calls are random points clear
of every buffered zone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import shapely
import yaml

from benchmarks.planner.scenes import random_free_points, random_scene
from dfr.geo.frame import LocalFrame

ORIGIN_LAT_DEG, ORIGIN_LON_DEG = 32.75, -97.33  # Fort Worth
ZONE_BUFFER_M = 30.0


@dataclass(frozen=True, slots=True)
class Scene:
    directory: Path
    calls_latlon: list[tuple[float, float]]
    n_drones: int
    n_zones: int


def write_scene(
    directory: Path,
    *,
    n_drones: int,
    n_zones: int,
    n_calls: int,
    size_m: float,
    udp_base: int,
    auto_launch_max_priority: int = 0,
    seed: int = 11,
) -> Scene:
    frame = LocalFrame(ORIGIN_LAT_DEG, ORIGIN_LON_DEG)
    half_m = size_m / 2.0
    polys = random_scene(n_zones, seed=seed, size_m=size_m) if n_zones else []
    features = []
    for i, poly in enumerate(polys):
        lonlat = frame.xy_to_lonlat(shapely.get_coordinates(poly.exterior) - half_m)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [lonlat.tolist()]},
                "properties": {
                    "kind": "no_fly",
                    "name": f"zone {i}",
                    "id": f"z{i}",
                    "buffer_m": ZONE_BUFFER_M,
                },
            }
        )
    clear = [p.buffer(ZONE_BUFFER_M + 25.0) for p in polys]
    docks_xy = random_free_points(clear, n_drones, seed=seed + 1, size_m=size_m)
    calls_xy = random_free_points(clear, n_calls, seed=seed + 2, size_m=size_m)
    docks, drones = [], []
    for i, (x, y) in enumerate(docks_xy):
        lat, lon = frame.to_latlon(x - half_m, y - half_m)
        docks.append({"id": f"dock{i}", "lat": lat, "lon": lon, "ground_alt_amsl_m": 200.0})
        drones.append(
            {
                "id": f"uav{i}",
                "dock": f"dock{i}",
                "mavlink_url": f"udpin://127.0.0.1:{udp_base + i}",
            }
        )
    site = {
        "name": f"bench {n_drones} drones {n_zones} zones",
        "docks": docks,
        "drones": drones,
        "policy": {"auto_launch_max_priority": auto_launch_max_priority},
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "site.yaml").write_text(yaml.safe_dump(site, sort_keys=False), encoding="utf-8")
    if features:
        (directory / "airspace.geojson").write_text(
            json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
        )
    calls = [frame.to_latlon(x - half_m, y - half_m) for x, y in calls_xy]
    return Scene(directory, calls, n_drones, n_zones)
