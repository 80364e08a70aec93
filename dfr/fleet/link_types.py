"""What a drone's link reports besides its state: warnings about the link itself and the
mission's progress (the same whether the link runs in the service or in a link worker)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class LinkWarning:
    """Something on the drone's link that is not the drone (e.g. another system id)."""

    kind: str  # "stranger_system"
    message: str
    action: str
    sysid: int
    at: datetime


@dataclass(frozen=True, slots=True)
class MissionProgress:
    current: int
    total: int
