"""People sign in over HTTP (real uvicorn, real SQLite store, real websockets): the
session cookie, the Origin rule for what it may do, refusals and lockout in the audit
trail, background refreshes that do not keep a session open, and websockets that close
when their session ends."""

from __future__ import annotations

import asyncio

import httpx
import pyotp
import pytest
import websockets

from dfr.auth.tokens import Role
from tests.api.conftest import PASSWORD, Running

pytestmark = pytest.mark.timeout(120)

CALL = {"cad_id": "S-1", "nature": "test", "priority": 4, "location": {"lat": 47.4, "lon": 8.55}}


async def _sign_in(client: httpx.AsyncClient, username: str, secret: str) -> httpx.Response:
    body = {"username": username, "password": PASSWORD}
    if secret:
        body["code"] = pyotp.TOTP(secret).now()
    return await client.post("/api/v1/session", json=body)


async def test_a_pilot_signs_in_with_password_and_code_and_acts_from_our_own_pages(
    running: Running,
) -> None:
    secret = await running.person("pia", Role.PILOT)
    async with running.client() as client:
        signed = await _sign_in(client, "pia", secret)
        assert signed.status_code == 200, signed.text
        assert signed.json()["username"] == "pia" and signed.json()["role"] == "pilot"
        cookie = signed.headers["set-cookie"]
        assert "dfr_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert (await client.get("/api/v1/me")).json() == {"name": "pia", "role": "pilot"}

        # acting needs our own Origin: a page elsewhere cannot ride on the cookie
        refused = await client.post("/api/v1/calls", json=CALL)
        assert refused.status_code == 403 and "origin" in refused.json()["detail"]
        other = await client.post(
            "/api/v1/calls", json=CALL, headers={"Origin": "https://evil.example"}
        )
        assert other.status_code == 403
        made = await client.post("/api/v1/calls", json=CALL, headers={"Origin": running.origin})
        assert made.status_code == 201, made.text

        out = await client.delete("/api/v1/session", headers={"Origin": running.origin})
        assert out.status_code == 204
        after = await client.get("/api/v1/me")
        assert after.status_code == 401 and "sign in" in after.json()["detail"]

    trail = [(r.actor, r.action, r.outcome, r.source) for r in running.service.audit.records()]  # type: ignore[union-attr]
    assert ("pia", "sign_in", "ok", "127.0.0.1") in trail
    assert ("pia", "sign_out", "ok", "127.0.0.1") in trail


async def test_a_pilot_without_a_code_is_refused_and_five_failures_lock_the_account(
    running: Running,
) -> None:
    secret = await running.person("quinn", Role.PILOT)
    async with running.client() as client:
        no_code = await client.post(
            "/api/v1/session", json={"username": "quinn", "password": PASSWORD}
        )
        assert no_code.status_code == 401
        assert no_code.json()["detail"] == "user name, password or code not accepted"
        assert "set-cookie" not in no_code.headers
        for _ in range(4):
            wrong = await client.post(
                "/api/v1/session",
                json={"username": "quinn", "password": "not it", "code": "000000"},
            )
            assert wrong.status_code == 401
        locked = await _sign_in(client, "quinn", secret)
        assert locked.status_code == 401 and "locked" in locked.json()["detail"]
        # bad input is a 422 naming the field, not a sign-in attempt
        bad = await client.post("/api/v1/session", json={"username": "quinn", "password": 5})
        assert bad.status_code == 422

    records = running.service.audit.records()  # type: ignore[union-attr]
    refusals = [
        r.detail["reason"] for r in records if r.action == "sign_in" and r.outcome == "refused"
    ]
    assert refusals[:2] == ["TOTP code missing", "wrong password"]
    assert refusals[-1] == "account locked"
    assert [r.target for r in records if r.action == "account_locked"] == ["user:quinn"]


async def test_background_refreshes_do_not_keep_a_session_from_locking(running: Running) -> None:
    await running.person("val", Role.VIEWER)
    async with running.client() as client:
        assert (await _sign_in(client, "val", "")).status_code == 200
        background = {"X-Dfr-Background": "1"}
        answer = await client.get("/api/v1/drones", headers=background)
        for _ in range(100):  # a console left open: it keeps asking, nobody uses it
            if answer.status_code != 200:
                break
            await asyncio.sleep(0.1)
            answer = await client.get("/api/v1/drones", headers=background)
        assert answer.status_code == 401
        assert "locked after 3 seconds idle" in answer.json()["detail"]
        assert (await client.get("/api/v1/session")).status_code == 401  # and it stays ended


async def test_a_websocket_needs_our_origin_and_closes_when_its_session_ends(
    running: Running,
) -> None:
    await running.person("wyn", Role.VIEWER)
    async with running.client() as client:
        assert (await _sign_in(client, "wyn", "")).status_code == 200
        cookie = f"dfr_session={client.cookies['dfr_session']}"
        url = running.base.replace("http", "ws") + "/ws/events"
        with pytest.raises(websockets.InvalidStatus):  # no Origin: refused before accept
            async with websockets.connect(url, additional_headers={"Cookie": cookie}):
                pass
        async with websockets.connect(
            url,
            additional_headers={"Cookie": cookie},
            origin=running.origin,  # type: ignore[arg-type]
        ) as ws:
            out = await client.delete("/api/v1/session", headers={"Origin": running.origin})
            assert out.status_code == 204
            with pytest.raises(websockets.ConnectionClosed) as closed:
                async with asyncio.timeout(10):
                    while True:
                        await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
            assert "sign in again" in closed.value.rcvd.reason
