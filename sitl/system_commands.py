"""Command handlers for the system: reboot, message requests and intervals, failure
injection (``SYS_FAILURE_EN``).

Each handler takes the commander as a :class:`~sitl.commands.CommandContext` and returns
the COMMAND_ACK result, or None when it has sent the ACK itself (an ACK that must go out
before the message it announces).
"""

from __future__ import annotations

import time
from typing import Any

from sitl.commands import Cmd, CommandContext, CommandParams, Handler, Result, finite, is_msg_id
from sitl.link import Link
from sitl.telemetry import AUTOPILOT_VERSION

UNANSWERABLE_MESSAGES = {395, 397, 435}  # COMPONENT_INFORMATION/_METADATA, AVAILABLE_MODES


def cmd_reboot(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result:
    s = c.s
    if s.armed:
        c.out.statustext(3, "Reboot denied: vehicle armed")
        return Result.DENIED
    if not finite(p.p1) or round(p.p1) not in (0, 1, 2, 3):
        return Result.DENIED
    if round(p.p1) in (1, 2):
        c.out.statustext(6, "Reboot requested (simulated: state kept)")
    return Result.ACCEPTED


def cmd_request_message(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result | None:
    if not finite(p.p1):
        return Result.DENIED
    msg_id = int(p.p1)
    if msg_id in UNANSWERABLE_MESSAGES:
        return Result.DENIED
    out = c.out.encode(msg_id, link)  # None: no such message, or nothing to send now
    if out is None:
        return Result.DENIED
    c.out.ack(link, msg, p.command, Result.ACCEPTED)
    link.send(out)
    return None


def cmd_capabilities(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result | None:
    c.out.ack(link, msg, p.command, Result.ACCEPTED)
    link.send(c.out.encode(AUTOPILOT_VERSION, link))
    return None


def cmd_set_interval(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result:
    if not (finite(p.p1) and finite(p.p2)):
        return Result.DENIED
    ok = c.out.streams[link].set_interval(int(p.p1), p.p2, time.monotonic())
    return Result.ACCEPTED if ok else Result.FAILED


def cmd_get_interval(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result | None:
    if not is_msg_id(p.p1):
        return Result.DENIED
    interval = c.out.streams[link].interval_s(int(p.p1))
    c.out.ack(link, msg, p.command, Result.ACCEPTED)
    link.send(
        link.mav.message_interval_encode(int(p.p1), -1 if interval is None else int(interval * 1e6))
    )
    return None


def cmd_inject_failure(c: CommandContext, link: Link, msg: Any, p: CommandParams) -> Result | None:
    s = c.s
    if s.params.get_int("SYS_FAILURE_EN") != 1:
        return Result.DENIED
    if not (finite(p.p1) and finite(p.p2)):
        return Result.DENIED
    unit, kind = int(p.p1), int(p.p2)
    if not (0 <= unit <= 8 or 100 <= unit <= 105) or not 0 <= kind <= 7:
        return Result.UNSUPPORTED
    if unit == 4:  # GPS
        if kind in (0, 1):
            s.gps_failed = kind == 1
            c.out.statustext(6, f"Failure injection: GPS {'off' if kind else 'ok'}")
    elif unit == 100:  # battery
        if kind == 0:
            s.battery.override_soc = None
        elif kind == 1:
            s.battery.override_soc = 0.0
        elif kind == 4:
            crit = s.params.get_float("BAT_CRIT_THR")
            emerg = s.params.get_float("BAT_EMERGEN_THR")
            s.battery.override_soc = (crit + emerg) / 2
    elif unit == 101:  # motor
        if kind in (0, 1):
            s.motor_failed = kind == 1
    elif unit == 105 and kind in (0, 1):  # MAVLink signal
        c.out.ack(link, msg, p.command, Result.ACCEPTED)
        for each in c.out.links:
            each.rx_dropped = kind == 1
        return None
    return Result.ACCEPTED


SYSTEM_HANDLERS: dict[int, Handler] = {
    Cmd.PREFLIGHT_REBOOT_SHUTDOWN: cmd_reboot,
    Cmd.REQUEST_MESSAGE: cmd_request_message,
    Cmd.REQUEST_AUTOPILOT_CAPABILITIES: cmd_capabilities,
    Cmd.SET_MESSAGE_INTERVAL: cmd_set_interval,
    Cmd.GET_MESSAGE_INTERVAL: cmd_get_interval,
    Cmd.INJECT_FAILURE: cmd_inject_failure,
}
