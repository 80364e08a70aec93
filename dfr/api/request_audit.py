"""Audit records of what people and machines do over HTTP and websockets: who, from
which address and user agent, the outcome (the trail adds the time and the chain)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import HTTPConnection

from dfr.api.access import service_of


def client_address(connection: HTTPConnection) -> str:
    return connection.client.host if connection.client else "unknown"


def audit_request(
    connection: HTTPConnection,
    *,
    actor: str,
    action: str,
    outcome: str,
    target: str = "",
    detail: Mapping[str, Any] | None = None,
) -> None:
    trail = service_of(connection).audit
    if trail is None:  # the service is not open (a test's bare app)
        return
    trail.append(
        actor=actor,
        action=action,
        outcome=outcome,
        source=client_address(connection),
        target=target,
        detail={"user_agent": connection.headers.get("user-agent", "")[:300], **(detail or {})},
    )
