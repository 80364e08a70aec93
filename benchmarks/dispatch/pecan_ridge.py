"""Writes ``benchmarks/dispatch/sites/pecan-ridge/``: a fictional city whose docks' reach
overlaps, with no-fly zones between them, for the dispatch benchmark.

    .venv/bin/python -m benchmarks.dispatch.pecan_ridge          # rewrites the directory

Pecan Ridge, Texas is invented (the place, the agencies, the airport, the college, the
jail); its coordinates are somewhere in central Texas, its altitudes are that country's
(290-310 m AMSL). Four docks 4-6 km apart, so most calls are within reach of two or
three drones, and four zones where a city has them, placed so that the straight line
from the nearest dock often crosses one:

- a regional airport's runway core (a capsule along runway 17/35), between the
  headquarters, the north and the east docks;
- a college stadium's event-day closure, between headquarters, north and west;
- a state jail (Texas law, Government Code chapter 423, restricts flying low over
  correctional facilities; closed up to 400 ft here), straight between headquarters
  and the east dock;
- a hospital heliport.

The north dock has the program's newer, faster airframe (``sitl`` ``dfr_quad``, 15 m/s
cruise); the other three fly PX4 SIH's default quadrotor (``sihsim_quadx``, 9.7 m/s).
The site files (``site.yaml``, ``airspace.geojson``) are the ordinary site format, and
``dfr serve --site`` loads them; ``bench.yaml`` is the benchmark's: what each simulated
vehicle flies and where the calls cluster.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import shapely
import yaml

from dfr.geo.frame import LocalFrame

SITE_DIR = Path(__file__).resolve().parent / "sites" / "pecan-ridge"
ORIGIN_LAT_DEG, ORIGIN_LON_DEG = 31.9520, -98.0410  # courthouse square
FAST, SLOW = "dfr_quad", "sihsim_quadx"

# id, name, (x east, y north) m from the courthouse square, ground AMSL m, airframe
DOCKS = (
    ("hq", "PRPD Headquarters, 200 N Main St", (0.0, 0.0), 301.0, SLOW),
    ("north", "PRPD North Substation, Ranch Road 1602", (900.0, 5200.0), 309.0, FAST),
    ("east", "Eastgate Fire Station 4 (shared dock)", (5300.0, 600.0), 296.0, SLOW),
    ("west", "PRPD West Substation, FM 219", (-4600.0, 1200.0), 305.0, SLOW),
)
PERFORMANCE = {  # the planner's belief; the vehicle's own parameters cap it at connect
    FAST: {
        "cruise_speed_mps": 15.0,
        "max_speed_mps": 20.0,
        "climb_speed_mps": 5.0,
        "descent_speed_mps": 3.0,
    },
    SLOW: {  # PX4 SIH: tilt-limited at 9.8 m/s, MPC_Z_V_AUTO_UP 3, MPC_Z_V_AUTO_DN 1.5
        "cruise_speed_mps": 9.7,
        "max_speed_mps": 12.0,
        "climb_speed_mps": 3.0,
        "descent_speed_mps": 1.5,
    },
}
ENERGY = {  # both airframes' battery model (sitl/airframes)
    "max_wind_mps": 12.0,
    "battery_wh": 250.0,
    "hover_power_w": 300.0,
    "cruise_power_w": 330.0,
    "climb_power_w": 450.0,
    "reserve_pct": 20.0,
}
CITY_LIMITS_XY = (
    (-8500.0, -5500.0),
    (1500.0, -7000.0),
    (9500.0, -4000.0),
    (10000.0, 4500.0),
    (5000.0, 10000.0),
    (-3000.0, 9500.0),
    (-9000.0, 4500.0),
)
RUNWAY_XY = ((3060.0, 2010.0), (2740.0, 3790.0))  # runway 17/35, 1.8 km, heading 170
RUNWAY_CORE_M = 700.0  # the no-fly core around the runway centreline (agency policy)
JAIL_XY = ((2150.0, -80.0), (3030.0, -40.0), (3050.0, 560.0), (2170.0, 600.0))
# name, (x, y), weight, sigma m: weights sum to 0.92, the rest is scatter over the city
HOTSPOTS = (
    ("downtown / courthouse square", (200.0, 500.0), 0.22, 900.0),
    ("Hollis College / stadium district", (-1800.0, 1800.0), 0.12, 900.0),
    ("Eastgate retail corridor", (4300.0, 1500.0), 0.14, 1200.0),
    ("North Ridge neighbourhoods", (1500.0, 4300.0), 0.12, 1500.0),
    ("west industrial park", (-4000.0, 300.0), 0.10, 1200.0),
    ("south side / Loop 16", (700.0, -3200.0), 0.12, 1300.0),
    ("airport business park", (4800.0, 3800.0), 0.10, 900.0),
)


def _lonlat(frame: LocalFrame, points: Any) -> list[list[float]]:
    coords = frame.xy_to_lonlat(shapely.get_coordinates(points))
    return [[round(float(lon), 7), round(float(lat), 7)] for lon, lat in coords]


def _polygon(frame: LocalFrame, polygon: shapely.Polygon) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [_lonlat(frame, polygon.exterior)]}


def _point(frame: LocalFrame, xy: tuple[float, float]) -> dict[str, Any]:
    lat, lon = frame.to_latlon(*xy)
    return {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}


def _feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def airspace(frame: LocalFrame) -> dict[str, Any]:
    runway_core = shapely.LineString(RUNWAY_XY).buffer(RUNWAY_CORE_M, quad_segs=8)
    features = [
        _feature(
            _polygon(frame, shapely.Polygon(CITY_LIMITS_XY)),
            kind="boundary",
            id="pr-city-limits",
            name="Pecan Ridge PD operating area (city limits)",
            buffer_m=200,
            source="fictional city limits, drawn for this benchmark site",
        ),
        _feature(
            _polygon(frame, runway_core),
            kind="no_fly",
            id="prr-runway-core",
            name="Pecan Ridge Regional Airport, runway 17/35 core",
            buffer_m=150,
            source="fictional airport; the no-fly core (700 m either side of the runway "
            "centreline and beyond its ends) is this site's agency policy, the shape a "
            "UAS facility map's 0 ft cells take around a runway",
        ),
        _feature(
            _point(frame, (-2000.0, 2600.0)),
            kind="no_fly",
            id="bearcat-stadium",
            name="Hollis College Bearcat Stadium event-day closure",
            radius_m=800,
            buffer_m=50,
            source="fictional venue; a city ordinance closure, always on here (the "
            "benchmark assumes game day). A 14 CFR 99.7 stadium TFR would be 3 NM and "
            "cover most of the city",
        ),
        _feature(
            _polygon(frame, shapely.Polygon(JAIL_XY)),
            kind="no_fly",
            id="coyote-creek-jail",
            name="Coyote Creek State Jail",
            buffer_m=50,
            ceiling_m=122,
            source="fictional facility; Texas Government Code ch. 423 restricts low "
            "flight over correctional facilities: closed up to 400 ft AGL here",
        ),
        _feature(
            _point(frame, (-900.0, -1300.0)),
            kind="no_fly",
            id="st-brigid-heliport",
            name="St. Brigid Medical Center heliport",
            radius_m=300,
            buffer_m=50,
            source="fictional hospital; 300 m pad core is this site's policy",
        ),
    ]
    return {"type": "FeatureCollection", "features": features}


def site(frame: LocalFrame) -> dict[str, Any]:
    docks, drones = [], []
    for i, (dock_id, name, xy, ground_m, airframe) in enumerate(DOCKS):
        lat, lon = frame.to_latlon(*xy)
        docks.append(
            {
                "id": dock_id,
                "name": name,
                "lat": round(lat, 6),
                "lon": round(lon, 6),
                "ground_alt_amsl_m": ground_m,
            }
        )
        drones.append(
            {
                "id": f"pr{i + 1}",
                "dock": dock_id,
                "mavlink_url": f"udpin://0.0.0.0:{14540 + i}",
                "video_url": f"rtp://127.0.0.1:{5600 + i}",
                "performance": {**PERFORMANCE[airframe], **ENERGY},
            }
        )
    return {
        "name": "Pecan Ridge PD (fictional benchmark site)",
        "timezone": "America/Chicago",
        "note": "A fictional city for the dispatch benchmark (benchmarks/dispatch/"
        "pecan_ridge.py writes this file): four docks 4-6 km apart whose reach overlaps, "
        "an airport, a stadium, a jail and a heliport between them. pr2 at the north "
        "substation is the faster airframe (15 m/s); the others fly 9.7 m/s.",
        "docks": docks,
        "drones": drones,
        "policy": {
            "cruise_alt_agl_m": 60,
            "auto_launch_max_priority": 1,
            "orbit_radius_m": 60,
            "orbit_speed_mps": 5,
            "on_scene_time_s": 600,
            "zone_margin_m": 20,
        },
    }


def bench(frame: LocalFrame) -> dict[str, Any]:
    hotspots = []
    for name, xy, weight, sigma_m in HOTSPOTS:
        lat, lon = frame.to_latlon(*xy)
        hotspots.append(
            {
                "name": name,
                "lat": round(lat, 6),
                "lon": round(lon, 6),
                "sigma_m": sigma_m,
                "weight": weight,
            }
        )
    return {
        "airframes": {f"pr{i + 1}": dock[4] for i, dock in enumerate(DOCKS)},
        "hotspots": hotspots,
    }


def write(directory: Path = SITE_DIR) -> None:
    frame = LocalFrame(ORIGIN_LAT_DEG, ORIGIN_LON_DEG)
    directory.mkdir(parents=True, exist_ok=True)
    header = "# Written by benchmarks/dispatch/pecan_ridge.py: edit that, not this.\n"
    for name, data in (("site.yaml", site(frame)), ("bench.yaml", bench(frame))):
        text = header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=88)
        (directory / name).write_text(text, encoding="utf-8")
    text = json.dumps(airspace(frame), indent=1) + "\n"
    (directory / "airspace.geojson").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write()
    print(SITE_DIR)
