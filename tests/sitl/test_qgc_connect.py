"""A QGroundControl-style GCS (sysid 255 / compid 190, pymavlink as the codec over a plain
asyncio UDP socket bound to the GCS port) runs QGC's InitialConnectStateMachine against the
simulated vehicle: AUTOPILOT_VERSION, AVAILABLE_MODES, component metadata/information,
the full parameter list, and mission/fence/rally lists (reference §2.5, §2.6, §4.2)."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.sitl.mavsdk_session import ZURICH_HOME, free_port_offset, offset_deg
from tests.sitl.qgc_link import AUTOPILOT_COMPID, GCS_COMPID, GCS_SYSID, M, QgcLink

pytestmark = pytest.mark.timeout(120)

VEHICLE_SYSID = 1


@contextlib.asynccontextmanager
async def qgc_with_vehicle(speed_factor: float = 5.0) -> AsyncIterator[QgcLink]:
    from sitl.fleet import Fleet, PortPlan, VehicleSpec, Wind

    offset = free_port_offset(1)
    ports = PortPlan().shifted(offset)
    loop = asyncio.get_running_loop()
    transport, link = await loop.create_datagram_endpoint(
        QgcLink, local_addr=("127.0.0.1", ports.gcs_remote)
    )
    heartbeat_task: asyncio.Task[None] | None = None
    try:
        lat, lon, alt = ZURICH_HOME
        spec = VehicleSpec(instance=0, home_lat_deg=lat, home_lon_deg=lon, home_alt_amsl_m=alt)
        async with Fleet([spec], ports=ports, speed_factor=speed_factor, wind=Wind()):
            await link.receive(
                lambda m: m.get_type() == "HEARTBEAT" and m.get_srcComponent() == AUTOPILOT_COMPID,
                "vehicle HEARTBEAT",
            )

            async def heartbeats() -> None:
                while True:  # like QGC: GCS heartbeat at 1 Hz
                    link.send(
                        link.codec.heartbeat_encode(
                            M.MAV_TYPE_GCS, M.MAV_AUTOPILOT_INVALID, 0, 0, M.MAV_STATE_ACTIVE
                        )
                    )
                    await asyncio.sleep(1.0)

            heartbeat_task = loop.create_task(heartbeats(), name="qgc: heartbeat")
            yield link
    finally:
        if heartbeat_task is not None:
            heartbeat_task.cancel()
            # gather() hands back the task's own CancelledError; ours still propagates.
            await asyncio.gather(heartbeat_task, return_exceptions=True)
        transport.close()


def _int32(param_value: float) -> int:
    """PX4 sends INT32 parameters bytewise inside the float field."""
    return int(struct.unpack("<i", struct.pack("<f", param_value))[0])


async def _download(link: QgcLink, mission_type: int) -> list[Any]:
    link.send(link.codec.mission_request_list_encode(VEHICLE_SYSID, AUTOPILOT_COMPID, mission_type))
    count_msg = await link.receive(
        lambda m: m.get_type() == "MISSION_COUNT" and m.mission_type == mission_type,
        f"MISSION_COUNT type {mission_type}",
    )
    items = []
    for seq in range(count_msg.count):
        link.send(
            link.codec.mission_request_int_encode(
                VEHICLE_SYSID, AUTOPILOT_COMPID, seq, mission_type
            )
        )
        items.append(
            await link.receive(
                lambda m, seq=seq: (
                    m.get_type() == "MISSION_ITEM_INT"
                    and m.seq == seq
                    and m.mission_type == mission_type
                ),
                f"MISSION_ITEM_INT {seq} type {mission_type}",
            )
        )
    link.send(
        link.codec.mission_ack_encode(
            VEHICLE_SYSID, AUTOPILOT_COMPID, M.MAV_MISSION_ACCEPTED, mission_type
        )
    )
    return items


async def _upload(link: QgcLink, mission_type: int, items: list[Any]) -> Any:
    link.send(
        link.codec.mission_count_encode(VEHICLE_SYSID, AUTOPILOT_COMPID, len(items), mission_type)
    )
    sent: set[int] = set()
    while True:
        msg = await link.receive(
            lambda m: (
                m.get_type() in ("MISSION_REQUEST_INT", "MISSION_REQUEST", "MISSION_ACK")
                and m.mission_type == mission_type
            ),
            f"MISSION_REQUEST_INT/ACK type {mission_type}",
        )
        if msg.get_type() == "MISSION_ACK":
            assert sent == set(range(len(items))), (sent, msg)
            return msg
        assert msg.get_type() == "MISSION_REQUEST_INT", "vehicle asked with legacy MISSION_REQUEST"
        link.send(items[msg.seq])
        sent.add(msg.seq)


def _item(
    link: QgcLink,
    seq: int,
    mission_type: int,
    command: int,
    frame: int,
    lat: float,
    lon: float,
    z: float,
    p1: float = 0.0,
) -> Any:
    return link.codec.mission_item_int_encode(
        VEHICLE_SYSID,
        AUTOPILOT_COMPID,
        seq,
        frame,
        command,
        1 if seq == 0 else 0,
        1,
        p1,
        0.0,
        0.0,
        0.0,
        round(lat * 1e7),
        round(lon * 1e7),
        z,
        mission_type,
    )


async def test_qgc_initial_connect_sequence_completes() -> None:
    async with qgc_with_vehicle() as link:
        # 1. AUTOPILOT_VERSION (REQUEST_MESSAGE 148).
        ack = await link.command_ack(M.MAV_CMD_REQUEST_MESSAGE, p1=148)
        assert ack.result == M.MAV_RESULT_ACCEPTED
        assert (ack.target_system, ack.target_component) == (GCS_SYSID, GCS_COMPID)
        version = await link.receive(
            lambda m: m.get_type() == "AUTOPILOT_VERSION", "AUTOPILOT_VERSION"
        )
        caps = version.capabilities
        for bit in (
            M.MAV_PROTOCOL_CAPABILITY_MISSION_INT,
            M.MAV_PROTOCOL_CAPABILITY_COMMAND_INT,
            M.MAV_PROTOCOL_CAPABILITY_MAVLINK2,
            M.MAV_PROTOCOL_CAPABILITY_MISSION_FENCE,
            M.MAV_PROTOCOL_CAPABILITY_MISSION_RALLY,
            M.MAV_PROTOCOL_CAPABILITY_PARAM_FLOAT,
        ):
            assert caps & bit, f"capability {bit} missing from {caps:#x}"
        assert not caps & M.MAV_PROTOCOL_CAPABILITY_FTP, "FTP advertised but not served"
        assert version.flight_sw_version >> 24 >= 1

        # 2./3. Standard modes and component metadata: answered at once, refused.
        for message_id in (435, 397, 395):  # AVAILABLE_MODES, COMPONENT_METADATA, _INFORMATION
            ack = await link.command_ack(M.MAV_CMD_REQUEST_MESSAGE, p1=message_id)
            assert ack.result in (
                M.MAV_RESULT_DENIED,
                M.MAV_RESULT_UNSUPPORTED,
                M.MAV_RESULT_FAILED,
            ), (message_id, ack)

        # 4. The full parameter list: every index once, PX4 types, bytewise INT32.
        link.drain()
        link.send(link.codec.param_request_list_encode(VEHICLE_SYSID, AUTOPILOT_COMPID))
        first = await link.receive(lambda m: m.get_type() == "PARAM_VALUE", "PARAM_VALUE")
        count = first.param_count
        assert count > 50
        seen: dict[int, Any] = {}
        msg = first
        while True:
            if msg.param_index != 65535:  # _HASH_CHECK rides outside the list
                assert msg.param_index not in seen, f"index {msg.param_index} sent twice"
                assert msg.param_count == count
                seen[msg.param_index] = msg
            if len(seen) == count:
                break
            msg = await link.receive(lambda m: m.get_type() == "PARAM_VALUE", "PARAM_VALUE")
        assert set(seen) == set(range(count))
        params = {m.param_id: m for m in seen.values()}
        assert len(params) == count, "duplicate parameter names"
        assert {m.param_type for m in seen.values()} <= {
            M.MAV_PARAM_TYPE_INT32,
            M.MAV_PARAM_TYPE_REAL32,
        }
        ints = {
            n: _int32(m.param_value)
            for n, m in params.items()
            if m.param_type == M.MAV_PARAM_TYPE_INT32
        }
        floats = {
            n: m.param_value for n, m in params.items() if m.param_type == M.MAV_PARAM_TYPE_REAL32
        }
        assert ints["SYS_FAILURE_EN"] == 0
        assert ints["COM_DL_LOSS_T"] == 10
        assert ints["MAV_SYS_ID"] == 1
        assert ints["GF_ACTION"] == 2
        assert floats["MIS_TAKEOFF_ALT"] == pytest.approx(2.5)
        assert floats["RTL_RETURN_ALT"] == pytest.approx(60.0)

        # 5. Mission, fence and rally lists (empty on a fresh vehicle) to completion.
        for mission_type in (
            M.MAV_MISSION_TYPE_MISSION,
            M.MAV_MISSION_TYPE_FENCE,
            M.MAV_MISSION_TYPE_RALLY,
        ):
            assert await _download(link, mission_type) == []

        # QGC then sends SYSTEM_TIME twice; the vehicle keeps talking.
        for _ in range(2):
            link.send(link.codec.system_time_encode(1_700_000_000_000_000, 0))
        await link.receive(lambda m: m.get_type() == "HEARTBEAT", "HEARTBEAT after connect")


async def test_qgc_uploads_and_downloads_mission_fence_rally() -> None:
    async with qgc_with_vehicle() as link:
        lat, lon, _ = ZURICH_HOME
        wp1 = offset_deg(lat, lon, 50.0, 0.0)
        wp2 = offset_deg(lat, lon, 50.0, 50.0)
        rel = M.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT
        mission_steps = [
            (M.MAV_CMD_NAV_TAKEOFF, rel, (lat, lon, 20.0)),
            (M.MAV_CMD_NAV_WAYPOINT, rel, (*wp1, 20.0)),
            (M.MAV_CMD_NAV_WAYPOINT, rel, (*wp2, 20.0)),
            (M.MAV_CMD_NAV_RETURN_TO_LAUNCH, M.MAV_FRAME_MISSION, (0.0, 0.0, 0.0)),
        ]
        mission = [
            _item(link, seq, M.MAV_MISSION_TYPE_MISSION, command, frame, *where)
            for seq, (command, frame, where) in enumerate(mission_steps)
        ]
        corners = [
            offset_deg(lat, lon, n, e)
            for n, e in ((300, -300), (300, 300), (-300, 300), (-300, -300))
        ]
        # (command, centre or vertex, radius or vertex count)
        fence_shapes = [
            *((M.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION, corner, 4.0) for corner in corners),
            (M.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION, offset_deg(lat, lon, -100.0, 0.0), 30.0),
            # The MAVSDK-Python geofence example's dummy circle: (0, 0), radius 0 (§4.1: accept).
            (M.MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION, (0.0, 0.0), 0.0),
        ]
        fence = [
            _item(link, seq, M.MAV_MISSION_TYPE_FENCE, command, M.MAV_FRAME_GLOBAL, *at, 0.0, p1=p1)
            for seq, (command, at, p1) in enumerate(fence_shapes)
        ]
        rally = [
            _item(
                link,
                0,
                M.MAV_MISSION_TYPE_RALLY,
                M.MAV_CMD_NAV_RALLY_POINT,
                M.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
                *offset_deg(lat, lon, 0, -80),
                15.0,
            )
        ]

        for mission_type, items in (
            (M.MAV_MISSION_TYPE_MISSION, mission),
            (M.MAV_MISSION_TYPE_FENCE, fence),
            (M.MAV_MISSION_TYPE_RALLY, rally),
        ):
            ack = await _upload(link, mission_type, items)
            assert ack.type == M.MAV_MISSION_ACCEPTED, (mission_type, ack)
            got = await _download(link, mission_type)
            assert [(m.command, m.x, m.y) for m in got] == [(i.command, i.x, i.y) for i in items]
            assert [m.param1 for m in got] == pytest.approx([i.param1 for i in items])
            assert [
                m.z for m in got if m.command not in (M.MAV_CMD_NAV_RETURN_TO_LAUNCH,)
            ] == pytest.approx([i.z for i in items if i.command != M.MAV_CMD_NAV_RETURN_TO_LAUNCH])

        # MISSION_CURRENT reports the uploaded mission.
        await link.receive(
            lambda m: m.get_type() == "MISSION_CURRENT" and m.total == len(mission),
            "MISSION_CURRENT with the uploaded mission's total",
        )

        # Clearing the fence leaves the mission alone.
        link.send(
            link.codec.mission_clear_all_encode(
                VEHICLE_SYSID, AUTOPILOT_COMPID, M.MAV_MISSION_TYPE_FENCE
            )
        )
        ack = await link.receive(lambda m: m.get_type() == "MISSION_ACK", "MISSION_ACK clear")
        assert ack.type == M.MAV_MISSION_ACCEPTED and ack.mission_type == M.MAV_MISSION_TYPE_FENCE
        assert await _download(link, M.MAV_MISSION_TYPE_FENCE) == []
        assert len(await _download(link, M.MAV_MISSION_TYPE_MISSION)) == len(mission)
