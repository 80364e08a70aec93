"""Evidence that survives a crash, whole system: ``dfr serve`` in a process of its own,
the simulated fleet (``dfr sim``, cameras on) in another. The service is killed with
SIGKILL while the drone is en route and started again on the same data directory. The
flight resumes and docks, one flight for the incident; its video is two segments or
more, the one the crash left closed at the restart; every segment plays in PyAV and its
SHA-256 verifies; and track samples reached the store every second before the kill."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import itertools
import re
import signal
import time
from pathlib import Path
from typing import Any

import av
import httpx
import pyotp

from dfr.audit.checkpoints import PUBLIC_KEY_FILE, load_public_key
from dfr.audit.trail import TRAIL_FILE, AuditRecord, open_trail_db, read_records
from dfr.audit.verify import verify
from dfr.cli import main
from dfr.video.recordings import RECOVERED_NOTE
from tests.e2e.dfr_process import dfr_process, serve_args, url_of
from tests.e2e.harness import PILOT, port_offset, wait_for
from tests.e2e.scenes import call, wall_site

SPEED = 10.0


def read_trail(data: Path) -> list[AuditRecord]:
    connection = open_trail_db(data / TRAIL_FILE)
    try:
        return list(read_records(connection))
    finally:
        connection.close()


def _supervisor(data: Path) -> tuple[str, str]:
    """A supervisor account made with ``dfr user add``: its password and TOTP secret."""
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        assert main(["user", "add", "sam", "--role", "supervisor", "--data-dir", str(data)]) == 0
    password = re.search(r"password: (\S+)", shown.getvalue())
    secret = re.search(r"TOTP secret: (\S+)", shown.getvalue())
    assert password and secret, shown.getvalue()
    return password[1], secret[1]


async def _signed_in(base_url: str, username: str, password: str, secret: str) -> httpx.AsyncClient:
    """A client holding the person's session cookie."""
    client = httpx.AsyncClient(base_url=base_url, timeout=30)
    body = {"username": username, "password": password, "code": pyotp.TOTP(secret).now()}
    signed = await client.post("/api/v1/session", json=body)
    assert signed.status_code == 200, signed.text
    return client


async def _ready(client: httpx.AsyncClient) -> bool:
    try:
        drones = (await client.get("/api/v1/drones")).json()
    except httpx.TransportError:
        return False  # not listening yet
    return all(d["link"] == "up" and d["armable"] and d["health_ok"] for d in drones)


async def _flight(client: httpx.AsyncClient, flight_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/flights/{flight_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _wait_phase(client: httpx.AsyncClient, flight_id: str, phase: str) -> None:
    async def reached() -> bool:
        return (await _flight(client, flight_id))["phase"] == phase

    await wait_for(reached, 120, f"flight {flight_id} in phase {phase}")


async def _track_gaps_s(client: httpx.AsyncClient, flight_id: str, watch_s: float) -> list[float]:
    """Seconds between successive growths of the stored track, watched for ``watch_s``."""
    grew_at: list[float] = []
    count = -1
    deadline = time.monotonic() + watch_s
    while time.monotonic() < deadline:
        track = (await client.get(f"/api/v1/flights/{flight_id}/track")).json()
        points = len(track["geometry"]["coordinates"]) if "geometry" in track else -1
        if points != count:
            if count >= 0:
                grew_at.append(time.monotonic())
            count = points
        await asyncio.sleep(0.1)
    return [b - a for a, b in itertools.pairwise(grew_at)]


def _plays(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


async def test_sigkill_mid_flight_keeps_the_video_and_the_flight(tmp_path: Path) -> None:
    offset = port_offset()
    site = wall_site(
        tmp_path / "site",
        drones=[{"id": "far", "dock": "b", "video_url": "rtp://127.0.0.1:5600"}],
    )
    data = tmp_path / "data"
    sim_args = ["sim", "--site", str(site), "--speed", str(SPEED), "--airframe", "dfr_quad"]
    sim_args += ["--port-offset", str(offset)]
    headers = {"Authorization": f"Bearer {PILOT}"}
    password, totp_secret = await asyncio.to_thread(_supervisor, data)  # reviews it later
    async with dfr_process(sim_args, tmp_path / "sim.log", tmp_path):
        first_args = serve_args(site, data, offset)
        async with (
            dfr_process(first_args, tmp_path / "serve-1.log", tmp_path) as first,
            httpx.AsyncClient(base_url=url_of(first_args), headers=headers, timeout=30) as client,
        ):
            await wait_for(lambda: _ready(client), 60, "drone ready")
            (await client.post("/api/v1/calls", json=call("K1"))).raise_for_status()
            (flight,) = (await client.get("/api/v1/flights")).json()
            flight_id = flight["id"]
            await _wait_phase(client, flight_id, "enroute")
            (recording,) = (await _flight(client, flight_id))["recordings"]
            assert recording["sha256"] == "" and recording["ended_at"] is None  # open, listed
            gaps_s = await _track_gaps_s(client, flight_id, 4.0)
            assert (await _flight(client, flight_id))["phase"] == "enroute"
            first.send_signal(signal.SIGKILL)
            assert await first.wait() == -signal.SIGKILL
        assert gaps_s and max(gaps_s) < 1.6  # a sample reaches the store every second

        second_args = serve_args(site, data, offset)
        async with (
            contextlib.AsyncExitStack() as stack,
            dfr_process(second_args, tmp_path / "serve-2.log", tmp_path),
            httpx.AsyncClient(base_url=url_of(second_args), headers=headers, timeout=30) as client,
        ):
            await wait_for(lambda: _ready(client), 60, "service back")
            assert (await _flight(client, flight_id))["ended_at"] is None  # resumed
            await _wait_phase(client, flight_id, "on_scene")
            (
                await client.post(f"/api/v1/flights/{flight_id}/commands", json={"type": "return"})
            ).raise_for_status()

            async def ended() -> dict[str, Any] | None:
                body = await _flight(client, flight_id)
                return body if body["ended_at"] else None

            record = await wait_for(ended, 180, "flight docked")
            assert [p["phase"] for p in record["phases"]][-3:] == ["returning", "landing", "docked"]
            flights = (await client.get("/api/v1/flights")).json()
            assert [f["id"] for f in flights if f["incident_id"] == record["incident_id"]] == [
                flight_id
            ]
            recordings = record["recordings"]
            assert len(recordings) >= 2
            assert recordings[0]["note"] == RECOVERED_NOTE  # the part the crash left
            assert all(r["note"] == "" for r in recordings[1:])
            reviewer = await _signed_in(url_of(second_args), "sam", password, totp_secret)
            stack.push_async_callback(reviewer.aclose)
            for index, listed in enumerate(recordings):
                assert listed["sha256"] and listed["ended_at"], listed
                assert (await client.get(str(listed["url"]))).status_code == 403  # a pilot
                download = await reviewer.get(str(listed["url"]))
                assert download.status_code == 200
                assert hashlib.sha256(download.content).hexdigest() == listed["sha256"]
                path = tmp_path / f"part-{index}.mp4"
                await asyncio.to_thread(path.write_bytes, download.content)
                decoded = await asyncio.to_thread(_plays, path)
                assert decoded == listed["frame_count"] > 10, (index, decoded, listed)
            # the trail survived the kill too, and holds the launch, the return and each
            # recording's hash
            key = load_public_key(data / PUBLIC_KEY_FILE)
            verdict = verify(data, key)
            assert verdict.ok, verdict
            trail = [r.to_json() for r in read_trail(data)]
            assert any(
                r["action"] == "dispatch" and r["detail"]["flight_id"] == flight_id for r in trail
            )
            assert any(
                r["action"] == "command" and r["detail"]["command"] == "return" for r in trail
            )
            hashed = {r["detail"]["sha256"] for r in trail if r["action"] == "recording_closed"}
            assert {r["sha256"] for r in recordings} <= hashed
            # the restart says the run before it did not stop cleanly
            starts = [r["detail"] for r in trail if r["action"] == "service_started"]
            assert [s["previous_run_stopped_cleanly"] for s in starts] == [None, False]
            assert not any(r["action"] == "service_stopped" for r in trail)
            # and who downloaded each recording, from where
            downloads = [r for r in trail if r["action"] == "recording_download"]
            assert {r["detail"]["sha256"] for r in downloads} == {r["sha256"] for r in recordings}
            assert all(r["source"] == "127.0.0.1" and r["actor"] for r in downloads)
            assert {r["actor"] for r in downloads if r["outcome"] == "ok"} == {"sam"}
