from __future__ import annotations

from pathlib import Path

import pytest

from dfr.errors import ConfigError
from dfr.site import load_site

REPO = Path(__file__).resolve().parents[1]


def test_sample_site_loads() -> None:
    site = load_site(REPO / "flightplans" / "fort-worth")
    assert [d.id for d in site.docks] == ["hq", "north", "northwest", "south"]
    assert site.dock_of(site.drones[0]).id == "hq"
    assert site.drones[0].performance.cruise_speed_mps == 15.0


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "site.yaml").write_text(text)
    return tmp_path


def test_unknown_dock_names_file_and_field(tmp_path: Path) -> None:
    site_dir = _write(
        tmp_path,
        "name: x\ndocks: [{id: a, lat: 1, lon: 2, ground_alt_amsl_m: 3}]\n"
        "drones: [{id: d, dock: b, mavlink_url: 'udpin://0.0.0.0:14540'}]\n",
    )
    with pytest.raises(ConfigError) as info:
        load_site(site_dir)
    assert str(site_dir / "site.yaml") in str(info.value)
    assert "no dock 'b'" in str(info.value)


def test_bad_latitude_names_the_field(tmp_path: Path) -> None:
    site_dir = _write(
        tmp_path,
        "name: x\ndocks: [{id: a, lat: 100, lon: 2, ground_alt_amsl_m: 3}]\n"
        "drones: [{id: d, dock: a, mavlink_url: 'udpin://0.0.0.0:14540'}]\n",
    )
    with pytest.raises(ConfigError, match=r"docks\[0\]\.lat"):
        load_site(site_dir)


def test_missing_site_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing"):
        load_site(tmp_path)


def _drones_site(tmp_path: Path, drones: str) -> Path:
    return _write(
        tmp_path, f"name: x\ndocks: [{{id: a, lat: 1, lon: 2, ground_alt_amsl_m: 3}}]\n{drones}"
    )


def test_sysid_defaults_to_px4_sitl_instance_plus_one(tmp_path: Path) -> None:
    site = load_site(
        _drones_site(
            tmp_path,
            "drones:\n"
            "  - {id: d0, dock: a, mavlink_url: 'udpin://0.0.0.0:14540'}\n"
            "  - {id: d1, dock: a, mavlink_url: 'udpin://0.0.0.0:14541', sysid: 7}\n"
            "  - {id: d2, dock: a, mavlink_url: 'udpin://0.0.0.0:14542'}\n",
        )
    )
    assert [d.sysid for d in site.drones] == [1, 7, 3]
    assert [str(d.allowed_video_source) for d in site.drones] == ["127.0.0.1"] * 3


def test_sysid_is_checked(tmp_path: Path) -> None:
    for bad in ("0", "256"):
        site_dir = _drones_site(
            tmp_path,
            f"drones: [{{id: d, dock: a, mavlink_url: 'udpin://0.0.0.0:14540', sysid: {bad}}}]\n",
        )
        with pytest.raises(ConfigError, match=r"drones\[0\]\.sysid"):
            load_site(site_dir)
    site_dir = _drones_site(
        tmp_path,
        "drones:\n"
        "  - {id: d0, dock: a, mavlink_url: 'udpin://0.0.0.0:14549', sysid: 2}\n"
        "  - {id: d1, dock: a, mavlink_url: 'udpin://0.0.0.0:14549'}\n",
    )
    with pytest.raises(ConfigError, match=r"drones\[1\]\.sysid: 2 is already drones\[0\]"):
        load_site(site_dir)


def test_video_source_is_an_address(tmp_path: Path) -> None:
    site = load_site(
        _drones_site(
            tmp_path,
            "drones: [{id: d, dock: a, mavlink_url: 'udpin://0.0.0.0:14540', "
            "video_url: 'rtp://0.0.0.0:5600', video_source: '10.1.2.3:5600'}]\n",
        )
    )
    source = site.drones[0].allowed_video_source
    assert (str(source.host), source.port) == ("10.1.2.3", 5600)
    site_dir = _drones_site(
        tmp_path,
        "drones: [{id: d, dock: a, mavlink_url: 'udpin://0.0.0.0:14540', "
        "video_source: 'camera.local'}]\n",
    )
    with pytest.raises(ConfigError, match=r"drones\[0\]\.video_source: .*IP address"):
        load_site(site_dir)
