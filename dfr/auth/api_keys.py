"""API keys: credentials for machines (the CAD connector, a monitor, a test rig).

A key is ``dfr_<id>_<secret>``: the id (12 hex digits) finds the stored record, the
secret (256 random bits) proves the holder. The store keeps only the secret's SHA-256,
compared in constant time; the key text is shown once, when it is made. A key has a
preset that fixes what it may do, expires (90 days unless asked, a year at most) and
can be revoked at once. Each key authenticates as ``key:<name>``, kind ``key``:

=========  ==========  ===========  ===================================
preset     role        scopes       for
=========  ==========  ===========  ===================================
``intake`` viewer      intake       the CAD connector: posts calls, reads nothing
``monitor`` viewer     read         monitoring: every read, nothing else
``rig``    pilot       (all)        a test rig that launches and commands
=========  ==========  ===========  ===================================

Times come from the caller (``now``) so expiry is tested without waiting.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from dfr.auth.tokens import Principal, Role, Scope
from dfr.errors import AccessDenied, DfrError

KEY_PREFIX = "dfr_"
ID_HEX_DIGITS = 12
DEFAULT_LIFETIME = timedelta(days=90)
MAX_LIFETIME = timedelta(days=365)
TOUCH_EVERY = timedelta(seconds=60)  # how often a used key's last use is written


class ApiKeyError(DfrError):
    """A key-management request that cannot be done as asked (names what to fix)."""


class KeyPreset(StrEnum):
    INTAKE = "intake"  # the CAD connector: may post calls, read nothing
    MONITOR = "monitor"  # read-only
    RIG = "rig"  # a test rig: a supervisor's reach (flies, holds docks, checks recordings)

    @property
    def role(self) -> Role:
        return _PRESETS[self][0]

    @property
    def scopes(self) -> frozenset[Scope] | None:
        return _PRESETS[self][1]


_PRESETS: dict[KeyPreset, tuple[Role, frozenset[Scope] | None]] = {
    KeyPreset.INTAKE: (Role.VIEWER, frozenset({Scope.INTAKE})),
    KeyPreset.MONITOR: (Role.VIEWER, frozenset({Scope.READ})),
    KeyPreset.RIG: (Role.SUPERVISOR, None),
}


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str  # hex, the middle part of the key text
    name: str  # what the key is for ("cad", "grafana"); principals are key:<name>
    preset: KeyPreset
    digest: str  # SHA-256 of the secret, hex; never the secret itself
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class ApiKeyStore(Protocol):
    async def api_key(self, key_id: str) -> ApiKey | None: ...
    async def api_keys(self) -> list[ApiKey]: ...
    async def insert_api_key(self, key: ApiKey) -> None: ...
    async def revoke_api_key(self, key_id: str, at: datetime) -> bool:
        """Set ``revoked_at`` on a key not revoked yet; False when there was none."""
        ...

    async def touch_api_key(self, key_id: str, at: datetime) -> None: ...


def looks_like_key(token: str) -> bool:
    """Whether a bearer token is an API key (ask :class:`ApiKeys`, not the token
    registry or the sessions)."""
    return token.startswith(KEY_PREFIX)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _split(token: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed key text, else None."""
    if not looks_like_key(token):
        return None
    key_id, sep, secret = token[len(KEY_PREFIX) :].partition("_")
    hex_digits = "0123456789abcdef"
    if not sep or len(key_id) != ID_HEX_DIGITS or not all(c in hex_digits for c in key_id):
        return None
    if len(secret) < 32:
        return None
    return key_id, secret


def _valid_name(name: str) -> str:
    cleaned = name.strip()
    if not (2 <= len(cleaned) <= 64) or not all(c.isalnum() or c in "._-@" for c in cleaned):
        raise ApiKeyError(f"key name {name!r}: 2-64 letters, digits or . _ - @ (no spaces)")
    return cleaned


def shown_time(value: datetime) -> str:
    """``2027-03-03 18:00 UTC``: how key times are shown to people."""
    return value.strftime("%Y-%m-%d %H:%M %Z").strip()


UNKNOWN = "unknown API key"
MALFORMED = "malformed API key: expected dfr_<id>_<secret>"
_DUMMY_DIGEST = secret_digest("a secret nobody has, for timing")


class ApiKeys:
    def __init__(self, store: ApiKeyStore) -> None:
        self._store = store

    # --- management (dfr key …) ----------------------------------------------------
    async def create(
        self,
        name: str,
        preset: KeyPreset,
        created_by: str,
        now: datetime,
        lifetime: timedelta = DEFAULT_LIFETIME,
    ) -> tuple[str, ApiKey]:
        """The key text (shown once, never stored) and its record."""
        cleaned = _valid_name(name)
        if not created_by.strip():
            raise ApiKeyError("a key needs the name of who made it")
        if lifetime <= timedelta(0):
            raise ApiKeyError(f"key {cleaned!r}: the lifetime must be positive")
        if lifetime > MAX_LIFETIME:
            raise ApiKeyError(
                f"key {cleaned!r}: at most {MAX_LIFETIME.days} days (make a new one then)"
            )
        key_id = secrets.token_hex(ID_HEX_DIGITS // 2)
        while await self._store.api_key(key_id) is not None:  # 48 bits: hardly ever
            key_id = secrets.token_hex(ID_HEX_DIGITS // 2)
        secret = secrets.token_urlsafe(32)
        key = ApiKey(
            id=key_id,
            name=cleaned,
            preset=KeyPreset(preset),
            digest=secret_digest(secret),
            created_at=now,
            created_by=created_by.strip(),
            expires_at=now + lifetime,
        )
        await self._store.insert_api_key(key)
        return f"{KEY_PREFIX}{key_id}_{secret}", key

    async def listed(self) -> list[ApiKey]:
        return await self._store.api_keys()

    async def revoke(self, key_id: str, now: datetime) -> ApiKey:
        """The key, revoked from ``now`` on: every request with it is refused."""
        key = await self._store.api_key(key_id.strip())
        if key is None:
            raise ApiKeyError(f"no API key {key_id!r} (dfr key list shows them)")
        if key.revoked_at is not None or not await self._store.revoke_api_key(key.id, now):
            raise ApiKeyError(f"API key {key.id} ({key.name}) is revoked already")
        return replace(key, revoked_at=now)

    # --- authentication --------------------------------------------------------------
    async def principal(self, token: str, now: datetime) -> Principal:
        """The key's principal, or `AccessDenied` (not authenticated) saying why."""
        parts = _split(token)
        if parts is None:
            raise AccessDenied(MALFORMED, authenticated=False)
        key_id, secret = parts
        key = await self._store.api_key(key_id)
        matches = hmac.compare_digest(
            key.digest if key is not None else _DUMMY_DIGEST, secret_digest(secret)
        )
        if key is None or not matches:  # a known id with a wrong secret says no more
            raise AccessDenied(UNKNOWN, authenticated=False)
        if key.revoked_at is not None:
            raise AccessDenied(
                f"API key revoked on {shown_time(key.revoked_at)}", authenticated=False
            )
        if now >= key.expires_at:
            raise AccessDenied(
                f"API key expired on {shown_time(key.expires_at)}: make a new one with dfr key add",
                authenticated=False,
            )
        if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
            await self._store.touch_api_key(key.id, now)
        return Principal(f"key:{key.name}", key.preset.role, kind="key", scopes=key.preset.scopes)
