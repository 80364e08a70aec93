"""Run ONE mavsdk 4.1.0 Action command that PX4 main refuses, in a throwaway process.

``Action.goto_location`` (DO_REPOSITION, frame 0) and ``Action.do_orbit`` (DO_ORBIT,
frame 3) are refused by PX4 main with COMMAND_ACK result 9
(MAV_RESULT_COMMAND_UNSUPPORTED_MAV_FRAME, reference §0). mavsdk 4.1.0 does not know
result 9: the first ack returns ``ActionError(UNKNOWN)`` as documented, but the command
stays in MAVSDK's queue, every retransmission's ack re-enters the callback, MAVSDK's
callback thread stalls ("Callback took more than 1 second", "Dropping subscription
callbacks") and the next command with the same id never completes. That poisons the
whole Mavsdk instance (against real PX4 main exactly as against the simulator), so the
tests run each refused call here, print the result, and leave with ``os._exit``.

    python -m tests.sitl.mavsdk_refusal PORT goto|orbit LAT LON ALT_AMSL_M
prints ``result <ActionResult name>`` (or ``result SUCCESS``) on stdout.
"""

from __future__ import annotations

import asyncio
import os
import sys

from mavsdk.asyncio import ComponentType, Configuration, Mavsdk
from mavsdk.asyncio.plugins.action import ActionAsync, ActionError, OrbitYawBehavior


async def _run(port: int, what: str, lat_deg: float, lon_deg: float, alt_amsl_m: float) -> str:
    mavsdk = Mavsdk(Configuration.create_with_component_type(ComponentType.GROUND_STATION))
    await mavsdk.add_any_connection(f"udpin://127.0.0.1:{port}")
    system = await mavsdk.first_autopilot(timeout_s=20.0)
    if system is None:
        return "no-autopilot"
    action = ActionAsync(system)
    try:
        if what == "goto":
            await action.goto_location(lat_deg, lon_deg, alt_amsl_m, 0.0)
        else:
            await action.do_orbit(
                20.0,
                3.0,
                OrbitYawBehavior.HOLD_FRONT_TO_CIRCLE_CENTER,
                lat_deg,
                lon_deg,
                alt_amsl_m,
            )
    except ActionError as exc:
        return str(exc.result.name)
    return "SUCCESS"


async def _run_and_exit(port: int, what: str, lat: float, lon: float, alt: float) -> None:
    result = await _run(port, what, lat, lon, alt)
    sys.stdout.write(f"result {result}\n")
    sys.stdout.flush()
    os._exit(0)  # do not tear down a Mavsdk instance that result 9 has wedged


def main() -> None:
    port, what = int(sys.argv[1]), sys.argv[2]
    lat_deg, lon_deg, alt_amsl_m = (float(x) for x in sys.argv[3:6])
    asyncio.run(_run_and_exit(port, what, lat_deg, lon_deg, alt_amsl_m))


if __name__ == "__main__":
    main()
