"""Bodies of the fleet and the site: drones, docks, airspace, the caller."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from dfr.api.schemas.common import BodyOut
from dfr.planning.vehicle_limits import VehicleLimits
from dfr.site import DronePerformance, Policy


class LinkWarningOut(BodyOut):
    kind: str
    sysid: int
    message: str
    action: str
    t: str


class LinkWorkerOut(BodyOut):
    index: int
    pid: int | None = Field(description="its process id (null while it is being started again)")
    starts: int = Field(description="processes started so far: 1, plus one per restart")


class DroneOut(BodyOut):
    """A drone's latest telemetry (as on ``/ws/telemetry``, without ``type``) and its
    figures. Numbers the vehicle has not reported yet are null."""

    drone_id: str
    t: str
    lat: float | None
    lon: float | None
    alt_amsl_m: float | None
    alt_rel_m: float | None
    heading_deg: float | None
    ground_speed_mps: float | None
    battery_pct: float | None
    mode: str
    armed: bool
    landed: str
    link: str = Field(description="connecting | up | lost | closed")
    health_ok: bool
    armable: bool
    flight_id: str | None
    phase: str
    id: str
    dock_id: str
    performance: DronePerformance = Field(description="the site's figures")
    vehicle_limits: VehicleLimits | None = Field(
        description="what the vehicle's own parameters allow (null until read); "
        "a limit the vehicle does not have is null"
    )
    planned_performance: DronePerformance = Field(description="the figures ETAs are planned with")
    limits_disagreements: list[str]
    sysid: int = Field(description="the only MAVLink system id taken for this drone")
    link_warnings: list[LinkWarningOut] = Field(
        description="what else speaks on the drone's link (other system ids: never taken)"
    )
    link_worker: LinkWorkerOut | None = Field(
        None, description="the process that holds the drone's MAVSDK link (null: the service's own)"
    )


class DockHoldOut(BodyOut):
    reason: str
    by: str = Field(description="who put the dock on hold")
    at: str = Field(description="when, ISO 8601 UTC")


class DockOut(BodyOut):
    id: str
    name: str
    lat: float
    lon: float
    ground_alt_amsl_m: float
    drones: list[str]
    drones_away: list[str]
    weather_hold: bool = Field(description="the wind is above a drone's limit here")
    hold: DockHoldOut | None = Field(
        description="a person put the dock on hold (null: not on hold); its drones take no call"
    )
    state: Literal["ready", "drone_away", "weather_hold", "on_hold"] = Field(
        description="on_hold (a person's hold) before weather_hold (the wind) before drone_away"
    )


class ActiveWindowOut(BodyOut):
    start: str
    end: str


class ZonePropertiesOut(BodyOut):
    id: str
    kind: str = Field(description="no_fly | ceiling | boundary")
    name: str
    source: str
    buffer_m: float
    floor_m: float | None
    ceiling_m: float | None
    datum: str
    active: bool
    active_windows: list[ActiveWindowOut] | None = Field(
        None, description="only for time-windowed zones"
    )
    radius_m: float | None = Field(None, description="only for circles")


class ZoneOut(BodyOut):
    type: Literal["Feature"]
    geometry: dict[str, Any] = Field(description="GeoJSON geometry, lon/lat")
    properties: ZonePropertiesOut


class AirspaceOut(BodyOut):
    """Every zone of the site as a GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"]
    features: list[ZoneOut]


class MeOut(BodyOut):
    name: str
    role: str = Field(description="viewer | supervisor | pilot | admin")


class MapOut(BodyOut):
    """How the console and the viewer draw their map's background."""

    tile_url: str | None = Field(
        description="an XYZ tile URL template ({z}/{x}/{y}) the browser fetches tiles from; "
        "null: no tiles, a plain background (works offline)"
    )
    attribution: str = Field(description="the tile server's credit (HTML), shown on the map")


class SiteOut(BodyOut):
    name: str
    timezone: str
    policy: Policy
    map: MapOut
