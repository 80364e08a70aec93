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
  made with ``dfr key add``: scoped, expiring, revocable) or a configured token;
- an officer's viewer link (``dfrv_<id>_…``, :mod:`dfr.auth.viewer_links`): as a bearer
  token when the viewer page opens it, then as the ``dfr_view_<id>`` cookie that opening
  sets, chosen by ``?view=<id>`` (same Origin rule as the session cookie). A link sees
  its one drone only: :func:`admit` checks the drone of every socket it opens.

Every ``/api/`` request except sign-in (and opening a viewer link) is authenticated
before its body is read (:mod:`dfr.api.caller_first`); the principal found then is kept on the request's scope
(:data:`CALLER_KEY`), so the route's dependency does not look it up twice.

Scopes narrow what a machine credential may do: every route here that reads needs
``read`` (:data:`Authed`); the intake routes take ``intake`` too (:data:`IntakeAuthed`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request, WebSocket
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocketDisconnect, WebSocketState

from dfr.auth.api_keys import looks_like_key
from dfr.auth.tokens import Principal, Scope
from dfr.auth.viewer_links import looks_like_link
from dfr.errors import AccessDenied, SignInRequired

if TYPE_CHECKING:
    from dfr.service import Service

SESSION_COOKIE = "dfr_session"
CALLER_KEY = "dfr.caller"  # the scope key of the principal an HTTP request was found to be
VIEW_COOKIE_PREFIX = "dfr_view_"  # + the link's id: one cookie per opened link
VIEW_QUERY = "view"  # ?view=<link id>: this request is the link's
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


def view_cookie_name(link_id: str) -> str:
    return f"{VIEW_COOKIE_PREFIX}{link_id}"


def view_token_of(connection: HTTPConnection) -> str | None:
    """The viewer link a ``?view=<id>`` request acts as: its cookie's link text."""
    link_id = connection.query_params.get(VIEW_QUERY)
    if not link_id:
        return None
    token = connection.cookies.get(view_cookie_name(link_id))
    if not token:
        raise AccessDenied(
            f"viewer link {link_id[:16]} is not open in this browser: open the link again",
            authenticated=False,
        )
    return token


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
    """The principal of the connection's credential, or `AccessDenied`; found once per
    request (``query_token`` False: the header and the cookie only)."""
    if not query_token:
        known: Principal | None = connection.scope.get(CALLER_KEY)
        if known is not None:
            return known
    principal = await _authenticate(connection, query_token=query_token)
    if not query_token:
        connection.scope[CALLER_KEY] = principal
    return principal


async def _authenticate(connection: HTTPConnection, *, query_token: bool) -> Principal:
    service = service_of(connection)
    token = token_of(connection, query_token=query_token)
    if token:
        if looks_like_key(token):
            return await service.api_keys.principal(token, datetime.now(UTC))
        if looks_like_link(token):
            return await _link_principal(connection, token)
        return service.tokens.authenticate(token)
    view = view_token_of(connection)
    if view:
        _check_origin(connection)
        return await _link_principal(connection, view)
    return await session_principal(connection)


async def _link_principal(connection: HTTPConnection, link_text: str) -> Principal:
    """The viewer link's principal; where the site's policy says so, only while the
    officer holding it is signed in too."""
    service = service_of(connection)
    principal = await service.viewer_links.principal(link_text, datetime.now(UTC))
    await officer_if_needed(connection)
    return principal


async def officer_if_needed(connection: HTTPConnection) -> Principal | None:
    """The person signed in beside a viewer link, where the agency's policy has links
    opened only by people signed in (`SignInRequired` if nobody is); None where a link
    suffices."""
    if not service_of(connection).site.policy.viewer_links_need_sign_in:
        return None
    try:
        return await session_principal(connection)
    except AccessDenied as exc:
        if exc.authenticated:  # signed in, but e.g. from another site's page
            raise
        raise SignInRequired(
            f"this agency's viewer links open only for people signed in: sign in, then "
            f"the link opens ({exc})"
        ) from exc


async def session_principal(connection: HTTPConnection) -> Principal:
    """The person whose session cookie the connection carries, or `AccessDenied`."""
    session = session_token_of(connection)
    if session:
        _check_origin(connection)
        use = connection.headers.get(BACKGROUND_HEADER) != "1" and not _is_websocket(connection)
        principal, _ = await service_of(connection).accounts.principal(
            session, datetime.now(UTC), use=use
        )
        return principal
    raise AccessDenied(NO_CREDENTIAL, authenticated=False)


def _may_read(principal: Principal) -> Principal:
    if principal.drone_id is not None:
        raise AccessDenied(
            f"an officer's viewer link sees drone {principal.drone_id}'s video and position "
            "only (GET /api/v1/viewer-link)",
            authenticated=True,
        )
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


def _may_see(principal: Principal, drone_id: str | None) -> Principal:
    """A caller who may read; or a viewer link, for its own drone's socket."""
    if principal.drone_id is not None and drone_id == principal.drone_id:
        return principal
    return _may_read(principal)


async def link_viewer(request: Request) -> Principal:
    """The viewer link the request acts as (``?view=<id>`` or its bearer text)."""
    who = await authenticate(request, query_token=False)
    if who.kind != "link":
        raise AccessDenied(
            f"{who.name} is not a viewer link: this route is the link's own page",
            authenticated=True,
        )
    return who


LinkViewer = Annotated[Principal, Depends(link_viewer)]


async def admit(websocket: WebSocket, *, drone_id: str | None = None) -> Principal | None:
    """The websocket's principal (one that may read; a viewer link only for the socket
    of its own drone, ``drone_id``); or, refused, the socket is closed (1008, the
    reason) and None is returned."""
    try:
        return _may_see(await authenticate(websocket, query_token=True), drone_id)
    except AccessDenied as exc:
        await websocket.close(code=1008, reason=str(exc)[:120])
        return None


def _recheck_of(connection: HTTPConnection) -> Callable[[], Awaitable[object]] | None:
    """How to ask again whether the connection's credential still holds (None: a
    configured token or API key, checked once)."""
    service = service_of(connection)
    token = token_of(connection, query_token=True)
    link = token if token and looks_like_link(token) else None
    if not token:
        link = view_token_of(connection)
    if link is not None:
        link_text = link

        async def link_holds() -> None:
            await service.viewer_links.check(link_text, datetime.now(UTC))
            if service.site.policy.viewer_links_need_sign_in:
                officer = session_token_of(connection) or ""
                await service.accounts.principal(officer, datetime.now(UTC), use=False)

        return link_holds
    session = None if token else session_token_of(connection)
    if session is not None:
        session_text = session
        return lambda: service.accounts.principal(session_text, datetime.now(UTC), use=False)
    return None


async def while_signed_in(websocket: WebSocket, work: Coroutine[Any, Any, object]) -> None:
    """Run ``work`` (an accepted socket's serving) for as long as the socket's credential
    holds: a session signed out, locked, ended or disabled, or a viewer link revoked or
    expired, closes it with 1008 and why."""
    recheck = _recheck_of(websocket)
    if recheck is None:
        await work
        return
    service = service_of(websocket)

    async def watch() -> None:
        while True:
            await asyncio.sleep(service.settings.session_check_s)
            try:
                await recheck()
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
