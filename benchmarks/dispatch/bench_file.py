"""What the dispatch benchmark reads besides the site: ``bench.yaml`` in the site directory.

    airframes:            # drone id -> the sitl airframe its simulated vehicle flies
      pr2: dfr_quad       # (default for a drone not named: sitl's DEFAULT_AIRFRAME)
    hotspots:             # where the calls cluster (default: Fort Worth's)
      - {name: downtown, lat: 31.9565, lon: -98.0389, sigma_m: 900, weight: 0.22}

The service never reads it: what a vehicle flies is the simulator's business (PX4 SITL
takes it from its environment), and the calls are the benchmark's. A site without the
file is flown as before: every drone on the default airframe, Fort Worth's hotspots.
Errors name the file and the field, as the site's own do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from benchmarks.dispatch.call_generator import HOTSPOTS, Hotspot
from dfr.errors import ConfigError
from dfr.site import Site
from sitl.airframe import DEFAULT_AIRFRAME, load_airframe

BENCH_FILE = "bench.yaml"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Hotspot(_Model):
    name: str
    lat: Annotated[float, Field(ge=-90.0, le=90.0)]
    lon: Annotated[float, Field(ge=-180.0, le=180.0)]
    sigma_m: Annotated[float, Field(gt=0)]
    weight: Annotated[float, Field(gt=0, le=1)]


class _BenchFile(_Model):
    airframes: dict[str, str] = {}
    hotspots: list[_Hotspot] | None = None


@dataclass(frozen=True, slots=True)
class SiteBench:
    airframes: dict[str, str]  # every drone of the site -> its airframe
    hotspots: tuple[Hotspot, ...]


def load_bench(site: Site) -> SiteBench:
    """``bench.yaml`` of ``site`` (defaults when there is none), checked against the site."""
    path = site.directory / BENCH_FILE
    data = _BenchFile()
    if path.exists():
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        try:
            data = _BenchFile.model_validate(raw or {})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ""
            for part in first["loc"]:
                where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else part)
            raise ConfigError(f"{path}: {where or '(top level)'}: {first['msg']}") from exc
    drone_ids = [d.id for d in site.drones]
    for drone_id, airframe in data.airframes.items():
        if drone_id not in drone_ids:
            raise ConfigError(
                f"{path}: airframes.{drone_id}: no such drone (drones are: {', '.join(drone_ids)})"
            )
        try:
            load_airframe(airframe)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: airframes.{drone_id}: {exc}") from exc
    hotspots = (
        HOTSPOTS
        if data.hotspots is None
        else tuple(Hotspot(h.name, h.lat, h.lon, h.sigma_m, h.weight) for h in data.hotspots)
    )
    if sum(h.weight for h in hotspots) > 1.0 + 1e-9:
        raise ConfigError(f"{path}: hotspots: weights add up to more than 1")
    airframes = {d: data.airframes.get(d, str(DEFAULT_AIRFRAME)) for d in drone_ids}
    return SiteBench(airframes, hotspots)
