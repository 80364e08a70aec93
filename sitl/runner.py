"""``dfr sim``: run the simulated fleet on PX4 SITL's ports until Ctrl-C.

The runner takes the vehicles' specs from its caller (``dfr sim --site DIR`` builds them
from the site's docks), or puts ``--drones N`` in a row east of ``--home``; every
vehicle flies ``--airframe`` (default ``sihsim_quadx``, PX4's SIH quadrotor) with the
``--param NAME=VALUE`` overrides on top. ``--signing-key HEX`` / ``--signing-key-file``
make every vehicle sign its MAVLink and take only signed messages (PX4 with a key).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from sitl.airframe import DEFAULT_AIRFRAME
from sitl.fleet import Fleet, PortPlan, VehicleSpec, Wind
from sitl.vehicle import Vehicle

if TYPE_CHECKING:
    from sitl.camera import CameraPose

logger = logging.getLogger(__name__)

SPACING_EAST_M = 5.0  # vehicle i of --drones N sits this far east of vehicle i-1
CAMERA_SIZE_PX = (640, 360)  # per vehicle; a fleet of 720p cameras would not fit 2 cores
CAMERA_FPS = 15.0


def specs_in_a_row(
    count: int,
    home: tuple[float, float, float],
    *,
    airframe: str | Path = DEFAULT_AIRFRAME,
    params: Mapping[str, float | int] | None = None,
) -> list[VehicleSpec]:
    """``count`` vehicles, vehicle 0 at ``home`` (lat, lon, alt AMSL), the others east of it."""
    lat, lon, alt = home
    m_per_deg_lon = 111_194.9 * math.cos(math.radians(lat))
    return [
        VehicleSpec(
            instance=i,
            home_lat_deg=lat,
            home_lon_deg=lon + i * SPACING_EAST_M / m_per_deg_lon,
            home_alt_amsl_m=alt,
            airframe=airframe,
            params=dict(params or {}),
        )
        for i in range(count)
    ]


def build_fleet(args: argparse.Namespace, specs: Sequence[VehicleSpec] | None = None) -> Fleet:
    """The fleet of ``specs``, or of ``args.drones`` in a row at ``args.home`` flying
    ``args.airframe`` with ``args.param`` overrides."""
    base = getattr(args, "api_port_base", PortPlan().api_remote_base)
    ports = PortPlan(api_remote_base=base).shifted(args.port_offset)
    wind_from, wind_speed = args.wind
    wind = Wind(from_deg=wind_from, speed_mps=wind_speed, gust_mps=args.gust_mps)
    if specs is None:
        count = args.drones if args.drones is not None else 1
        if count < 1:
            raise ValueError(f"--drones must be >= 1, got {count}")
        specs = specs_in_a_row(
            count, args.home, airframe=args.airframe, params=dict(args.param or [])
        )
    key: bytes | None = getattr(args, "signing_key", None)
    if key is not None:
        specs = [replace(spec, signing_key=key) for spec in specs]
    return Fleet(specs, ports=ports, speed_factor=args.speed, wind=wind)


def camera_pose_of(vehicle: Vehicle) -> Callable[[], CameraPose]:
    """The camera pose of a vehicle, read on the event loop once per frame."""
    from sitl.camera import CameraPose

    def pose() -> CameraPose:
        snap = vehicle.snapshot()
        return CameraPose(snap.lat_deg, snap.lon_deg, vehicle.motion.up_m, snap.heading_deg)

    return pose


async def _serve(args: argparse.Namespace, specs: Sequence[VehicleSpec] | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    fleet = build_fleet(args, specs)
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(fleet)
        if not args.no_camera:
            from sitl.camera import SimCamera

            for vehicle in fleet.vehicles:
                dest = (fleet.ports.host, fleet.ports.video_base + vehicle.spec.instance)
                await stack.enter_async_context(
                    SimCamera(
                        vehicle.name,
                        camera_pose_of(vehicle),
                        dest,
                        width=CAMERA_SIZE_PX[0],
                        height=CAMERA_SIZE_PX[1],
                        fps=CAMERA_FPS,
                    )
                )
                logger.info("%s: camera -> RTP %s:%d", vehicle.name, dest[0], dest[1])
        logger.info(
            "%d simulated vehicle(s) running at %gx; Ctrl-C stops", len(fleet.vehicles), args.speed
        )
        await stop.wait()
    logger.info("stopped")


def run_sim(args: argparse.Namespace, specs: Sequence[VehicleSpec] | None = None) -> int:
    """Run until SIGINT/SIGTERM; ``specs`` None: ``args.drones`` in a row (see build_fleet)."""
    asyncio.run(_serve(args, specs))
    return 0
