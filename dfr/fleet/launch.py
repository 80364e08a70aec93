"""Starting the mission the way PX4 accepts it: ask, then believe only what the vehicle shows.

Real PX4 will not switch to Mission until its navigator has checked the uploaded mission
against the uploaded geofence, and it loads a new fence asynchronously (a few navigator
cycles): a mission started right after the uploads and arming is refused with
"Switching to Mission is currently not available" while the vehicle stays armed in Hold
on the pad; PX4 then disarms it ``COM_DISARM_PRFLT`` (10 s) + ``COM_SPOOLUP_TIME`` (1 s)
later. Through mavsdk 4.1.0 that refusal can even come back as a *successful*
``start_mission()`` — only the STATUSTEXT and the heartbeat's mode tell the truth.

So a start is confirmed by the vehicle (mode Mission, or "Executing Mission" / "Climb to
…"), retried while the vehicle says "not yet", and given up when a window well inside
the preflight auto-disarm closes. A start whose answer never came is not re-sent
blindly: the vehicle's mode and texts are read first (a repeated switch to Mission is
harmless once the vehicle shows it has not switched).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from dfr.errors import CommandError, CommandTimeout
from dfr.fleet.drone_state import DroneState

logger = logging.getLogger(__name__)

START_WINDOW_S = 8.0  # < COM_DISARM_PRFLT + COM_SPOOLUP_TIME (11 s): time left to disarm
START_RETRY_S = 0.5
CONFIRM_S = 2.0  # PX4 shows a new mode with its next HEARTBEAT (1 Hz)
# MAVSDK results that mean "not now" rather than "never"
RETRYABLE_RESULTS = frozenset({"denied", "busy", "error", "temporarily_rejected"})
# what PX4 says when it will not start the mission now, and when it has started it
REFUSED_TEXTS = ("currently not available", "Mission start denied", "No valid mission")
STARTED_TEXTS = ("Executing Mission", "Climb to")


@dataclass(frozen=True, slots=True)
class StartReport:
    attempts: int  # mission start requests sent
    refusals: tuple[str, ...]  # what the vehicle answered before it started


class MissionLink(Protocol):
    """What starting a mission needs from a drone link (a :class:`~dfr.fleet.link.DroneLink`)."""

    drone_id: str

    @property
    def state(self) -> DroneState: ...

    @property
    def status_count(self) -> int: ...
    def texts_since(self, count: int) -> list[str]: ...

    async def start_mission(self) -> None: ...


class MissionNotStarted(CommandError):
    """The vehicle did not start the mission within the launch window."""


async def start_mission_when_ready(
    link: MissionLink,
    *,
    wait_for_change: Callable[[float], Awaitable[None]],
    window_s: float = START_WINDOW_S,
    retry_s: float = START_RETRY_S,
) -> StartReport:
    """Start the uploaded mission and see the vehicle fly it, retrying while it says
    "not yet". ``wait_for_change(timeout_s)`` returns when the link's state or texts
    change, or the time is up. Raises :class:`CommandError` when the refusal is one that
    time does not cure, the vehicle disarms, or the window closes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + window_s
    refusals: list[str] = []
    attempts = 0
    was_armed = link.state.armed
    while True:
        attempts += 1
        seen = link.status_count
        try:
            await link.start_mission()
            verdict = await _confirm(link, seen, wait_for_change)
        except CommandTimeout:
            verdict = await _confirm(link, seen, wait_for_change)  # look before asking again
            verdict = verdict if verdict == "started" else f"timeout ({verdict})"
        except CommandError as exc:
            texts = "; ".join(link.texts_since(seen))
            refusals.append(f"{exc.result}: {texts}" if texts else exc.result)
            if exc.result not in RETRYABLE_RESULTS:
                raise
            verdict = ""
        if verdict == "started":
            return StartReport(attempts, tuple(refusals))
        if verdict:
            refusals.append(verdict)
        # disarmed only once it showed armed: the heartbeat after the arm may not be here
        # yet (seen on PX4: refused 60 ms after the arm, telemetry still said disarmed)
        was_armed = was_armed or link.state.armed
        if was_armed and not link.state.armed:
            raise MissionNotStarted(link.drone_id, "start_mission", "disarmed", "; ".join(refusals))
        if loop.time() + retry_s >= deadline:
            raise MissionNotStarted(
                link.drone_id,
                "start_mission",
                "not_started",
                f"{attempts} attempts in {window_s:.0f} s: " + "; ".join(refusals),
            )
        logger.info(
            "%s: mission not started (%s); asking again in %.1f s",
            link.drone_id,
            refusals[-1],
            retry_s,
        )
        await asyncio.sleep(retry_s)


async def _confirm(
    link: MissionLink, seen: int, wait_for_change: Callable[[float], Awaitable[None]]
) -> str:
    """ "started", or what the vehicle said instead, or "no sign of the mission"."""
    loop = asyncio.get_running_loop()
    until = loop.time() + CONFIRM_S
    while True:
        texts = link.texts_since(seen)
        if link.state.mode == "mission" or any(
            marker in text for text in texts for marker in STARTED_TEXTS
        ):
            return "started"
        refused = [text for text in texts if any(m in text for m in REFUSED_TEXTS)]
        if refused:
            return f"refused: {refused[-1]}"
        left = until - loop.time()
        if left <= 0:
            return f"no sign of the mission (mode {link.state.mode})"
        await wait_for_change(left)
