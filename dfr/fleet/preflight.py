"""A sortie's start: the preflight (uploads, wait for armable), the launch (arm, start the
mission) and what a launch that failed leaves behind.

:func:`preflight` runs while the flight is ``docked``: it ends in ``launching`` with the
vehicle taking off, or in ``aborted`` (nothing flew: the call goes to the next drone), or
— armed and off the ground but the mission not started — landing where it is.
"""

from __future__ import annotations

import asyncio
import logging

from dfr.fleet.command_kinds import Launch
from dfr.fleet.drone_state import AIRBORNE_ALT_M, LandedState
from dfr.fleet.flight_port import FlightPort
from dfr.fleet.launch import start_mission_when_ready
from dfr.records import FlightPhase

logger = logging.getLogger(__name__)

MISSION_CHECK_SETTLE_S = 1.0  # after the uploads, before arming (see preflight)


async def preflight(flight: FlightPort) -> None:
    """Upload the mission and the geofence, wait until the vehicle is armable, launch."""
    await flight.set_phase(FlightPhase.PREFLIGHT, "dispatched")
    link = flight.link
    try:
        async with flight.command_lock:
            await link.upload_geofence(flight.plan.geofence)
            await link.upload_mission(flight.plan.mission)
        # PX4 loads a new fence and checks the mission against it before it allows
        # Mission mode (seen ready 0.26-0.29 s after the uploads): arm only after that,
        # so the start is not refused while PX4's preflight auto-disarm clock runs
        await asyncio.sleep(MISSION_CHECK_SETTLE_S)
        await flight.wait_until(
            lambda s: s.armable and s.health_ok, flight.armable_timeout_s, "armable"
        )
    except Exception as exc:
        flight.outcome = "launch_failed"
        await flight.set_phase(FlightPhase.ABORTED, f"preflight failed: {exc}")
        return
    await flight.set_phase(FlightPhase.LAUNCHING, "mission and geofence on board, vehicle armable")
    try:
        await flight.recorded(Launch(len(flight.plan.mission)), lambda: _launch(flight))
    except Exception as exc:
        await _launch_failed(flight, exc)


async def _launch(flight: FlightPort) -> None:
    link = flight.link
    async with flight.command_lock:
        flight.modes.expect("mission", "takeoff")
        await link.arm()
        report = await start_mission_when_ready(link, wait_for_change=flight.wait_change)
        if report.refusals:
            logger.info(
                "%s: flight %s: mission started on attempt %d after %s",
                link.drone_id,
                flight.flight_id,
                report.attempts,
                "; ".join(report.refusals),
            )


async def _launch_failed(flight: FlightPort, exc: Exception) -> None:
    state = flight.link.state
    if not state.armed:
        flight.outcome = "launch_failed"
        await flight.set_phase(FlightPhase.ABORTED, f"launch refused: {exc}")
        return
    if state.landed in (LandedState.ON_GROUND, LandedState.UNKNOWN) and not (
        state.alt_rel_m > AIRBORNE_ALT_M
    ):
        # armed on the pad but the mission never started: disarm rather than leave
        # it to PX4's preflight auto-disarm, and give the call to the next drone
        try:
            async with flight.command_lock:
                await flight.link.disarm()
        except Exception as disarm_exc:
            await flight.problem(f"disarm refused: {disarm_exc}", "pilot: disarm it")
        flight.outcome = "launch_failed"
        await flight.set_phase(FlightPhase.ABORTED, f"mission did not start: {exc}")
        return
    # armed and off the ground but the mission did not start: bring it down here
    await flight.problem(f"launch failed after takeoff: {exc}", "landing in place")
    try:
        await flight.land("launch failed after takeoff")
    except Exception as land_exc:
        await flight.problem(f"land refused: {land_exc}", "pilot: take control")
