"""/vendor serves the browser libraries from node_modules, only those on the allow-list
(scripts/setup installs them with npm ci)."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from dfr.api.vendor import NODE_MODULES, mount_vendor
from tests.api.conftest import one_drone_app


@pytest.fixture
async def static_client(tmp_path: Path) -> httpx.AsyncClient:
    """Static files need no lifespan: the app as built, without entering it."""
    transport = httpx.ASGITransport(app=one_drone_app(tmp_path))
    return httpx.AsyncClient(transport=transport, base_url="http://dfr.test")


async def test_allowed_packages_are_served_from_node_modules(
    static_client: httpx.AsyncClient,
) -> None:
    async with static_client as client:
        leaflet = await client.get("/vendor/leaflet/dist/leaflet-src.esm.js")
        css = await client.get("/vendor/leaflet/dist/leaflet.css")
        swagger = await client.get("/vendor/swagger-ui-dist/swagger-ui-bundle.js")
    assert leaflet.status_code == 200
    assert "Leaflet 1.9.4" in leaflet.text[:200]
    assert leaflet.content == (NODE_MODULES / "leaflet/dist/leaflet-src.esm.js").read_bytes()
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert swagger.status_code == 200


async def test_packages_off_the_list_are_not_served(static_client: httpx.AsyncClient) -> None:
    # a dependency that npm installs beside them, and npm's own files: on disk, not served
    assert (NODE_MODULES / "@scarf/scarf/package.json").is_file()
    assert (NODE_MODULES / ".package-lock.json").is_file()
    async with static_client as client:
        for path in (
            "/vendor/@scarf/scarf/package.json",
            "/vendor/.package-lock.json",
            "/node_modules/leaflet/package.json",
            "/vendor/leaflet/%2e%2e/@scarf/scarf/package.json",
            "/vendor/leaflet/no/such/file.js",
        ):
            response = await client.get(path)
            assert response.status_code == 404, path


async def test_a_package_not_installed_answers_404_and_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    node_modules = tmp_path / "node_modules"
    (node_modules / "leaflet" / "dist").mkdir(parents=True)
    (node_modules / "leaflet" / "dist" / "leaflet.css").write_text("/* test */")
    app = FastAPI()
    with caplog.at_level(logging.WARNING, logger="dfr.api.vendor"):
        mount_vendor(app, node_modules)
    assert "swagger-ui-dist is missing" in caplog.text
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://dfr.test"
    ) as client:
        assert (await client.get("/vendor/leaflet/dist/leaflet.css")).text == "/* test */"
        missing = await client.get("/vendor/swagger-ui-dist/swagger-ui.css")
    assert missing.status_code == 404
