"""The wind a vehicle flies in: a constant wind plus smooth seeded gusts."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Wind:
    from_deg: float = 0.0  # direction the wind blows FROM, degrees true
    speed_mps: float = 0.0
    gust_mps: float = 0.0  # gust amplitude (random, smooth, seeded)


class WindField:
    """Constant wind plus smooth seeded gusts (a sum of a few sinusoids)."""

    def __init__(self, wind: Wind, seed: int) -> None:
        self.wind = wind
        rng = random.Random(seed)
        self._terms = [
            (rng.uniform(0.05, 0.5), rng.uniform(0.0, 2 * math.pi), rng.uniform(0.3, 1.0))
            for _ in range(3)
        ]
        self._norm = sum(t[2] for t in self._terms) or 1.0

    def velocity_ne(self, time_s: float) -> tuple[float, float]:
        """Air mass velocity (north, east) in m/s at vehicle time ``time_s``."""
        speed = self.wind.speed_mps
        if self.wind.gust_mps > 0:
            gust = sum(a * math.sin(f * 2 * math.pi * time_s + p) for f, p, a in self._terms)
            speed = max(0.0, speed + self.wind.gust_mps * gust / self._norm)
        toward_rad = math.radians(self.wind.from_deg + 180.0)
        return speed * math.cos(toward_rad), speed * math.sin(toward_rad)
