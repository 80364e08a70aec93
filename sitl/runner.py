"""``dfr sim``: run the simulated fleet on PX4 SITL's ports until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import signal

from dfr.site import load_site
from sitl.fleet import Fleet, PortPlan, VehicleSpec, Wind

logger = logging.getLogger(__name__)

SPACING_EAST_M = 5.0   # vehicle i of --drones N sits this far east of vehicle i-1


def specs_in_a_row(count: int, home: tuple[float, float, float]) -> list[VehicleSpec]:
    lat, lon, alt = home
    m_per_deg_lon = 111_194.9 * math.cos(math.radians(lat))
    return [
        VehicleSpec(instance=i, home_lat_deg=lat,
                    home_lon_deg=lon + i * SPACING_EAST_M / m_per_deg_lon, home_alt_amsl_m=alt)
        for i in range(count)
    ]


def build_fleet(args: argparse.Namespace) -> Fleet:
    ports = PortPlan().shifted(args.port_offset)
    wind_from, wind_speed = args.wind
    wind = Wind(from_deg=wind_from, speed_mps=wind_speed, gust_mps=args.gust_mps)
    options = {"ports": ports, "speed_factor": args.speed, "wind": wind}
    if args.site:
        return Fleet.from_site(load_site(args.site), **options)
    count = args.drones if args.drones is not None else 1
    if count < 1:
        raise ValueError(f"--drones must be >= 1, got {count}")
    return Fleet(specs_in_a_row(count, args.home), **options)


async def _serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    fleet = build_fleet(args)
    async with fleet:
        logger.info("%d simulated vehicle(s) running at %gx; Ctrl-C stops",
                    len(fleet.vehicles), args.speed)
        await stop.wait()
    logger.info("stopped")


def run_sim(args: argparse.Namespace) -> int:
    asyncio.run(_serve(args))
    return 0
