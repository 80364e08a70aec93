"""Evidence that survives a crash, at the store: a recording's row exists from its start;
the process recording it is killed with SIGKILL; at the next start the row is closed
from the file as found (hash, size, duration, frames) and says it was recovered."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import av

from dfr.store import SqliteStore
from dfr.store.migrations import MIGRATIONS
from dfr.video.recordings import RECOVERED_NOTE, FlightRecordings
from tests.killed_child import run_until_killed
from tests.store.recording_child import DRONE_ID, FLIGHT_ID, FPS

FRAMES_BEFORE_KILL = int(3 * FPS)


def record_flight_then_kill(data_dir: Path) -> int:
    """Record a flight in a child process until it has received FRAMES_BEFORE_KILL
    frames, then SIGKILL it; returns how many it had received."""
    return run_until_killed("tests.store.recording_child", str(data_dir), FRAMES_BEFORE_KILL)


def file_facts(path: Path) -> tuple[int, str, int]:
    """Size, SHA-256 and the number of frames PyAV decodes, read independently of dfr."""
    with av.open(str(path)) as container:
        decoded = sum(1 for _ in container.decode(video=0))
    return path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest(), decoded


async def test_a_crash_left_recording_is_hashed_and_closed_at_the_next_start(
    tmp_path: Path,
) -> None:
    frames = record_flight_then_kill(tmp_path)
    assert frames >= FRAMES_BEFORE_KILL

    async with SqliteStore(tmp_path / "dfr.db") as store:
        (left,) = await store.list_open_recordings()  # stored when recording started
        assert left.flight_id == FLIGHT_ID and left.drone_id == DRONE_ID
        assert left.sha256 == "" and left.ended_at is None and left.started_at is not None
        path = Path(left.path)
        assert path.name == f"{FLIGHT_ID}-1.mp4"
        size_before, sha256_before, _decoded = file_facts(path)

        recordings = FlightRecordings(store, {}, tmp_path / "recordings")
        await recordings.recover(await recordings.crash_left())

        assert await store.list_open_recordings() == []
        (closed,) = await store.list_recordings(FLIGHT_ID)
        assert closed.id == left.id
        assert closed.note == RECOVERED_NOTE
        assert closed.ended_at is not None and closed.started_at is not None
        assert closed.ended_at > closed.started_at
    # the hash verifies against the file, which recovery left as it was
    size_bytes, sha256_hex, decoded = file_facts(path)
    assert (size_bytes, sha256_hex) == (size_before, sha256_before)
    assert size_bytes == closed.size_bytes and sha256_hex == closed.sha256
    # the file plays: all but about the last second of what was received
    assert decoded == closed.frame_count >= frames - 1.5 * FPS
    # frames are stamped as they arrive, so a loaded machine spreads them a little
    assert abs(closed.duration_s - decoded / FPS) < 4 / FPS


async def test_a_schema_2_database_opens_and_its_recordings_read(tmp_path: Path) -> None:
    db = tmp_path / "dfr.db"
    conn = sqlite3.connect(db, isolation_level=None)
    for number, script in enumerate(MIGRATIONS[:2], start=1):
        conn.executescript(script)
        conn.execute(f"PRAGMA user_version={number}")
    conn.execute(
        "INSERT INTO flights VALUES ('f1', NULL, 'd1', 'dock', 'docked', '2026-01-01T00:00:00+00:00',"
        " '2026-01-01T00:00:00+00:00', NULL, '{}', '2026-01-01T00:10:00+00:00', 'completed')"
    )
    conn.execute(
        "INSERT INTO recordings (flight_id, drone_id, path, duration_s, size_bytes, sha256,"
        " frame_count, started_at, ended_at) VALUES ('f1', 'd1', '/r/f1-1.mp4', 600.0, 1000,"
        " 'ab', 10, '2026-01-01T00:00:00+00:00', '2026-01-01T00:10:00+00:00')"
    )
    conn.close()
    async with SqliteStore(db) as store:
        (old,) = await store.list_recordings("f1")
        assert (old.sha256, old.duration_s, old.note) == ("ab", 600.0, "")
        assert await store.list_open_recordings() == []
    with sqlite3.connect(db) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 3
