"""The caller is known before its body is read: an ``/api/`` request without a valid
credential gets 401 (or 403 for a cookie from another origin) with its body unread and
unparsed, whatever that body is.

Why a middleware and not the routes' dependency: FastAPI reads a route's whole body and
decodes its JSON before it solves the route's dependencies (``fastapi.routing``'s request
handler: ``await request.json()``, then ``solve_dependencies``), so a malformed body from
anyone got 422; and :class:`~dfr.api.body_limit.BodyLimit`, which must see the body before
the route, answered 413 to anyone. Dependencies do run before the body is *validated*, so
only those two answers came first — but they mean an unknown caller could make the service
read and parse up to the body limit. Here, between the rate limits and the body limit, the
one authentication of :mod:`dfr.api.access` runs on the request's headers alone; the
principal it finds is kept on the scope for the route's own dependency.

A known caller's request goes on as before: an oversized body still gets 413, an invalid one
422 naming the field, and the role a route needs is still the route's to check.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from dfr.api.access import authenticate
from dfr.api.asgi_json import send_json
from dfr.api.error_responses import status_for
from dfr.api.schemas import ErrorOut
from dfr.errors import AccessDenied

API_PREFIX = "/api/"
# the only /api/ requests that reach their route without a valid credential: signing in
# (its body is how a person becomes known; under the sign-in rate limit and the body
# limit), asking whose session the cookie is, reading the system use notice shown before
# signing in, and opening a viewer link (it takes no body, and it audits a refused opening
# itself, which a refusal here would skip)
PUBLIC_API: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", "/api/v1/session"),
        ("GET", "/api/v1/session"),
        ("GET", "/api/v1/session/notice"),
        ("POST", "/api/v1/viewer-links/open"),
    }
)


def _declares_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


class CallerFirst:
    """A pure ASGI middleware: authenticates every ``/api/`` request but ``public`` ones
    before anything reads its body."""

    def __init__(self, app: ASGIApp, *, public: Iterable[tuple[str, str]] = PUBLIC_API) -> None:
        self.app = app
        self.public = frozenset(public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        if (scope["method"], scope["path"].rstrip("/")) in self.public:
            await self.app(scope, receive, send)
            return
        try:
            await authenticate(HTTPConnection(scope), query_token=False)
        except AccessDenied as exc:
            await _refuse(send, exc, close=_declares_body(scope))
            return
        await self.app(scope, receive, send)


async def _refuse(send: Send, exc: AccessDenied, *, close: bool) -> None:
    status = status_for(exc)
    body = ErrorOut(error=type(exc).__name__, detail=str(exc))
    headers = [(b"www-authenticate", b"Bearer")] if status == 401 else []
    if close:  # the body is left unread: the connection cannot carry another request
        headers.append((b"connection", b"close"))
    await send_json(send, status, body.model_dump(), headers=headers)
