"""One drone's video: ingest + hub + recorder, the object the service holds per drone."""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path

from dfr.errors import InvalidStateError, NotFound, VideoError
from dfr.video.hub import StreamState, VideoHub
from dfr.video.ingest import (
    DEFAULT_LOSS_TIMEOUT_S,
    PyAvIngest,
    UdpRtpIngest,
    udp_address_of,
)
from dfr.video.recorder import Recorder, RecordingInfo
from dfr.video.rtp import AccessUnit
from dfr.video.snapshot import snapshot_jpeg
from dfr.video.source import LOOPBACK, VideoSource

logger = logging.getLogger(__name__)


class RelayState(StrEnum):
    CREATED = "created"
    RUNNING = "running"
    CLOSED = "closed"


class DroneVideo:
    """``async with DroneVideo("drone-1", "rtp://127.0.0.1:5600") as video: ...``

    ``video.hub`` feeds viewers (see :func:`dfr.video.websocket.serve_websocket`);
    ``start_recording`` / ``stop_recording`` record a flight; ``snapshot_jpeg`` gives the
    latest keyframe as a JPEG. ``url`` is ``rtp://HOST:PORT`` / ``udp://HOST:PORT`` (listen),
    an SDP file path (``….sdp``, listen where it says) or ``rtsp://…``. RTP over UDP is
    taken from ``source`` only (default 127.0.0.1; see :mod:`dfr.video.source`).
    """

    def __init__(
        self,
        drone_id: str,
        url: str,
        *,
        source: VideoSource = LOOPBACK,
        loss_timeout_s: float = DEFAULT_LOSS_TIMEOUT_S,
        max_queue_frames: int = 90,
    ) -> None:
        self.drone_id = drone_id
        self.url = url
        self.hub = VideoHub(drone_id, max_queue_frames=max_queue_frames)
        self._ingest: UdpRtpIngest | PyAvIngest
        udp_address = udp_address_of(url)
        if udp_address is not None:
            self._ingest = UdpRtpIngest(
                drone_id,
                udp_address,
                self._on_unit,
                self._on_loss,
                source=source,
                loss_timeout_s=loss_timeout_s,
            )
        else:
            self._ingest = PyAvIngest(drone_id, url, self._on_unit, self._on_loss)
        self._recorder: Recorder | None = None
        self._state = RelayState.CREATED

    @property
    def ingest(self) -> UdpRtpIngest | PyAvIngest:
        return self._ingest

    @property
    def recording(self) -> Path | None:
        return self._recorder.path if self._recorder is not None else None

    async def __aenter__(self) -> DroneVideo:
        if self._state is not RelayState.CREATED:
            raise InvalidStateError(f"{self.drone_id}: video relay is {self._state}")
        await self._ingest.__aenter__()
        self._state = RelayState.RUNNING
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._state is not RelayState.RUNNING:
            return
        self._state = RelayState.CLOSED
        try:
            await self._ingest.__aexit__(*exc_info)
        finally:
            if self._recorder is not None:
                await self.stop_recording()

    def _on_unit(self, unit: AccessUnit) -> None:
        self.hub.publish(unit)
        if self._recorder is not None:
            self._recorder.write(unit)

    def _on_loss(self) -> None:
        self.hub.set_state(StreamState.LOST)

    def start_recording(self, path: Path) -> None:
        """Record from the next keyframe into ``path`` (MP4) until :meth:`stop_recording`."""
        if self._recorder is not None:
            raise InvalidStateError(f"{self.drone_id}: already recording to {self._recorder.path}")
        self._recorder = Recorder(path, self.drone_id)

    async def stop_recording(self) -> RecordingInfo:
        """Close the recording; returns its path, duration, size and SHA-256."""
        recorder, self._recorder = self._recorder, None
        if recorder is None:
            raise InvalidStateError(f"{self.drone_id}: not recording")
        return await recorder.close()

    async def snapshot_jpeg(self) -> bytes:
        """JPEG of the latest keyframe; :class:`NotFound` if no picture has arrived yet."""
        keyframe = self.hub.latest_keyframe
        if keyframe is None:
            raise NotFound(f"{self.drone_id}: no video picture yet")
        try:
            return await snapshot_jpeg(keyframe.nals)
        except VideoError:
            logger.warning("%s: snapshot failed", self.drone_id)
            raise
