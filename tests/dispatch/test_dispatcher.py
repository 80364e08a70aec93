"""Every reason the dispatcher gives for not sending a drone, and what its policy decides,
on a real site and the real planner (``dfr.dispatch.dispatcher.decide``)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dfr.dispatch.dispatcher import Decision, Outcome, decide
from dfr.fleet.drone_state import DroneState, LandedState, LinkState
from dfr.planning.planner import Planner
from dfr.planning.wind import Wind
from dfr.records import DockHold
from dfr.site import load_site
from tests.dispatch.scene import FAR, dispatch_site, incident, ready_state

CALM = Wind(0.0, 0.0)


class Desk:
    """The planner of a site with the drones given, and their states (ready by default)."""

    def __init__(self, directory: Path, drones: list[dict[str, Any]]) -> None:
        site = load_site(dispatch_site(directory, drones))
        self.planner = Planner.from_site(site)
        self.site = site
        self.states = {d.id: ready_state(d.id, site.dock_of(d)) for d in site.drones}

    def state(self, drone_id: str, **changes: Any) -> None:
        drone = self.planner.drone(drone_id)
        self.states[drone_id] = ready_state(drone_id, self.site.dock_of(drone), **changes)

    def decide(
        self,
        *,
        priority: int = 1,
        where: tuple[float, float] | None = None,
        busy: frozenset[str] = frozenset(),
        wind: Wind = CALM,
        states: dict[str, DroneState] | None = None,
        **kw: Any,
    ) -> Decision:
        return decide(
            self.planner,
            incident(priority=priority, **({"where": where} if where else {})),
            self.states if states is None else states,
            busy,
            self.site.policy,
            wind=wind,
            **kw,
        )


def reasons(decision: Decision) -> dict[str, str]:
    return {r["drone_id"]: r["reason"] for r in decision.rejections}


@pytest.fixture
def one(tmp_path: Path) -> Desk:
    """One drone, ``d``, on the clear dock ``a``."""
    return Desk(tmp_path / "site", [{"id": "d", "dock": "a"}])


def test_a_ready_drone_is_ranked_and_nothing_is_rejected(one: Desk) -> None:
    decision = one.decide()
    assert decision.chosen is not None and decision.chosen.drone_id == "d"
    assert [c["drone_id"] for c in decision.ranking] == ["d"]
    assert decision.rejections == []


def test_a_drone_with_no_link_is_rejected(one: Desk) -> None:
    decision = one.decide(states={})
    assert decision.outcome is Outcome.QUEUED and decision.chosen is None
    assert reasons(decision) == {"d": "no link to this drone"}


def test_a_drone_already_flying_is_rejected(one: Desk) -> None:
    decision = one.decide(busy=frozenset({"d"}))
    assert decision.outcome is Outcome.QUEUED
    assert reasons(decision) == {"d": "already on a flight"}


@pytest.mark.parametrize("link", [LinkState.CONNECTING, LinkState.LOST, LinkState.CLOSED])
def test_a_drone_whose_link_is_not_up_is_rejected_for_that_alone(
    one: Desk, link: LinkState
) -> None:
    one.state("d", link=link, armable=False, health_ok=False)  # not looked at without a link
    assert reasons(one.decide()) == {"d": f"link {link.value}"}


@pytest.mark.parametrize(
    "changes",
    [{"armed": True}, {"landed": LandedState.IN_AIR}, {"landed": LandedState.TAKING_OFF}],
)
def test_a_drone_off_its_dock_is_rejected(one: Desk, changes: dict[str, Any]) -> None:
    one.state("d", **changes)
    assert reasons(one.decide()) == {"d": "not on its dock"}


def test_a_drone_failing_its_health_checks_is_rejected(one: Desk) -> None:
    one.state("d", health_ok=False)
    assert reasons(one.decide()) == {"d": "vehicle health checks failing"}


def test_a_drone_that_is_not_armable_is_rejected(one: Desk) -> None:
    one.state("d", armable=False)
    assert reasons(one.decide()) == {"d": "vehicle not armable (pre-arm checks)"}


def test_wind_above_the_airframe_limit_is_a_weather_hold(one: Desk) -> None:
    decision = one.decide(wind=Wind(0.0, 14.0))  # the default airframe takes 12 m/s
    assert decision.outcome is Outcome.QUEUED
    assert reasons(decision) == {"d": "weather hold: wind 14 m/s above the airframe's 12 m/s"}


def test_a_held_docks_drones_are_rejected_with_the_hold_and_others_still_go(
    tmp_path: Path,
) -> None:
    desk = Desk(tmp_path / "site", [{"id": "d1", "dock": "a"}, {"id": "d2", "dock": "a"}])
    hold = DockHold("a", "lightning within 10 km", "sam", datetime(2026, 12, 4, tzinfo=UTC))
    decision = desk.decide(holds={"a": hold})
    assert decision.outcome is Outcome.QUEUED and decision.chosen is None
    assert reasons(decision) == {
        "d1": "dock a on hold: lightning within 10 km (by sam)",
        "d2": "dock a on hold: lightning within 10 km (by sam)",
    }
    # a hold elsewhere changes nothing here; with the link down both reasons are named
    assert desk.decide(holds={"b": replace(hold, dock_id="b")}).chosen is not None
    desk.state("d1", link=LinkState.LOST)
    assert reasons(desk.decide(holds={"a": hold}))["d1"] == (
        "dock a on hold: lightning within 10 km (by sam); link lost"
    )


def test_every_readiness_problem_is_named(one: Desk) -> None:
    one.state("d", armable=False, health_ok=False)
    assert reasons(one.decide(busy=frozenset({"d"}))) == {
        "d": "already on a flight; vehicle health checks failing; "
        "vehicle not armable (pre-arm checks)"
    }


def test_a_drone_whose_dock_is_inside_a_zone_is_rejected(tmp_path: Path) -> None:
    desk = Desk(tmp_path / "site", [{"id": "d", "dock": "b"}])
    assert reasons(desk.decide()) == {"d": "dock b is inside a zone at cruise altitude"}


def test_a_drone_with_no_legal_path_to_the_scene_is_rejected(tmp_path: Path) -> None:
    desk = Desk(tmp_path / "site", [{"id": "d", "dock": "c"}])
    assert reasons(desk.decide()) == {"d": "no legal path from dock c to the scene"}


ENERGY = re.compile(
    r"needs (\d+) Wh \(out \d+ \+ on scene \d+ \+ back \d+\) but only (-?\d+) Wh are usable "
    r"above the 20 % reserve"
)


def test_a_scene_out_of_range_is_rejected_for_its_energy(one: Desk) -> None:
    decision = one.decide(where=FAR)
    assert decision.outcome is Outcome.QUEUED
    match = ENERGY.fullmatch(reasons(decision)["d"])
    assert match is not None and int(match[1]) > int(match[2])


def test_a_battery_too_low_for_the_scene_is_rejected_for_its_energy(one: Desk) -> None:
    assert one.decide().chosen is not None  # full: it can go
    one.state("d", battery_pct=22.0)  # 2 % above the reserve
    decision = one.decide()
    assert decision.chosen is None
    match = ENERGY.fullmatch(reasons(decision)["d"])
    assert match is not None and int(match[1]) > int(match[2])


def test_a_headwind_above_the_airspeed_leaves_no_ground_speed(tmp_path: Path) -> None:
    slow = {"cruise_speed_mps": 8.0, "max_speed_mps": 10.0, "max_wind_mps": 15.0}
    desk = Desk(tmp_path / "site", [{"id": "d", "dock": "a", "performance": slow}])
    decision = desk.decide(wind=Wind(0.0, 9.0))  # from the north; the scene is north of a
    assert re.fullmatch(
        r"leg 1 out \(track 0°\): wind 9\.0 m/s from 0° leaves no ground speed at "
        r"8\.0 m/s airspeed",
        reasons(decision)["d"],
    )


def test_the_fastest_feasible_drone_is_chosen_and_the_others_say_why_not(
    tmp_path: Path,
) -> None:
    desk = Desk(
        tmp_path / "site",
        [{"id": "in_zone", "dock": "b"}, {"id": "walled", "dock": "c"}, {"id": "ok", "dock": "a"}],
    )
    decision = desk.decide()
    assert decision.chosen is not None and decision.chosen.drone_id == "ok"
    assert set(reasons(decision)) == {"in_zone", "walled"}


def test_all_drones_busy_queues_the_call(tmp_path: Path) -> None:
    desk = Desk(tmp_path / "site", [{"id": "d1", "dock": "a"}, {"id": "d2", "dock": "a"}])
    decision = desk.decide(busy=frozenset({"d1", "d2"}))
    assert decision.outcome is Outcome.QUEUED and decision.ranking == []
    assert reasons(decision) == {"d1": "already on a flight", "d2": "already on a flight"}


@pytest.mark.parametrize(
    ("priority", "pilot", "outcome"),
    [
        (1, False, Outcome.AUTO_LAUNCH),
        (2, False, Outcome.AUTO_LAUNCH),  # the policy's auto_launch_max_priority
        (3, False, Outcome.AWAITING_PILOT),  # above it: a pilot launches
        (5, False, Outcome.AWAITING_PILOT),
        (5, True, Outcome.PILOT_LAUNCH),
    ],
)
def test_the_policy_decides_who_launches(
    one: Desk, priority: int, pilot: bool, outcome: Outcome
) -> None:
    decision = one.decide(priority=priority, pilot=pilot)
    assert decision.outcome is outcome
    assert decision.chosen is not None and decision.rejections == []


def test_a_named_drone_is_the_only_one_considered(tmp_path: Path) -> None:
    desk = Desk(tmp_path / "site", [{"id": "d1", "dock": "a"}, {"id": "d2", "dock": "a"}])
    desk.state("d2", armable=False)
    decision = desk.decide(only_drone="d2", pilot=True)
    assert decision.outcome is Outcome.QUEUED and decision.ranking == []
    assert reasons(decision) == {"d2": "vehicle not armable (pre-arm checks)"}
