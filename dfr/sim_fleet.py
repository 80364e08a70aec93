"""A site's drones as simulated vehicles, for ``dfr demo`` and ``dfr sim --site``.

The simulator (``sitl``) knows nothing about sites: like PX4 SITL it takes a home, an
airframe file and parameter overrides per instance. This module is the launch script
that turns a site into those (PX4's multi-vehicle scripts do it with ``PX4_HOME_LAT``/
``LON``/``ALT``): drone *i* of the site becomes instance *i*, named by the drone's id, at
its dock, with the site's ``sysid`` as its MAV_SYS_ID. What the vehicle can do comes from the airframe, never from the site's
``performance`` figures; those stay the planner's belief, and a simulator that flew them
could not show the planner wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from dfr.site import Site
from sitl.airframe import DEFAULT_AIRFRAME
from sitl.spec import PortPlan, VehicleSpec

logger = logging.getLogger(__name__)

_SITL_PORTS = PortPlan()


def specs_for_site(
    site: Site,
    *,
    airframe: str | Path = DEFAULT_AIRFRAME,
    params: Mapping[str, float | int] | None = None,
    signing_key: bytes | None = None,
    api_port_base: int = _SITL_PORTS.api_remote_base,
) -> list[VehicleSpec]:
    """One vehicle per site drone, in order, at its dock (ground altitude AMSL), flying
    ``airframe`` with the PX4 parameter overrides ``params`` (MAV_SYS_ID: the drone's
    ``sysid``), signing its MAVLink with ``signing_key`` when one is given."""
    specs = []
    for instance, drone in enumerate(site.drones):
        _check_site_url(drone.id, drone.mavlink_url, instance, api_port_base + instance)
        dock = site.dock_of(drone)
        specs.append(
            VehicleSpec(
                instance=instance,
                home_lat_deg=dock.lat,
                home_lon_deg=dock.lon,
                home_alt_amsl_m=dock.ground_alt_amsl_m,
                name=drone.id,
                airframe=airframe,
                params={**dict(params or {}), "MAV_SYS_ID": drone.sysid},
                signing_key=signing_key,
            )
        )
    return specs


def _check_site_url(drone_id: str, url: str, instance: int, expected: int) -> None:
    """Warn when a site's ``udpin://host:port`` is not the port the drone's simulated
    instance sends its API link to (the service would listen where this vehicle does not
    send)."""
    port_text = url.rsplit(":", 1)[-1]
    if not url.startswith("udp") or not port_text.isdigit():
        return
    if int(port_text) != expected:
        logger.warning(
            "%s: mavlink_url %s, but simulated instance %d sends to port %d (+ port offset)",
            drone_id,
            url,
            instance,
            expected,
        )
