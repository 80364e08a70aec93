"""Officer viewer links: a pilot shares one drone (or one flight) with an officer en route.

A link is ``dfrv_<id>_<secret>``, put in the fragment of ``/view.html#link=…`` (a
fragment never reaches a server's logs). The id finds the stored record, the secret
(256 random bits) proves the holder; the store keeps only the secret's SHA-256. A link
names who made it, expires (the site's policy: 2 h unless the pilot asks for less) and
can be revoked at once. It authenticates as ``link:<id>``, kind ``link``, bound to its
one drone: it may watch that drone's video and position and read the call's nature and
address, never notes, never another drone or flight. A link for a flight ends with the
flight.

Times come from the caller (``now``) so expiry is tested without waiting.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from dfr.auth.api_keys import shown_time
from dfr.auth.tokens import Principal, Role
from dfr.errors import AccessDenied, InvalidInput, InvalidStateError, NotFound
from dfr.records import Flight

LINK_PREFIX = "dfrv_"
ID_HEX_DIGITS = 12
LABEL_MAX_CHARS = 80


@dataclass(frozen=True, slots=True)
class ViewerLink:
    id: str  # hex, the middle part of the link's secret text
    drone_id: str  # the one drone it shows (a flight link: the flight's drone)
    flight_id: str | None  # a link for one flight; None: the drone, whatever it flies
    digest: str  # SHA-256 of the secret, hex; never the secret itself
    created_at: datetime
    created_by: str
    expires_at: datetime
    label: str = ""  # for whom ("Unit 4B"), shown in the console's list
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


class ViewerLinkStore(Protocol):
    async def viewer_link(self, link_id: str) -> ViewerLink | None: ...
    async def viewer_links(self) -> list[ViewerLink]: ...
    async def insert_viewer_link(self, link: ViewerLink) -> None: ...
    async def revoke_viewer_link(self, link_id: str, at: datetime, by: str) -> bool:
        """Set ``revoked_at``/``revoked_by`` on a link not revoked yet; False when none."""
        ...

    async def get_flight(self, flight_id: str) -> Flight | None: ...


def looks_like_link(token: str) -> bool:
    return token.startswith(LINK_PREFIX)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def link_id_of(token: str) -> str | None:
    """The id of a well-formed link text, else None."""
    parts = _split(token)
    return parts[0] if parts else None


def _split(token: str) -> tuple[str, str] | None:
    if not looks_like_link(token):
        return None
    link_id, sep, secret = token[len(LINK_PREFIX) :].partition("_")
    if (
        not sep
        or len(link_id) != ID_HEX_DIGITS
        or not all(c in "0123456789abcdef" for c in link_id)
    ):
        return None
    if len(secret) < 32:
        return None
    return link_id, secret


MALFORMED = "malformed viewer link: open the whole link the RTCC sent"
UNKNOWN = "unknown viewer link: ask the RTCC for a new one"
_DUMMY_DIGEST = _digest("a secret nobody has, for timing")


def link_principal(link: ViewerLink) -> Principal:
    """What a link may do: read its one drone, nothing else (no scopes)."""
    return Principal(
        f"link:{link.id}", Role.VIEWER, kind="link", scopes=frozenset(), drone_id=link.drone_id
    )


class ViewerLinks:
    def __init__(
        self, store: ViewerLinkStore, *, default_ttl: timedelta, max_ttl: timedelta
    ) -> None:
        self._store = store
        self.default_ttl = default_ttl
        self.max_ttl = max_ttl

    async def create(
        self,
        *,
        drone_id: str,
        flight: Flight | None,
        created_by: str,
        now: datetime,
        ttl: timedelta | None = None,
        label: str = "",
    ) -> tuple[str, ViewerLink]:
        """The link's secret text (shown once, never stored) and its record. The caller
        has checked that the drone exists; a flight must still be flying."""
        lifetime = self.default_ttl if ttl is None else ttl
        if lifetime <= timedelta(0):
            raise InvalidInput("ttl_s", "a link's lifetime must be positive")
        if lifetime > self.max_ttl:
            raise InvalidInput(
                "ttl_s",
                f"at most {self.max_ttl.total_seconds():.0f} s (the site's policy "
                "viewer_link_max_ttl_s); share a new link then",
            )
        cleaned = label.strip()
        if len(cleaned) > LABEL_MAX_CHARS:
            raise InvalidInput("label", f"at most {LABEL_MAX_CHARS} characters")
        if flight is not None and flight.ended_at is not None:
            raise InvalidStateError(f"flight {flight.id} has ended ({flight.outcome or 'done'})")
        link_id = secrets.token_hex(ID_HEX_DIGITS // 2)
        while await self._store.viewer_link(link_id) is not None:  # 48 bits: hardly ever
            link_id = secrets.token_hex(ID_HEX_DIGITS // 2)
        secret = secrets.token_urlsafe(32)
        link = ViewerLink(
            id=link_id,
            drone_id=flight.drone_id if flight is not None else drone_id,
            flight_id=flight.id if flight is not None else None,
            digest=_digest(secret),
            created_at=now,
            created_by=created_by,
            expires_at=now + lifetime,
            label=cleaned,
        )
        await self._store.insert_viewer_link(link)
        return f"{LINK_PREFIX}{link_id}_{secret}", link

    async def listed(self) -> list[ViewerLink]:
        return await self._store.viewer_links()

    async def revoke(self, link_id: str, by: str, now: datetime) -> ViewerLink:
        """The link, revoked from ``now`` on: its pages show "expired" and its sockets close."""
        link = await self._store.viewer_link(link_id)
        if link is None:
            raise NotFound(f"no viewer link {link_id!r}")
        if link.revoked_at is not None or not await self._store.revoke_viewer_link(
            link.id, now, by
        ):
            raise InvalidStateError(f"viewer link {link.id} is revoked already")
        return replace(link, revoked_at=now, revoked_by=by)

    async def check(self, token: str, now: datetime) -> ViewerLink:
        """The link a secret text opens, or `AccessDenied` (not authenticated) saying why:
        unknown, revoked, expired, or its flight over."""
        parts = _split(token)
        if parts is None:
            raise AccessDenied(MALFORMED, authenticated=False)
        link_id, secret = parts
        link = await self._store.viewer_link(link_id)
        matches = hmac.compare_digest(link.digest if link else _DUMMY_DIGEST, _digest(secret))
        if link is None or not matches:
            raise AccessDenied(UNKNOWN, authenticated=False)
        if link.revoked_at is not None:
            raise AccessDenied(
                f"this link has expired: revoked by {link.revoked_by} at "
                f"{shown_time(link.revoked_at)}",
                authenticated=False,
            )
        if now >= link.expires_at:
            raise AccessDenied(
                f"this link has expired (at {shown_time(link.expires_at)}): ask the RTCC "
                "for a new one",
                authenticated=False,
            )
        if link.flight_id is not None:
            flight = await self._store.get_flight(link.flight_id)
            if flight is None or flight.ended_at is not None:
                raise AccessDenied(
                    "this link has expired: the flight it showed has ended", authenticated=False
                )
        return link

    async def principal(self, token: str, now: datetime) -> Principal:
        return link_principal(await self.check(token, now))
