"""A flight's video as evidence: one row per recorded segment, from its first moment.

:class:`FlightRecordings` starts a drone's recorder when its flight starts (or resumes
after a restart: a new segment, ``{flight_id}-{part}.mp4``, listed on the same flight)
and stores the segment's row at once — path, flight, start time, no hash yet. At the
end of the flight it closes the file and completes the row: duration, size, frame count,
end time and SHA-256.

A segment whose row was never completed was left by a crash. At the next start
:func:`recover_recordings` measures the file as found (PyAV, :func:`read_back`), hashes
it, and closes the row with a note saying so. The file itself is never touched: what is
on disk is the evidence.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dfr.errors import InvalidStateError, VideoError
from dfr.records import Flight as FlightRecord
from dfr.records import Recording
from dfr.store.store import Store
from dfr.video.recorder import RecordingInfo, read_back, sha256_file
from dfr.video.relay import DroneVideo

logger = logging.getLogger(__name__)

RECOVERED_NOTE = (
    "closed by recovery at the next service start: the service stopped without closing "
    "the file; duration, size and hash are of the file as found, ended_at is its last write"
)
NO_FILE_NOTE = "closed by recovery at the next service start: no video had been written"
NO_VIDEO_NOTE = "no video was received while recording"


@dataclass(slots=True)
class _Segment:
    flight_id: str
    drone_id: str
    path: Path
    row: asyncio.Task[Recording]  # the row's insertion, started with the recorder


async def recover_recordings(store: Store, recordings: list[Recording]) -> list[Recording]:
    """Close the rows of segments left by a crash: measure and hash each file as found."""
    closed = []
    for recording in recordings:
        path = Path(recording.path)
        measure = await asyncio.to_thread(read_back, path)
        if measure.size_bytes == 0:
            done = replace(recording, ended_at=datetime.now(UTC), note=NO_FILE_NOTE)
        else:
            sha256_hex = await asyncio.to_thread(sha256_file, path)
            done = replace(
                recording,
                duration_s=measure.duration_s,
                size_bytes=measure.size_bytes,
                sha256=sha256_hex,
                frame_count=measure.frame_count,
                ended_at=measure.last_write,
                note=RECOVERED_NOTE
                if measure.readable
                else f"{RECOVERED_NOTE}; PyAV could not read the file",
            )
        await store.update_recording(done)
        logger.warning(
            "recording %d (%s, flight %s) left open by a crash: closed, %.1f s, %d frames, "
            "%d bytes, sha256 %s",
            done.id,
            path,
            done.flight_id,
            done.duration_s,
            done.frame_count,
            done.size_bytes,
            done.sha256 or "-",
        )
        closed.append(done)
    return closed


class FlightRecordings:
    """Records each flying drone's video into segments listed on its flight."""

    def __init__(
        self,
        store: Store,
        videos: Mapping[str, DroneVideo],
        directory: Path,
        publish_event: Callable[[dict[str, Any]], None] = lambda _body: None,
    ) -> None:
        self.store = store
        self.videos = videos
        self.directory = directory
        self._publish_event = publish_event
        self._segments: dict[str, _Segment] = {}  # by flight id

    async def crash_left(self) -> list[Recording]:
        """Rows left open by the last run: read them before any flight starts recording
        (then :meth:`recover` may run in the background while flights resume)."""
        if self._segments:
            raise InvalidStateError("crash-left recordings are read before recording starts")
        return await self.store.list_open_recordings()

    async def recover(self, recordings: list[Recording]) -> None:
        for done in await recover_recordings(self.store, recordings):
            self._publish(done)

    def start(self, flight: FlightRecord) -> Path | None:
        """Record the flight's drone from its next keyframe into a new segment."""
        video = self.videos.get(flight.drone_id)
        if video is None or video.recording is not None or flight.id in self._segments:
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        part = 1
        while (path := self.directory / f"{flight.id}-{part}.mp4").exists():
            part += 1  # a restart mid-flight starts a new part; the earlier one stays
        path.touch(exist_ok=False)  # the name is taken now, even if no frame ever comes
        video.start_recording(path)
        row = Recording(
            0, flight.id, flight.drone_id, str(path), 0.0, 0, "", 0, datetime.now(UTC), None
        )
        task = asyncio.get_running_loop().create_task(
            self.store.add_recording(row), name=f"{flight.drone_id}: recording row {flight.id}"
        )
        self._segments[flight.id] = _Segment(flight.id, flight.drone_id, path, task)
        return path

    async def end(self, flight: FlightRecord) -> Recording | None:
        """Close the flight's segment and complete its row (hash included)."""
        segment = self._segments.pop(flight.id, None)
        if segment is None:
            return None
        video = self.videos[segment.drone_id]
        try:
            info = await video.stop_recording()
        except VideoError:
            logger.exception(
                "%s: recording %s failed; keeping what it wrote", flight.drone_id, segment.path
            )
            (recording,) = await recover_recordings(self.store, [await self._row(segment)])
            self._publish(recording)
            return recording
        row = await self._row(segment)
        recording = replace(row, **_closed_fields(info, row))
        await self.store.update_recording(recording)
        logger.info(
            "%s: recorded %s (%.0f s, sha256 %s)",
            flight.drone_id,
            info.path,
            info.duration_s,
            info.sha256_hex or "-",
        )
        self._publish(recording)
        return recording

    async def _row(self, segment: _Segment) -> Recording:
        """The segment's stored row; if storing it at the start failed, stored now."""
        try:
            return await segment.row
        except Exception:
            logger.exception(
                "%s: the row of recording %s was not stored at its start; storing it now",
                segment.drone_id,
                segment.path,
            )
            return await self.store.add_recording(
                Recording(
                    0,
                    segment.flight_id,
                    segment.drone_id,
                    str(segment.path),
                    0.0,
                    0,
                    "",
                    0,
                    None,
                    None,
                )
            )

    async def end_all(self, flights: list[FlightRecord]) -> None:
        """At shutdown: close every segment; a restart records on into a new one."""
        for flight in flights:
            try:
                await self.end(flight)
            except Exception:
                logger.exception("%s: could not close the recording", flight.drone_id)

    def _publish(self, recording: Recording) -> None:
        self._publish_event(
            {
                "type": "recording",
                "flight_id": recording.flight_id,
                "drone_id": recording.drone_id,
                "recording_id": recording.id,
                "duration_s": round(recording.duration_s, 1),
                "sha256": recording.sha256,
                "note": recording.note,
            }
        )


def _closed_fields(info: RecordingInfo, row: Recording) -> dict[str, Any]:
    now = datetime.now(UTC)
    if info.frame_count == 0:
        return {"ended_at": now, "note": NO_VIDEO_NOTE}
    return {
        "duration_s": info.duration_s,
        "size_bytes": info.size_bytes,
        "sha256": info.sha256_hex,
        "frame_count": info.frame_count,
        "started_at": info.started_at or row.started_at,
        "ended_at": info.ended_at or now,
    }
