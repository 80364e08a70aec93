"""A recorder in a process of its own, for tests that kill it with SIGKILL mid-recording.

``python -m tests.video.recording_child PATH`` records synthetic H.264 (x264, 2 s GOP, with
capture-time SEIs numbering the frames from 1_000_000) into PATH at 30 frames a second,
in real time, and prints ``wrote N`` after handing frame N to the recorder. It never
stops by itself: the test kills it.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from dfr.video.recorder import Recorder
from dfr.video.rtp import AccessUnit
from tests.video.conftest import FRAME_STEP, encode_units

FPS = 30
KEYINT = 60  # 2 s between keyframes: fragments must not wait for the next one


async def record(path: Path) -> None:
    units = encode_units(600, keyint=KEYINT)
    recorder = Recorder(path, "child")
    start_ns = time.monotonic_ns()
    for index, unit in enumerate(units):
        arrival_ns = start_ns + index * 1_000_000_000 // FPS
        await asyncio.sleep(max(0.0, (arrival_ns - time.monotonic_ns()) / 1e9))
        recorder.write(AccessUnit(unit.nals, index * FRAME_STEP, unit.keyframe, arrival_ns))
        print(f"wrote {index + 1}", flush=True)
    await asyncio.Event().wait()  # never closes: the test kills the process


if __name__ == "__main__":
    asyncio.run(record(Path(sys.argv[1])))
