"""Command handlers for flight: arming, mode changes, takeoff/land/RTL, reposition,
altitude, orbit, speed, home, termination, pause/continue and the mission commands.

Each handler takes the commander as a :class:`~sitl.commands.CommandContext` and returns
the COMMAND_ACK result (as PX4's ``Commander::handle_command``).
"""

from __future__ import annotations

import math
from typing import Any

from sitl.commands import (
    FORCE_MAGIC,
    MAV_COMP_ID_MISSIONPLANNER,
    Cmd,
    CommandContext,
    CommandParams,
    Handler,
    Result,
    finite,
)
from sitl.link import Link
from sitl.modes import NavState, requested_state
from sitl.orbit import Orbit
from sitl.outbox import SEV_CRITICAL
from sitl.state import Home, VehicleState


def cmd_arm(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result:
    if not finite(p.p1):
        return Result.DENIED
    forced = finite(p.p2) and round(p.p2) == FORCE_MAGIC
    if round(p.p1) == 1 and abs(p.p1 - 1) < 1e-3:
        return c.arm(forced=forced)
    if p.p1 == 0:
        return c.disarm(forced=forced)
    return Result.DENIED


def cmd_takeoff(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result:
    s = c.s
    if s.nav_state is NavState.TERMINATION:
        return Result.DENIED
    if finite(p.p7):
        target_up = p.p7 - s.ground_alt_amsl_m
    else:
        target_up = s.home_up_m() + s.params.get_float("MIS_TAKEOFF_ALT")
    if target_up < s.motion.up_m and s.in_air():
        target_up = s.motion.up_m
    c.nav.takeoff_target_up_m = max(target_up, 0.5)
    return c.request_mode(NavState.TAKEOFF)


def cmd_land(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result:
    return c.request_mode(NavState.LAND)


def cmd_rtl(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result:
    return c.request_mode(NavState.RTL)


def cmd_set_mode(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result:
    if not (finite(p.p1) and finite(p.p2)):
        return Result.DENIED
    base = int(p.p1)
    if base & 1:
        sub = int(p.p3) if finite(p.p3) else 0
        state = requested_state(int(p.p2), sub)
    elif base & 4:
        state = NavState.MISSION
    elif base & 8:
        state = NavState.HOLD
    else:
        state = None
    if state is None:
        return Result.DENIED
    # printRejectMode only "if (cmd.from_external && cmd.source_component == 190)"
    return c.request_mode(
        state, announce_reject=msg.get_srcComponent() == MAV_COMP_ID_MISSIONPLANNER
    )


def _target_up(s: VehicleState, alt_amsl_m: float) -> float:
    return alt_amsl_m - s.ground_alt_amsl_m


def cmd_reposition(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result:
    s = c.s
    flags = int(p.p2) if finite(p.p2) else 0
    if not (flags & 1) or flags & ~1:
        return Result.UNSUPPORTED
    # PX4: the commander only switches to Hold; the navigator takes the point only
    # while armed (armed on the ground, the vehicle lifts off towards it)
    result = c.request_mode(NavState.HOLD)
    if result is not Result.ACCEPTED or not s.armed:
        return result
    m = s.motion
    north, east = m.north_m, m.east_m
    if finite(p.p5) and finite(p.p6):
        north, east = s.frame.to_ne(p.p5, p.p6)
    up = _target_up(s, p.p7) if finite(p.p7) else m.up_m
    # navigator_main.cpp: the commander has ACKed; a target the fence does not allow
    # is not flown, and Hold's own entry (brake and hold) stands
    if not c.nav.geofence_allows(north, east, up):
        c.out.statustext(SEV_CRITICAL, "Reposition is outside geofence\t")
        return Result.ACCEPTED
    speed = p.p1 if finite(p.p1) and p.p1 > 0 else None
    heading = math.degrees(p.p4) % 360.0 if finite(p.p4) else None
    c.nav.reposition(north, east, max(up, 1.0), speed, heading)
    return Result.ACCEPTED


def cmd_change_altitude(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result:
    """DO_CHANGE_ALTITUDE: Hold, then (armed) the same altitude at the current point,
    param1 AMSL (Commander.cpp switches mode; navigator_main.cpp flies it)."""
    s = c.s
    result = c.request_mode(NavState.HOLD)
    if result is not Result.ACCEPTED or not s.armed:
        return result
    m = s.motion
    up = _target_up(s, p.p1) if finite(p.p1) else m.up_m
    if not c.nav.geofence_allows(m.north_m, m.east_m, up):
        c.out.statustext(SEV_CRITICAL, "Altitude change is outside geofence\t")
        return Result.ACCEPTED
    c.nav.change_altitude(max(up, 1.0))
    return Result.ACCEPTED


def cmd_orbit(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result:
    s = c.s
    if not s.armed or not s.in_air():
        return Result.TEMPORARILY_REJECTED
    radius = p.p1 if finite(p.p1) else 10.0
    if abs(radius) < 1.0 or abs(radius) > s.params.get_float("MC_ORBIT_RAD_MAX"):
        return Result.DENIED
    speed = abs(p.p2) if finite(p.p2) and p.p2 != 0 else 1.0
    yaw_behaviour = int(p.p3) if finite(p.p3) else 0
    m = s.motion
    center = (m.north_m, m.east_m)
    if finite(p.p5) and finite(p.p6):
        center = s.frame.to_ne(p.p5, p.p6)
    up = _target_up(s, p.p7) if finite(p.p7) else m.up_m
    if c.failsafes.holds_control():
        return Result.TEMPORARILY_REJECTED
    c.failsafes.clear()
    direction = 1 if radius > 0 else -1
    c.nav.set_orbit(Orbit(center, abs(radius), direction, speed, max(up, 1.0), yaw_behaviour))
    c.set_nav_state(NavState.ORBIT)
    return Result.ACCEPTED


def cmd_change_speed(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result:
    if finite(p.p2) and p.p2 > 0:
        c.nav.set_speed(p.p2)
    else:
        c.nav.set_speed(None)
    return Result.ACCEPTED


def cmd_set_home(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result:
    s = c.s
    if finite(p.p1) and round(p.p1) == 1:
        lat, lon = s.lat_lon()
        s.home = Home(lat, lon, s.alt_amsl_m())
    else:
        if not (finite(p.p5) and finite(p.p6) and finite(p.p7)):
            return Result.DENIED
        if not (-90 <= p.p5 <= 90 and -180 <= p.p6 <= 180):
            return Result.DENIED
        s.home = Home(p.p5, p.p6, p.p7)
    c.out.send_home()
    return Result.ACCEPTED


def cmd_termination(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result:
    s = c.s
    if not s.armed:
        return Result.DENIED
    if finite(p.p1) and p.p1 > 0.5:
        c.failsafes.terminate()
        c.out.statustext(2, "Flight termination active")
    return Result.ACCEPTED


def cmd_pause_continue(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result:
    """p1 0 = pause (Hold), 1 = continue the mission."""
    if not finite(p.p1) or round(p.p1) not in (0, 1):
        return Result.DENIED
    return c.request_mode(NavState.HOLD if round(p.p1) == 0 else NavState.MISSION)


def cmd_mission_current(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result:
    if not finite(p.p1) or not c.nav.set_current(int(p.p1)):
        return Result.DENIED
    return Result.ACCEPTED


def cmd_mission_start(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result:
    """Commander.cpp VEHICLE_CMD_MISSION_START: switch to Mission and arm."""
    s = c.s
    if not c.nav.mission_runnable():
        c.out.statustext(SEV_CRITICAL, "Mission start denied! No valid mission\t")
        return Result.DENIED
    if not (finite(p.p1) and -1 <= p.p1 < c.nav.seq_total()):
        return Result.DENIED
    result = c.request_mode(NavState.MISSION, announce_reject=False)
    if result is Result.ACCEPTED and s.nav_state is NavState.MISSION:
        result = c.arm(forced=False, reason="mission start")
    if result is not Result.ACCEPTED:
        c.print_reject_mode(NavState.MISSION)
        return Result.TEMPORARILY_REJECTED
    return Result.ACCEPTED


FLIGHT_HANDLERS: dict[int, Handler] = {
    Cmd.COMPONENT_ARM_DISARM: cmd_arm,
    Cmd.NAV_TAKEOFF: cmd_takeoff,
    Cmd.NAV_LAND: cmd_land,
    Cmd.NAV_RETURN_TO_LAUNCH: cmd_rtl,
    Cmd.DO_SET_MODE: cmd_set_mode,
    Cmd.DO_REPOSITION: cmd_reposition,
    Cmd.DO_CHANGE_ALTITUDE: cmd_change_altitude,
    Cmd.DO_ORBIT: cmd_orbit,
    Cmd.DO_PAUSE_CONTINUE: cmd_pause_continue,
    Cmd.DO_CHANGE_SPEED: cmd_change_speed,
    Cmd.DO_SET_HOME: cmd_set_home,
    Cmd.DO_FLIGHTTERMINATION: cmd_termination,
    Cmd.DO_SET_MISSION_CURRENT: cmd_mission_current,
    Cmd.MISSION_START: cmd_mission_start,
}
