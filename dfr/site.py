"""A site: the docks, drones and policy of one DFR program, read from ``site.yaml``.

The airspace of the site (``airspace.geojson`` and any QGroundControl ``.plan``
files in the same directory) is loaded by :mod:`dfr.geo`; this module only reads
``site.yaml`` and checks that it is consistent. Errors name the file and the field,
e.g. ``flightplans/x/site.yaml: drones[1].dock: no dock 'hq2' (docks are: hq, north)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from dfr.errors import ConfigError
from dfr.video.source import DEFAULT_VIDEO_SOURCE, VideoSource

SITE_FILE = "site.yaml"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Latitude = Annotated[float, Field(ge=-90.0, le=90.0)]
Longitude = Annotated[float, Field(ge=-180.0, le=180.0)]


class Dock(_Model):
    """A docking station: where a drone waits, launches and lands."""

    id: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    name: str = ""
    lat: Latitude
    lon: Longitude
    ground_alt_amsl_m: float = Field(description="ground (pad) altitude above mean sea level")
    note: str = ""


class DronePerformance(_Model):
    """What the airframe can do; feeds the planner's ETA and energy model and the simulator."""

    cruise_speed_mps: float = Field(15.0, gt=0, le=40)
    max_speed_mps: float = Field(20.0, gt=0, le=50)
    climb_speed_mps: float = Field(5.0, gt=0, le=15)
    descent_speed_mps: float = Field(3.0, gt=0, le=10)
    max_wind_mps: float = Field(12.0, gt=0, le=30)
    battery_wh: float = Field(250.0, gt=0)
    hover_power_w: float = Field(300.0, gt=0, description="electrical power in hover, still air")
    cruise_power_w: float = Field(
        330.0, gt=0, description="electrical power at cruise_speed_mps, still air"
    )
    climb_power_w: float = Field(
        450.0, gt=0, description="electrical power climbing at climb_speed_mps"
    )
    reserve_pct: float = Field(20.0, ge=0, lt=100, description="energy kept back on landing")

    @model_validator(mode="after")
    def _speeds_consistent(self) -> DronePerformance:
        if self.cruise_speed_mps > self.max_speed_mps:
            raise ValueError(
                f"cruise_speed_mps ({self.cruise_speed_mps}) is above max_speed_mps "
                f"({self.max_speed_mps})"
            )
        return self


class Drone(_Model):
    id: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    dock: str
    mavlink_url: str = Field(description="MAVSDK connection URL, e.g. udpin://0.0.0.0:14540")
    sysid: int = Field(
        1,
        ge=1,
        le=255,
        description="the vehicle's MAVLink system id (PX4 MAV_SYS_ID); the link takes no "
        "other system on mavlink_url. Default: the drone's position in the file + 1 "
        "(PX4 SITL's MAV_SYS_ID = instance + 1)",
    )
    video_url: str = Field("", description="e.g. rtp://127.0.0.1:5600 or rtsp://camera/stream")
    video_source: str = Field(
        DEFAULT_VIDEO_SOURCE,
        description="for rtp://, udp:// and .sdp video: the only sender whose RTP is taken, "
        "HOST or HOST:PORT (an IP address; IPv6 as [ADDR]:PORT); datagrams from anyone else "
        "are dropped. Default 127.0.0.1, where the simulator and PX4 SITL send from",
    )
    performance: DronePerformance = DronePerformance()

    @field_validator("video_source")
    @classmethod
    def _source_parses(cls, value: str) -> str:
        VideoSource.parse(value)
        return value

    @property
    def allowed_video_source(self) -> VideoSource:
        return VideoSource.parse(self.video_source)


class Policy(_Model):
    """How the program flies: altitudes, auto-launch, on-scene behaviour."""

    cruise_alt_agl_m: float = Field(
        60.0, gt=5, le=120, description="transit altitude above the dock"
    )
    auto_launch_max_priority: int = Field(
        2, ge=0, le=5, description="calls with priority <= this launch without a pilot (0 = never)"
    )
    orbit_radius_m: float = Field(60.0, gt=5, le=500)
    orbit_speed_mps: float = Field(5.0, gt=0, le=20)
    on_scene_time_s: float = Field(600.0, ge=0)
    zone_margin_m: float = Field(
        0.0, ge=0, description="extra clearance added to every zone's own buffer_m when planning"
    )
    viewer_link_ttl_s: float = Field(
        7200.0, gt=0, le=86400, description="how long an officer's viewer link lasts unless asked"
    )
    viewer_link_max_ttl_s: float = Field(
        43200.0, gt=0, le=86400, description="the longest viewer link a pilot may share"
    )
    viewer_links_need_sign_in: bool = Field(
        False, description="an officer signs in to open a viewer link (else the link suffices)"
    )

    @model_validator(mode="after")
    def _link_ttl_within_max(self) -> Policy:
        if self.viewer_link_ttl_s > self.viewer_link_max_ttl_s:
            raise ValueError(
                f"viewer_link_ttl_s ({self.viewer_link_ttl_s:g}) exceeds "
                f"viewer_link_max_ttl_s ({self.viewer_link_max_ttl_s:g})"
            )
        return self


class SiteFile(_Model):
    name: str
    timezone: str = "UTC"
    docks: list[Dock] = Field(min_length=1)
    drones: list[Drone] = Field(min_length=1)
    policy: Policy = Policy()
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _default_sysids(cls, raw: Any) -> Any:
        """A drone without ``sysid`` is PX4 SITL instance i: MAV_SYS_ID i + 1."""
        if isinstance(raw, dict) and isinstance(raw.get("drones"), list):
            drones = [
                {**d, "sysid": i + 1} if isinstance(d, dict) and "sysid" not in d else d
                for i, d in enumerate(raw["drones"])
            ]
            raw = {**raw, "drones": drones}
        return raw

    @model_validator(mode="after")
    def _references(self) -> SiteFile:
        dock_ids = [d.id for d in self.docks]
        for kind, ids in (("docks", dock_ids), ("drones", [d.id for d in self.drones])):
            seen: set[str] = set()
            for i, ident in enumerate(ids):
                if ident in seen:
                    raise ValueError(f"{kind}[{i}].id: '{ident}' is used twice")
                seen.add(ident)
        for i, drone in enumerate(self.drones):
            if drone.dock not in dock_ids:
                raise ValueError(
                    f"drones[{i}].dock: no dock '{drone.dock}' (docks are: {', '.join(dock_ids)})"
                )
        on_url: dict[tuple[str, int], int] = {}
        for i, drone in enumerate(self.drones):
            key = (drone.mavlink_url.strip().lower(), drone.sysid)
            if key in on_url:
                raise ValueError(
                    f"drones[{i}].sysid: {drone.sysid} is already drones[{on_url[key]}]'s on "
                    f"{drone.mavlink_url} (one system id per vehicle on a link)"
                )
            on_url[key] = i
        return self


class Site:
    """A loaded site: ``site.yaml`` contents plus the directory it came from."""

    def __init__(self, directory: Path, data: SiteFile) -> None:
        self.directory = directory
        self.data = data

    @property
    def name(self) -> str:
        return self.data.name

    @property
    def docks(self) -> list[Dock]:
        return self.data.docks

    @property
    def drones(self) -> list[Drone]:
        return self.data.drones

    @property
    def policy(self) -> Policy:
        return self.data.policy

    def dock(self, dock_id: str) -> Dock:
        for dock in self.data.docks:
            if dock.id == dock_id:
                return dock
        raise ConfigError(f"{self.directory / SITE_FILE}: no dock '{dock_id}'")

    def dock_of(self, drone: Drone) -> Dock:
        return self.dock(drone.dock)


def _format_validation_error(path: Path, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ""
        for part in err["loc"]:
            loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {loc or '(top level)'}: {msg}")
    return "\n".join(lines)


def parse_site(path: Path, raw: Any) -> SiteFile:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    try:
        return SiteFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(path, exc)) from exc


def load_site(directory: Path | str) -> Site:
    """Read and validate ``DIR/site.yaml``; raise :class:`ConfigError` naming file and field."""
    directory = Path(directory)
    path = directory / SITE_FILE
    if not directory.is_dir():
        raise ConfigError(f"{directory}: not a directory (a site is a directory with {SITE_FILE})")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: missing (every site directory needs a {SITE_FILE})") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    return Site(directory, parse_site(path, raw))
