"""Airframe files: PX4's ``param set-default`` syntax, checked line by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitl.airframe import AirframeError, available_airframes, load_airframe
from sitl.params import PX4_PARAMS, ParamType

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
