"""The console's map is Leaflet, loaded from this service (never a CDN): it draws the
simulated fleet with nothing fetched from anywhere but the service, shows tiles only when a
tile server is configured, and the viewer's MiniMap keeps a drone and its scene in view."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import BrowserContext, Page, Request, Route, expect

from tests.e2e.browser import RunningService, running_service

pytestmark = pytest.mark.timeout(120)

# a 1×1 PNG, what the stand-in tile server answers
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63503070f80f00029401902656b5740000000049454e44ae426082"
)


def recorded(page: Page) -> list[str]:
    """Every URL the page asks for: documents, scripts, styles, images, fetches, sockets."""
    urls: list[str] = []

    def on_request(request: Request) -> None:
        urls.append(request.url)

    page.on("request", on_request)
    page.on("websocket", lambda ws: urls.append(ws.url))
    return urls


@pytest.fixture
async def flying(tmp_path: Path) -> AsyncIterator[RunningService]:
    async with running_service(tmp_path, fleet_speed=10.0) as running:
        yield running


async def test_map_is_leaflet_from_this_service_and_draws_the_simulated_fleet(
    flying: RunningService, browser: BrowserContext
) -> None:
    errors: list[str] = []
    page = await browser.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    urls = recorded(page)
    await page.goto(flying.console_url(flying.pilot_token))
    await expect(page.locator("#map.leaflet-container")).to_have_count(1)
    # a simulated drone reports a position: its marker is placed, with altitude and battery
    drone = page.locator('#map .leaflet-marker-icon [data-drone-id="fw1"]')
    await expect(drone).to_have_count(1)
    await expect(drone).not_to_have_class(re.compile(r"\bunplaced\b"), timeout=30_000)
    await expect(drone).to_contain_text(re.compile(r"\d+ m rel · \d+%"))
    await expect(page.locator("#map .leaflet-overlay-pane path.zone").first).to_be_attached()
    # no tile server configured: the plain background, no tiles asked for
    await expect(page.locator("#map .leaflet-tile")).to_have_count(0)
    await expect(page.locator("#map .leaflet-control-attribution")).to_have_count(0)

    assert any(u.endswith("/vendor/leaflet/dist/leaflet-src.esm.js") for u in urls), urls
    assert any(u.endswith("/vendor/leaflet/dist/leaflet.css") for u in urls), urls
    elsewhere = sorted({u for u in urls if urlsplit(u).hostname != "127.0.0.1"})
    assert elsewhere == []
    assert errors == []


async def test_configured_tile_server_draws_tiles_and_their_credit(
    tmp_path: Path, browser: BrowserContext
) -> None:
    """The browser fetches tiles straight from the configured server (a stand-in here,
    answered by Playwright at a local address nothing listens on)."""
    tile_url = "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"
    async with running_service(
        tmp_path, map_tile_url=tile_url, map_tile_attribution="Stand-in tiles"
    ) as service:
        page = await browser.new_page()
        tiles: list[str] = []

        async def tile(route: Route) -> None:
            tiles.append(route.request.url)
            await route.fulfill(status=200, content_type="image/png", body=PNG_1X1)

        await page.route("http://127.0.0.1:9/tiles/**", tile)
        await page.goto(service.console_url(service.pilot_token))
        await expect(page.locator("#map img.leaflet-tile-loaded").first).to_be_attached()
        await expect(page.locator("#map .leaflet-control-attribution")).to_have_text(
            "Stand-in tiles"
        )
    assert tiles and all(re.search(r"/tiles/\d+/\d+/\d+\.png$", u) for u in tiles), tiles


async def test_mini_map_keeps_the_drone_and_the_scene_in_view(
    service: RunningService, browser: BrowserContext
) -> None:
    errors: list[str] = []
    page = await browser.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(service.base_url + "/")
    await page.evaluate(
        """async (token) => {
            const { MiniMap } = await import("/mini_map.js");
            const element = document.createElement("div");
            element.id = "mini";
            element.style.width = "320px";
            element.style.height = "200px";
            document.body.prepend(element);
            window.mini = new MiniMap(element, {});
            const airspace = await fetch("/api/v1/airspace", { headers: { Authorization: `Bearer ${token}` } });
            window.mini.setAirspace(await airspace.json());
            window.mini.setScene({ lat_deg: 32.7555, lon_deg: -97.3308 });
            window.mini.setDrone({ lat_deg: 32.7480, lon_deg: -97.3400, heading_deg: 90 });
        }""",
        service.pilot_token,
    )
    mini = page.locator("#mini")
    drone = mini.locator(".drone")
    scene = mini.locator(".scene")

    async def both_in_view() -> None:
        box = await mini.bounding_box()
        assert box is not None
        for marker in (drone, scene):
            at = await marker.bounding_box()
            assert at is not None
            middle_x, middle_y = at["x"] + at["width"] / 2, at["y"] + at["height"] / 2
            assert box["x"] < middle_x < box["x"] + box["width"]
            assert box["y"] < middle_y < box["y"] + box["height"]

    await expect(mini.locator("path.zone").first).to_be_attached()
    await both_in_view()
    await expect(drone.locator(".arrow")).to_have_attribute("transform", "rotate(90)")
    # the drone flies 10 km off: the view widens to keep both
    await page.evaluate(
        "window.mini.setDrone({ lat_deg: 32.66, lon_deg: -97.33, heading_deg: 180 })"
    )
    await both_in_view()
    await expect(drone.locator(".arrow")).to_have_attribute("transform", "rotate(180)")
    # no position: no drone drawn (never a stale one)
    await page.evaluate("window.mini.setDrone(null)")
    await expect(drone).to_have_count(0)
    await expect(scene).to_have_count(1)
    assert errors == []
