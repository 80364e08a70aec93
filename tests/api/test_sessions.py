"""People sign in over HTTP (real uvicorn, real SQLite store, real websockets): the
session cookie, the Origin rule for what it may do, refusals and lockout in the audit
trail, background refreshes that do not keep a session open, and websockets that close
when their session ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyotp
import pytest
import uvicorn
import websockets
from pydantic import SecretStr

from dfr.api.app import create_app
from dfr.auth.tokens import Role
from dfr.config import Settings
from dfr.service import Service
from dfr.site import load_site
from tests.api.conftest import PILOT, free_udp_port, write_site
from tests.e2e.harness import free_tcp_port

pytestmark = pytest.mark.timeout(120)

PASSWORD = "correct horse battery staple 42"
CALL = {"cad_id": "S-1", "nature": "test", "priority": 4, "location": {"lat": 47.4, "lon": 8.55}}


@dataclass
class Running:
    base: str
    service: Service

    @property
    def origin(self) -> str:
        return self.base

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base, timeout=10)

    async def person(self, username: str, role: Role) -> str:
        """A new account; its TOTP secret (empty for a viewer)."""
        new = await self.service.accounts.add(username, role, datetime.now(UTC), PASSWORD)
        return new.account.totp_secret or ""


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    (tmp_path / "site").mkdir()
    site_dir = write_site(tmp_path / "site", [free_udp_port()])
    settings = Settings(
        site=site_dir,
        data_dir=tmp_path / "data",
        api_token=SecretStr(PILOT),
        session_idle_s=3.0,
        session_check_s=0.2,
    )
    app = create_app(settings, load_site(site_dir))
    port = free_tcp_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve(), name="test: uvicorn")
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield Running(f"http://127.0.0.1:{port}", _service_of(server))
    finally:
        server.should_exit = True
        await task


def _service_of(server: uvicorn.Server) -> Service:
    """The lifespan's service (uvicorn keeps the lifespan state it copies into requests)."""
    lifespan_state = server.lifespan.state
    service: Service = lifespan_state["service"]
    return service


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
