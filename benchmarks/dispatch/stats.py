"""Percentiles for benchmark tables."""

from __future__ import annotations

import math
from collections.abc import Sequence


def pct(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summary_ms(values_s: Sequence[float]) -> tuple[float, float, float]:
    """(p50, p95, p99) in milliseconds of values in seconds."""
    return pct(values_s, 0.50) * 1e3, pct(values_s, 0.95) * 1e3, pct(values_s, 0.99) * 1e3
