"""The mission protocol (mission, fence, rally) and mission execution, at the MAVLink level."""

from __future__ import annotations

import asyncio
import math
import struct

import pytest

from sitl.fleet import VehicleSpec
from sitl.probe import NAN, Probe, ProbeRig

HOME = (47.397742, 8.545594, 488.0)
ACCEPTED = 0
MISSION_ERROR, UNSUPPORTED_FRAME, MISSION_UNSUPPORTED = 1, 2, 3


@pytest.fixture
async def rig() -> ProbeRig:
    async with ProbeRig([VehicleSpec(0, *HOME)], speed_factor=20.0) as r:
        yield r


def _item(
    p: Probe,
    seq: int,
    command: int,
    *,
    frame: int = 6,
    lat: float = 0.0,
    lon: float = 0.0,
    z: float = NAN,
    p1: float = 0.0,
    p2: float = 0.0,
    mission_type: int = 0,
) -> object:
    return p.mav.mission_item_int_encode(
        1,
        1,
        seq,
        frame,
        command,
        1 if seq == 0 else 0,
        1,
        p1,
        p2,
        0.0,
        NAN,
        round(lat * 1e7),
        round(lon * 1e7),
        z,
        mission_type,
    )


async def _upload(p: Probe, items: list[object], mission_type: int = 0) -> object:
    since = p.mark()
    p.send(p.mav.mission_count_encode(1, 1, len(items), mission_type))
    for seq, item in enumerate(items):
        await p.wait_for("MISSION_REQUEST_INT", lambda m, s=seq: m.seq == s, since=since)
        p.send(item)
    return await p.wait_for("MISSION_ACK", since=since)


def _extension_u32(msg: object, offset: int) -> int:
    """A uint32 extension field newer than pymavlink's dialect, read from the raw frame
    (MAVLink 2 header is 10 bytes; trailing zero bytes are trimmed on the wire)."""
    raw = bytes(msg.get_msgbuf())  # type: ignore[attr-defined]
    payload = raw[10:-2].ljust(offset + 4, b"\0")
    return int(struct.unpack_from("<I", payload, offset)[0])


def _sortie(p: Probe) -> list[object]:
    return [
        _item(p, 0, 22, z=10.0),
        _item(p, 1, 16, lat=HOME[0] + 0.0004, lon=HOME[1], z=15.0, p2=2.0),
        _item(p, 2, 178, frame=2, p1=1, p2=10.0),
        _item(p, 3, 16, lat=HOME[0] + 0.0004, lon=HOME[1] + 0.0006, z=15.0, p1=1.0, p2=2.0),
        _item(p, 4, 93, frame=2, p1=2.0),
        _item(p, 5, 20, frame=2),
    ]


async def test_upload_download_roundtrip(rig: ProbeRig) -> None:
    p = rig.probe
    items = _sortie(p)
    ack = await _upload(p, items)
    assert (ack.type, ack.mission_type) == (ACCEPTED, 0)
    assert (ack.target_system, ack.target_component) == (245, 190)
    plan_id = rig.vehicle.transfer.ids[0]
    assert plan_id != 0
    assert _extension_u32(ack, 4) == plan_id  # MISSION_ACK.opaque_id
    since = p.mark()
    p.send(p.mav.mission_request_list_encode(1, 1, 0))
    count = await p.wait_for("MISSION_COUNT", since=since)
    assert count.count == len(items)
    assert _extension_u32(count, 5) == plan_id  # MISSION_COUNT.opaque_id
    current = await p.wait_for("MISSION_CURRENT", since=since)
    assert _extension_u32(current, 6) == plan_id  # MISSION_CURRENT.mission_id
    for seq, sent in enumerate(items):
        since = p.mark()
        p.send(p.mav.mission_request_int_encode(1, 1, seq, 0))
        got = await p.wait_for("MISSION_ITEM_INT", since=since)
        assert (got.seq, got.command, got.x, got.y, got.frame) == (
            seq,
            sent.command,
            sent.x,
            sent.y,
            sent.frame,
        )  # type: ignore[attr-defined]
    current = await p.wait_for("MISSION_CURRENT")
    assert (current.total, current.mission_state) == (len(items), 2)  # NOT_STARTED


async def test_out_of_order_items_are_ignored_and_rerequested(rig: ProbeRig) -> None:
    p = rig.probe
    items = _sortie(p)[:3]
    since = p.mark()
    p.send(p.mav.mission_count_encode(1, 1, 3, 0))
    await p.wait_for("MISSION_REQUEST_INT", lambda m: m.seq == 0, since=since)
    p.send(items[2])
    p.send(items[1])
    # the vehicle keeps asking for item 0 (250 ms re-request), and nothing was acknowledged
    await p.wait_for("MISSION_REQUEST_INT", lambda m: m.seq == 0)
    assert p.of_type("MISSION_ACK", since) == []
    for seq, item in enumerate(items):
        if seq:
            await p.wait_for("MISSION_REQUEST_INT", lambda m, s=seq: m.seq == s, since=since)
        p.send(item)
    ack = await p.wait_for("MISSION_ACK", since=since)
    assert ack.type == ACCEPTED
    # a repeated last item after completion is acknowledged again
    since = p.mark()
    p.send(items[2])
    assert (await p.wait_for("MISSION_ACK", since=since)).type == ACCEPTED
    assert len(rig.vehicle.navigator.mission) == 3


async def test_upload_times_out_after_5_s_without_progress(rig: ProbeRig) -> None:
    p = rig.probe
    since = p.mark()
    p.send(p.mav.mission_count_encode(1, 1, 2, 0))
    text = await p.wait_for("STATUSTEXT", lambda m: "timeout" in m.text, since=since, timeout_s=8)
    assert text.text == "Operation timeout"
    requests = p.of_type("MISSION_REQUEST_INT", since)
    assert len(requests) >= 10 and all(r.seq == 0 for r in requests)
    assert rig.vehicle.transfer.state == "idle"


@pytest.mark.parametrize(
    ("command", "frame", "mission_type", "expected"),
    [
        (31999, 6, 0, MISSION_UNSUPPORTED),  # unknown command
        (16, 1, 0, UNSUPPORTED_FRAME),  # MAV_FRAME_LOCAL_NED
        (5001, 5, 0, MISSION_ERROR),  # fence item inside a mission
        (16, 5, 1, MISSION_UNSUPPORTED),  # waypoint inside a fence
        (16, 5, 2, MISSION_UNSUPPORTED),  # waypoint inside rally points
    ],
)
async def test_invalid_items_end_the_upload_with_the_right_error(
    rig: ProbeRig, command: int, frame: int, mission_type: int, expected: int
) -> None:
    p = rig.probe
    ack = await _upload(
        p,
        [
            _item(
                p,
                0,
                command,
                frame=frame,
                lat=HOME[0],
                lon=HOME[1],
                z=5,
                p1=3,
                mission_type=mission_type,
            )
        ],
        mission_type,
    )
    assert (ack.type, ack.mission_type) == (expected, mission_type)
    assert rig.vehicle.transfer.state == "idle"


async def test_fence_upload_polygon_and_zero_radius_circle(rig: ProbeRig) -> None:
    p = rig.probe
    d = 0.001
    corners = [
        (HOME[0] - d, HOME[1] - d),
        (HOME[0] + d, HOME[1] - d),
        (HOME[0] + d, HOME[1] + d),
        (HOME[0] - d, HOME[1] + d),
    ]
    items = [
        _item(p, i, 5001, frame=0, lat=la, lon=lo, z=0.0, p1=4, mission_type=1)
        for i, (la, lo) in enumerate(corners)
    ]
    items.append(_item(p, 4, 5003, frame=0, lat=0.0, lon=0.0, z=0.0, p1=0.0, mission_type=1))
    ack = await _upload(p, items, 1)
    assert (ack.type, ack.mission_type) == (ACCEPTED, 1)
    fence = rig.vehicle.commander.geofence
    assert len(fence.polygons) == 1 and fence.circles == ()
    bad = [
        _item(p, i, 5001, frame=0, lat=la, lon=lo, z=0.0, p1=2, mission_type=1)
        for i, (la, lo) in enumerate(corners[:2])
    ]
    assert (await _upload(p, bad, 1)).type == MISSION_ERROR
    rally = [_item(p, 0, 5100, frame=6, lat=HOME[0], lon=HOME[1], z=20, mission_type=2)]
    assert (await _upload(p, rally, 2)).type == ACCEPTED


async def test_clear_all_and_set_current(rig: ProbeRig) -> None:
    p = rig.probe
    await _upload(p, _sortie(p))
    since = p.mark()
    p.send(p.mav.mission_set_current_encode(1, 1, 3))
    assert (await p.wait_for("MISSION_CURRENT", lambda m: m.seq == 3, since=since)).total == 6
    since = p.mark()
    p.send(p.mav.mission_set_current_encode(1, 1, 42))
    assert "Not in list" in (await p.wait_for("STATUSTEXT", since=since)).text
    since = p.mark()
    p.send(p.mav.mission_clear_all_encode(1, 1, 0))
    assert (await p.wait_for("MISSION_ACK", since=since)).type == ACCEPTED
    current = await p.wait_for("MISSION_CURRENT", since=since)
    assert (current.total, current.mission_state) == (65535, 1)  # NO_MISSION


async def test_mission_flies_every_item_then_returns_lands_and_disarms(rig: ProbeRig) -> None:
    p = rig.probe
    v = rig.vehicle
    assert (await _upload(p, _sortie(p))).type == ACCEPTED
    assert (await p.command_long(400, 1)).result == ACCEPTED
    since = p.mark()
    assert (await p.command_long(176, 1, 4, 4)).result == ACCEPTED
    for seq in range(6):
        await p.wait_for(
            "MISSION_ITEM_REACHED", lambda m, s=seq: m.seq == s, since=since, timeout_s=20
        )
    await p.wait_for("HEARTBEAT", lambda m: m.custom_mode == 0x05040000, since=since)  # RTL
    await p.wait_for("MISSION_CURRENT", lambda m: m.mission_state == 5, since=since)
    await p.wait_for("HEARTBEAT", lambda m: not m.base_mode & 128, since=since, timeout_s=30)
    snap = v.snapshot()
    assert snap.landed_state == "on_ground"
    n, e = v.frame.to_ne(snap.lat_deg, snap.lon_deg)
    assert math.hypot(n, e) < 1.0
    texts = [m.text.rstrip("\t") for m in p.of_type("STATUSTEXT", since)]  # PX4's TAB
    assert "Takeoff detected" in texts and "Landing detected" in texts
    # the DO_CHANGE_SPEED override ends with the flight
    assert v.navigator.cruise_speed_mps() == pytest.approx(5.0)  # reset at disarm


async def test_random_items_always_end_with_one_ack(rig: ProbeRig) -> None:
    """Fuzz: uploads of random commands/frames/parameters (NaN, inf, huge) of every plan type
    end with exactly one MISSION_ACK each, and the vehicle keeps answering."""
    import random

    p = rig.probe
    rng = random.Random(99)
    values = [NAN, math.inf, -1.0, 0.0, 2.0, 5.0, 1e30]
    for _ in range(12):
        mission_type = rng.choice([0, 1, 2])
        count = rng.randint(1, 4)
        items = [
            p.mav.mission_item_int_encode(
                1,
                1,
                seq,
                rng.choice([0, 1, 2, 3, 5, 6, 10, 99]),
                rng.choice([16, 20, 21, 22, 93, 178, 5001, 5003, 5100, 31000]),
                1 if seq == 0 else 0,
                1,
                *(rng.choice(values) for _ in range(4)),
                rng.choice([0, 473977420, 2**31 - 1]),
                rng.choice([0, 85455940, -(2**31)]),
                rng.choice(values),
                mission_type,
            )
            for seq in range(count)
        ]
        since = p.mark()
        p.send(p.mav.mission_count_encode(1, 1, count, mission_type))

        async def requested(seq: int, since: int = since) -> bool:
            """True when item ``seq`` is asked for, False once the upload was acknowledged."""
            async with asyncio.timeout(2.0):
                while True:
                    if p.of_type("MISSION_ACK", since):
                        return False
                    if any(m.seq == seq for m in p.of_type("MISSION_REQUEST_INT", since)):
                        return True
                    await asyncio.sleep(0.01)

        for seq, item in enumerate(items):
            if not await requested(seq):
                break
            p.send(item)
        ack = await p.wait_for("MISSION_ACK", since=since)
        assert ack.mission_type == mission_type
        await asyncio.sleep(0.05)
        assert len(p.of_type("MISSION_ACK", since)) == 1
        assert rig.vehicle.transfer.state == "idle"
    assert (await p.command_long(512, 148)).result == ACCEPTED


async def test_mission_messages_to_component_190_are_served_like_px4(rig: ProbeRig) -> None:
    p = rig.probe
    since = p.mark()
    p.send(p.mav.mission_request_list_encode(1, 190, 0))
    assert (await p.wait_for("MISSION_COUNT", since=since)).count == 0
    since = p.mark()
    p.send(p.mav.mission_request_list_encode(1, 55, 0))  # another component: not ours
    await asyncio.sleep(0.3)
    assert p.of_type("MISSION_COUNT", since) == []


async def test_do_jump_repeats_the_loop_then_carries_on(rig: ProbeRig) -> None:
    p = rig.probe
    items = [
        _item(p, 0, 16, lat=HOME[0] + 0.0002, lon=HOME[1], z=5.0, p2=2.0),
        _item(p, 1, 16, lat=HOME[0] + 0.0002, lon=HOME[1] + 0.0003, z=5.0, p2=2.0),
        _item(p, 2, 177, frame=2, p1=0, p2=1),  # jump to 0, once
        _item(p, 3, 16, lat=HOME[0], lon=HOME[1], z=5.0, p2=2.0),
    ]
    assert (await _upload(p, items)).type == ACCEPTED
    assert (await p.command_long(400, 1)).result == ACCEPTED
    since = p.mark()
    assert (await p.command_long(176, 1, 4, 4)).result == ACCEPTED
    await p.wait_for("MISSION_CURRENT", lambda m: m.mission_state == 5, since=since, timeout_s=30)
    seqs = [m.seq for m in p.of_type("MISSION_CURRENT", since)]
    steps = [s for i, s in enumerate(seqs) if i == 0 or s != seqs[i - 1]]
    assert steps == [0, 1, 2, 0, 1, 2, 3]


async def test_armed_in_mission_mode_it_flies_and_stamps_each_item_on_its_own_clock(
    rig: ProbeRig,
) -> None:
    """Mode first, then arm (how the dispatch benchmark starts a sortie): the mission
    starts as it arms. ``armed_at_s``/``item_reached_at_s`` are vehicle time, so the
    NAV_DELAY between items 3 and 4 is its 2 s whatever the speed factor and the load."""
    p = rig.probe
    v = rig.vehicle
    assert (await _upload(p, _sortie(p))).type == ACCEPTED
    assert (await p.command_long(176, 1, 4, 4)).result == ACCEPTED
    assert v.armed_at_s is None and not v.item_reached_at_s
    since = p.mark()
    assert (await p.command_long(400, 1)).result == ACCEPTED
    await p.wait_for("MISSION_ITEM_REACHED", lambda m: m.seq == 4, since=since, timeout_s=20)
    armed_at, reached = v.armed_at_s, v.item_reached_at_s
    assert armed_at is not None and set(range(5)) <= set(reached)
    assert armed_at < reached[0] <= reached[1] <= reached[2] <= reached[3] < reached[4]
    # the delay starts on the sub-step after item 3 and ends on the one that passes it:
    # at most two physics sub-steps (0.05 s of vehicle time each) over
    assert 2.0 <= reached[4] - reached[3] <= 2.0 + 2 * 0.05
    assert reached[4] <= v.time_s
