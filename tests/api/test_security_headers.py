"""Every HTTP answer carries the security headers and the content security policy: pages,
API JSON, errors (401, 404, 413, 429) and /vendor files alike; API answers are never
cached."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from dfr.api.app import create_app
from dfr.api.security_headers import tile_origin
from dfr.config import Settings
from dfr.site import load_site
from tests.api.conftest import PILOT, Served, free_udp_port, write_site

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "object-src": "'none'",
}


def policy_of(response: httpx.Response) -> dict[str, str]:
    directives = (
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    return {name: sources for name, sources in directives}


def assert_secured(response: httpx.Response) -> None:
    policy = policy_of(response)
    for directive, sources in POLICY.items():
        assert policy[directive] == sources, (directive, response.request.url)
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["permissions-policy"] == "camera=(), microphone=(), geolocation=(self)"
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    assert "strict-transport-security" not in response.headers  # plain HTTP: no HSTS


async def test_pages_api_errors_and_vendor_files_carry_the_headers(served: Served) -> None:
    client = served.client
    answers = {
        "console": await client.get("/"),
        "viewer": await client.get("/view.html"),
        "docs": await client.get("/docs", params={"token": PILOT}),
        "api": await client.get("/api/v1/site"),
        "401": await client.get(
            "/api/v1/site", headers={"Authorization": "Bearer wrong-token-000000"}
        ),
        "404 api": await client.get("/api/v1/incidents/nope"),
        "404 page": await client.get("/no-such-page.html"),
        "vendor": await client.get("/vendor/leaflet/dist/leaflet.css"),
        "swagger": await client.get("/vendor/swagger-ui-dist/swagger-ui-bundle.js"),
    }
    expected = {"401": 401, "404 api": 404, "404 page": 404}
    for name, response in answers.items():
        assert response.status_code == expected.get(name, 200), (name, response.text[:200])
        assert_secured(response)
    for name in ("api", "401", "404 api"):
        assert answers[name].headers["cache-control"] == "no-store", name
    assert "no-store" not in answers["vendor"].headers.get("cache-control", "")


async def test_the_docs_page_loads_nothing_from_elsewhere(served: Served) -> None:
    page = await served.client.get("/docs", params={"token": PILOT})
    assert page.status_code == 200
    assert "<script>" not in page.text and "<style" not in page.text and "style=" not in page.text
    assert "//cdn" not in page.text and "https://" not in page.text
    assert 'src="/vendor/swagger-ui-dist/swagger-ui-bundle.js"' in page.text
    init = await served.client.get("/api_docs.js")
    assert init.status_code == 200 and "SwaggerUIBundle" in init.text


@pytest.mark.parametrize(
    ("tile_url", "origin"),
    [
        ("https://tiles.example.org/{z}/{x}/{y}.png", "https://tiles.example.org"),
        ("http://10.0.0.5:8081/osm/{z}/{x}/{y}.png", "http://10.0.0.5:8081"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
    ],
)
def test_the_tile_servers_origin(tile_url: str, origin: str) -> None:
    assert tile_origin(tile_url) == origin


async def test_a_tile_server_may_serve_images(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    site_dir = write_site(tmp_path / "site", [free_udp_port()])
    settings = Settings(
        site=site_dir,
        data_dir=tmp_path / "data",
        api_token=SecretStr(PILOT),
        map_tile_url="https://{s}.tiles.example.org/{z}/{x}/{y}.png",
    )
    app = create_app(settings, load_site(site_dir))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        page = await c.get("/")
    policy = policy_of(page)
    assert policy["img-src"] == "'self' data: blob: https://*.tiles.example.org"
    assert policy["connect-src"] == "'self'" and policy["script-src"] == "'self'"
