"""PX4 behaviour on the wire that MAVSDK cannot show: pymavlink against a simulated vehicle
over real UDP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import math
import struct

import pytest
from pymavlink.dialects.v20 import common as mavlink2

from sitl.fleet import VehicleSpec
from sitl.params import int_to_wire, wire_to_int
from sitl.probe import NAN, ProbeRig

HOME = (47.397742, 8.545594, 488.0)
HOLD_CUSTOM_MODE = 0x03040000
ACCEPTED, TEMP_REJECTED, DENIED, UNSUPPORTED, FAILED = 0, 1, 2, 3, 4
UNSUPPORTED_FRAME = 9


def _specs(n: int = 1, **params: float) -> list[VehicleSpec]:
    return [VehicleSpec(i, HOME[0], HOME[1] + i * 1e-4, HOME[2], params=params) for i in range(n)]


@pytest.fixture
async def rig() -> ProbeRig:
    async with ProbeRig(_specs(), speed_factor=20.0) as r:
        yield r


async def _take_off(rig: ProbeRig, alt_rel_m: float = 10.0) -> None:
    p = rig.probe
    assert (await p.command_long(400, 1)).result == ACCEPTED
    ack = await p.command_long(22, NAN, NAN, NAN, NAN, NAN, NAN, HOME[2] + alt_rel_m)
    assert ack.result == ACCEPTED
    await p.wait_for(
        "HEARTBEAT", lambda m: m.custom_mode == HOLD_CUSTOM_MODE and m.base_mode & 128, timeout_s=10
    )
    assert rig.vehicle.snapshot().alt_rel_m == pytest.approx(alt_rel_m, abs=0.3)


async def test_heartbeat_is_px4_hold_on_boot(rig: ProbeRig) -> None:
    hb = await rig.probe.wait_for("HEARTBEAT", since=0)
    assert (hb.type, hb.autopilot, hb.mavlink_version) == (2, 12, 3)
    assert hb.base_mode == 29 and hb.custom_mode == HOLD_CUSTOM_MODE
    assert hb.system_status == 3
    assert (hb.get_srcSystem(), hb.get_srcComponent()) == (1, 1)


async def test_sys_status_has_health_and_prearm_bits(rig: ProbeRig) -> None:
    st = await rig.probe.wait_for("SYS_STATUS", since=0)
    for bit in (1, 2, 4, 32, 0x10000000):
        assert st.onboard_control_sensors_present & bit
        assert st.onboard_control_sensors_health & bit


async def test_command_ack_targets_the_requester(rig: ProbeRig) -> None:
    p = rig.probe
    p.mav.srcSystem, p.mav.srcComponent = 77, 33
    ack = await p.command_long(176, 1, 4, 3)
    assert ack.result == ACCEPTED
    assert (ack.target_system, ack.target_component) == (77, 33)


async def test_commands_for_other_systems_are_ignored(rig: ProbeRig) -> None:
    with pytest.raises(TimeoutError):
        await rig.probe.command_long(400, 1, target=(9, 1), timeout_s=0.5)
    assert not rig.vehicle.armed


async def test_takeoff_with_all_params_nan_uses_mis_takeoff_alt(rig: ProbeRig) -> None:
    p = rig.probe
    assert (await p.command_long(22)).result == ACCEPTED  # accepted while disarmed
    assert (await p.command_long(400, 1)).result == ACCEPTED
    await p.wait_for(
        "HEARTBEAT", lambda m: m.custom_mode == HOLD_CUSTOM_MODE and m.base_mode & 128, timeout_s=10
    )
    assert rig.vehicle.snapshot().alt_rel_m == pytest.approx(2.5, abs=0.2)


async def test_command_int_frames_other_than_global_int_are_refused(rig: ProbeRig) -> None:
    p = rig.probe
    await _take_off(rig)
    x, y = int((HOME[0] + 0.0005) * 1e7), int(HOME[1] * 1e7)
    for frame in (0, 3, 6):
        ack = await p.command_int(192, frame, -1, 1, 0, NAN, x, y, HOME[2] + 20)
        assert ack.result == UNSUPPORTED_FRAME
        ack = await p.command_int(34, frame, 20, 3, 0, NAN, x, y, HOME[2] + 20)
        assert ack.result == UNSUPPORTED_FRAME
    assert (await p.command_int(192, 5, -1, 0, 0, NAN, x, y, HOME[2] + 20)).result == UNSUPPORTED
    assert (await p.command_int(192, 5, -1, 3, 0, NAN, x, y, HOME[2] + 20)).result == UNSUPPORTED
    assert (await p.command_int(192, 5, -1, 1, 0, NAN, x, y, HOME[2] + 20)).result == ACCEPTED
    v = rig.vehicle

    def arrived() -> bool:
        snap = v.snapshot()
        return (
            abs(snap.lat_deg - (HOME[0] + 0.0005)) < 2e-6
            and abs(snap.alt_amsl_m - (HOME[2] + 20)) < 0.5
        )

    async with asyncio.timeout(20):
        while not arrived():  # noqa: ASYNC110 (polling the simulator's own state)
            await asyncio.sleep(0.05)
    assert v.snapshot().nav_state == "hold"


async def test_reposition_while_disarmed_is_accepted_and_ignored(rig: ProbeRig) -> None:
    ack = await rig.probe.command_int(
        192, 5, -1, 1, 0, NAN, int((HOME[0] + 0.001) * 1e7), int(HOME[1] * 1e7), HOME[2] + 5
    )
    assert ack.result == ACCEPTED  # PX4 switches to Hold ...
    await asyncio.sleep(0.3)
    snap = rig.vehicle.snapshot()  # ... and flies nowhere disarmed
    assert snap.nav_state == "hold" and snap.alt_rel_m == 0.0
    assert snap.lat_deg == pytest.approx(HOME[0], abs=1e-9)


async def test_orbit_switches_to_orbit_mode_and_streams_status(rig: ProbeRig) -> None:
    p = rig.probe
    await _take_off(rig)
    ack = await p.command_int(
        34, 5, 15, 4, 0, NAN, int(HOME[0] * 1e7), int(HOME[1] * 1e7), HOME[2] + 10
    )
    assert ack.result == ACCEPTED
    hb = await p.wait_for("HEARTBEAT", lambda m: m.custom_mode == 0x01030000)
    assert hb.base_mode == 17 | 128
    status = await p.wait_for("ORBIT_EXECUTION_STATUS", timeout_s=3)
    assert status.radius == pytest.approx(15)
    assert status.x == int(HOME[0] * 1e7)
    v = rig.vehicle
    await asyncio.sleep(2.0)  # 40 s of vehicle time: on the circle
    frame = v.frame
    n, e = frame.to_ne(v.snapshot().lat_deg, v.snapshot().lon_deg)
    assert math.hypot(n, e) == pytest.approx(15, abs=1.5)
    assert v.snapshot().ground_speed_mps == pytest.approx(4, abs=0.5)


async def test_invalid_params_denied_unknown_commands_unsupported(rig: ProbeRig) -> None:
    p = rig.probe
    assert (await p.command_long(400)).result == DENIED  # p1 NaN
    assert (await p.command_long(400, 0.5)).result == DENIED
    assert (await p.command_long(176, NAN, 4, 3)).result == DENIED
    assert (await p.command_long(176, 1, 42, 0)).result == DENIED  # no such main mode
    assert (await p.command_long(31999, 1)).result == UNSUPPORTED
    assert (await p.command_long(512)).result == DENIED  # REQUEST_MESSAGE w/o id
    assert (await p.command_long(179, 0, NAN, NAN, NAN, 91.0, 8.0, 500)).result == DENIED
    assert not rig.vehicle.armed


async def test_mission_mode_without_mission_is_selectable_disarmed_but_not_armable(
    rig: ProbeRig,
) -> None:
    # PX4 UserModeIntention::change: disarmed, every mode may be selected; arming checks
    # then refuse Mission without a valid mission (the armed refusals are in
    # test_vehicle_px4_rules.py)
    p = rig.probe
    assert (await p.command_long(176, 1, 4, 4)).result == ACCEPTED
    assert rig.vehicle.snapshot().nav_state == "mission"
    since = p.mark()
    assert (await p.command_long(400, 1)).result == TEMP_REJECTED
    text = await p.wait_for("STATUSTEXT", lambda m: "Arming denied" in m.text, since=since)
    more = await p.wait_for(
        "STATUSTEXT", lambda m: m.id == text.id and m.chunk_seq == 1, since=since
    )
    # over 50 bytes: PX4 sends it in two chunks with one id (streams/STATUSTEXT.hpp)
    assert (text.text + more.text, text.severity) == (
        "Arming denied: Resolve system health failures first\t",
        2,
    )
    assert (await p.command_long(193, 5)).result == DENIED
    assert (await p.command_long(193, 0)).result == ACCEPTED  # pause = Hold
    assert rig.vehicle.snapshot().nav_state == "hold"
    assert not rig.vehicle.armed


async def test_disarm_refused_in_air_and_reboot_refused_armed(rig: ProbeRig) -> None:
    p = rig.probe
    await _take_off(rig)
    assert (await p.command_long(400, 0)).result == TEMP_REJECTED
    assert (await p.command_long(246, 1)).result == DENIED
    assert rig.vehicle.armed
    assert (await p.command_long(400, 0, 21196)).result == ACCEPTED  # kill
    assert not rig.vehicle.armed


async def test_request_message_answers_what_it_can(rig: ProbeRig) -> None:
    p = rig.probe
    since = p.mark()
    assert (await p.command_long(512, 148)).result == ACCEPTED
    ver = await p.wait_for("AUTOPILOT_VERSION", since=since)
    assert ver.capabilities & 4  # MISSION_INT
    assert ver.capabilities & 8192  # MAVLINK2
    since = p.mark()
    assert (await p.command_long(512, 242)).result == ACCEPTED
    home = await p.wait_for("HOME_POSITION", since=since)
    assert home.latitude == int(HOME[0] * 1e7) and home.altitude == int(HOME[2] * 1000)
    for unanswerable in (435, 397, 395, 9999):
        assert (await p.command_long(512, unanswerable)).result == DENIED
    since = p.mark()
    assert (await p.command_long(520, 1)).result == ACCEPTED
    await p.wait_for("AUTOPILOT_VERSION", since=since)


async def test_set_message_interval_changes_and_disables_streams(rig: ProbeRig) -> None:
    p = rig.probe
    assert (await p.command_long(511, 33, 500_000)).result == ACCEPTED
    since = p.mark()
    assert (await p.command_long(510, 33)).result == ACCEPTED
    interval = await p.wait_for("MESSAGE_INTERVAL", since=since)
    assert interval.interval_us == 500_000
    assert (await p.command_long(511, 33, -1)).result == ACCEPTED
    await asyncio.sleep(0.2)
    since = p.mark()
    await asyncio.sleep(0.6)
    assert p.of_type("GLOBAL_POSITION_INT", since) == []
    assert p.of_type("ATTITUDE", since)  # others still flow
    assert (await p.command_long(511, 33, 0)).result == ACCEPTED  # default again
    await p.wait_for("GLOBAL_POSITION_INT")
    assert (await p.command_long(511, 9999, 1000)).result == FAILED


async def test_malformed_and_unknown_bytes_never_break_the_vehicle(rig: ProbeRig) -> None:
    p = rig.probe
    link = rig.vehicle.api_link
    good = p.mav.command_long_encode(1, 1, 176, 0, 1, 4, 3, 0, 0, 0, 0).pack(p.mav)
    p.send_raw(b"\x00garbage\xfd\xfe\xff" * 20)
    p.send_raw(good[:-3])  # truncated
    p.send_raw(good[:-2] + bytes([good[-2] ^ 0xFF, good[-1]]))  # bad CRC
    p.send_raw(bytes([0xFD, 4, 0, 0, 0, 245, 190, 0x39, 0x30, 0x00, 1, 2, 3, 4, 0, 0]))  # id 12345
    p.send_raw(b"\xfd" + b"\xff" * 300)
    p.send_raw(b"")
    v1 = mavlink2.MAVLink(None, srcSystem=245, srcComponent=190)
    v1.WIRE_PROTOCOL_VERSION = "1.0"
    p.send_raw(v1.heartbeat_encode(6, 8, 0, 0, 0, 3).pack(v1, force_mavlink1=True))
    await asyncio.sleep(0.1)
    ack = await p.command_long(176, 1, 4, 3)
    assert ack.result == ACCEPTED
    assert link.bad_datagrams > 0
    await p.wait_for("HEARTBEAT")


async def test_params_travel_bytewise_and_echo_exactly(rig: ProbeRig) -> None:
    p = rig.probe
    since = p.mark()
    p.send(p.mav.param_request_read_encode(1, 1, b"COM_DL_LOSS_T", -1))
    value = await p.wait_for("PARAM_VALUE", lambda m: m.param_id == "COM_DL_LOSS_T", since=since)
    assert value.param_type == 6 and wire_to_int(value.param_value) == 10
    since = p.mark()
    p.send(p.mav.param_set_encode(1, 1, b"GF_COUNT", int_to_wire(-7), 6))
    echo = await p.wait_for("PARAM_VALUE", lambda m: m.param_id == "GF_COUNT", since=since)
    assert echo.param_type == 6
    assert struct.pack("<f", echo.param_value) == struct.pack("<i", -7)
    assert rig.vehicle.params.get("GF_COUNT") == -7
    since = p.mark()
    p.send(p.mav.param_set_encode(1, 1, b"MIS_TAKEOFF_ALT", 12.5, 9))
    echo = await p.wait_for("PARAM_VALUE", lambda m: m.param_id == "MIS_TAKEOFF_ALT", since=since)
    assert (echo.param_type, echo.param_value) == (9, 12.5)
    since = p.mark()
    p.send(p.mav.param_set_encode(1, 1, b"NO_SUCH_PARAM", 1.0, 9))
    await p.wait_for("STATUSTEXT", since=since)
    assert p.of_type("PARAM_VALUE", since) == []


async def test_param_list_has_every_index_and_hash_check(rig: ProbeRig) -> None:
    p = rig.probe
    since = p.mark()
    p.send(p.mav.param_request_list_encode(1, 1))
    hash_msg = await p.wait_for("PARAM_VALUE", lambda m: m.param_id == "_HASH_CHECK", since=since)
    values = [m for m in p.of_type("PARAM_VALUE", since) if m.param_id != "_HASH_CHECK"]
    count = values[0].param_count
    assert sorted(m.param_index for m in values) == list(range(count))
    assert hash_msg.param_index == 65535
    since = p.mark()
    p.send(p.mav.param_request_read_encode(1, 1, b"", 3))
    by_index = await p.wait_for("PARAM_VALUE", since=since)
    assert by_index.param_index == 3


async def test_random_command_parameters_always_get_exactly_one_ack(
    rig: ProbeRig, caplog: pytest.LogCaptureFixture
) -> None:
    """Fuzz: every handled command id with NaN/inf/huge/negative/fractional parameters, in
    both COMMAND_LONG and COMMAND_INT (frame 5) form, gets one ACK and never a crash."""
    import random

    p = rig.probe
    rng = random.Random(1234)
    values = [
        NAN,
        math.inf,
        -math.inf,
        1e30,
        -1e30,
        0.0,
        1.0,
        -1.0,
        0.5,
        21196.0,
        3.0,
        4.0,
        65535.0,
        1e7,
        -7.25,
    ]
    commands = [
        20,
        21,
        22,
        34,
        176,
        178,
        179,
        185,
        192,
        224,
        246,
        300,
        400,
        420,
        510,
        511,
        512,
        520,
        31000,
    ]
    sent: list[int] = []
    for command in commands:
        for _ in range(8):
            params = [rng.choice(values) for _ in range(7)]
            if rng.random() < 0.5:
                p.send(p.mav.command_long_encode(1, 1, command, 0, *params))
            else:
                x, y = (rng.choice([0, 2**31 - 1, -(2**31), 473977420]) for _ in range(2))
                p.send(
                    p.mav.command_int_encode(1, 1, 5, command, 0, 0, *params[:4], x, y, params[6])
                )
            sent.append(command)
            await asyncio.sleep(0.002)
    await asyncio.sleep(0.5)
    since = 0
    acks = [m.command for m in p.of_type("COMMAND_ACK", since)]
    assert sorted(acks) == sorted(sent)
    # and the vehicle still works normally afterwards
    assert (await p.command_long(512, 148)).result == ACCEPTED
    await p.wait_for("HEARTBEAT")
    assert [r.getMessage() for r in caplog.records if r.levelno >= 40] == []


def _random_message(cls: type, rng: object, sysid: int) -> object:
    """An instance of a pymavlink message class with random field values (targeted at us
    half of the time)."""
    import random

    assert isinstance(rng, random.Random)
    ints = {
        "uint8_t": (0, 255),
        "int8_t": (-128, 127),
        "uint16_t": (0, 65535),
        "int16_t": (-32768, 32767),
        "uint32_t": (0, 2**32 - 1),
        "int32_t": (-(2**31), 2**31 - 1),
        "uint64_t": (0, 2**64 - 1),
        "int64_t": (-(2**63), 2**63 - 1),
    }
    floats = [NAN, math.inf, -math.inf, 0.0, 1.0, -1.0, 3.0, 1e30, 21196.0]
    args = []
    for name, ftype, length in zip(
        cls.fieldnames,
        cls.fieldtypes,
        cls.array_lengths,  # type: ignore[attr-defined]
        strict=True,
    ):

        def one(ftype: str = ftype) -> object:
            if ftype == "char":
                return bytes(rng.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ_\x00\xff") for _ in range(5))
            if ftype in ("float", "double"):
                return rng.choice(floats)
            lo, hi = ints[ftype]
            return rng.choice([lo, hi, 0, 1, rng.randint(lo, hi)])

        if name == "target_system" and rng.random() < 0.5:
            args.append(sysid)
        elif name == "target_component" and rng.random() < 0.5:
            args.append(1)
        elif ftype == "char":
            args.append(b"".join(one() for _ in range(max(1, length // 5)))[: max(length, 1)])  # type: ignore[misc]
        elif length:
            args.append([one() for _ in range(length)])
        else:
            args.append(one())
    return cls(*args)


async def test_random_messages_of_every_handled_type_never_break_the_vehicle(
    rig: ProbeRig, caplog: pytest.LogCaptureFixture
) -> None:
    import logging
    import random

    p = rig.probe
    rng = random.Random(7)
    kinds = [
        mavlink2.MAVLink_heartbeat_message,
        mavlink2.MAVLink_command_long_message,
        mavlink2.MAVLink_command_int_message,
        mavlink2.MAVLink_set_mode_message,
        mavlink2.MAVLink_param_request_list_message,
        mavlink2.MAVLink_param_request_read_message,
        mavlink2.MAVLink_param_set_message,
        mavlink2.MAVLink_mission_count_message,
        mavlink2.MAVLink_mission_item_int_message,
        mavlink2.MAVLink_mission_item_message,
        mavlink2.MAVLink_mission_request_list_message,
        mavlink2.MAVLink_mission_request_int_message,
        mavlink2.MAVLink_mission_request_message,
        mavlink2.MAVLink_mission_clear_all_message,
        mavlink2.MAVLink_mission_set_current_message,
        mavlink2.MAVLink_mission_ack_message,
        mavlink2.MAVLink_timesync_message,
        mavlink2.MAVLink_system_time_message,
        mavlink2.MAVLink_ping_message,
        mavlink2.MAVLink_statustext_message,
    ]
    errors_before = rig.fleet.tick_count
    for _ in range(400):
        msg = _random_message(rng.choice(kinds), rng, 1)
        try:
            p.send(msg)
        except Exception:  # values pymavlink itself cannot pack are not sent
            continue
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.3)
    assert rig.fleet.tick_count > errors_before
    assert (await p.command_long(512, 148)).result == ACCEPTED
    await p.wait_for("HEARTBEAT", timeout_s=3)
    await p.wait_for("GLOBAL_POSITION_INT", timeout_s=3)
    failures = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith("sitl")
    ]
    assert failures == []
