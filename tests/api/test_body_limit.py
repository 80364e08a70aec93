"""A request body over the limit is refused with 413 and an ErrorOut before any route
reads it: declared by Content-Length, or found while a chunked body streams in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import Served, one_drone_app, serving
from tests.api.test_calls import CALL
from tests.dispatch.eido_samples import eido

LIMIT_BYTES = 2000
EIDO_LIMIT_BYTES = 20_000


@pytest.fixture
async def small(tmp_path: Path) -> AsyncIterator[Served]:
    app = one_drone_app(
        tmp_path, body_limit_bytes=LIMIT_BYTES, eido_body_limit_bytes=EIDO_LIMIT_BYTES
    )
    async with serving(app) as running:
        yield running


def call_of(size_bytes: int, cad_id: str = "BIG-1") -> bytes:
    """A valid call whose JSON is ``size_bytes`` long (the notes make up the rest)."""
    call = {**CALL, "cad_id": cad_id, "notes": ""}
    base = len(json.dumps(call).encode())
    call["notes"] = "n" * (size_bytes - base)
    body = json.dumps(call).encode()
    assert len(body) == size_bytes
    return body


async def chunks_of(body: bytes, size: int = 500) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def assert_too_large(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["error"] == "PayloadTooLarge"
    assert f"{limit} bytes" in body["detail"] and "smaller" in body["detail"]
    assert response.headers["x-content-type-options"] == "nosniff"  # still secured


async def _nothing_stored(client: httpx.AsyncClient) -> None:
    listed = await client.get("/api/v1/incidents")
    assert listed.status_code == 200 and listed.json() == []


async def test_a_declared_length_over_the_limit_is_refused(small: Served) -> None:
    big = await small.client.post(
        "/api/v1/calls",
        content=call_of(LIMIT_BYTES + 1),
        headers={"Content-Type": "application/json"},
    )
    assert "content-length" in big.request.headers
    assert_too_large(big, LIMIT_BYTES)
    await _nothing_stored(small.client)


async def test_a_chunked_body_over_the_limit_is_refused(small: Served) -> None:
    big = await small.client.post(
        "/api/v1/calls",
        content=chunks_of(call_of(LIMIT_BYTES + 1)),
        headers={"Content-Type": "application/json"},
    )
    assert "content-length" not in big.request.headers
    assert big.request.headers["transfer-encoding"] == "chunked"
    assert_too_large(big, LIMIT_BYTES)
    await _nothing_stored(small.client)


async def test_bodies_up_to_the_limit_are_taken_whole(small: Served) -> None:
    declared = await small.client.post(
        "/api/v1/calls",
        content=call_of(LIMIT_BYTES, "AT-LIMIT"),
        headers={"Content-Type": "application/json"},
    )
    assert declared.status_code == 201, declared.text
    chunked = await small.client.post(
        "/api/v1/calls",
        content=chunks_of(call_of(LIMIT_BYTES, "CHUNKED"), size=7),
        headers={"Content-Type": "application/json"},
    )
    assert chunked.status_code == 201, chunked.text
    assert chunked.json()["notes"] == json.loads(call_of(LIMIT_BYTES, "CHUNKED"))["notes"]


async def test_eido_documents_have_their_own_larger_limit(small: Served) -> None:
    doc = eido()
    doc["notesComponent"][0]["notesActionCommentText"] = "x" * (LIMIT_BYTES * 2)
    taken = await small.client.post("/api/v1/calls/eido", json=doc)
    assert taken.status_code == 201, taken.text
    doc["notesComponent"][0]["notesActionCommentText"] = "x" * EIDO_LIMIT_BYTES
    assert_too_large(await small.client.post("/api/v1/calls/eido", json=doc), EIDO_LIMIT_BYTES)


async def test_the_default_limit_is_one_mebibyte(served: Served) -> None:
    settings = served.service.settings
    assert settings.body_limit_bytes == 1024 * 1024
    big = await served.client.post(
        "/api/v1/calls",
        content=chunks_of(call_of(1024 * 1024 + 1), size=64 * 1024),
        headers={"Content-Type": "application/json"},
    )
    assert_too_large(big, 1024 * 1024)
    assert "1 MiB" in big.json()["detail"]


def test_413_is_documented_for_the_routes_that_take_a_body(tmp_path: Path) -> None:
    app = one_drone_app(tmp_path)
    paths = app.openapi()["paths"]
    for path in ("/api/v1/calls", "/api/v1/calls/eido"):
        answer = paths[path]["post"]["responses"]["413"]
        assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    assert "413" in paths["/api/v1/flights/{flight_id}/commands"]["post"]["responses"]
