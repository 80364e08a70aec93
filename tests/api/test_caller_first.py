"""The caller is known before its body is read: without a valid credential, a body too
large, not JSON or not valid gets 401 (not 413, not 422), and is never read; with one, the
same bodies get 413 and 422 naming the field. Sign-in, the one route that takes a body from
an unknown caller, still validates it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from dfr.auth.tokens import Principal, Role
from tests.api.conftest import Served, one_drone_app, serving
from tests.api.test_calls import CALL

LIMIT_BYTES = 2000
JSON = {"content-type": "application/json"}

CALLS = "/api/v1/calls"
COMMANDS = "/api/v1/flights/F-nope/commands"
LAUNCH = "/api/v1/incidents/I-nope/launch"
EIDO = "/api/v1/calls/eido"

# (what is wrong with it, the credential's headers)
NOT_KNOWN = {
    "missing": {},
    "wrong token": {"Authorization": "Bearer a-wrong-token-of-plenty-chars"},
    "malformed key": {"Authorization": "Bearer dfr_nothex_x"},
    "unknown key": {"Authorization": f"Bearer dfr_0123456789ab_{'s' * 43}"},
    "unknown session": {
        "Cookie": "dfr_session=no-such-session-0123456789",
        "Origin": "http://dfr.test",  # from dfr's own page, or the Origin rule answers 403
    },
}
# (route, a body that does not validate, the field a known caller is told about)
INVALID = {
    CALLS: ({**CALL, "priority": "1"}, "priority"),
    COMMANDS: ({"type": "altitude", "alt_rel_m": "60"}, "alt_rel_m"),
    LAUNCH: ({"drone_id": 1}, "drone_id"),
}


@pytest.fixture
async def small(tmp_path: Path) -> AsyncIterator[Served]:
    app = one_drone_app(tmp_path, body_limit_bytes=LIMIT_BYTES, eido_body_limit_bytes=LIMIT_BYTES)
    async with serving(app) as running:
        yield running


def _stranger(served: Served, headers: dict[str, str]) -> httpx.AsyncClient:
    """A client with ``headers`` only (no pilot token)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=served.asgi), base_url="http://dfr.test", headers=headers
    )


class WatchedBody:
    """A chunked body that notes whether anyone read a byte of it."""

    def __init__(self, size_bytes: int) -> None:
        self.size_bytes = size_bytes
        self.read = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.read = True
        for _ in range(0, self.size_bytes, 500):
            yield b"x" * 500


def _assert_not_signed_in(answer: httpx.Response) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"] == "AccessDenied"
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.headers["x-content-type-options"] == "nosniff"  # still secured


@pytest.mark.parametrize("credential", NOT_KNOWN, ids=list(NOT_KNOWN))
@pytest.mark.parametrize("path", [CALLS, EIDO, COMMANDS, LAUNCH])
async def test_an_unknown_caller_gets_401_before_any_body_is_read(
    small: Served, path: str, credential: str
) -> None:
    async with _stranger(small, NOT_KNOWN[credential]) as client:
        too_large = await client.post(path, content=b"x" * (LIMIT_BYTES + 1), headers=JSON)
        _assert_not_signed_in(too_large)
        assert too_large.headers["connection"] == "close"  # the body was left unread

        streamed = WatchedBody(LIMIT_BYTES * 10)
        chunked = await client.post(path, content=streamed, headers=JSON)
        _assert_not_signed_in(chunked)
        assert not streamed.read

        _assert_not_signed_in(await client.post(path, content=b'{"cad_id": ', headers=JSON))
        body, _ = INVALID.get(path, ({"incidentComponent": 7}, ""))
        _assert_not_signed_in(await client.post(path, json=body))
    listed = await small.client.get("/api/v1/incidents")
    assert listed.status_code == 200 and listed.json() == []


@pytest.mark.parametrize("path", [CALLS, EIDO, COMMANDS, LAUNCH])
async def test_a_known_caller_still_gets_413_and_422_naming_the_field(
    small: Served, path: str
) -> None:
    client = small.client  # the pilot's token
    too_large = await client.post(path, content=b"x" * (LIMIT_BYTES + 1), headers=JSON)
    assert too_large.status_code == 413, too_large.text
    assert too_large.json()["error"] == "PayloadTooLarge"
    chunked = await client.post(path, content=WatchedBody(LIMIT_BYTES * 10), headers=JSON)
    assert chunked.status_code == 413, chunked.text

    not_json = await client.post(path, content=b'{"cad_id": ', headers=JSON)
    assert not_json.status_code == 422, not_json.text
    if path in INVALID:
        body, field = INVALID[path]
        invalid = await client.post(path, json=body)
        assert invalid.status_code == 422, invalid.text
        assert [p["field"] for p in invalid.json()["problems"]] == [field]


async def test_a_known_caller_is_looked_up_once_per_request(
    small: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The principal found before the body is the one the route's dependency uses: the
    key is checked against the store once, and the route still applies its scope."""
    from dfr.auth.api_keys import KeyPreset

    keys = small.service.api_keys
    text, _ = await keys.create("cad", KeyPreset.INTAKE, "test", datetime.now(UTC))
    looked_up: list[str] = []
    original = keys.principal

    async def counted(token: str, now: datetime) -> Principal:
        looked_up.append(token)
        return await original(token, now)

    monkeypatch.setattr(keys, "principal", counted)
    async with _stranger(small, {"Authorization": f"Bearer {text}"}) as cad:
        posted = await cad.post(CALLS, json={**CALL, "cad_id": "ONCE-1"})
        assert posted.status_code == 201, posted.text
        assert looked_up == [text]
        refused = await cad.get("/api/v1/incidents")  # an intake key reads nothing
        assert refused.status_code == 403, refused.text
        assert looked_up == [text, text]


async def test_sign_in_takes_a_body_from_an_unknown_caller_and_validates_it(
    small: Served,
) -> None:
    async with _stranger(small, {}) as client:
        invalid = await client.post("/api/v1/session", json={"username": 3, "password": "x"})
        assert invalid.status_code == 422, invalid.text
        assert [p["field"] for p in invalid.json()["problems"]] == ["username"]
        too_large = await client.post(
            "/api/v1/session", content=b"x" * (LIMIT_BYTES + 1), headers=JSON
        )
        assert too_large.status_code == 413, too_large.text
        wrong = await client.post("/api/v1/session", json={"username": "nobody", "password": "x"})
        assert wrong.status_code == 401, wrong.text
        assert (await client.get("/api/v1/session")).status_code == 401


async def test_a_session_cookie_from_another_origin_is_refused_before_the_body(
    small: Served,
) -> None:
    password = "a long pass phrase for the guard 9"
    await small.service.accounts.add("vic", Role.VIEWER, datetime.now(UTC), password)
    token, _ = await small.service.accounts.sign_in("vic", password, None, datetime.now(UTC))
    headers = {"Cookie": f"dfr_session={token}", "Origin": "https://evil.example"}
    async with _stranger(small, headers) as client:
        streamed = WatchedBody(LIMIT_BYTES * 10)
        answer = await client.post(CALLS, content=streamed, headers=JSON)
        assert answer.status_code == 403, answer.text
        assert "origin https://evil.example refused" in answer.json()["detail"]
        assert not streamed.read
