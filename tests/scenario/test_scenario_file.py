"""Scenario files: the shipped ones load, and a bad one is refused naming its line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dfr.scenario.scenario_file import (
    ScenarioFileError,
    duration_s,
    load_scenario,
    scenario_schema,
)

SCENARIOS = Path(__file__).resolve().parents[2] / "sitl" / "scenarios"
SHIPPED = sorted(SCENARIOS.glob("*.yaml"))

GOOD = """\
name: tiny
site: {site}
timeline:
  - at: 0s
    call:
      cad_id: T-1
      nature: test
      priority: 1
      location: {{lat: 45.5, lon: -122.69}}
expect:
  - docked: {{call: T-1}}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def test_the_schema_is_a_valid_json_schema() -> None:
    assert scenario_schema()["title"] == "dfr SITL scenario"


def test_the_suite_has_twelve_files_each_with_its_page() -> None:
    assert len(SHIPPED) >= 12
    for path in SHIPPED:
        scenario = load_scenario(path)
        assert scenario.expectations, path
        assert path.with_suffix(".md").is_file(), f"{path.name} has no .md beside it"


def test_a_good_file_loads(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, GOOD.format(site=SCENARIOS / "sites/town")))
    (step,) = scenario.steps
    assert (step.kind, step.id, step.at_s, step.line) == ("call", "T-1", 0.0, 4)
    assert scenario.expectations[0].line == 11


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("priority: 1", "priority: 7", 8, "priority: 7 is greater than the maximum of 5"),
        ("  - docked: {call: T-1}", "  - docked: {call: T-2}", 11, "no call 'T-2'"),
        ("  - at: 0s", "  - at: soon", 4, "timeline[0].at"),
        (
            "  - docked: {call: T-1}",
            "  - alert: {kind: 5}",
            11,
            "expect[0].alert.kind: 5 is not of type 'string'",
        ),
        (
            "  - docked: {call: T-1}",
            "  - docked: {call: T-1, when: later}",
            11,
            "unknown field(s) 'when'",
        ),
        ("  - docked: {call: T-1}", "  - landed: {call: T-1}", 11, "unknown field(s) 'landed'"),
    ],
)
def test_a_bad_file_is_refused_naming_the_line(
    tmp_path: Path, old: str, new: str, line: int, words: str
) -> None:
    text = GOOD.format(site=SCENARIOS / "sites/town").replace(old, new)
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioFileError) as refused:
        load_scenario(path)
    assert refused.value.line == line, str(refused.value)
    assert str(refused.value).startswith(f"{path}:{line}: ")
    assert words in str(refused.value)


def test_a_site_that_does_not_exist_is_refused_on_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.format(site="nowhere/at-all"))
    with pytest.raises(ScenarioFileError, match=r":2: site: no site.yaml in 'nowhere/at-all'"):
        load_scenario(path)


def test_the_command_exits_2_for_a_bad_file_and_names_the_line(tmp_path: Path) -> None:
    text = GOOD.format(site=SCENARIOS / "sites/town").replace("priority: 1", "priority: 0")
    path = _write(tmp_path, text)
    done = subprocess.run(
        [sys.executable, "-m", "dfr.cli", "scenario", "run", str(path), "--report", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done
    assert f"{path}:8: timeline[0].call.priority: 0 is less than the minimum of 1" in done.stderr
    assert not list(tmp_path.glob("*.json"))  # nothing ran


def test_durations() -> None:
    assert duration_s(5) == 5.0
    assert duration_s("1.5m") == 90.0
    assert duration_s("20s") == 20.0


STEPS = """\
  - id: hold
    at: 1s
    dock_hold: {dock: west, reason: lightning within 10 km}
  - id: release
    at: 2s
    dock_release: {dock: west}
  - id: divert
    at: 3s
    pilot: {action: divert, call: T-1, from_call: T-1}
  - at: 4s
    eido: {incidentComponent: {incidentTrackingIdentifier: E-7}}
expect:
"""


def test_dock_holds_a_divert_and_an_eido_load(tmp_path: Path) -> None:
    text = GOOD.format(site=SCENARIOS / "sites/town").replace("expect:\n", STEPS)
    text += "  - dispatch_rejected: {call: E-7, drone: w1, reason_contains: on hold}\n"
    text += "  - waiting: {call: T-1}\n  - call_taken: {call: E-7, source: eido, priority: 1}\n"
    scenario = load_scenario(_write(tmp_path, text))
    assert [(s.kind, s.id) for s in scenario.steps] == [
        ("call", "T-1"),
        ("dock_hold", "hold"),
        ("dock_release", "release"),
        ("pilot", "divert"),
        ("eido", "E-7"),  # an inline document's call is named by its tracking id
    ]
    assert [e.kind for e in scenario.expectations][1:] == [
        "dispatch_rejected",
        "waiting",
        "call_taken",
    ]


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("from_call: T-1}", "}", ":18: timeline[3].pilot: 'drone' is a required property"),
        ("action: divert", "action: return", ":16: timeline: from_call is only for the divert"),
        ("from_call: T-1", "from_call: T-9", "no call 'T-9'"),
        (", reason: lightning within 10 km", "", "'reason' is a required property"),
        ("dock_release: {dock: west}", "dock_release: {}", "'dock' is a required property"),
    ],
)
def test_bad_holds_and_diverts_are_refused_naming_the_step(
    tmp_path: Path, old: str, new: str, words: str
) -> None:
    text = GOOD.format(site=SCENARIOS / "sites/town").replace("expect:\n", STEPS).replace(old, new)
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioFileError) as refused:
        load_scenario(path)
    assert words in str(refused.value)
