"""Prototype of a proposed change (not in ``dfr/``): the service's own ``EventBus`` and
latest-value subscriptions, but each viewer's pending batch goes out as ONE websocket
frame, a JSON array of the already-encoded positions, instead of one frame per position.
Everything else is as in ``dfr/api/routes/websockets.py`` ``_stream``: same bus, same coalescing.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from dfr.bus import EventBus, Topic, make_message


class BatchedHub:
    def __init__(self) -> None:
        self.bus = EventBus()
        self.published = 0

    def publish(self, body: dict[str, Any]) -> None:
        self.published += 1
        self.bus.publish(make_message(Topic.TELEMETRY, body, published_ns=time.monotonic_ns()))

    async def stream(self, websocket: WebSocket) -> None:
        await websocket.accept()
        sub = self.bus.subscribe(Topic.TELEMETRY, latest_only=True)

        async def sender() -> None:
            while True:
                batch = await sub.get_batch()
                await websocket.send_text("[" + ",".join(m.text for m in batch) + "]")

        try:
            async with asyncio.TaskGroup() as tg:
                sending = tg.create_task(sender(), name="batched ws: sender")
                while (await websocket.receive())["type"] != "websocket.disconnect":
                    pass
                sending.cancel()
        except* (WebSocketDisconnect, EOFError, RuntimeError, OSError):
            pass
        finally:
            self.bus.unsubscribe(sub)


def batched_app(hub: BatchedHub) -> Starlette:
    return Starlette(routes=[WebSocketRoute("/ws/telemetry", hub.stream)])
