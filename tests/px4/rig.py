"""One vehicle for the PX4-rule tests: the simulator, or real PX4 SITL, behind one session.

The same test body runs against both (``backend`` fixture in ``conftest.py``): against
the simulator always, against real PX4 where a build is present. Times are vehicle
times: the simulator may run faster than real time (``speed_factor``); PX4 runs in real
time.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from tests.px4.px4_sitl import Px4Home, build_dir, px4_fleet
from tests.sitl.mavsdk_session import MavsdkSession, SimRig

# Fort Worth HQ dock (flightplans/fort-worth/site.yaml)
HQ = (32.680, -97.329, 200.0)
PX4_API_PORT = 14540


@dataclass
class VehicleRig:
    backend: str  # "sim" or "px4"
    session: MavsdkSession
    home: tuple[float, float, float]
    speed_factor: float  # vehicle seconds per wall second

    def wall_s(self, vehicle_s: float) -> float:
        """Wall seconds for ``vehicle_s`` of vehicle time (to bound waits)."""
        return vehicle_s / self.speed_factor


@contextlib.asynccontextmanager
async def vehicle_rig(
    backend: str,
    tmp_path: Path,
    *,
    params: dict[str, float | int] | None = None,
    sim_speed: float = 5.0,
) -> AsyncIterator[VehicleRig]:
    if backend == "sim":
        async with SimRig(speed_factor=sim_speed, params=params, home=HQ) as rig:
            yield VehicleRig("sim", rig.session, HQ, sim_speed)
        return
    build = build_dir()
    assert build is not None, "px4 backend without a PX4 build"
    async with (
        px4_fleet(build, [Px4Home(*HQ)], tmp_path / "px4", params=params),
        MavsdkSession(PX4_API_PORT) as session,
    ):
        yield VehicleRig("px4", session, HQ, 1.0)
