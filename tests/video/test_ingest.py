"""Ingest through PyAV (the RTSP path, fed a file here) and URL handling."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dfr.errors import ConfigError, InvalidStateError
from dfr.video.hub import MediaFrame, StateChange, StreamState
from dfr.video.ingest import parse_udp_url
from dfr.video.recorder import Recorder
from dfr.video.relay import DroneVideo
from dfr.video.rtp import AccessUnit
from tests.video.mp4_read import decode_fmp4


def test_udp_urls() -> None:
    assert parse_udp_url("rtp://127.0.0.1:5600") == ("127.0.0.1", 5600)
    assert parse_udp_url("udp://0.0.0.0:5601") == ("0.0.0.0", 5601)
    with pytest.raises(ConfigError):
        parse_udp_url("rtp://127.0.0.1")
    with pytest.raises(ConfigError):
        parse_udp_url("http://127.0.0.1:5600")


async def test_pyav_ingest_reads_a_source_and_reconnects_after_it_ends(
    units: list[AccessUnit], tmp_path: Path
) -> None:
    path = tmp_path / "source.mp4"
    recorder = Recorder(path, "src")
    for unit in units[:20]:
        recorder.write(unit)
    info = await recorder.close()
    assert info.frame_count == 20

    async with DroneVideo("drone-9", str(path)) as video:
        with video.hub.subscribe(max_frames=1000) as sub:
            frames: list[MediaFrame] = []
            states: list[StreamState] = []
            async with asyncio.timeout(20):
                while len(frames) < 30:  # more than the file holds: it was opened again
                    item = await sub.get()
                    if isinstance(item, MediaFrame):
                        frames.append(item)
                    elif isinstance(item, StateChange):
                        states.append(item.state)
    assert frames[0].keyframe and frames[20].keyframe
    assert StreamState.LOST in states and states[-1] is StreamState.LIVE
    codec = frames[0].codec
    assert (codec.width_px, codec.height_px) == (160, 128)
    assert len(decode_fmp4(codec.init_segment, [f.fragment for f in frames[:20]])) == 20
    assert [f.capture_time_us for f in frames[:3]] == [1_000_000, 1_000_001, 1_000_002]


async def test_recording_state_is_checked() -> None:
    video = DroneVideo("drone-9", "rtp://127.0.0.1:0")
    async with video:
        with pytest.raises(InvalidStateError):
            await video.stop_recording()
    with pytest.raises(InvalidStateError):
        async with video:
            pass


def test_sdp_gives_the_listen_address(tmp_path: Path) -> None:
    from dfr.video.ingest import parse_sdp, udp_address_of
    from sitl.camera import sdp_for

    sdp = tmp_path / "drone.sdp"
    sdp.write_text(sdp_for(5611))
    assert udp_address_of(str(sdp)) == ("127.0.0.1", 5611)
    assert udp_address_of("rtsp://camera/stream") is None
    with pytest.raises(ConfigError):
        parse_sdp("v=0\r\nm=audio 5000 RTP/AVP 0\r\n")
    with pytest.raises(ConfigError):
        udp_address_of(str(tmp_path / "missing.sdp"))
