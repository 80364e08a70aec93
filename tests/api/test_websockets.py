"""Websockets check the token as HTTP routes do (one check): ``?token=`` or the header.
A refused socket is closed before it is accepted (uvicorn answers the handshake 403)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
import websockets
from websockets.exceptions import InvalidStatus

from tests.api.conftest import VIEWER, one_drone_app
from tests.e2e.harness import free_tcp_port


@pytest.fixture
async def ws_url(tmp_path: Path) -> AsyncIterator[str]:
    port = free_tcp_port()
    server = uvicorn.Server(
        uvicorn.Config(
            one_drone_app(tmp_path),
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="on",
        )
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


@pytest.mark.parametrize("path", ["/ws/telemetry", "/ws/events", "/ws/video/d0"])
@pytest.mark.parametrize("token", [None, "nope-nope-nope-nope", f"{VIEWER}x"])
async def test_no_or_unknown_token_is_refused(ws_url: str, path: str, token: str | None) -> None:
    url = ws_url + (path if token is None else f"{path}?token={token}")
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(url):
            pass
    assert refused.value.response.status_code == 403


async def test_query_token_or_header_admits(ws_url: str) -> None:
    async with websockets.connect(f"{ws_url}/ws/telemetry?token={VIEWER}") as ws:
        first = json.loads(await ws.recv())
    assert first["type"] == "position" and first["drone_id"] == "d0"
    headers = {"Authorization": f"Bearer {VIEWER}"}
    async with websockets.connect(
        f"{ws_url}/ws/telemetry?batch=1", additional_headers=headers
    ) as ws:
        assert [m["drone_id"] for m in json.loads(await ws.recv())] == ["d0"]


async def test_video_of_a_drone_without_video_is_refused(ws_url: str) -> None:
    with pytest.raises(InvalidStatus):
        async with websockets.connect(f"{ws_url}/ws/video/nope?token={VIEWER}"):
            pass
