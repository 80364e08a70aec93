"""The benchmark's fleet process: ``sitl.fleet.Fleet`` with send times in positions.

    python -m benchmarks.telemetry.fleet_proc --site DIR --api-remote-base P \
        --api-local-base Q --gcs-local-base R --gcs-remote S --duration-s T

Runs the site's simulated fleet for at most ``--duration-s`` seconds, vehicles on their
docks. The ports are given one by one: with 50 vehicles PX4's default GCS port
(14550) would be vehicle 10's API port (14540 + 10), so the GCS port is moved out of
the API range and a socket bound there swallows the GCS stream. Every
GLOBAL_POSITION_INT leaves with its wall-clock send time in ``relative_alt``
(:mod:`benchmarks.telemetry.stamp`). The process prints ``ready`` once every socket is bound.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import time
from pathlib import Path
from typing import Any

import sitl.streams as streams
from benchmarks.telemetry.stamp import stamp_mm
from dfr.sim_fleet import specs_for_site
from dfr.site import load_site
from sitl.fleet import Fleet, PortPlan

_encode_position = streams.ENCODERS[streams.GLOBAL_POSITION_INT]


def stamped_position(vehicle: Any, mav: Any) -> Any:
    message = _encode_position(vehicle, mav)
    if message is not None:
        message.relative_alt = stamp_mm(time.time())
    return message


async def run(site_dir: Path, ports: PortPlan, duration_s: float) -> None:
    streams.ENCODERS[streams.GLOBAL_POSITION_INT] = stamped_position
    site = load_site(site_dir)
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind((ports.host, ports.gcs_remote))  # the GCS stream goes nowhere, quietly
    async with Fleet(specs_for_site(site, airframe="dfr_quad"), ports=ports) as fleet:
        print("ready", len(fleet.vehicles), flush=True)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(duration_s):
                await fleet.run_until_stopped()
    sink.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--site", type=Path, required=True)
    for name in ("api-remote-base", "api-local-base", "gcs-local-base", "gcs-remote"):
        parser.add_argument(f"--{name}", type=int, required=True)
    parser.add_argument("--duration-s", type=float, required=True)
    args = parser.parse_args()
    ports = PortPlan(
        gcs_local_base=args.gcs_local_base,
        gcs_remote=args.gcs_remote,
        api_local_base=args.api_local_base,
        api_remote_base=args.api_remote_base,
        video_base=args.gcs_remote + 10,
    )
    asyncio.run(run(args.site, ports, args.duration_s))


if __name__ == "__main__":
    main()
