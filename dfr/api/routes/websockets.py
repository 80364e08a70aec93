"""Websockets: telemetry and events as JSON from the bus, and live video.

Each is authenticated before it is accepted (:mod:`dfr.api.access`): a person's session
cookie from dfr's own pages, an officer's viewer link (``?view=<id>``: its drone's video
and telemetry only), or a machine's token as ``?token=`` (or ``Authorization``). A
refused one is closed with 1008 and the reason; so is an open one whose session ends or
whose link is revoked or expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from dfr.api.access import admit, service_of, while_signed_in
from dfr.api.request_audit import audit_request
from dfr.bus import Message, Topic
from dfr.video.websocket import VideoFormat, serve_websocket

if TYPE_CHECKING:
    from dfr.service import Service

logger = logging.getLogger(__name__)

WS_SEND_TIMEOUT_S = 5.0

router = APIRouter()


@router.websocket("/ws/telemetry")
async def ws_telemetry(websocket: WebSocket) -> None:
    await _stream(websocket, Topic.TELEMETRY, latest_only=True)


@router.websocket("/ws/events")
async def ws_events(websocket: WebSocket) -> None:
    await _stream(websocket, Topic.EVENTS, latest_only=False)


@router.websocket("/ws/video/{drone_id}")
async def ws_video(websocket: WebSocket, drone_id: str) -> None:
    """Live video: a JSON codec message, then fMP4 (init segment, then fragments from a
    keyframe) for Media Source Extensions, or ``?format=annexb`` for WebCodecs."""
    who = await admit(websocket, drone_id=drone_id)
    if who is None:
        return
    video = service_of(websocket).videos.get(drone_id)
    fmt_text = websocket.query_params.get("format", "fmp4")
    if video is None or fmt_text not in {f.value for f in VideoFormat}:
        await websocket.close(code=1008, reason=f"no video for {drone_id!r} in format {fmt_text!r}")
        return
    await websocket.accept()
    audit_request(
        websocket,
        actor=who.name,
        action="video_watch",
        outcome="opened",
        target=f"drone:{drone_id}",
        detail={"format": fmt_text},
    )
    await while_signed_in(
        websocket, serve_websocket(websocket, video.hub, fmt=VideoFormat(fmt_text))
    )


async def _send_positions(
    websocket: WebSocket,
    service: Service,
    drone_filter: str | None,
    flight_filter: str | None,
    batched: bool,
) -> None:
    """Every drone's latest position (as the filters select), one frame or one each."""
    bodies = [service.position_message(link.state) for link in service.links.values()]
    bodies = [
        b
        for b in bodies
        if (not drone_filter or b["drone_id"] == drone_filter)
        and (not flight_filter or b["flight_id"] == flight_filter)
    ]
    if batched:
        await websocket.send_json(bodies)
    else:
        for body in bodies:
            await websocket.send_json(body)


async def _stream(websocket: WebSocket, topic: Topic, *, latest_only: bool) -> None:
    # a viewer link may follow its own drone's positions (?drone_id=), never events
    drone_id = websocket.query_params.get("drone_id") if topic is Topic.TELEMETRY else None
    if await admit(websocket, drone_id=drone_id) is None:
        return
    await while_signed_in(websocket, _serve(websocket, topic, latest_only=latest_only))


async def _serve(websocket: WebSocket, topic: Topic, *, latest_only: bool) -> None:
    service: Service = service_of(websocket)
    drone_filter = websocket.query_params.get("drone_id")
    flight_filter = websocket.query_params.get("flight_id")
    # ?batch=1: each frame is a JSON array of the messages pending for this viewer (one
    # frame per wake-up instead of one per drone update: for viewers of whole fleets)
    batched = websocket.query_params.get("batch") in ("1", "true")

    def accept(message: Message) -> bool:
        if drone_filter and message.drone_id != drone_filter:
            return False
        return not (flight_filter and message.flight_id != flight_filter)

    await websocket.accept()
    sub = service.bus.subscribe(topic, latest_only=latest_only, accept=accept)
    try:
        if topic is Topic.TELEMETRY:  # a picture at once, not at the next update
            await _send_positions(websocket, service, drone_filter, flight_filter, batched)
    except (WebSocketDisconnect, RuntimeError):
        service.bus.unsubscribe(sub)
        return

    async def reader() -> None:
        """Notice a client that closed: end the subscription so the sender stops."""
        try:
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass
        finally:
            sub.close()

    async def sender() -> None:
        while True:
            batch = await sub.get_batch()
            async with asyncio.timeout(WS_SEND_TIMEOUT_S):
                if batched:
                    await websocket.send_text("[" + ",".join(m.text for m in batch) + "]")
                else:
                    for message in batch:
                        await websocket.send_text(message.text)

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(reader(), name=f"ws {topic}: reader")
            await sender()
    except* (WebSocketDisconnect, EOFError):
        pass
    except* TimeoutError:
        logger.info("ws %s: viewer stopped reading for %.0f s; dropped", topic, WS_SEND_TIMEOUT_S)
    finally:
        service.bus.unsubscribe(sub)
        if websocket.client_state is WebSocketState.CONNECTED:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await websocket.close()
