"""A running service to knock on every route with: credentials of each kind, and one
probe that asks a route (HTTP or websocket) with one of them and says what it answered.

HTTP goes through ``httpx.ASGITransport`` into the app inside its lifespan (as
:func:`tests.api.conftest.serving`); a websocket is opened by speaking ASGI to the same
app, so the test sees the close code (1008) and reason a refused socket gets before it
is accepted; uvicorn serves the same app on a free port for sockets over the network
(where it turns that close into a bare 403 handshake).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import uvicorn
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from pydantic import SecretStr

from dfr.api.access import SESSION_COOKIE
from dfr.api.app import create_app
from dfr.auth.api_keys import KeyPreset
from dfr.auth.tokens import Role
from dfr.config import Settings
from dfr.service import Service
from dfr.site import load_site
from tests.api.conftest import PILOT, VIEWER, free_udp_port, serving
from tests.e2e.harness import free_tcp_port

HOST = "dfr.test"
OWN_ORIGIN = f"http://{HOST}"
FOREIGN_ORIGIN = "https://evil.example"
PASSWORD = "correct horse battery staple 42"
WS_ANSWER_TIMEOUT_S = 5.0
WS = "WS"  # the "method" of a websocket route in a route key

RouteKey = str  # "GET /api/v1/drones/{drone_id}", "WS /ws/telemetry"


def route_keys(app: FastAPI) -> list[RouteKey]:
    """Every HTTP route (one key per method) and websocket route of ``app``, as
    ``"METHOD /path/{param}"``; the mounts (static files, /vendor) are not routes."""
    keys: list[RouteKey] = []
    # FastAPI keeps an included router as one entry of app.routes; these are its routes
    # with the prefixes they are served at (what app.openapi() walks too)
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            keys += [f"{method} {context.path}" for method in sorted(context.methods or ())]
        elif isinstance(context.original_route, APIWebSocketRoute):
            keys.append(f"{WS} {context.path}")
    return keys


def write_two_drone_site(directory: Path) -> Path:
    """A site with drones d0 and d1 (each with a MAVLink and a video port nobody sends
    to: nothing flies, and /ws/video has a relay to accept viewers)."""
    directory.mkdir(parents=True)
    drones = "\n".join(
        f"  - {{id: d{i}, dock: a, mavlink_url: 'udpin://127.0.0.1:{free_udp_port()}', "
        f"video_url: 'rtp://127.0.0.1:{free_udp_port()}'}}"
        for i in range(2)
    )
    (directory / "site.yaml").write_text(
        "name: access test site\n"
        "docks: [{id: a, lat: 47.397742, lon: 8.545594, ground_alt_amsl_m: 488.0}]\n"
        f"drones:\n{drones}\n"
    )
    return directory


def access_app(directory: Path) -> FastAPI:
    """The app for a two-drone site under ``directory`` (lifespan not entered), with the
    PILOT and VIEWER tokens and rate limits no test here reaches."""
    site_dir = write_two_drone_site(directory / "site")
    settings = Settings(
        site=site_dir,
        data_dir=directory / "data",
        api_token=SecretStr(PILOT),
        viewer_token=SecretStr(VIEWER),
        intake_rate_per_min=100_000.0,
        intake_burst=100_000,
        signin_rate_per_min=100_000.0,
        signin_burst=100_000,
    )
    return create_app(settings, load_site(site_dir))


@dataclass(frozen=True, slots=True)
class Credential:
    """What a request carries: a bearer token (``?token=`` on a websocket) or a session
    cookie with the ``Origin`` it comes from (None: no Origin header); or nothing."""

    bearer: str | None = None
    session: str | None = None
    origin: str | None = OWN_ORIGIN

    def from_origin(self, origin: str | None) -> Credential:
        return Credential(self.bearer, self.session, origin)


NOTHING = Credential()


@dataclass(frozen=True, slots=True)
class Answer:
    """What a route answered: an HTTP status and detail, or for a websocket ``101`` when
    it was accepted, else the close code and reason it was refused with."""

    status: int
    detail: str

    @property
    def refused(self) -> bool:
        return self.status in (401, 403, 1008)

    def __str__(self) -> str:
        return f"{self.status} {self.detail[:160]!r}"


@dataclass
class Rig:
    """The running service and what the tests need from it."""

    service: Service
    asgi: Any  # the app with the lifespan's state
    client: httpx.AsyncClient  # sends no credential of its own
    ws_base: str  # ws://127.0.0.1:PORT, uvicorn serving the same app
    incident_id: str  # a real incident
    _names: itertools.count[int]

    # --- credentials ------------------------------------------------------------------
    def token(self, role: Role) -> Credential:
        """A configured bearer token of ``role``."""
        return Credential(bearer=self.service.tokens.issue(f"{role.label}-token", role))

    async def key(self, preset: KeyPreset, *, expired: bool = False, revoked: bool = False) -> str:
        keys, now = self.service.api_keys, datetime.now(UTC)
        name = f"{preset.value}-{next(self._names)}"
        if expired:
            text, _ = await keys.create(
                name, preset, "test", now - timedelta(days=2), lifetime=timedelta(days=1)
            )
            return text
        text, record = await keys.create(name, preset, "test", now)
        if revoked:
            await keys.revoke(record.id, now)
        return text

    async def session(self, role: Role) -> Credential:
        """A new person of ``role`` signed in with password and code (a new account each
        time: a TOTP code is taken once): the session cookie, from our own origin."""
        username = f"{role.label}{next(self._names)}"
        new = await self.service.accounts.add(username, role, datetime.now(UTC), PASSWORD)
        secret = new.account.totp_secret
        code = pyotp.TOTP(secret).now() if secret else None
        token, _ = await self.service.accounts.sign_in(username, PASSWORD, code, datetime.now(UTC))
        return Credential(session=token)

    # --- probes -----------------------------------------------------------------------
    async def probe(
        self, method: str, url: str, credential: Credential, body: Any = None
    ) -> Answer:
        if method == WS:
            return await self._open_websocket(url, credential)
        headers: dict[str, str] = {}
        if credential.bearer:
            headers["Authorization"] = f"Bearer {credential.bearer}"
        if credential.session:
            headers["Cookie"] = f"{SESSION_COOKIE}={credential.session}"
            if credential.origin:
                headers["Origin"] = credential.origin
        answer = await self.client.request(
            method, url, headers=headers, json=body if body is not None else None
        )
        detail = answer.text
        if answer.is_error and answer.headers.get("content-type") == "application/json":
            detail = str(answer.json()["detail"])  # every refusal is an ErrorOut
        return Answer(answer.status_code, detail)

    async def _open_websocket(self, url: str, credential: Credential) -> Answer:
        """Open ``url`` as a websocket over ASGI: ``101`` when the app accepts it (then
        the client leaves), else the code and reason it closed with before accepting."""
        path, _, query = url.partition("?")
        headers = [(b"host", HOST.encode())]
        if credential.bearer:
            query = "&".join(q for q in (query, f"token={credential.bearer}") if q)
        if credential.session:
            headers.append((b"cookie", f"{SESSION_COOKIE}={credential.session}".encode()))
            if credential.origin:
                headers.append((b"origin", credential.origin.encode()))
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "scheme": "ws",
            "server": (HOST, 80),
            "client": ("127.0.0.1", 50000),
            "root_path": "",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "headers": headers,
            "subprotocols": [],
        }
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        inbox.put_nowait({"type": "websocket.connect"})
        first: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

        async def send(message: dict[str, Any]) -> None:
            if not first.done():
                first.set_result(message)

        serving = asyncio.create_task(self.asgi(scope, inbox.get, send), name=f"test: ws {path}")
        try:
            done, _ = await asyncio.wait(
                {first, serving}, timeout=WS_ANSWER_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
            )
            if first not in done:
                if serving in done:
                    serving.result()  # the app's own error, if it raised one
                raise AssertionError(f"websocket {url}: neither accepted nor closed")
            message = first.result()
            if message["type"] == "websocket.accept":
                inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
                async with asyncio.timeout(WS_ANSWER_TIMEOUT_S):
                    await serving
                return Answer(101, "accepted")
            assert message["type"] == "websocket.close", message
            return Answer(int(message.get("code", 1000)), str(message.get("reason", "")))
        finally:
            if not serving.done():
                serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)


@asynccontextmanager
async def listening(asgi: Any) -> AsyncIterator[str]:
    """``asgi`` (an app already in its lifespan) served by uvicorn on a free port: its
    ``ws://`` base URL."""
    port = free_tcp_port()
    server = uvicorn.Server(
        uvicorn.Config(asgi, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    task = asyncio.create_task(server.serve(), name="test: uvicorn")
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def rig(directory: Path) -> AsyncIterator[Rig]:
    """The two-drone service inside its lifespan, with one real incident; uvicorn serves
    it too, for websockets over the network."""
    async with (
        serving(access_app(directory)) as served,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=served.asgi), base_url=f"http://{HOST}"
        ) as bare,
        listening(served.asgi) as ws_base,
    ):
        call = {
            "cad_id": "A-1",
            "nature": "route access",
            "priority": 4,
            "location": {"lat": 47.4, "lon": 8.55},
        }
        made = await served.client.post("/api/v1/calls", json=call)
        assert made.status_code == 201, made.text
        yield Rig(served.service, served.asgi, bare, ws_base, made.json()["id"], itertools.count())
