"""The site a scenario's service flies: a copy of the scenario's site, written to the run's
own directory, with the scenario's policy overrides, only the scenario's drones, and each
drone's MAVLink URL pointed at the runner's relay (so the runner can cut the link) and
its video URL at the simulator's shifted camera port.

The service's timers run on real time while the scenario runs on vehicle time: the copy's
``on_scene_time_s`` is divided by the speed factor, so that a drone stays over the scene
for the site's time as the vehicle counts it (the dispatcher's on-scene energy is then
that much smaller; a scenario that needs it exact sets ``on_scene_time_s: 0`` and sends
the drone home with a pilot ``return``)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dfr.scenario.scenario_file import Scenario

SITL_API_PORT = 14540  # PX4 SITL: vehicle i sends its API link to 14540 + i
SITL_VIDEO_PORT = 5600


@dataclass(frozen=True, slots=True)
class SiteCopy:
    directory: Path
    drone_ids: tuple[str, ...]  # in instance order: drone i is simulated instance i
    raw: Mapping[str, Any]
    airspace: Mapping[str, Any]


def _read_site(scenario: Scenario) -> tuple[dict[str, Any], dict[str, Any], Path | None]:
    choice = scenario.site
    if choice.directory is None:
        assert choice.inline_site is not None and choice.inline_airspace is not None
        return dict(choice.inline_site), dict(choice.inline_airspace), None
    raw = yaml.safe_load((choice.directory / "site.yaml").read_text(encoding="utf-8"))
    airspace_file = choice.directory / "airspace.geojson"
    airspace = (
        json.loads(airspace_file.read_text(encoding="utf-8"))
        if airspace_file.is_file()
        else {"type": "FeatureCollection", "features": []}
    )
    return dict(raw), airspace, choice.directory


def write_site_copy(
    scenario: Scenario,
    directory: Path,
    service_ports: Sequence[int] | None,
    sim_offset: int,
    speed_factor: float = 1.0,
    video_ports: Sequence[int] | None = None,
) -> SiteCopy:
    """Write the copy to ``directory``; drone *i* listens on ``service_ports[i]`` (the relay
    sends there) or, with None, on PX4 SITL's port for instance *i* + ``sim_offset``; its
    video likewise on ``video_ports[i]`` or the simulator's camera port."""
    raw, airspace, source = _read_site(scenario)
    drones = list(raw.get("drones", []))
    wanted = scenario.fleet.drones
    if wanted is not None:
        known = {d["id"] for d in drones}
        missing = [d for d in wanted if d not in known]
        if missing:
            raise ValueError(f"fleet: the site has no drone(s) {missing}")
        drones = [d for d in drones if d["id"] in wanted]
    copied = []
    for instance, drone in enumerate(drones):
        port = (
            service_ports[instance]
            if service_ports is not None
            else SITL_API_PORT + instance + sim_offset
        )
        video_port = (
            video_ports[instance]
            if video_ports is not None
            else SITL_VIDEO_PORT + instance + sim_offset
        )
        copied.append(
            {
                **drone,
                "sysid": drone.get("sysid", instance + 1),
                "mavlink_url": f"udpin://127.0.0.1:{port}",
                "video_url": f"rtp://127.0.0.1:{video_port}",
            }
        )
    raw["drones"] = copied
    policy = {**raw.get("policy", {}), **scenario.site.policy}
    if "on_scene_time_s" in policy:
        policy["on_scene_time_s"] = float(policy["on_scene_time_s"]) / speed_factor
    raw["policy"] = policy
    directory.mkdir(parents=True, exist_ok=True)
    if source is not None:  # QGC .plan files beside the site are part of it
        for plan in source.glob("*.plan"):
            shutil.copy(plan, directory / plan.name)
    (directory / "site.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    (directory / "airspace.geojson").write_text(json.dumps(airspace), encoding="utf-8")
    return SiteCopy(directory, tuple(d["id"] for d in copied), raw, airspace)
