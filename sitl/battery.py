"""The simulated battery: an energy (Wh) model that runs down with flight.

Power drawn (electrical, W), from the vehicle's simulator parameters, which its airframe
file sets (:mod:`sitl.airframe`; defaults in :mod:`sitl.params`):

* disarmed: avionics only (``AVIONICS_POWER_W``);
* armed on the ground: motors idling, 15 % of ``SIM_PWR_HOVER_W``;
* in the air: hover power, plus a term growing with the square of the airspeed
  that reaches ``SIM_PWR_CRUISE_W`` at ``SIM_PWR_CRS_SPD`` (so wind costs energy
  both ways), plus ``SIM_PWR_CLIMB_W - SIM_PWR_HOVER_W`` scaled by the climb rate over
  ``SIM_PWR_CLB_SPD``; descending draws up to 10 % less than hover (at ``SIM_PWR_DSC_SPD``).

The pack holds ``SIM_BAT_CAP_WH`` (read at boot, as a pack does not change in flight);
the power figures are read every step, so a PARAM_SET takes effect at once.
State of charge = remaining energy / capacity. The pack is ``BAT1_N_CELLS`` Li-ion
cells with a typical open-circuit voltage curve, minus a small sag under load.
PX4's thresholds ``BAT_LOW_THR``/``BAT_CRIT_THR``/``BAT_EMERGEN_THR`` give the
warning level. If ``SIM_BAT_DRAIN`` > 0 the state of charge is additionally capped
by PX4 SITL's linear drain (100 % per ``SIM_BAT_DRAIN`` seconds while armed, down to
``SIM_BAT_MIN_PCT``), which lets tests force a low battery quickly. Disarmed, the pack
is full again at once, as in PX4's ``BatterySimulator`` (a docked drone is charged).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from enum import IntEnum

from sitl.params import ParamStore

AVIONICS_POWER_W = 8.0
IDLE_FRACTION_OF_HOVER = 0.15

# open-circuit voltage per cell vs state of charge
_SOC_POINTS = (0.0, 0.05, 0.10, 0.20, 0.40, 0.60, 0.80, 0.95, 1.0)
_CELL_V = (3.30, 3.50, 3.60, 3.68, 3.76, 3.85, 3.98, 4.12, 4.20)
_SAG_V_PER_A_PER_CELL = 0.004


class WarningLevel(IntEnum):
    """``MAV_BATTERY_CHARGE_STATE``-like ordering (PX4 battery_status.warning)."""

    NONE = 0
    LOW = 1
    CRITICAL = 2
    EMERGENCY = 3
    FAILED = 4


MAV_BATTERY_CHARGE_STATE = {
    WarningLevel.NONE: 1,  # OK
    WarningLevel.LOW: 2,
    WarningLevel.CRITICAL: 3,
    WarningLevel.EMERGENCY: 4,
    WarningLevel.FAILED: 5,
}


@dataclass(frozen=True, slots=True)
class Thresholds:
    low: float = 0.15
    critical: float = 0.07
    emergency: float = 0.05


def _positive(speed_mps: float) -> float:
    """A reference speed as a divisor: a zero or negative one (a bad PARAM_SET) counts as
    a very small one rather than stopping the vehicle's tick."""
    return max(speed_mps, 0.1)


def cell_voltage(soc: float) -> float:
    soc = min(1.0, max(0.0, soc))
    i = bisect.bisect_right(_SOC_POINTS, soc)
    if i >= len(_SOC_POINTS):
        return _CELL_V[-1]
    s0, s1 = _SOC_POINTS[i - 1], _SOC_POINTS[i]
    v0, v1 = _CELL_V[i - 1], _CELL_V[i]
    return v0 + (v1 - v0) * (soc - s0) / (s1 - s0)


class Battery:
    """Energy bookkeeping for one pack."""

    def __init__(self, params: ParamStore) -> None:
        self._params = params
        self.capacity_wh = params.get_float("SIM_BAT_CAP_WH")
        if self.capacity_wh <= 0:
            raise ValueError(f"SIM_BAT_CAP_WH must be > 0, got {self.capacity_wh}")
        self.energy_wh = self.capacity_wh
        self.cells = params.get_int("BAT1_N_CELLS")
        self.power_w = AVIONICS_POWER_W
        self.consumed_wh = 0.0
        self.drain_cap_soc = 1.0  # SIM_BAT_DRAIN model
        self.override_soc: float | None = None  # failure injection

    @property
    def hover_power_w(self) -> float:
        """``SIM_PWR_HOVER_W``: what hovering in still air draws (VFR_HUD's 50 % throttle)."""
        return self._params.get_float("SIM_PWR_HOVER_W")

    def power_for(
        self, *, armed: bool, in_air: bool, airspeed_mps: float, climb_mps: float
    ) -> float:
        if not armed:
            return AVIONICS_POWER_W
        get = self._params.get_float
        hover_w = get("SIM_PWR_HOVER_W")
        if not in_air:
            return AVIONICS_POWER_W + IDLE_FRACTION_OF_HOVER * hover_w
        ratio = airspeed_mps / _positive(get("SIM_PWR_CRS_SPD"))
        power = hover_w + (get("SIM_PWR_CRUISE_W") - hover_w) * ratio * ratio
        if climb_mps > 0:
            power += (
                (get("SIM_PWR_CLIMB_W") - hover_w) * climb_mps / _positive(get("SIM_PWR_CLB_SPD"))
            )
        elif climb_mps < 0:
            power -= 0.1 * hover_w * min(1.0, -climb_mps / _positive(get("SIM_PWR_DSC_SPD")))
        return AVIONICS_POWER_W + power

    def step(
        self,
        dt_s: float,
        *,
        armed: bool,
        in_air: bool,
        airspeed_mps: float,
        climb_mps: float,
        sim_drain_s: float,
        sim_min_pct: float,
    ) -> None:
        self.power_w = self.power_for(
            armed=armed, in_air=in_air, airspeed_mps=airspeed_mps, climb_mps=climb_mps
        )
        if not armed:  # PX4's battery simulator: a disarmed vehicle's pack is full
            self.energy_wh = self.capacity_wh
            self.drain_cap_soc = 1.0
            return
        used = self.power_w * dt_s / 3600.0
        self.energy_wh = max(0.0, self.energy_wh - used)
        self.consumed_wh += used
        if sim_drain_s > 0 and armed:
            floor = min(1.0, max(0.0, sim_min_pct / 100.0))
            self.drain_cap_soc = max(floor, self.drain_cap_soc - dt_s / sim_drain_s)

    @property
    def soc(self) -> float:
        if self.override_soc is not None:
            return self.override_soc
        return min(self.energy_wh / self.capacity_wh, self.drain_cap_soc)

    @property
    def remaining_pct(self) -> float:
        return 100.0 * self.soc

    @property
    def voltage_v(self) -> float:
        if self.override_soc == 0.0:
            return 0.0
        sag = _SAG_V_PER_A_PER_CELL * self.current_a
        return self.cells * max(0.0, cell_voltage(self.soc) - sag)

    @property
    def current_a(self) -> float:
        nominal_v = self.cells * cell_voltage(self.soc) or 1.0
        return self.power_w / nominal_v

    def warning(self, thresholds: Thresholds) -> WarningLevel:
        soc = self.soc
        if soc <= thresholds.emergency:
            return WarningLevel.EMERGENCY
        if soc <= thresholds.critical:
            return WarningLevel.CRITICAL
        if soc <= thresholds.low:
            return WarningLevel.LOW
        return WarningLevel.NONE

    def time_remaining_s(self) -> float:
        if self.power_w <= 0:
            return 0.0
        return self.energy_wh * self.soc / max(self.soc, 1e-9) / self.power_w * 3600.0
