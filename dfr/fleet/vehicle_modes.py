"""Which flight modes a flight's vehicle may show, and what a command with no answer did.

A vehicle in a mode nobody asked for has acted on its own (its failsafe): the follow loop
(:mod:`dfr.fleet.flight_follow`) tells that apart from a mode a command just asked for
with :class:`ExpectedModes`. After a command timed out, :func:`resolve_timeout` reads
the vehicle's mode (with its next heartbeats) to find out whether it acted, before
anything is sent again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from dfr.fleet.commands import Resolution
from dfr.fleet.drone_state import DroneState, LinkState
from dfr.fleet.flight_phases import MODES_OF_PHASE
from dfr.records import CommandState, FlightPhase

MODE_SETTLE_S = 3.0  # PX4 reports a new mode with its next 1 Hz HEARTBEAT
RESOLVE_S = 3.0  # after a timeout, how long to read the vehicle (3 heartbeats) for its mode


class ExpectedModes:
    """The modes the vehicle may show: what it settled in, plus what a command just asked
    for (``pending``, allowed until the vehicle shows one of them or MODE_SETTLE_S passes)."""

    def __init__(self, phase: FlightPhase) -> None:
        self.expected: frozenset[str] = MODES_OF_PHASE.get(phase, frozenset())
        self.pending: frozenset[str] = frozenset()
        self.pending_until = 0.0
        self.asked: tuple[str, ...] = ()  # the modes the last command asked for

    def expect(self, *modes: str) -> None:
        """A command asks for one of ``modes``: allow them from now, and the old ones until
        the vehicle shows a new mode (or MODE_SETTLE_S passes)."""
        self.pending = frozenset(modes)
        self.pending_until = asyncio.get_running_loop().time() + MODE_SETTLE_S

    def expect_failed(self) -> None:
        self.pending = frozenset()

    def settle(self, mode: str, now: float) -> None:
        """The vehicle shows ``mode`` at loop time ``now``: a pending mode it shows becomes
        the expected one; pending modes it never showed lapse after MODE_SETTLE_S."""
        if self.pending and (mode in self.pending or now >= self.pending_until):
            if mode in self.pending:
                self.expected = self.pending
            self.pending = frozenset()

    def surprised_by(self, mode: str) -> bool:
        """``mode`` is one nobody asked for (the vehicle chose it by itself)."""
        return (
            bool(self.expected)
            and not self.pending
            and mode not in self.expected
            and mode != "unknown"
        )

    def adopt(self, mode: str) -> None:
        """From now on ``mode`` (the vehicle's own choice) is the one expected."""
        self.expected = frozenset({mode})


async def resolve_timeout(state_of: Callable[[], DroneState], modes: ExpectedModes) -> Resolution:
    """The last command got no answer: read the vehicle (its mode, with the next
    heartbeats) to find out whether it acted, before anything is sent again."""
    asked = modes.asked
    loop = asyncio.get_running_loop()
    until = loop.time() + RESOLVE_S
    if asked:
        modes.expect(*asked)  # while we look, the mode asked for is no surprise
    while True:
        state = state_of()
        if state.link is not LinkState.UP:
            modes.expect_failed()
            return Resolution(
                CommandState.UNKNOWN,
                f"no answer, and the link is {state.link}: outcome unknown; not re-sent",
            )
        if asked and state.mode in asked:
            modes.expect(*asked)  # it did: the new mode is the one asked for
            return Resolution(
                CommandState.ACCEPTED,
                f"no answer in time; resolved by reading the vehicle: it shows {state.mode}",
            )
        left = until - loop.time()
        if left <= 0 or not asked:
            modes.expect_failed()
            return Resolution(
                CommandState.REJECTED,
                f"no answer in time; resolved by reading the vehicle: still {state.mode}, "
                f"not {'/'.join(asked) or 'a new mode'}: not done, may be sent again",
            )
        await asyncio.sleep(min(left, 0.2))
