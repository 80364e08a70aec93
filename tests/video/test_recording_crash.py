"""A recording survives the death of the process writing it: killed with SIGKILL
mid-recording, the file plays in PyAV up to about the last second handed to the recorder."""

from __future__ import annotations

from pathlib import Path

import av

from dfr.video.h264 import read_capture_time_us, split_avcc
from dfr.video.recorder import read_back
from tests.killed_child import run_until_killed
from tests.video.recording_child import FPS, KEYINT

WRITTEN_BEFORE_KILL = 100  # frames: 3.3 s, past one 2 s GOP and into the next


def record_then_kill(path: Path, frames: int = WRITTEN_BEFORE_KILL) -> int:
    """Run the recorder child until it has handed ``frames`` to its recorder, then
    SIGKILL it; returns how many it had handed over."""
    return run_until_killed("tests.video.recording_child", str(path), frames)


def test_a_killed_recording_plays_up_to_its_last_second(tmp_path: Path) -> None:
    path = tmp_path / "flight-1.mp4"
    written = record_then_kill(path)
    assert written >= WRITTEN_BEFORE_KILL

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        captures = [read_capture_time_us(split_avcc(bytes(p))) for p in packets]
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    # all but the last second (and a frame in flight) is on disk and decodes
    assert len(frames) == len(packets) >= written - FPS - 1
    assert len(frames) > KEYINT  # more than the first GOP: fragments do not wait for keyframes
    # the frames are the first ones, in order, none missing
    assert captures == [1_000_000 + i for i in range(len(packets))]
    assert packets[0].is_keyframe

    measure = read_back(path)
    assert measure.readable and measure.frame_count == len(packets)
    assert abs(measure.duration_s - len(packets) / FPS) < 1.5 / FPS
    assert measure.size_bytes == path.stat().st_size
