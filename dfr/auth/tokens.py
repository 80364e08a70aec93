"""Bearer tokens with roles. Every HTTP route and websocket needs one.

Roles, each including the ones below it: ``admin`` (users, site) > ``supervisor``
(a pilot's reach, plus recordings and overrides) > ``pilot`` (launch, command, share a
viewer link) > ``viewer`` (read). Tokens are kept only as SHA-256 digests and compared
in constant time. How a request carries its token (header, or ``?token=`` where a
browser cannot set headers) is the API's business: :mod:`dfr.api.access`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from dfr.errors import AccessDenied


class Role(IntEnum):
    """Ordered by reach; stored and shown by name (``label``), never by number."""

    VIEWER = 1
    PILOT = 2
    SUPERVISOR = 3
    ADMIN = 4

    @property
    def label(self) -> str:
        return self.name.lower()


class Scope(StrEnum):
    """What a machine credential may do beyond its role's reach being narrowed: a key
    with scopes may do only those (people and configured tokens have none: their role
    says it all)."""

    READ = "read"  # every GET route and the read-only websockets
    INTAKE = "intake"  # POST /api/v1/calls and /calls/eido only


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role
    kind: str = "token"  # token (configured), user (a session), key (an API key)
    scopes: frozenset[Scope] | None = None  # None: all its role allows
    drone_id: str | None = None  # an officer's viewer link: the one drone it may see

    def may(self, scope: Scope) -> bool:
        return self.scopes is None or scope in self.scopes


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class TokenRegistry:
    def __init__(self) -> None:
        self._tokens: list[tuple[bytes, Principal]] = []

    def add(self, token: str, principal: Principal) -> None:
        if len(token) < 16:
            raise ValueError("tokens must be at least 16 characters")
        self._tokens.append((_digest(token), principal))

    def issue(self, name: str, role: Role) -> str:
        token = secrets.token_urlsafe(24)
        self.add(token, Principal(name, role))
        return token

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise AccessDenied(
                "missing bearer token: send 'Authorization: Bearer <token>' (or ?token= on websockets)",
                authenticated=False,
            )
        digest = _digest(token)
        found: Principal | None = None
        for known, principal in self._tokens:
            if hmac.compare_digest(known, digest):
                found = principal
        if found is None:
            raise AccessDenied("unknown or expired token", authenticated=False)
        return found


def require_role(principal: Principal, role: Role, action: str) -> None:
    if principal.role < role:
        raise AccessDenied(
            f"{action} needs the {role.label} role; {principal.name} is {principal.role.label}",
            authenticated=True,
        )


def require_intake(principal: Principal) -> None:
    """Posting a call: an intake key (scope ``intake``), or a pilot's role."""
    if principal.scopes is not None:
        if Scope.INTAKE not in principal.scopes:
            raise AccessDenied(
                f"posting a call needs an intake key; {principal.name}'s key may not",
                authenticated=True,
            )
        return
    require_role(principal, Role.PILOT, "posting a call")
