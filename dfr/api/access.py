"""Who is asking, for HTTP routes and websockets alike (one check, one place).

A caller is known by one credential:

- a person's session: the ``dfr_session`` cookie set by ``POST /api/v1/session``
  (HttpOnly, SameSite=Strict). A request that changes something (POST, PUT, PATCH,
  DELETE) and every websocket must also come from the service's own origin (the
  ``Origin`` header), so another site cannot ride on the cookie. A page's background
  refresh sends ``X-Dfr-Background: 1``: it is served, but does not keep the session
  from locking when nobody uses the console;
- a machine's bearer token (``Authorization: Bearer``; websockets and the docs page also
  take ``?token=``, as browsers cannot set headers there): an API key (``dfr_<id>_…``,
  made with ``dfr key add``: scoped, expiring, revocable) or a configured token.

Scopes narrow what a machine credential may do: every route here that reads needs
``read`` (:data:`Authed`); the intake routes take ``intake`` too (:data:`IntakeAuthed`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request, WebSocket
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocketDisconnect, WebSocketState

from dfr.auth.api_keys import looks_like_key
from dfr.auth.tokens import Principal, Scope
from dfr.errors import AccessDenied

if TYPE_CHECKING:
    from dfr.service import Service

SESSION_COOKIE = "dfr_session"
BACKGROUND_HEADER = "x-dfr-background"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NO_CREDENTIAL = (
    "not signed in: sign in (POST /api/v1/session, or the console's sign-in page), or send "
    "a machine's 'Authorization: Bearer <token>' (?token= on websockets)"
)


def service_of(connection: HTTPConnection) -> Service:
    """The service the lifespan yielded (its state is copied into every connection)."""
    service: Service = connection.state.service
    return service


def bearer_from_header(value: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, else None."""
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def token_of(connection: HTTPConnection, *, query_token: bool) -> str | None:
    """The connection's bearer token. ``query_token``: a ``?token=`` is taken too, before
    the header."""
    token = bearer_from_header(connection.headers.get("authorization"))
    if query_token:
        token = connection.query_params.get("token") or token
    return token


def session_token_of(connection: HTTPConnection) -> str | None:
    return connection.cookies.get(SESSION_COOKIE) or None


def _is_websocket(connection: HTTPConnection) -> bool:
    return bool(connection.scope["type"] == "websocket")


def _check_origin(connection: HTTPConnection) -> None:
    """A cookie-borne request that acts (or opens a socket) must come from our own pages."""
    if not _is_websocket(connection) and connection.scope.get("method") not in UNSAFE_METHODS:
        return
    origin = connection.headers.get("origin")
    host = connection.headers.get("host")
    scheme = "https" if connection.url.scheme in ("https", "wss") else "http"
    if origin is None or host is None or origin != f"{scheme}://{host}":
        raise AccessDenied(
            f"request from origin {origin or '(none)'} refused: a signed-in session acts only "
            "from dfr's own pages (machines send a bearer token instead of the cookie)",
            authenticated=True,
        )


async def authenticate(connection: HTTPConnection, *, query_token: bool) -> Principal:
    """The principal of the connection's credential, or `AccessDenied`."""
    service = service_of(connection)
    token = token_of(connection, query_token=query_token)
    if token:
        if looks_like_key(token):
            return await service.api_keys.principal(token, datetime.now(UTC))
        return service.tokens.authenticate(token)
    session = session_token_of(connection)
    if session:
        _check_origin(connection)
        use = connection.headers.get(BACKGROUND_HEADER) != "1" and not _is_websocket(connection)
        principal, _ = await service.accounts.principal(session, datetime.now(UTC), use=use)
        return principal
    raise AccessDenied(NO_CREDENTIAL, authenticated=False)


def _may_read(principal: Principal) -> Principal:
    if not principal.may(Scope.READ):
        raise AccessDenied(
            f"{principal.name} may not read: its key is for {_scopes(principal)} only",
            authenticated=True,
        )
    return principal


def _scopes(principal: Principal) -> str:
    return ", ".join(sorted(s.value for s in principal.scopes or ()))


async def reader(connection: HTTPConnection, *, query_token: bool) -> Principal:
    """The connection's principal if it may read, or `AccessDenied` (an intake key may
    not: it posts calls and reads nothing, not even the API's documentation)."""
    return _may_read(await authenticate(connection, query_token=query_token))


async def principal(request: Request) -> Principal:
    """A caller who may read (every route that shows something)."""
    return await reader(request, query_token=False)


async def intake_principal(request: Request) -> Principal:
    """A caller who may post calls: an intake key, or a person or token whose role the
    route checks."""
    return await authenticate(request, query_token=False)


Authed = Annotated[Principal, Depends(principal)]
IntakeAuthed = Annotated[Principal, Depends(intake_principal)]


async def admit(websocket: WebSocket) -> Principal | None:
    """The websocket's principal (one that may read); or, refused, the socket is closed
    (1008, the reason) and None is returned."""
    try:
        return await reader(websocket, query_token=True)
    except AccessDenied as exc:
        await websocket.close(code=1008, reason=str(exc)[:120])
        return None


async def while_signed_in(websocket: WebSocket, work: Coroutine[Any, Any, object]) -> None:
    """Run ``work`` (an accepted socket's serving) for as long as the socket's credential
    holds: a session signed out, locked, ended or disabled closes it with 1008 and why."""
    session = None if token_of(websocket, query_token=True) else session_token_of(websocket)
    if session is None:
        await work
        return
    service = service_of(websocket)

    async def watch() -> None:
        while True:
            await asyncio.sleep(service.settings.session_check_s)
            try:
                await service.accounts.principal(session, datetime.now(UTC), use=False)
            except AccessDenied as exc:  # closing ends the serving: its socket is gone
                if websocket.client_state is WebSocketState.CONNECTED:
                    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                        await websocket.close(code=1008, reason=str(exc)[:120])
                return

    async with asyncio.TaskGroup() as group:
        watcher = group.create_task(watch(), name="ws: session watch")
        try:
            await work
        finally:
            watcher.cancel()
