"""Whether a scenario's flight recordings play: each recording the service lists for a
flight is downloaded over its HTTP API (as a supervisor would) and decoded whole with
PyAV, off the event loop; what came of each is a :class:`Playback`."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import av

from dfr.scenario.service_view import JSON, ServiceView

logger = logging.getLogger(__name__)

RECORDING_CLOSE_TIMEOUT_S = 10.0  # real seconds for the service to close a flight's recordings


@dataclass(frozen=True, slots=True)
class Playback:
    flight_id: str
    recording_id: int
    status: int | None  # the download's HTTP status
    size_bytes: int
    frames: int  # decoded video frames
    duration_s: float  # the container's duration
    error: str  # "" when it downloaded and decoded

    @property
    def played(self) -> bool:
        return not self.error and self.frames > 0

    def to_json(self) -> JSON:
        return asdict(self)


def decode(path: Path) -> tuple[int, float, str]:
    """(frames decoded, duration in seconds, error text or "") of the MP4 at ``path``."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return 0, 0.0, "no video stream"
            frames = sum(1 for _ in container.decode(video=0))
            duration_s = float(container.duration or 0) / av.time_base
    except av.FFmpegError as exc:
        return 0, 0.0, f"does not decode: {exc}"
    return frames, round(duration_s, 2), ""


async def _closed_recordings(view: ServiceView, flight_id: str) -> list[JSON]:
    """The flight's recordings once none is still being written (or after the timeout)."""
    async with asyncio.timeout(RECORDING_CLOSE_TIMEOUT_S):
        while True:
            flight = await view.get(f"/api/v1/flights/{flight_id}")
            recordings: list[JSON] = flight.get("recordings", [])
            if all(r["ended_at"] is not None for r in recordings):
                return recordings
            await asyncio.sleep(0.25)


async def play_recordings(
    view: ServiceView, flight_ids: list[str], directory: Path
) -> list[Playback]:
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    played = []
    for flight_id in flight_ids:
        try:
            recordings = await _closed_recordings(view, flight_id)
        except TimeoutError:
            flight = await view.get(f"/api/v1/flights/{flight_id}")
            recordings = flight.get("recordings", [])
        for recording in recordings:
            response = await view.client.get(recording["url"])
            if not response.is_success:
                played.append(
                    Playback(
                        flight_id,
                        int(recording["id"]),
                        response.status_code,
                        0,
                        0,
                        0.0,
                        f"download refused: {response.text[:200]}",
                    )
                )
                continue
            path = directory / f"{flight_id}-{recording['id']}.mp4"
            await asyncio.to_thread(path.write_bytes, response.content)
            frames, duration_s, error = await asyncio.to_thread(decode, path)
            played.append(
                Playback(
                    flight_id,
                    int(recording["id"]),
                    response.status_code,
                    len(response.content),
                    frames,
                    duration_s,
                    error,
                )
            )
            logger.info(
                "%s recording %s: %d frames, %s", flight_id, recording["id"], frames, error or "ok"
            )
    return played
