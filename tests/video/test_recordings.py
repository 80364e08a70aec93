"""A flight's recordings through :class:`FlightRecordings`, with a simulated camera over
real UDP into a real :class:`DroneVideo` and a real SQLite store: the row exists from the
start, is completed with the file's SHA-256 at the end, and a flight that records again
(resumed after a restart) gets a new part listed beside the first."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import av

from dfr.records import Flight, FlightPhase, Recording
from dfr.store import SqliteStore
from dfr.video.recordings import FlightRecordings
from dfr.video.relay import DroneVideo
from sitl.camera import SimCamera
from tests.store.recording_child import FPS, pose


def file_facts(path: Path) -> tuple[str, int, float]:
    """SHA-256, frames decoded and duration (s), read independently of dfr."""
    with av.open(str(path)) as container:
        decoded = sum(1 for _ in container.decode(video=0))
        duration_s = float(container.duration or 0) / av.time_base
    return hashlib.sha256(path.read_bytes()).hexdigest(), decoded, duration_s


async def frames_after(video: DroneVideo, count: int) -> None:
    target = video.hub.frames_published + count
    async with asyncio.timeout(20):
        while video.hub.frames_published < target:  # noqa: ASYNC110 (the hub has no event)
            await asyncio.sleep(0.05)


async def test_segments_are_listed_from_their_start_and_hashed_at_their_end(
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC)
    flight = Flight("flt-1", None, "d1", "dock", FlightPhase.ENROUTE, now, now, None, {})
    async with (
        SqliteStore(tmp_path / "dfr.db") as store,
        DroneVideo("d1", "rtp://127.0.0.1:0") as video,
    ):
        await store.insert_flight(flight, "test")
        camera = SimCamera(
            "d1", pose, ("127.0.0.1", video.ingest.port), width=320, height=240, fps=FPS
        )
        async with camera:
            recordings = FlightRecordings(store, {"d1": video}, tmp_path / "recordings")
            closed: list[Recording] = []
            for part in (1, 2):  # the second: the flight resumed after a restart
                path = recordings.start(flight)
                assert path == tmp_path / "recordings" / f"flt-1-{part}.mp4"
                await frames_after(video, int(2 * FPS))
                (open_row,) = await store.list_open_recordings()
                assert (open_row.path, open_row.sha256, open_row.flight_id) == (
                    str(path),
                    "",
                    "flt-1",
                )
                done = await recordings.end(flight)
                assert done is not None and done.id == open_row.id
                closed.append(done)
        listed = await store.list_recordings("flt-1")
    assert listed == closed and len(listed) == 2
    for recording in listed:
        sha256_hex, decoded, duration_s = await asyncio.to_thread(file_facts, Path(recording.path))
        assert recording.sha256 == sha256_hex
        assert decoded == recording.frame_count >= FPS  # from the first keyframe on
        assert recording.note == "" and recording.ended_at is not None
        assert abs(recording.duration_s - duration_s) < 2 / FPS
