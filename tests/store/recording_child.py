"""A flight being recorded in a process of its own, for tests that kill it with SIGKILL.

``python -m tests.store.recording_child DATA_DIR`` opens the SQLite store in DATA_DIR,
stores a flight, and records it as the service does (:class:`FlightRecordings`): a
simulated camera sends H.264/RTP over real UDP to a :class:`DroneVideo`. It prints
``frames N`` (frames received since recording started) a few times a second and never
stops by itself: the test kills it.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from dfr.records import Flight, FlightPhase
from dfr.store import SqliteStore
from dfr.video.recordings import FlightRecordings
from dfr.video.relay import DroneVideo
from sitl.camera import CameraPose, SimCamera

FLIGHT_ID = "flt-crash"
DRONE_ID = "d1"
FPS = 20.0


def pose() -> CameraPose:
    return CameraPose(
        32.7555, -97.3308 + 1e-5 * (time.monotonic() % 100), 60.0, 0.0, 32.7555, -97.3308
    )


async def record(data_dir: Path) -> None:
    now = datetime.now(UTC)
    flight = Flight(FLIGHT_ID, None, DRONE_ID, "dock", FlightPhase.ENROUTE, now, now, None, {})
    async with SqliteStore(data_dir / "dfr.db") as store:
        await store.insert_flight(flight, "test flight")
        async with DroneVideo(DRONE_ID, "rtp://127.0.0.1:0") as video:
            camera = SimCamera(
                DRONE_ID,
                pose,
                ("127.0.0.1", video.ingest.port),
                width=320,
                height=240,
                fps=FPS,
                keyframe_interval_s=0.5,  # recording starts at a keyframe: wait little
                bitrate_bps=400_000,
            )
            async with camera:
                while video.hub.frames_published < 3:  # noqa: ASYNC110 (the hub has no event)
                    await asyncio.sleep(0.05)
                recordings = FlightRecordings(store, {DRONE_ID: video}, data_dir / "recordings")
                recordings.start(flight)
                start = video.hub.frames_published
                while True:
                    await asyncio.sleep(0.1)
                    print(f"frames {video.hub.frames_published - start}", flush=True)


if __name__ == "__main__":
    asyncio.run(record(Path(sys.argv[1])))
