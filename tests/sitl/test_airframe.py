"""Airframe files: PX4's ``param set-default`` syntax, checked line by line, and what a
vehicle built on one reports over MAVLink."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitl.airframe import AirframeError, available_airframes, load_airframe
from sitl.fleet import VehicleSpec
from sitl.params import PX4_PARAMS, ParamType
from sitl.probe import Probe, ProbeRig

HOME = (47.397742, 8.545594, 488.0)
PX4_DEFAULTS = {p.name: p.default for p in PX4_PARAMS}


def test_the_sih_quad_is_px4s_with_px4s_speed_defaults() -> None:
    sih = load_airframe("sihsim_quadx")
    assert sih["SYS_AUTOSTART"] == 10040
    assert not [name for name in sih if name.startswith("MPC_")]  # PX4's own defaults apply
    assert (PX4_DEFAULTS["MPC_XY_CRUISE"], PX4_DEFAULTS["MPC_XY_VEL_MAX"]) == (5.0, 12.0)
    assert PX4_DEFAULTS["MPC_Z_V_AUTO_UP"] == 3.0
    assert (sih["SIM_BAT_CAP_WH"], sih["SIM_PWR_HOVER_W"]) == (250.0, 300.0)
    assert (sih["SIM_PWR_CRUISE_W"], sih["SIM_PWR_CLIMB_W"]) == (330.0, 450.0)


def test_the_dfr_quad_flies_what_the_sample_site_describes() -> None:
    dfr = load_airframe("dfr_quad")
    assert {k: v for k, v in dfr.items() if k.startswith("MPC_")} == {
        "MPC_XY_CRUISE": 15.0,
        "MPC_XY_VEL_MAX": 20.0,
        "MPC_Z_V_AUTO_UP": 5.0,
        "MPC_Z_VEL_MAX_UP": 5.0,
        "MPC_Z_V_AUTO_DN": 3.0,
        "MPC_Z_VEL_MAX_DN": 3.0,
    }
    assert dfr["SIM_BAT_CAP_WH"] == 250.0
    assert available_airframes() == ["dfr_quad", "sihsim_quadx"]


def test_every_sim_power_parameter_is_a_float() -> None:
    sim = [p for p in PX4_PARAMS if p.name.startswith(("SIM_PWR_", "SIM_BAT_CAP"))]
    assert len(sim) == 7 and all(p.param_type is ParamType.REAL32 for p in sim)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my_frame"
    path.write_text(text)
    return path


def test_a_file_of_ones_own_is_read_by_path(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "#!/bin/sh\n# @name test\n\nparam set-default MPC_XY_CRUISE 7.5  # m/s\n"
        "param set-default COM_DL_LOSS_T 4\nparam set-default COM_DL_LOSS_T 6\n",
    )
    assert load_airframe(path) == {"MPC_XY_CRUISE": 7.5, "COM_DL_LOSS_T": 6}
    assert load_airframe(str(path)) == load_airframe(path)  # a str with a '/' is a path


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("param set MPC_XY_CRUISE 7", "expected 'param set-default NAME VALUE'"),
        (". ${R}etc/init.d/rc.mc_defaults", "expected 'param set-default NAME VALUE'"),
        ("param set-default MPC_XY_CRUISE", "expected 'param set-default NAME VALUE'"),
        ("param set-default MPC_XY_CRUSE 7", "unknown parameter MPC_XY_CRUSE"),
        ("param set-default COM_DL_LOSS_T 2.5", "COM_DL_LOSS_T is INT32, '2.5' is not an integer"),
        ("param set-default MPC_XY_CRUISE fast", "MPC_XY_CRUISE is FLOAT, 'fast' is not a number"),
        ("param set-default MPC_XY_CRUISE nan", "is not a finite number"),
    ],
)
def test_a_bad_line_is_an_error_naming_file_and_line(
    tmp_path: Path, line: str, message: str
) -> None:
    path = _write(tmp_path, f"# a test airframe\n\nparam set-default MPC_XY_CRUISE 7\n{line}\n")
    with pytest.raises(AirframeError) as caught:
        load_airframe(path)
    assert str(caught.value).startswith(f"{path}:4: ")
    assert message in str(caught.value)


def test_unknown_names_and_missing_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(AirframeError, match=r"unknown airframe 'typhoon_h480'.*dfr_quad"):
        load_airframe("typhoon_h480")
    with pytest.raises(AirframeError, match="no such airframe file"):
        load_airframe(tmp_path / "missing")


async def _param(probe: Probe, name: str) -> float:
    since = probe.mark()
    # each probe hears one vehicle's API link: address any system on it
    probe.send(probe.mav.param_request_read_encode(0, 0, name.encode("ascii"), -1))
    reply = await probe.wait_for("PARAM_VALUE", lambda m: m.param_id == name, since=since)
    return float(reply.param_value)


async def test_a_vehicle_reports_its_airframes_values_and_overrides_win() -> None:
    specs = [
        VehicleSpec(0, *HOME),  # sihsim_quadx
        VehicleSpec(1, HOME[0], HOME[1] + 1e-4, HOME[2], airframe="dfr_quad"),
        VehicleSpec(
            2, HOME[0], HOME[1] + 2e-4, HOME[2], airframe="dfr_quad", params={"MPC_XY_VEL_MAX": 17}
        ),
    ]
    async with ProbeRig(specs, speed_factor=1.0) as rig:
        sih, dfr, overridden = rig.probes
        assert await _param(sih, "MPC_XY_VEL_MAX") == 12.0
        assert await _param(sih, "MPC_XY_CRUISE") == 5.0
        assert await _param(dfr, "MPC_XY_VEL_MAX") == 20.0
        assert await _param(dfr, "MPC_Z_V_AUTO_UP") == 5.0
        assert await _param(overridden, "MPC_XY_VEL_MAX") == 17.0
        assert await _param(overridden, "MPC_XY_CRUISE") == 15.0  # the rest of the airframe
        assert await _param(overridden, "SIM_BAT_CAP_WH") == 250.0
        vehicles = rig.fleet.vehicles
        assert [v.motion.max_air_mps for v in vehicles] == [12.0, 20.0, 17.0]
        assert [v.params.get_int("MAV_SYS_ID") for v in vehicles] == [1, 2, 3]
