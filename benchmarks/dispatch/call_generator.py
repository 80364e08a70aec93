"""Seeded calls over a site, weighted toward where a city's calls cluster (for the Fort
Worth sample: downtown, the commercial corridors, the blocks around each patrol
division), and a thin scatter over the whole operating area. Another site gives its own
hotspots (``bench.yaml``, :mod:`benchmarks.dispatch.bench_file`).

Synthetic: the hotspots are drawn from a map to look like a city's call pattern, not
taken from any agency's data. The same seed gives the same calls on every machine
(``random.Random``, Gaussian offsets in metres on a local tangent plane), so two runs of
the benchmark fly the same day.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import shapely

METRES_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True, slots=True)
class Hotspot:
    name: str
    lat_deg: float
    lon_deg: float
    sigma_m: float  # one standard deviation of a call's distance from it, per axis
    weight: float  # share of the calls drawn here


# Where Fort Worth's calls cluster (weights sum to 0.92; the remaining 0.08 is the scatter).
HOTSPOTS: tuple[Hotspot, ...] = (
    Hotspot("downtown / Sundance Square", 32.7555, -97.3308, 1200.0, 0.25),
    Hotspot("Near Southside / Hemphill", 32.7050, -97.3200, 1500.0, 0.15),
    Hotspot("Stockyards / Northside", 32.7890, -97.3470, 1200.0, 0.12),
    Hotspot("East Lancaster corridor", 32.7420, -97.2650, 1800.0, 0.12),
    Hotspot("north division", 32.9000, -97.2900, 2500.0, 0.10),
    Hotspot("northwest division", 32.8450, -97.4100, 2000.0, 0.08),
    Hotspot("south division", 32.6200, -97.3770, 2000.0, 0.10),
)
PRIORITIES = (1, 1, 2, 2, 2, 3)  # DFR programs fly the urgent calls


@dataclass(frozen=True, slots=True)
class GeneratedCall:
    cad_id: str
    lat_deg: float
    lon_deg: float
    priority: int
    hotspot: str  # where it was drawn ("scatter" for the background)


def generate_calls(
    count: int,
    seed: int,
    boundary: shapely.Polygon,
    hotspots: Sequence[Hotspot] = HOTSPOTS,
) -> list[GeneratedCall]:
    """``count`` calls inside ``boundary`` (lon/lat polygon), the same for the same seed;
    the share of the hotspots' weights below 1 is scattered over the boundary's box."""
    rng = random.Random(seed)
    scatter = max(0.0, 1.0 - sum(h.weight for h in hotspots))
    weights = [h.weight for h in hotspots] + [scatter]
    min_lon, min_lat, max_lon, max_lat = boundary.bounds
    calls: list[GeneratedCall] = []
    while len(calls) < count:
        (spot,) = rng.choices([*hotspots, None], weights=weights)
        if spot is None:
            lat, lon, name = rng.uniform(min_lat, max_lat), rng.uniform(min_lon, max_lon), "scatter"
        else:
            north_m, east_m = rng.gauss(0.0, spot.sigma_m), rng.gauss(0.0, spot.sigma_m)
            lat = spot.lat_deg + north_m / METRES_PER_DEG_LAT
            lon = spot.lon_deg + east_m / (METRES_PER_DEG_LAT * math.cos(math.radians(lat)))
            name = spot.name
        if not boundary.contains(shapely.Point(lon, lat)):
            continue  # outside the operating area: drawn again
        calls.append(
            GeneratedCall(
                f"BENCH-{len(calls) + 1:04d}",
                round(lat, 6),
                round(lon, 6),
                rng.choice(PRIORITIES),
                name,
            )
        )
    return calls
