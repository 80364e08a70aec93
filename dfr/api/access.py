"""Who is asking: the running service and the caller's token, for HTTP routes and
websockets alike (one check, one place).

HTTP routes read the token from ``Authorization: Bearer``; websockets and the docs page
also take ``?token=`` (browsers cannot set headers on a websocket or a link).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request, WebSocket
from starlette.requests import HTTPConnection

from dfr.auth.tokens import Principal
from dfr.errors import AccessDenied

if TYPE_CHECKING:
    from dfr.service import Service


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


def authenticate(connection: HTTPConnection, *, query_token: bool) -> Principal:
    """The principal of the connection's token, or `AccessDenied`."""
    return service_of(connection).tokens.authenticate(token_of(connection, query_token=query_token))


def principal(request: Request) -> Principal:
    return authenticate(request, query_token=False)


Authed = Annotated[Principal, Depends(principal)]


async def admit(websocket: WebSocket) -> Principal | None:
    """The websocket's principal; or, refused, the socket is closed (1008, the reason)
    and None is returned."""
    try:
        return authenticate(websocket, query_token=True)
    except AccessDenied as exc:
        await websocket.close(code=1008, reason=str(exc)[:120])
        return None
