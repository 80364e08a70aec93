"""Flight video recordings (table ``recordings``): a row from the first frame, closed
with the file's hash, size and duration."""

from __future__ import annotations

from dataclasses import replace

from dfr.errors import NotFound
from dfr.records import Recording
from dfr.store.database import Database
from dfr.store.rows import Table

RECORDINGS = Table.of("recordings", Recording)

# what is known at close: all but the id, the flight, the drone and the path
RECORDING_UPDATE = RECORDINGS.update_sql(
    ("duration_s", "size_bytes", "sha256", "frame_count", "started_at", "ended_at", "note")
)


class StoredRecordings(Database):
    async def add_recording(self, recording: Recording) -> Recording:
        return replace(recording, id=await self._add(RECORDINGS, recording))

    async def update_recording(self, recording: Recording) -> None:
        if await self._execute(RECORDING_UPDATE, self._row(RECORDINGS, recording)) != 1:
            raise NotFound(f"recording {recording.id} does not exist")

    async def list_recordings(self, flight_id: str) -> list[Recording]:
        return await self._fetch_all(
            RECORDINGS, "SELECT * FROM recordings WHERE flight_id = ? ORDER BY id", (flight_id,)
        )

    async def list_open_recordings(self) -> list[Recording]:
        return await self._fetch_all(
            RECORDINGS, "SELECT * FROM recordings WHERE ended_at IS NULL ORDER BY id"
        )
