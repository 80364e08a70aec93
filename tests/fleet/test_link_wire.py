"""The link worker's messages: what goes through the pipe comes out the same (NaN and
infinity included), errors come back as the exceptions the flight code handles, and the
drones are shared out to workers in site order."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from dfr.errors import CommandError, CommandTimeout, LinkError
from dfr.fleet.drone_state import DroneState, LandedState, LinkState
from dfr.fleet.link_types import LinkWarning
from dfr.fleet.link_wire import (
    error_in,
    error_out,
    items_in,
    items_out,
    limits_in,
    limits_out,
    line,
    parse,
    state_in,
    state_out,
    warning_in,
    warning_out,
)
from dfr.fleet.link_workers import share_out
from dfr.fleet.mission_encoding import RawItem
from dfr.planning.vehicle_limits import VehicleLimits

AT = datetime(2026, 12, 4, 21, 30, 5, 123456, tzinfo=UTC)


def _through(value: object) -> object:
    return parse(line({"v": value}))["v"]


def test_a_state_crosses_whole() -> None:
    state = DroneState(
        drone_id="u07",
        link=LinkState.UP,
        updated_at=AT,
        lat_deg=32.75,
        lon_deg=-97.33,
        alt_amsl_m=260.5,
        mode="mission",
        armed=True,
        landed=LandedState.IN_AIR,
        health_ok=True,
        status_text="Takeoff detected",
    )
    back = state_in(_through(state_out(state)))  # type: ignore[arg-type]
    assert back.updated_at == AT
    assert back.link is LinkState.UP and back.landed is LandedState.IN_AIR
    assert math.isnan(back.battery_pct) and math.isnan(back.home_lat_deg)
    assert (back.lat_deg, back.mode, back.armed, back.status_text) == (
        32.75,
        "mission",
        True,
        "Takeoff detected",
    )
    fresh = DroneState(drone_id="u08", link=LinkState.CONNECTING)
    assert state_in(_through(state_out(fresh))).updated_at is None  # type: ignore[arg-type]


def test_limits_items_and_warnings_cross_whole() -> None:
    limits = VehicleLimits(xy_vel_max_mps=10.0)  # a real vehicle: airframe top speed inf
    back = limits_in(_through(limits_out(limits)))  # type: ignore[arg-type]
    assert back == limits and math.isinf(back.airframe_top_speed_mps)

    items = [RawItem(0, 6, 16, 1, 1, 0.0, 10.0, 0.0, math.nan, 327500000, -973300000, 60.0, 0)]
    (item,) = items_in(_through(items_out(items)))  # type: ignore[arg-type]
    assert (item.x, item.y, item.z, item.command) == (327500000, -973300000, 60.0, 16)
    assert math.isnan(item.param4)

    warning = LinkWarning("stranger_system", "system 9 speaks", "find it", 9, AT)
    assert warning_in(_through(warning_out(warning))) == warning  # type: ignore[arg-type]


def test_errors_come_back_as_the_same_kind() -> None:
    refused = error_in(
        _through(error_out(CommandError("u1", "arm", "DENIED", "Arming denied"))),  # type: ignore[arg-type]
        "u1",
    )
    assert type(refused) is CommandError
    assert (refused.command, refused.result, refused.detail) == ("arm", "DENIED", "Arming denied")
    assert str(refused) == "u1: arm -> DENIED: Arming denied"

    timeout = error_in(error_out(CommandTimeout("u1", "hold", "TIMEOUT")), "u1")
    assert isinstance(timeout, CommandTimeout)

    down = error_in(error_out(LinkError("u1", "link is lost: cannot send commands")), "u1")
    assert isinstance(down, LinkError) and str(down) == "u1: link is lost: cannot send commands"

    other = error_in(error_out(KeyError("u9")), "u9")
    assert isinstance(other, LinkError) and "KeyError" in str(other)


def test_drones_are_shared_out_in_site_order() -> None:
    ids = [f"u{i:02d}" for i in range(1, 51)]
    shares = share_out(ids, 8)
    assert [len(s) for s in shares] == [8, 8, 8, 8, 8, 8, 2]
    assert [d for s in shares for d in s] == ids
    assert share_out(["a"], 8) == [["a"]]
    with pytest.raises(ValueError, match="at least 1"):
        share_out(ids, 0)
