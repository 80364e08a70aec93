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
