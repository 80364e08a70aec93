"""A send time carried inside the vehicle's own position message.

The benchmark fleet overwrites GLOBAL_POSITION_INT.relative_alt (mm) with the wall-clock
send time modulo ``PERIOD_S``, at ``MM_PER_S`` millimetres per second. MAVSDK hands it
to the service as ``Position.relative_altitude_m``, the service publishes it as
``alt_rel_m`` (rounded to 1 cm = 1 ms), and the viewer subtracts it from its receipt
time. Vehicles in the benchmark stay on their docks, so nothing reads that altitude.
"""

from __future__ import annotations

PERIOD_S = 100.0
MM_PER_S = 10_000.0  # 1 mm = 0.1 ms; 1 cm (the published resolution) = 1 ms


def stamp_mm(wall_s: float) -> int:
    return int((wall_s % PERIOD_S) * MM_PER_S)


def stamp_alt_m(wall_s: float) -> float:
    return stamp_mm(wall_s) / 1000.0


def age_s(stamp_alt_rel_m: float, now_wall_s: float) -> float:
    """Seconds from the stamped send time to ``now_wall_s`` (|age| < PERIOD_S / 2; the
    published value is rounded to 1 cm, so an age can come out up to 0.5 ms negative)."""
    sent_s = stamp_alt_rel_m * 1000.0 / MM_PER_S
    age = (now_wall_s % PERIOD_S - sent_s) % PERIOD_S
    return age - PERIOD_S if age > PERIOD_S / 2 else age
