"""API keys on the real store (SQLite and PostgreSQL, ``store_backend``): each preset's
principal, every refusal with its reason, expiry on the caller's clock, revocation, and no
secret in the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dfr.auth.api_keys import (
    MALFORMED,
    UNKNOWN,
    ApiKey,
    ApiKeyError,
    ApiKeys,
    KeyPreset,
    looks_like_key,
)
from dfr.auth.tokens import Role, Scope
from dfr.errors import AccessDenied
from dfr.store import SqliteStore
from dfr.store.postgres import PostgresStore
from tests.store_backends import StoreBackend

T0 = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)


@pytest.fixture
async def store(store_backend: StoreBackend) -> AsyncIterator[SqliteStore | PostgresStore]:
    async with store_backend.make() as opened:
        yield opened


async def _refused(keys: ApiKeys, token: str, at: datetime = T0) -> AccessDenied:
    with pytest.raises(AccessDenied) as refused:
        await keys.principal(token, at)
    assert refused.value.authenticated is False
    return refused.value


@pytest.mark.parametrize(
    ("preset", "role", "scopes"),
    [
        (KeyPreset.INTAKE, Role.VIEWER, frozenset({Scope.INTAKE})),
        (KeyPreset.MONITOR, Role.VIEWER, frozenset({Scope.READ})),
        (KeyPreset.RIG, Role.SUPERVISOR, None),
    ],
)
async def test_a_key_authenticates_as_its_preset(
    store: SqliteStore | PostgresStore,
    preset: KeyPreset,
    role: Role,
    scopes: frozenset[Scope] | None,
) -> None:
    keys = ApiKeys(store)
    text, key = await keys.create("cad", preset, "chief", T0)
    assert looks_like_key(text) and text.startswith(f"dfr_{key.id}_")
    assert key.expires_at == T0 + timedelta(days=90) and key.created_by == "chief"
    principal = await keys.principal(text, T0 + timedelta(days=1))
    assert (principal.name, principal.role, principal.kind) == ("key:cad", role, "key")
    assert principal.scopes == scopes


async def test_the_intake_key_may_post_calls_and_read_nothing(
    store: SqliteStore | PostgresStore,
) -> None:
    keys = ApiKeys(store)
    text, _ = await keys.create("cad", KeyPreset.INTAKE, "chief", T0)
    principal = await keys.principal(text, T0)
    assert principal.may(Scope.INTAKE) and not principal.may(Scope.READ)


async def test_wrong_unknown_and_malformed_keys_are_refused(
    store: SqliteStore | PostgresStore,
) -> None:
    keys = ApiKeys(store)
    text, key = await keys.create("cad", KeyPreset.INTAKE, "chief", T0)
    wrong_secret = text[:-4] + ("AAAA" if not text.endswith("AAAA") else "BBBB")
    assert str(await _refused(keys, wrong_secret)) == UNKNOWN
    other_id = "0" * 12 if key.id != "0" * 12 else "1" * 12
    assert str(await _refused(keys, text.replace(key.id, other_id))) == UNKNOWN
    for malformed in ("dfr_", "dfr_abc", f"dfr_{key.id}", f"dfr_{key.id}_short", "Bearer x"):
        assert str(await _refused(keys, malformed)) == MALFORMED
    assert not looks_like_key("a-configured-token-of-some-length")


async def test_a_key_expires_on_the_callers_clock(store: SqliteStore | PostgresStore) -> None:
    keys = ApiKeys(store)
    text, key = await keys.create("monitor", KeyPreset.MONITOR, "chief", T0, timedelta(days=7))
    assert key.expires_at == T0 + timedelta(days=7)
    await keys.principal(text, key.expires_at - timedelta(seconds=1))
    expired = await _refused(keys, text, key.expires_at)
    assert str(expired) == (
        "API key expired on 2026-12-10 18:00 UTC: make a new one with dfr key add"
    )


async def test_a_revoked_key_is_refused_and_cannot_be_revoked_twice(
    store: SqliteStore | PostgresStore,
) -> None:
    keys = ApiKeys(store)
    text, key = await keys.create("rig", KeyPreset.RIG, "chief", T0)
    revoked = await keys.revoke(key.id, T0 + timedelta(hours=1))
    assert revoked.revoked_at == T0 + timedelta(hours=1)
    assert str(await _refused(keys, text, T0 + timedelta(hours=2))).startswith("API key revoked")
    with pytest.raises(ApiKeyError, match=f"API key {key.id} \\(rig\\) is revoked already"):
        await keys.revoke(key.id, T0 + timedelta(hours=3))
    with pytest.raises(ApiKeyError, match="no API key 'feedfeedfeed'"):
        await keys.revoke("feedfeedfeed", T0)
    assert [k.revoked_at for k in await keys.listed()] == [T0 + timedelta(hours=1)]


async def test_names_and_lifetimes_are_checked(store: SqliteStore | PostgresStore) -> None:
    keys = ApiKeys(store)
    with pytest.raises(ApiKeyError, match="2-64 letters"):
        await keys.create("a key", KeyPreset.INTAKE, "chief", T0)
    with pytest.raises(ApiKeyError, match="at most 365 days"):
        await keys.create("cad", KeyPreset.INTAKE, "chief", T0, timedelta(days=366))
    with pytest.raises(ApiKeyError, match="positive"):
        await keys.create("cad", KeyPreset.INTAKE, "chief", T0, timedelta(0))
    _, key = await keys.create("cad", KeyPreset.INTAKE, "chief", T0, timedelta(days=365))
    assert key.expires_at == T0 + timedelta(days=365)


async def test_last_use_is_written_at_most_once_a_minute(
    store: SqliteStore | PostgresStore,
) -> None:
    keys = ApiKeys(store)
    text, key = await keys.create("monitor", KeyPreset.MONITOR, "chief", T0)

    async def last_used() -> datetime | None:
        stored = await store.api_key(key.id)
        assert stored is not None
        return stored.last_used_at

    assert await last_used() is None
    await keys.principal(text, T0)
    assert await last_used() == T0
    await keys.principal(text, T0 + timedelta(seconds=59))
    assert await last_used() == T0
    await keys.principal(text, T0 + timedelta(seconds=60))
    assert await last_used() == T0 + timedelta(seconds=60)


def _database_bytes(data_dir: Path) -> bytes:
    """The database file and its WAL and shared-memory files, as they are on disk."""
    return b"".join(p.read_bytes() for p in data_dir.iterdir() if p.name.startswith("dfr.db"))


async def test_the_database_holds_the_digest_never_the_secret(tmp_path: Path) -> None:
    path = tmp_path / "dfr.db"
    async with SqliteStore(path) as store:
        keys = ApiKeys(store)
        text, key = await keys.create("cad", KeyPreset.INTAKE, "chief", T0)
        assert await keys.listed() == [key]
    secret = text.split("_", 2)[2]
    stored = _database_bytes(tmp_path)
    assert key.digest.encode() in stored  # the row is there (on disk, WAL included)
    assert secret.encode() not in stored and text.encode() not in stored
    assert isinstance(key, ApiKey) and len(key.digest) == 64
