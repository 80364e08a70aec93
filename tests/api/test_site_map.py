"""The map's background setting: validated at start-up, and handed to the console and the
viewer on GET /site as ``map: {tile_url, attribution}``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from dfr.api.app import create_app
from dfr.config import Settings
from dfr.site import load_site
from tests.api.conftest import PILOT, free_udp_port, write_site


@asynccontextmanager
async def site_client(tmp_path: Path, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A pilot's client to the app (inside its lifespan) with these settings."""
    (tmp_path / "site").mkdir()
    site_dir = write_site(tmp_path / "site", [free_udp_port()])
    app = create_app(
        Settings(site=site_dir, data_dir=tmp_path / "data", api_token=SecretStr(PILOT), **settings),
        load_site(site_dir),
    )
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope, receive, send):  # type: ignore[no-untyped-def]
            scope["state"] = dict(state)
            await app(scope, receive, send)

        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=with_state),
            base_url="http://dfr.test",
            headers={"Authorization": f"Bearer {PILOT}"},
        ) as client:
            yield client


async def test_no_tile_server_by_default(tmp_path: Path) -> None:
    async with site_client(tmp_path) as client:
        response = await client.get("/api/v1/site")
    assert response.status_code == 200, response.text
    assert response.json()["map"] == {"tile_url": None, "attribution": ""}


async def test_configured_tile_server_reaches_the_browser(tmp_path: Path) -> None:
    url = "https://{s}.tiles.example.org/dark/{z}/{x}/{y}.png"
    credit = "&copy; Example Tiles"
    async with site_client(tmp_path, map_tile_url=url, map_tile_attribution=credit) as client:
        response = await client.get("/api/v1/site")
    assert response.json()["map"] == {"tile_url": url, "attribution": credit}


def test_tile_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DFR_MAP_TILE_URL", "http://127.0.0.1:8081/{z}/{x}/{y}.png")
    monkeypatch.setenv("DFR_MAP_TILE_ATTRIBUTION", "local tiles")
    settings = Settings()
    assert settings.map_tile_url == "http://127.0.0.1:8081/{z}/{x}/{y}.png"
    assert settings.map_tile_attribution == "local tiles"


def test_empty_tile_url_means_none() -> None:
    assert Settings(map_tile_url="").map_tile_url is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://tiles.example.org/{z}/{x}/{y}.png", "http:// or https://"),
        ("tiles.example.org/{z}/{x}/{y}.png", "http:// or https://"),
        ("javascript:alert(1)//{z}/{x}/{y}", "http:// or https://"),
        ("https://tiles.example.org/{z}/{x}.png", "missing {y}"),
        ("https://tiles.example.org/tile.png", "missing {z}, {x}, {y}"),
    ],
)
def test_a_tile_url_that_cannot_work_fails_at_start_up(url: str, why: str) -> None:
    with pytest.raises(ValidationError, match="map_tile_url") as raised:
        Settings(map_tile_url=url)
    assert why in str(raised.value)
