"""PX4's strict rules on the wire (pymavlink): mission feasibility before Mission mode,
COM_DISARM_PRFLT, repositions against the geofence.

Sources (PX4 main 02e73e3): commander/Commander.cpp (DO_SET_MODE, MISSION_START,
printRejectMode, arm, handleAutoDisarm), commander/UserModeIntention.cpp,
navigator/mission_base.cpp (check_mission_valid), navigator/mission_feasibility_checker.cpp,
navigator/navigator_main.cpp (DO_REPOSITION / DO_CHANGE_ALTITUDE vs geofence_allows_position).
Durations are asserted in vehicle time (the simulator's own clock), never wall-clock.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import pytest

from sitl.fleet import VehicleSpec
from sitl.frame import LocalFrame
from sitl.params import int_to_wire
from sitl.probe import NAN, Probe, ProbeRig
from sitl.vehicle import Vehicle

HOME = (47.397742, 8.545594, 488.0)
FRAME = LocalFrame(HOME[0], HOME[1])
ACCEPTED, TEMP_REJECTED, DENIED = 0, 1, 2
SEV_CRITICAL, SEV_INFO = 2, 6
SET_MODE, MISSION_START, ARM, REPOSITION, CHANGE_ALTITUDE = 176, 300, 400, 192, 186
MISSION_MODE = (1, 4, 4)  # DO_SET_MODE base CUSTOM, main AUTO, sub MISSION
HOLD, MISSION = 0x03040000, 0x04040000
NOT_AVAILABLE = "Switching to Mission is currently not available\t"


def _rig(speed_factor: float = 20.0, **params: float) -> ProbeRig:
    return ProbeRig([VehicleSpec(0, *HOME, params=params)], speed_factor=speed_factor)


def _ll(north_m: float, east_m: float) -> tuple[int, int]:
    lat, lon = FRAME.to_lat_lon(north_m, east_m)
    return round(lat * 1e7), round(lon * 1e7)


def _mission_item(p: Probe, seq: int, command: int, north_m: float, east_m: float, z: float) -> Any:
    x, y = _ll(north_m, east_m)
    return p.mav.mission_item_int_encode(
        1, 1, seq, 6, command, 1 if seq == 0 else 0, 1, 0.0, 10.0, 0.0, NAN, x, y, z, 0
    )


def _route(p: Probe, alt_rel_m: float = 20.0) -> list[Any]:
    """Takeoff at home, two waypoints: 150 m north, then 150 m east of that."""
    return [
        _mission_item(p, 0, 22, 0.0, 0.0, alt_rel_m),
        _mission_item(p, 1, 16, 150.0, 0.0, alt_rel_m),
        _mission_item(p, 2, 16, 150.0, 150.0, alt_rel_m),
    ]


def _exclusion_circle(p: Probe, north_m: float, east_m: float, radius_m: float) -> list[Any]:
    x, y = _ll(north_m, east_m)
    return [p.mav.mission_item_int_encode(1, 1, 0, 5, 5004, 0, 1, radius_m, 0, 0, 0, x, y, 0, 1)]


async def _upload(p: Probe, items: list[Any], mission_type: int = 0) -> None:
    since = p.mark()
    p.send(p.mav.mission_count_encode(1, 1, len(items), mission_type))
    for seq, item in enumerate(items):
        await p.wait_for("MISSION_REQUEST_INT", lambda m, s=seq: m.seq == s, since=since)
        p.send(item)
    ack = await p.wait_for("MISSION_ACK", since=since)
    assert ack.type == ACCEPTED  # PX4 accepts the upload whatever the feasibility result


async def _until(
    v: Vehicle, pred: Callable[[Vehicle], bool], what: str, timeout_s: float = 20.0
) -> None:
    try:
        async with asyncio.timeout(timeout_s):
            while not pred(v):  # noqa: ASYNC110 (the simulator's own state; no event)
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"{what}: not reached") from None


async def _vehicle_seconds(v: Vehicle, seconds: float) -> None:
    """Let ``seconds`` of vehicle time pass."""
    end = v.time_s + seconds
    await _until(v, lambda veh: veh.time_s >= end, f"{seconds} s of vehicle time")


def _statustexts(p: Probe, since: int) -> list[tuple[int, str]]:
    """(severity, text) of every STATUSTEXT since ``since``, chunks joined by their id (PX4
    sends a text over 50 bytes in 50-byte chunks, streams/STATUSTEXT.hpp)."""
    out: list[tuple[int, str]] = []
    open_id = None
    for m in p.of_type("STATUSTEXT", since):
        if m.chunk_seq > 0 and m.id == open_id and out:
            out[-1] = (out[-1][0], out[-1][1] + m.text)
        else:
            out.append((m.severity, m.text))
            open_id = m.id
    return out


def _texts(p: Probe, since: int, needle: str) -> list[tuple[int, str]]:
    return [t for t in _statustexts(p, since) if needle in t[1]]


async def test_mission_start_right_after_upload_is_refused_then_flies() -> None:
    # 5x: PX4's 11 s to preflight-disarm is 2.2 s of wall time, room for the retry
    async with _rig(speed_factor=5.0) as rig:
        p, v = rig.probe, rig.vehicle
        fence = _exclusion_circle(p, -300.0, 0.0, 50.0)  # far from the route
        await _upload(p, _route(p))
        await _upload(p, fence, 1)  # the navigator reloads the fence, then re-checks
        since = p.mark()
        assert (await p.command_long(ARM, 1)).result == ACCEPTED
        refused = await p.command_long(SET_MODE, *MISSION_MODE)
        checked_after = not v.navigator.mission_runnable()
        assert refused.result == TEMP_REJECTED
        assert checked_after  # the refusal came before the re-check published a result
        text = await p.wait_for("STATUSTEXT", lambda m: "Switching to" in m.text, since=since)
        assert (text.text, text.severity) == (NOT_AVAILABLE, SEV_CRITICAL)
        snap = v.snapshot()
        assert snap.armed and snap.nav_state == "hold" and snap.landed_state == "on_ground"
        await _until(v, lambda veh: veh.navigator.mission_runnable(), "mission checked valid")
        since = p.mark()
        assert (await p.command_long(SET_MODE, *MISSION_MODE)).result == ACCEPTED
        await p.wait_for("HEARTBEAT", lambda m: m.custom_mode == MISSION, since=since)
        await p.wait_for(
            "STATUSTEXT", lambda m: m.text == "Takeoff detected\t", since=since, timeout_s=10
        )
        assert _texts(p, since, "Climb to 20.0 meters above home")


async def test_refused_mission_start_leaves_the_vehicle_to_preflight_disarm() -> None:
    async with _rig(speed_factor=10.0) as rig:
        p, v = rig.probe, rig.vehicle
        await _upload(p, _route(p))
        await _upload(p, _exclusion_circle(p, -300.0, 0.0, 50.0), 1)
        since = p.mark()
        armed_before_s = v.time_s
        assert (await p.command_long(ARM, 1)).result == ACCEPTED
        assert (await p.command_long(SET_MODE, *MISSION_MODE)).result == TEMP_REJECTED
        text = await p.wait_for(
            "STATUSTEXT", lambda m: m.text.startswith("Disarmed"), since=since, timeout_s=10
        )
        disarmed_by_s = v.time_s
        assert (text.text, text.severity) == ("Disarmed by auto preflight disarming\t", SEV_INFO)
        assert not v.armed and v.snapshot().nav_state == "hold"
        # COM_SPOOLUP_TIME 1 s + COM_DISARM_PRFLT 10 s after arming, in vehicle time
        assert 11.0 - 0.1 <= disarmed_by_s - armed_before_s <= 11.0 + 1.5


async def test_mode_refusal_text_goes_to_component_190_only_and_once_a_second() -> None:
    async with _rig() as rig:
        p, v = rig.probe, rig.vehicle
        p.send(p.mav.param_set_encode(1, 1, b"COM_DISARM_PRFLT", 60.0, 9))
        await p.wait_for("PARAM_VALUE", lambda m: m.param_id == "COM_DISARM_PRFLT")
        assert (await p.command_long(ARM, 1)).result == ACCEPTED  # in Hold, no mission
        since = p.mark()
        other = await p.command_long(SET_MODE, *MISSION_MODE, target=(1, 1))
        assert other.result == TEMP_REJECTED
        # a second ground station as component 55: refused, but no STATUSTEXT for it
        p.mav.srcComponent = 55
        try:
            assert (await p.command_long(SET_MODE, *MISSION_MODE)).result == TEMP_REJECTED
            await asyncio.sleep(0.1)
            assert len(_texts(p, since, "Switching to")) == 1
        finally:
            p.mav.srcComponent = 190
        first_s = v.time_s
        results = [(await p.command_long(SET_MODE, *MISSION_MODE)).result for _ in range(5)]
        span_s = v.time_s - first_s
        assert results == [TEMP_REJECTED] * 5
        await asyncio.sleep(0.1)
        texts = _texts(p, since, "Switching to")
        assert 1 <= len(texts) <= 2 + math.floor(span_s)  # printRejectMode: 1 s apart
        assert len(texts) < 6
        assert v.armed and v.snapshot().nav_state == "hold"


async def test_mission_start_command_needs_a_valid_mission_and_arms() -> None:
    async with _rig() as rig:
        p, v = rig.probe, rig.vehicle
        since = p.mark()
        assert (await p.command_long(MISSION_START, 0, 0)).result == DENIED
        text = await p.wait_for("STATUSTEXT", lambda m: "Mission start" in m.text, since=since)
        assert (text.text, text.severity) == ("Mission start denied! No valid mission\t", 2)
        await _upload(p, _route(p))
        await _until(v, lambda veh: veh.navigator.mission_runnable(), "mission checked valid")
        assert (await p.command_long(MISSION_START, 5, 0)).result == DENIED  # no item 5
        since = p.mark()
        assert (await p.command_long(MISSION_START, 0, 0)).result == ACCEPTED
        assert v.armed and v.snapshot().nav_state == "mission"
        assert _texts(p, since, "Armed by mission start\t")
        await p.wait_for("STATUSTEXT", lambda m: m.text == "Takeoff detected\t", since=since)


async def test_waypoint_in_an_exclusion_zone_makes_the_mission_invalid() -> None:
    async with _rig() as rig:
        p, v = rig.probe, rig.vehicle
        p.send(p.mav.param_set_encode(1, 1, b"COM_DISARM_PRFLT", 60.0, 9))
        await _upload(p, _exclusion_circle(p, 150.0, 150.0, 30.0), 1)  # on waypoint 3
        since = p.mark()
        await _upload(p, _route(p))
        text = await p.wait_for("STATUSTEXT", lambda m: "Geofence violation" in m.text, since=since)
        assert (text.text, text.severity) == ("Geofence violation for waypoint 3\t", SEV_CRITICAL)
        assert not v.navigator.mission_runnable()
        # disarmed, Mission may be selected, but arming in it is refused
        assert (await p.command_long(SET_MODE, *MISSION_MODE)).result == ACCEPTED
        since = p.mark()
        assert (await p.command_long(ARM, 1)).result == TEMP_REJECTED
        assert _texts(p, since, "Arming denied") == [
            (SEV_CRITICAL, "Arming denied: Resolve system health failures first\t")
        ]
        # armed in Hold, Mission is refused
        assert (await p.command_long(SET_MODE, 1, 4, 3)).result == ACCEPTED
        assert (await p.command_long(ARM, 1)).result == ACCEPTED
        assert (await p.command_long(SET_MODE, *MISSION_MODE)).result == TEMP_REJECTED
        # a fence that leaves the route free: checked again once loaded, then it flies
        await _upload(p, _exclusion_circle(p, -300.0, 0.0, 30.0), 1)
        await _until(v, lambda veh: veh.navigator.mission_runnable(), "mission checked valid")
        assert (await p.command_long(SET_MODE, *MISSION_MODE)).result == ACCEPTED


async def _take_off(rig: ProbeRig, alt_rel_m: float) -> None:
    p, v = rig.probe, rig.vehicle
    assert (await p.command_long(ARM, 1)).result == ACCEPTED
    ack = await p.command_long(22, NAN, NAN, NAN, NAN, NAN, NAN, HOME[2] + alt_rel_m)
    assert ack.result == ACCEPTED
    await _until(
        v,
        lambda veh: veh.nav_state == "hold" and veh.alt_rel_m() > alt_rel_m - 0.3,
        "takeoff to altitude",
    )
    await _until(v, lambda veh: veh.motion.ground_speed_mps < 0.2, "settled")


def _north_east(v: Vehicle) -> tuple[float, float]:
    return v.motion.north_m, v.motion.east_m


async def test_reposition_into_an_exclusion_circle_is_accepted_and_not_flown() -> None:
    async with _rig() as rig:
        p, v = rig.probe, rig.vehicle
        await _upload(p, _exclusion_circle(p, 80.0, 0.0, 25.0), 1)
        await _take_off(rig, 10.0)
        start = _north_east(v)
        since = p.mark()
        x, y = _ll(80.0, 0.0)
        ack = await p.command_int(REPOSITION, 5, -1, 1, 0, NAN, x, y, HOME[2] + 10.0)
        assert ack.result == ACCEPTED  # the commander ACKs before the navigator looks
        text = await p.wait_for("STATUSTEXT", lambda m: "geofence" in m.text, since=since)
        assert (text.text, text.severity) == ("Reposition is outside geofence\t", SEV_CRITICAL)
        await _vehicle_seconds(v, 20.0)
        here = _north_east(v)
        assert math.dist(start, here) < 5.0, f"moved {math.dist(start, here):.1f} m"
        assert v.snapshot().nav_state == "hold"
        # DO_CHANGE_ALTITUDE above GF_MAX_VER_DIST: refused the same way
        p.send(p.mav.param_set_encode(1, 1, b"GF_MAX_VER_DIST", 30.0, 9))
        await p.wait_for("PARAM_VALUE", lambda m: m.param_id == "GF_MAX_VER_DIST")
        since = p.mark()
        assert (await p.command_long(CHANGE_ALTITUDE, HOME[2] + 50.0)).result == ACCEPTED
        text = await p.wait_for("STATUSTEXT", lambda m: "geofence" in m.text, since=since)
        assert text.text == "Altitude change is outside geofence\t"
        await _vehicle_seconds(v, 10.0)
        assert v.alt_rel_m() == pytest.approx(10.0, abs=1.0)
        assert (await p.command_long(CHANGE_ALTITUDE, HOME[2] + 20.0)).result == ACCEPTED
        await _until(v, lambda veh: abs(veh.alt_rel_m() - 20.0) < 0.8, "altitude change flown")
        # GF_ACTION 1 (warn): PX4's geofence_allows_position lets every target through
        p.send(p.mav.param_set_encode(1, 1, b"GF_ACTION", int_to_wire(1), 6))
        await p.wait_for("PARAM_VALUE", lambda m: m.param_id == "GF_ACTION")
        ack = await p.command_int(REPOSITION, 5, -1, 1, 0, NAN, x, y, HOME[2] + 20.0)
        assert ack.result == ACCEPTED
        await _until(v, lambda veh: veh.motion.north_m > 30.0, "flew toward the zone")
