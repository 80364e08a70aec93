"""Load the whole airspace of a site directory: ``airspace.geojson`` + every ``*.plan``."""

from __future__ import annotations

from pathlib import Path

from dfr.errors import ConfigError
from dfr.geo.airspace import Airspace
from dfr.geo.frame import LocalFrame
from dfr.geo.geojson import load_geojson_zones
from dfr.geo.qgc_plan import RallyPoint, load_plan_file
from dfr.geo.zone import Zone
from dfr.site import Site

AIRSPACE_FILE = "airspace.geojson"


def site_frame(site: Site) -> LocalFrame:
    """The site's local frame: centred on the mean of its docks."""
    lat = sum(d.lat for d in site.docks) / len(site.docks)
    lon = sum(d.lon for d in site.docks) / len(site.docks)
    return LocalFrame(lat, lon)


def load_site_airspace(site: Site) -> tuple[Airspace, tuple[RallyPoint, ...]]:
    """Read the site's zones (GeoJSON and QGC plans) into one :class:`Airspace`.

    A site without ``airspace.geojson`` and without ``.plan`` files has an empty
    airspace (allowed, logged by :class:`Airspace`). Zone ids must be unique across files.
    """
    directory = Path(site.directory)
    zones: list[Zone] = []
    sources: list[str] = []
    rally: list[RallyPoint] = []
    geojson = directory / AIRSPACE_FILE
    if geojson.exists():
        zones.extend(load_geojson_zones(geojson))
        sources.append(str(geojson))
    for plan_path in sorted(directory.glob("*.plan")):
        plan = load_plan_file(plan_path)
        zones.extend(plan.zones)
        rally.extend(plan.rally_points)
        sources.append(str(plan_path))
    seen: dict[str, str] = {}
    for zone in zones:
        if zone.id in seen:
            raise ConfigError(f"{zone.origin}: id '{zone.id}' is also used by {seen[zone.id]}")
        seen[zone.id] = zone.origin
    return Airspace(zones, site_frame(site), sources), tuple(rally)
