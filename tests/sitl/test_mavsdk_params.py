"""Parameters through the real mavsdk 4.x Param plugin: get/set/list with PX4's bytewise
INT32 encoding and the PX4 main defaults (reference §2.6, §6)."""

from __future__ import annotations

import pytest
from mavsdk.asyncio.plugins.param import ParamError, ParamResult

from tests.sitl.mavsdk_session import SimRig

pytestmark = pytest.mark.timeout(120)

INT_DEFAULTS = {
    "SYS_FAILURE_EN": 0,
    "COM_DL_LOSS_T": 10,
    "NAV_DLL_ACT": 0,
    "GF_ACTION": 2,
    "COM_LOW_BAT_ACT": 0,
    "MAV_SYS_ID": 1,
}
FLOAT_DEFAULTS = {
    "MIS_TAKEOFF_ALT": 2.5,
    "RTL_RETURN_ALT": 60.0,
    "RTL_DESCEND_ALT": 30.0,
    "MPC_XY_CRUISE": 5.0,
    "BAT_CRIT_THR": 0.07,
}


async def test_params_get_set_list() -> None:
    async with SimRig(speed_factor=5.0, params={"NAV_DLL_ACT": 2}) as rig:
        s = rig.session
        for name, value in INT_DEFAULTS.items():
            expected = 2 if name == "NAV_DLL_ACT" else value  # the VehicleSpec override
            assert await s.param.get_param_int(name) == expected, name
        for name, value in FLOAT_DEFAULTS.items():
            assert await s.param.get_param_float(name) == pytest.approx(value), name

        # Set round-trips (MAVSDK only succeeds on an identical PARAM_VALUE echo).
        await s.param.set_param_int("COM_DL_LOSS_T", 7)
        assert await s.param.get_param_int("COM_DL_LOSS_T") == 7
        await s.param.set_param_int("GF_ACTION", 3)  # 3 = Return
        assert await s.param.get_param_int("GF_ACTION") == 3
        await s.param.set_param_float("MPC_XY_CRUISE", 7.25)
        assert await s.param.get_param_float("MPC_XY_CRUISE") == pytest.approx(7.25)
        await s.action.set_return_to_launch_altitude(42.0)
        assert await s.action.get_return_to_launch_altitude() == pytest.approx(42.0)
        assert await s.param.get_param_float("RTL_RETURN_ALT") == pytest.approx(42.0)

        # Wrong type and unknown names are refused, not invented.
        with pytest.raises(ParamError) as wrong:
            await s.param.get_param_float("COM_DL_LOSS_T")
        assert wrong.value.result == ParamResult.WRONG_TYPE
        with pytest.raises(ParamError):
            await s.param.get_param_int("NO_SUCH_PARAM")

        # The whole list, with the values just set.
        everything = await s.param.get_all_params()
        ints = {p.name: p.value for p in everything.int_params}
        floats = {p.name: p.value for p in everything.float_params}
        assert len(ints) + len(floats) >= 50
        assert not set(ints) & set(floats)
        assert ints["COM_DL_LOSS_T"] == 7 and ints["GF_ACTION"] == 3
        assert ints["SYS_FAILURE_EN"] == 0 and ints["NAV_DLL_ACT"] == 2
        assert floats["MPC_XY_CRUISE"] == pytest.approx(7.25)
        assert floats["MIS_TAKEOFF_ALT"] == pytest.approx(2.5)
        assert "_HASH_CHECK" not in ints and "_HASH_CHECK" not in floats
        assert all(name == name.upper() and len(name) <= 16 for name in [*ints, *floats])
