"""The simulated camera on its own: what it draws, what it sends, and its off switch."""

from __future__ import annotations

import asyncio
import socket
import time

import numpy as np
import pytest

from dfr.video.h264 import read_capture_time_us
from dfr.video.rtp import H264Depacketizer, RtpPacket
from sitl.camera import CameraPose, SimCamera, _Renderer, sdp_for

LAT, LON = 32.7555, -97.3308


def test_incident_marker_is_drawn_where_the_incident_is() -> None:
    renderer = _Renderer("drone-7", 320, 240)
    under = renderer.render(CameraPose(LAT, LON, 60.0, 0.0, LAT, LON), 0)
    # ~30 m east of the drone, heading north: right of centre; ground width at 60 m is 84 m
    east = renderer.render(CameraPose(LAT, LON, 60.0, 0.0, LAT, LON + 30 / 93_600), 0)
    v_under = under[240 + 60 :].reshape(120, 160)  # V plane
    v_east = east[240 + 60 :].reshape(120, 160)
    red_under = np.argwhere(v_under == 240)
    red_east = np.argwhere(v_east == 240)
    assert len(red_under) and len(red_east)
    assert abs(red_under[:, 1].mean() - 80) < 3 and abs(red_under[:, 0].mean() - 60) < 3
    assert red_east[:, 1].mean() > 80 + 20  # moved right by ~57 px in luma (~28 chroma)


def test_view_follows_heading_and_altitude() -> None:
    renderer = _Renderer("drone-7", 320, 240)
    north = renderer.render(CameraPose(LAT, LON, 60.0, 0.0), 0)
    east = renderer.render(CameraPose(LAT, LON, 60.0, 90.0), 0)
    high = renderer.render(CameraPose(LAT, LON, 200.0, 0.0), 0)
    body = slice(40, 240)  # below the text overlay
    assert not np.array_equal(north[body], east[body])
    assert not np.array_equal(north[body], high[body])


def test_overlay_text_is_drawn() -> None:
    renderer = _Renderer("drone-7", 320, 240)
    picture = renderer.render(CameraPose(LAT, LON, 60.0, 0.0), 0)
    assert (picture[2:9, 2:40] == 235).any()  # white glyph pixels in the top-left box


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        SimCamera("d", lambda: CameraPose(LAT, LON, 1, 0), ("127.0.0.1", 9), width=321)
    with pytest.raises(ValueError):
        SimCamera("d", lambda: CameraPose(LAT, LON, 1, 0), ("127.0.0.1", 9), keyframe_interval_s=0)


async def test_camera_streams_rtp_with_keyframes_and_capture_times_and_can_be_switched_off() -> (
    None
):
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.setblocking(False)
    loop = asyncio.get_running_loop()
    camera = SimCamera(
        "drone-7",
        lambda: CameraPose(LAT, LON, 50.0, 10.0, LAT, LON),
        receiver.getsockname(),
        width=160,
        height=128,
        fps=20.0,
        keyframe_interval_s=0.5,
    )
    depacketizer = H264Depacketizer()
    units = []
    packets: list[RtpPacket] = []
    try:
        async with camera:
            async with asyncio.timeout(20):
                while len(units) < 25:
                    packet = RtpPacket.parse(await loop.sock_recv(receiver, 2048))
                    packets.append(packet)
                    units += depacketizer.push(packet)
            camera.enabled = False
            sent = camera.packets_sent
            await asyncio.sleep(0.3)
            assert camera.packets_sent == sent
    finally:
        receiver.close()
    assert {p.payload_type for p in packets} == {96}
    assert len({p.ssrc for p in packets}) == 1
    assert units[0].keyframe and sum(u.keyframe for u in units) >= 2  # every 10 frames
    captures = [read_capture_time_us(u.nals) for u in units]
    assert all(c is not None for c in captures)
    assert 0 <= time.time_ns() // 1000 - (captures[-1] or 0) < 5_000_000
    assert "m=video 5600 RTP/AVP 96" in sdp_for(5600)
