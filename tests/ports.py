"""Free UDP ports for a simulated fleet: PX4 SITL's ports shifted by an offset.

Offsets are picked below the kernel's ephemeral range (32768 and up on Linux), where
nothing binds a port by chance: a fleet's ports collide only with another fleet of this
run, and a port bound now is never picked. Test processes run side by side (pytest-xdist),
so the pick is random and checked, not counted.
"""

from __future__ import annotations

import os
import random
import socket

# PX4 SITL's bases (ARCHITECTURE.md): API 14540+i, GCS 14550, vehicle API 14580+i,
# vehicle GCS 18570+i, camera 5600+i
BASES = (14540, 14550, 14580, 18570, 5600)
OFFSET_MIN, OFFSET_MAX, OFFSET_STEP = 1_000, 14_000, 10  # 18570+14000+9 < 32768
VEHICLES_MAX = 10  # offsets 10 apart must not share a port


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_offset(vehicle_count: int = 4, bases: tuple[int, ...] = BASES) -> int:
    """An offset whose ports for ``vehicle_count`` vehicles (from each of ``bases``) are
    all free now. More than VEHICLES_MAX vehicles: pass bases that keep the blocks apart
    (a fleet from dfr.fleet_site, API base 15540)."""
    if vehicle_count < 1 or (vehicle_count > VEHICLES_MAX and bases == BASES):
        raise ValueError(f"vehicle_count {vehicle_count}: 1..{VEHICLES_MAX} on PX4's bases")
    rng = random.Random(os.urandom(8))
    for _ in range(100):
        offset = rng.randrange(OFFSET_MIN, OFFSET_MAX, OFFSET_STEP)
        wanted = {base + offset + i for base in bases for i in range(vehicle_count)}
        if all(_udp_free(port) for port in wanted):
            return offset
    raise RuntimeError(f"no free block of UDP ports in offsets {OFFSET_MIN}..{OFFSET_MAX}")
