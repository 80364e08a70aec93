from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr

from dfr.api.app import create_app
from dfr.auth.tokens import Role
from dfr.config import Settings
from dfr.service import Service
from dfr.site import load_site
from tests.e2e.harness import free_tcp_port

PILOT = "pilot-token-for-tests-0123456789"
VIEWER = "viewer-token-for-tests-0123456789"
PASSWORD = "correct horse battery staple 42"  # every test account's


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_site(directory: Path, ports: list[int], extra: str = "") -> Path:
    drones = "\n".join(
        f"  - {{id: d{i}, dock: a, mavlink_url: 'udpin://127.0.0.1:{port}'}}"
        for i, port in enumerate(ports)
    )
    (directory / "site.yaml").write_text(
        "name: test site\n"
        "docks: [{id: a, lat: 47.397742, lon: 8.545594, ground_alt_amsl_m: 488.0}]\n"
        f"drones:\n{drones}\n" + extra
    )
    return directory


def one_drone_app(tmp_path: Path, **overrides: Any) -> FastAPI:
    """The app for a one-drone site written under ``tmp_path``, with the PILOT and VIEWER
    tokens and its data in ``tmp_path / "data"`` (the lifespan is not entered);
    ``overrides`` are further :class:`Settings`."""
    (tmp_path / "site").mkdir()
    site_dir = write_site(tmp_path / "site", [free_udp_port()])
    settings = Settings(
        site=site_dir,
        data_dir=tmp_path / "data",
        api_token=SecretStr(PILOT),
        viewer_token=SecretStr(VIEWER),
        **overrides,
    )
    return create_app(settings, load_site(site_dir))


@dataclass
class Served:
    service: Service
    client: httpx.AsyncClient
    asgi: Any = None  # the app with the lifespan's state: for a client of one's own

    def client_from(self, address: str) -> httpx.AsyncClient:
        """A pilot's client to the same app from another address."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.asgi, client=(address, 50000)),
            base_url="http://dfr.test",
            headers={"Authorization": f"Bearer {PILOT}"},
        )


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    """The app inside its lifespan, a pilot's client to it, and the service behind it."""
    async with serving(one_drone_app(tmp_path)) as running:
        yield running


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[Served]:
    """``app`` inside its lifespan, and a pilot's client to it (from 127.0.0.1)."""
    async with app.router.lifespan_context(app) as state:
        # ASGITransport does not run the lifespan; hand the state in as uvicorn would.
        async def with_state(scope, receive, send):  # type: ignore[no-untyped-def]
            scope["state"] = dict(state)
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://dfr.test",
            headers={"Authorization": f"Bearer {PILOT}"},
        ) as c:
            yield Served(state["service"], c, with_state)


@pytest.fixture
async def client(served: Served) -> httpx.AsyncClient:
    return served.client


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
    """The service under a real uvicorn (sessions lock after 3 s idle, checked every
    0.2 s): for cookies, Origins and websockets as browsers send them."""
    async with running_service(tmp_path) as ready:
        yield ready


@asynccontextmanager
async def running_service(tmp_path: Path, site_extra: str = "") -> AsyncIterator[Running]:
    """:func:`running`, its site.yaml ending with ``site_extra`` (e.g. a ``policy:``)."""
    (tmp_path / "site").mkdir()
    site_dir = write_site(tmp_path / "site", [free_udp_port()], site_extra)
    settings = Settings(
        site=site_dir,
        data_dir=tmp_path / "data",
        api_token=SecretStr(PILOT),
        viewer_token=SecretStr(VIEWER),
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
