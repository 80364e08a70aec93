"""Call intake and sign-in are rate-limited per client address: over its bucket a caller
gets 429 with Retry-After and an ErrorOut, other addresses and other routes go on, and
the caller is taken again once it has waited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from dfr.api.limits import Rate, RateLimiter, TokenBucket
from tests.api.conftest import Served, one_drone_app, serving
from tests.api.test_calls import CALL
from tests.dispatch.eido_samples import eido

BURST = 3


@pytest.fixture
async def limited(tmp_path: Path) -> AsyncIterator[Served]:
    app = one_drone_app(
        tmp_path,
        intake_rate_per_min=60.0,
        intake_burst=BURST,
        signin_rate_per_min=60.0,
        signin_burst=2,
    )
    async with serving(app) as running:
        yield running


async def _call(client: httpx.AsyncClient, n: int) -> httpx.Response:
    return await client.post("/api/v1/calls", json={**CALL, "cad_id": f"RATE-{n}"})


def assert_too_many(response: httpx.Response, limited: str) -> int:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["error"] == "TooManyRequests"
    assert limited in body["detail"] and "try again in" in body["detail"]
    assert response.headers["x-frame-options"] == "DENY"  # still secured
    retry_after_s = int(response.headers["retry-after"])
    assert retry_after_s >= 1
    return retry_after_s


async def test_intake_over_its_burst_is_told_to_wait_then_taken_again(limited: Served) -> None:
    client = limited.client
    for n in range(BURST):
        assert (await _call(client, n)).status_code == 201
    refused = await _call(client, 99)
    retry_after_s = assert_too_many(refused, "call intake")
    # the EIDO route shares the intake bucket; reading is not limited
    assert_too_many(await client.post("/api/v1/calls/eido", json=eido()), "call intake")
    listed = await client.get("/api/v1/incidents")
    assert listed.status_code == 200 and len(listed.json()) == BURST  # nothing of 99 stored
    # another address has its own bucket
    async with limited.client_from("10.1.2.3") as other:
        assert (await _call(other, 50)).status_code == 201
    await asyncio.sleep(retry_after_s)  # as a client would: what Retry-After says
    assert (await _call(client, 99)).status_code == 201


async def test_sign_in_attempts_are_limited_before_anything_else(limited: Served) -> None:
    anonymous = {"Authorization": ""}
    for _ in range(2):
        tried = await limited.client.post("/api/v1/session", json={}, headers=anonymous)
        assert tried.status_code != 429
    assert_too_many(
        await limited.client.post("/api/v1/session/totp", json={}, headers=anonymous), "sign-in"
    )
    # reading the session is not a sign-in attempt
    assert (await limited.client.get("/api/v1/session")).status_code != 429


async def test_the_defaults_take_a_busy_test_suite(served: Served) -> None:
    settings = served.service.settings
    assert settings.intake_rate_per_min >= 600 and settings.intake_burst >= 120
    assert (settings.signin_rate_per_min, settings.signin_burst) == (30.0, 10)
    for n in range(120):
        assert (await _call(served.client, n)).status_code == 201


def test_a_bucket_refills_at_its_rate() -> None:
    now_s = 0.0
    limiter = RateLimiter(Rate(per_min=30, burst=2), clock_s=lambda: now_s)
    assert limiter.wait_s("a") == 0.0 and limiter.wait_s("a") == 0.0
    assert limiter.wait_s("a") == pytest.approx(2.0)  # one token per 2 s
    assert limiter.wait_s("b") == 0.0
    now_s = 1.0
    assert limiter.wait_s("a") == pytest.approx(1.0)
    now_s = 2.0
    assert limiter.wait_s("a") == 0.0
    now_s = 100.0  # long idle: full again, never more than the burst
    assert [limiter.wait_s("a") == 0.0 for _ in range(3)] == [True, True, False]


def test_a_bucket_never_holds_more_than_its_burst() -> None:
    bucket = TokenBucket(Rate(per_min=60, burst=1), tokens=1.0, updated_s=0.0)
    assert bucket.take(1000.0) == 0.0
    assert bucket.take(1000.0) == pytest.approx(1.0)


def test_429_is_documented_for_intake(tmp_path: Path) -> None:
    paths = one_drone_app(tmp_path).openapi()["paths"]
    for path in ("/api/v1/calls", "/api/v1/calls/eido"):
        answer = paths[path]["post"]["responses"]["429"]
        assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
        assert "Retry-After" in answer["headers"]
    assert "429" not in paths["/api/v1/incidents"]["get"]["responses"]
