"""PX4 parameters as the simulated vehicle holds them.

A :class:`ParamStore` is the vehicle's parameter table: names, MAVLink types
(PX4 uses only ``MAV_PARAM_TYPE_INT32`` and ``MAV_PARAM_TYPE_REAL32``), PX4 main
defaults, and the order used for ``PARAM_REQUEST_LIST`` indices. INT32 values
travel *bytewise* in ``PARAM_VALUE.param_value`` (the int's four bytes read as a
float), as PX4 sends them and as MAVSDK expects for PX4.

Deviation from PX4 SITL, on purpose: ``SIM_BAT_DRAIN`` defaults to 0 here, which
selects the energy (Wh) battery model of :mod:`sitl.battery` so that a long flight
really runs low. Set ``SIM_BAT_DRAIN`` > 0 to add PX4's linear drain (down to
``SIM_BAT_MIN_PCT``) on top of it. That model's figures (``SIM_BAT_CAP_WH``,
``SIM_PWR_*``) are simulator parameters as well, which the airframe file sets
(:mod:`sitl.airframe`), as PX4's airframes set its ``SIH_*`` model.
"""

from __future__ import annotations

import logging
import math
import struct
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import IntEnum

logger = logging.getLogger(__name__)

PARAM_ID_LEN = 16
HASH_CHECK_NAME = "_HASH_CHECK"
HASH_CHECK_INDEX = 65535


class ParamType(IntEnum):
    """``MAV_PARAM_TYPE`` values PX4 uses."""

    INT32 = 6
    REAL32 = 9


@dataclass(frozen=True, slots=True)
class ParamDef:
    name: str
    param_type: ParamType
    default: float | int


def _i(name: str, default: int) -> ParamDef:
    return ParamDef(name, ParamType.INT32, default)


def _f(name: str, default: float) -> ParamDef:
    return ParamDef(name, ParamType.REAL32, default)


# PX4 main defaults (multicopter, SITL); see the reference §6 and §4.3.
PX4_PARAMS: tuple[ParamDef, ...] = (
    _i("MAV_SYS_ID", 1),
    _i("MAV_COMP_ID", 1),
    _i("MAV_TYPE", 2),
    _i("SYS_AUTOSTART", 10040),
    _i("SYS_FAILURE_EN", 0),
    _i("SYS_HITL", 0),
    _i("COM_ARM_WO_GPS", 1),
    _f("COM_DISARM_LAND", 2.0),
    _f("COM_DISARM_PRFLT", 10.0),
    _f("COM_SPOOLUP_TIME", 1.0),
    _i("COM_ARM_MIS_REQ", 0),
    _i("COM_DL_LOSS_T", 10),
    _i("COM_DLL_EXCEPT", 0),
    _f("COM_FAIL_ACT_T", 5.0),
    _i("COM_LOW_BAT_ACT", 0),
    _i("COM_RC_IN_MODE", 3),
    _f("COM_RC_LOSS_T", 0.5),
    _i("COM_TAKEOFF_ACT", 0),
    _i("COM_OBL_RC_ACT", 0),
    _i("NAV_DLL_ACT", 0),
    _i("NAV_RCL_ACT", 2),
    _f("NAV_ACC_RAD", 10.0),
    _f("NAV_MC_ALT_RAD", 0.8),
    _f("MIS_YAW_ERR", 12.0),
    _f("MIS_YAW_TMT", -1.0),
    _f("NAV_LOITER_RAD", 80.0),
    _f("MIS_TAKEOFF_ALT", 2.5),
    _f("MIS_DIST_1WP", 900.0),
    _i("MIS_TKO_LAND_REQ", 0),
    _f("MPC_XY_CRUISE", 5.0),
    _f("MPC_XY_VEL_MAX", 12.0),
    _f("MPC_Z_VEL_MAX_UP", 3.0),
    _f("MPC_Z_VEL_MAX_DN", 1.5),
    _f("MPC_Z_V_AUTO_UP", 3.0),
    _f("MPC_Z_V_AUTO_DN", 1.5),
    _f("MPC_TKO_SPEED", 1.5),
    _f("MPC_LAND_SPEED", 0.7),
    _f("MPC_LAND_ALT1", 10.0),
    _f("MPC_LAND_ALT2", 5.0),
    _f("MPC_ACC_HOR", 3.0),
    _f("MPC_ACC_HOR_MAX", 5.0),
    _f("MPC_ACC_UP_MAX", 4.0),
    _f("MPC_ACC_DOWN_MAX", 3.0),
    _f("MPC_JERK_AUTO", 4.0),
    _f("MPC_XY_TRAJ_P", 0.5),
    _f("MPC_XY_ERR_MAX", 2.0),
    _f("MPC_TKO_RAMP_T", 3.0),
    _f("MPC_LAND_ALT3", 1.0),
    _f("MPC_TILTMAX_AIR", 45.0),
    _f("MPC_THR_HOVER", 0.5),
    _f("MPC_THR_MIN", 0.12),
    _f("MPC_XY_P", 0.95),
    _f("MPC_XY_VEL_P_ACC", 1.8),
    _f("MPC_XY_VEL_I_ACC", 0.4),
    _f("MPC_XY_VEL_D_ACC", 0.2),
    _f("MPC_Z_P", 1.0),
    _f("MPC_Z_VEL_P_ACC", 4.0),
    _f("MPC_Z_VEL_I_ACC", 2.0),
    _f("MPC_YAWRAUTO_ACC", 20.0),
    _f("MPC_YAWRAUTO_MAX", 45.0),
    _i("MPC_YAW_MODE", 0),
    _f("MC_ORBIT_RAD_MAX", 1000.0),
    _f("RTL_RETURN_ALT", 60.0),
    _f("RTL_DESCEND_ALT", 30.0),
    _f("RTL_LAND_DELAY", 0.0),
    _f("RTL_MIN_DIST", 10.0),
    _f("RTL_CONE_ANG", 45.0),
    _i("RTL_TYPE", 0),
    _i("GF_ACTION", 2),
    _i("GF_ALTMODE", 0),
    _i("GF_SOURCE", 0),
    _i("GF_COUNT", -1),
    _f("GF_MAX_HOR_DIST", 0.0),
    _f("GF_MAX_VER_DIST", 0.0),
    _i("GF_PREDICT", 0),
    _f("BAT_LOW_THR", 0.15),
    _f("BAT_CRIT_THR", 0.07),
    _f("BAT_EMERGEN_THR", 0.05),
    _i("BAT1_N_CELLS", 4),
    _f("BAT1_V_CHARGED", 4.05),
    _f("BAT1_V_EMPTY", 3.6),
    _f("BAT1_CAPACITY", -1.0),
    _f("SIM_BAT_DRAIN", 0.0),
    _f("SIM_BAT_MIN_PCT", 50.0),
    _i("SIM_BAT_ENABLE", 1),
    # simulator-only: the energy battery model of sitl.battery, set by the airframe file
    # (sitl/airframes/); these defaults are a small generic quad. Electrical power, W.
    _f("SIM_BAT_CAP_WH", 100.0),  # usable pack energy, Wh (read at boot)
    _f("SIM_PWR_HOVER_W", 250.0),  # hovering in still air
    _f("SIM_PWR_CRUISE_W", 280.0),  # level flight at SIM_PWR_CRS_SPD airspeed
    _f("SIM_PWR_CRS_SPD", 10.0),  # airspeed SIM_PWR_CRUISE_W is measured at, m/s
    _f("SIM_PWR_CLIMB_W", 380.0),  # climbing at SIM_PWR_CLB_SPD
    _f("SIM_PWR_CLB_SPD", 3.0),  # climb rate SIM_PWR_CLIMB_W is measured at, m/s
    _f("SIM_PWR_DSC_SPD", 1.5),  # descent rate at which power is 10 % below hover, m/s
    # simulator-only: 1 = send HEARTBEAT/EXTENDED_SYS_STATE at once on a mode, arming or
    # landed-state change (transitions visible at high speed factors); 0 = only at their
    # stream rate, as real PX4 does (a new mode shows up to 1 s after the command's ACK)
    _i("SIM_STATE_ANNOUNCE", 1),
    _f("SIH_LOC_LAT0", 47.397742),
    _f("SIH_LOC_LON0", 8.545594),
    _f("SIH_LOC_H0", 488.0),
    _f("SIH_MASS", 1.0),  # SIH point-mass model (simulator_sih/sih_params.c)
    _f("SIH_KDV", 1.0),  # SIH linear drag, N/(m/s)
    _i("SDLOG_MODE", 0),
    _i("CBRK_SUPPLY_CHK", 894281),
    _i("CBRK_IO_SAFETY", 22027),
    _i("EKF2_GPS_CTRL", 7),
)

PARAM_DEFS: Mapping[str, ParamDef] = {p.name: p for p in PX4_PARAMS}


def int_to_wire(value: int) -> float:
    """INT32 → the float whose four bytes are the int's (PX4 bytewise encoding)."""
    packed = struct.pack("<i", int(value))
    return float(struct.unpack("<f", packed)[0])


def wire_to_int(value: float) -> int:
    """Inverse of :func:`int_to_wire`."""
    return int(struct.unpack("<i", struct.pack("<f", value))[0])


def decode_param_id(raw: str | bytes) -> str:
    """A PARAM_* ``param_id`` (up to 16 chars, NUL padded) as a plain name."""
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", errors="replace")
    return raw.split("\x00", 1)[0][:PARAM_ID_LEN]


class ParamStore:
    """The parameter table of one vehicle: get/set as PX4 would, with type checks."""

    def __init__(self, overrides: Mapping[str, float | int] | None = None) -> None:
        self._defs: Mapping[str, ParamDef] = PARAM_DEFS
        self._order: list[str] = [p.name for p in PX4_PARAMS]
        self._values: dict[str, float | int] = {p.name: p.default for p in PX4_PARAMS}
        self.version = 0  # counts changes, so readers can cache what they derive
        for name, value in (overrides or {}).items():
            self.set(name, value)

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __len__(self) -> int:
        return len(self._order)

    def names(self) -> Iterator[str]:
        return iter(self._order)

    def param_type(self, name: str) -> ParamType:
        return self._defs[name].param_type

    def get(self, name: str) -> float | int:
        """Current value; raises KeyError for a name PX4 does not have."""
        return self._values[name]

    def get_float(self, name: str) -> float:
        return float(self._values[name])

    def get_int(self, name: str) -> int:
        return int(self._values[name])

    def set(self, name: str, value: float | int) -> float | int:
        """Set a value, converted to the parameter's type; returns the stored value."""
        definition = self._defs.get(name)
        if definition is None:
            raise KeyError(name)
        stored: float | int
        if definition.param_type is ParamType.INT32:
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{name}: {value} is not an integer")
            stored = round(value)
        else:
            stored = float(struct.unpack("<f", struct.pack("<f", float(value)))[0])
        old = self._values[name]
        self._values[name] = stored
        if old != stored:
            self.version += 1
            logger.debug("param %s: %s -> %s", name, old, stored)
        return stored

    def set_from_wire(self, name: str, wire_value: float, wire_type: int) -> float | int:
        """Apply a PARAM_SET: bytewise for INT32, float for REAL32 (PX4 ignores a type mismatch
        and uses its own type, reading the bytes per the sender's declared type)."""
        definition = self._defs[name]
        value: float | int
        if wire_type in (ParamType.INT32, 1, 2, 3, 4, 5):  # any integer type: bytewise
            value = wire_to_int(wire_value)
        else:
            value = wire_value
        if (
            definition.param_type is ParamType.INT32
            and wire_type == ParamType.REAL32
            and not math.isfinite(value)
        ):
            raise ValueError(f"{name}: {value} is not an integer")
        return self.set(name, value)

    def wire_value(self, name: str) -> tuple[float, ParamType]:
        definition = self._defs[name]
        value = self._values[name]
        if definition.param_type is ParamType.INT32:
            return int_to_wire(int(value)), ParamType.INT32
        return float(value), ParamType.REAL32

    def index_of(self, name: str) -> int:
        return self._order.index(name)

    def name_at(self, index: int) -> str | None:
        if 0 <= index < len(self._order):
            return self._order[index]
        return None

    def hash_check(self) -> int:
        """PX4's ``_HASH_CHECK``: a CRC32 over names and values (QGC caches by it)."""
        crc = 0
        for name in self._order:
            wire, _ = self.wire_value(name)
            crc = zlib.crc32(name.encode("ascii"), crc)
            crc = zlib.crc32(struct.pack("<f", wire), crc)
        return crc & 0xFFFFFFFF
