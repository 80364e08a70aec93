"""The navigator as its flight modes see it, and the commander as the navigator sees it.

RTL (:mod:`sitl.rtl`), Orbit (:mod:`sitl.orbit`) and Mission (:mod:`sitl.mission_flight`)
each compute a :data:`Setpoint` through a :class:`Pilot`: the navigator's position
setpoint follower, its landing descent and Hold, its cached parameters and cruise speed.
The navigator asks for mode changes through a :class:`ModeSwitch` (the commander).
"""

from __future__ import annotations

from typing import Protocol

from sitl.modes import NavState
from sitl.motion import Velocity

# what a flight mode produces each physics step: velocity target, heading (None: keep)
Setpoint = tuple[Velocity, float | None]


class Pilot(Protocol):
    # the Hold point (north, east, up), None: brake and hold where braking ends
    hold: tuple[float, float, float] | None

    def param(self, name: str) -> float:
        """A PX4 parameter, as a float (cached until the table changes)."""
        ...

    def fly_to(
        self,
        north: float,
        east: float,
        up: float,
        *,
        speed: float | None = None,
        heading: float | None = None,
        takeoff: bool = False,
        previous: tuple[float, float, float] | None = None,
        following: tuple[float, float, float] | None = None,
        radius_m: float | None = None,
    ) -> Setpoint:
        """PX4's velocity target towards a position setpoint."""
        ...

    def descend_at(self, ne: tuple[float, float]) -> Setpoint:
        """Land: descend at the landing speed over ``ne``."""
        ...

    def hold_position(self) -> Setpoint:
        """Hold: fly to (or stay at) the Hold point."""
        ...

    def set_speed(self, speed_mps: float | None) -> None:
        """DO_CHANGE_SPEED: the cruise speed (None: back to ``MPC_XY_CRUISE``)."""


class ModeSwitch(Protocol):
    def request_mode(self, state: NavState, *, user: bool = True) -> object:
        """A mode change (``user`` False: the vehicle's own, e.g. takeoff done)."""
        ...

    def mission_cannot_run(self) -> None:
        """Armed in Mission and the mission is no longer valid."""
