"""What the flight's behaviours (pre-flight and launch, the follow loop) see of the
flight they act on: a narrow interface, so that they need not import the flight
(``flight`` composes them; nothing imports back)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from dfr.fleet.command_kinds import Command
from dfr.fleet.drone_state import DroneState
from dfr.fleet.flight_plan import FlightPlan
from dfr.fleet.link_types import MissionProgress
from dfr.fleet.vehicle_link import VehicleLink
from dfr.fleet.vehicle_modes import ExpectedModes
from dfr.records import FlightPhase

Action = Callable[[], Awaitable[None]]


class FlightPort(Protocol):
    flight_id: str
    link: VehicleLink
    plan: FlightPlan
    phase: FlightPhase
    modes: ExpectedModes
    progress: MissionProgress
    command_lock: asyncio.Lock
    armable_timeout_s: float
    dock_lat_lon: tuple[float, float] | None
    reached_scene: bool
    unexpected_mode: str | None
    outcome: str

    async def set_phase(self, phase: FlightPhase, reason: str) -> None: ...
    async def wait_until(
        self, condition: Callable[[DroneState], bool], timeout_s: float, what: str
    ) -> None: ...
    async def wait_change(self, timeout_s: float) -> None: ...
    async def problem(self, what: str, action: str) -> None: ...
    async def recorded(self, command: Command, action: Action) -> None: ...
    async def orbit(
        self, lat_deg: float, lon_deg: float, alt_amsl_m: float, radius_m: float, speed_mps: float
    ) -> None: ...
    async def hold(self) -> None: ...
    async def return_home(self, reason: str) -> None: ...
    async def land(self, reason: str) -> None: ...
