"""The naive fan-out peer: one unbounded ``asyncio.Queue`` per viewer, ``json.dumps`` per
viewer per message (the pattern of most websocket tutorials), served by the same uvicorn.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


class NaiveHub:
    def __init__(self) -> None:
        self.queues: set[asyncio.Queue[dict[str, Any]]] = set()
        self.published = 0

    def publish(self, body: dict[str, Any]) -> None:
        self.published += 1
        for queue in self.queues:
            queue.put_nowait(body)

    async def stream(self, websocket: WebSocket) -> None:
        await websocket.accept()
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.queues.add(queue)

        async def sender() -> None:
            while True:
                body = await queue.get()
                await websocket.send_text(json.dumps(body))

        try:
            async with asyncio.TaskGroup() as tg:
                sending = tg.create_task(sender(), name="naive ws: sender")
                while (await websocket.receive())["type"] != "websocket.disconnect":
                    pass
                sending.cancel()
        except* (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            self.queues.discard(queue)


def naive_app(hub: NaiveHub) -> Starlette:
    return Starlette(routes=[WebSocketRoute("/ws/telemetry", hub.stream)])
