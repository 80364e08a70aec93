"""Recorder timing: real time is kept across a source restart (RTP clock jumps)."""

from __future__ import annotations

from pathlib import Path

import av

from dfr.video.recorder import Recorder
from dfr.video.rtp import AccessUnit
from tests.video.conftest import FRAME_STEP

NS_PER_FRAME = FRAME_STEP * 1_000_000_000 // 90_000


def at(unit: AccessUnit, rtp_timestamp: int, arrival_ns: int) -> AccessUnit:
    return AccessUnit(unit.nals, rtp_timestamp & 0xFFFFFFFF, unit.keyframe, arrival_ns)


async def test_a_restart_keeps_real_time(units: list[AccessUnit], tmp_path: Path) -> None:
    path = tmp_path / "r.mp4"
    recorder = Recorder(path, "d1")
    base_ns = 10**12
    for i, unit in enumerate(units[:10]):
        recorder.write(at(unit, unit.rtp_timestamp, base_ns + i * NS_PER_FRAME))
    # the source comes back 2 s after its last frame with a new random RTP clock
    restart_ns = base_ns + 9 * NS_PER_FRAME + 2_000_000_000
    for i, unit in enumerate(units[10:20]):
        recorder.write(at(unit, 0x7FFF0000 + i * FRAME_STEP, restart_ns + i * NS_PER_FRAME))
    info = await recorder.close()
    assert info.frame_count == 20
    expected_s = (9 * FRAME_STEP + 180_000 + 10 * FRAME_STEP) / 90_000
    assert abs(info.duration_s - expected_s) < 0.01
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        pts = [p.pts for p in container.demux(stream) if p.size]
        time_base = stream.time_base
    with av.open(str(path)) as container:
        decoded = sum(1 for _ in container.decode(video=0))
    assert decoded == 20
    assert abs(float((pts[10] - pts[9]) * time_base) - 2.0) < 0.01  # the pause is in the file
