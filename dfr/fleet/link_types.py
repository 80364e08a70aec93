"""What a drone's link reports besides its state: warnings about the link itself and the
mission's progress (the same whether the link runs in the service or in a link worker)."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from dfr.errors import LinkError


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


RECENT_TEXTS = 32


class StatusTexts:
    """The vehicle's STATUSTEXTs as a link keeps them: how many so far, the recent ones."""

    def __init__(self) -> None:
        self.count = 0
        self._recent: deque[tuple[int, str]] = deque(maxlen=RECENT_TEXTS)

    def add(self, message: str) -> None:
        self.count += 1
        self._recent.append((self.count, message))

    def since(self, count: int) -> list[str]:
        """The texts received after the ``count``-th one (of the recent ones)."""
        return [text for n, text in self._recent if n > count]


def check_sysid(drone_id: str, sysid: int) -> None:
    if not 1 <= sysid <= 255:
        raise ValueError(f"{drone_id}: system id {sysid} is not 1..255")


async def wait_up(connected: asyncio.Event, timeout_s: float, drone_id: str, url: str) -> None:
    """Until ``connected`` is set; a LinkError after ``timeout_s``."""
    try:
        async with asyncio.timeout(timeout_s):
            await connected.wait()
    except TimeoutError as exc:
        raise LinkError(drone_id, f"no vehicle on {url} after {timeout_s:.0f} s") from exc
