"""Request bodies have a size limit: a larger one is refused with 413 before any route
reads it.

A pure ASGI middleware. A declared ``Content-Length`` over the limit is refused at once,
unread; a body without one (``Transfer-Encoding: chunked``) is read up to the limit and
refused as soon as it passes it. A body within the limit is handed to the app whole, so
no route ever parses part of one.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dfr.api.asgi_json import send_json
from dfr.api.schemas import ErrorOut

MIB = 1024 * 1024


def size_text(n_bytes: int) -> str:
    if n_bytes >= MIB and n_bytes % MIB == 0:
        return f"{n_bytes // MIB} MiB"
    if n_bytes >= 1024 and n_bytes % 1024 == 0:
        return f"{n_bytes // 1024} KiB"
    return f"{n_bytes} bytes"


class BodyLimit:
    """Refuses a request body over ``limit_bytes`` (or over the limit ``path_limits_bytes``
    gives its exact path) with 413 and an :class:`ErrorOut`."""

    def __init__(
        self, app: ASGIApp, *, limit_bytes: int, path_limits_bytes: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.limit_bytes = limit_bytes
        self.path_limits_bytes = dict(path_limits_bytes or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits_bytes.get(scope["path"].rstrip("/"), self.limit_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(send, f"the body ({declared} bytes) is larger", limit)
            return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await _too_large(send, "the body (chunked) is larger", limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: the disconnect, when it comes
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses it before the app sees it
    return None


async def _too_large(send: Send, what: str, limit: int) -> None:
    body = ErrorOut(
        error="PayloadTooLarge",
        detail=f"{what} than this route takes: at most {size_text(limit)} ({limit} bytes); "
        "send a smaller body (split the call's notes, leave attachments out)",
    )
    await send_json(send, 413, body.model_dump(), headers=[(b"connection", b"close")])
