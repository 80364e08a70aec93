"""The console flying the simulated fleet: a pilot launches from the queue, the drone moves
on the map with its route and track, and the pilot's commands reach the vehicle."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, WebSocketRoute, expect

from tests.e2e.browser import RunningService, running_service

pytestmark = pytest.mark.timeout(180)

SIM_SPEED = 10.0
SCENE = {"lat": 32.6905, "lon": -97.3290}  # ~1.2 km north of the hq dock


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[RunningService]:
    async with running_service(tmp_path, fleet_speed=SIM_SPEED) as running:
        yield running


async def test_pilot_launches_from_the_queue_and_commands_the_flight(
    service: RunningService, browser: BrowserContext
) -> None:
    errors: list[str] = []
    page = await browser.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(service.console_url(service.pilot_token))
    for drone_id in ("fw1", "fw2", "fw3", "fw4"):
        row = page.locator(f'#fleet tr[data-drone-id="{drone_id}"]')
        await expect(row.locator("td").nth(1)).to_have_text("up", timeout=30_000)
        await expect(row).to_have_attribute("data-stale", "false")

    # the vehicles pass their pre-arm checks a moment after their links come up; the
    # fleet panel says "not ready" until then
    for drone_id in ("fw1", "fw2", "fw3", "fw4"):
        row = page.locator(f'#fleet tr[data-drone-id="{drone_id}"]')
        await expect(row).not_to_contain_text("not ready", timeout=30_000)
    async with service.client() as api:
        response = await api.post(
            "/calls",
            json={"cad_id": "FW-FLY-1", "nature": "prowler", "priority": 2, "location": SCENE},
        )
    assert response.status_code == 201, response.text
    item = page.locator(f'#queue [data-incident-id="{response.json()["id"]}"]')
    await expect(item.locator(".status")).to_have_text("awaiting pilot", timeout=15_000)
    await expect(item).to_contain_text("chose fw1")  # the hq drone is nearest
    await expect(item.locator("table[aria-label='Ranked candidates'] tr.chosen")).to_contain_text(
        "fw1"
    )

    await item.locator("button.launch").click()
    summary = page.locator("#flight-summary")
    await expect(summary).to_contain_text("drone fw1", timeout=15_000)
    await expect(item.locator(".status")).to_have_text("dispatched")
    drone = page.locator('#map [data-drone-id="fw1"]')
    await expect(drone).to_have_class(re.compile(r"\bairborne\b"), timeout=30_000)
    await expect(page.locator("#map path.route")).to_have_count(1)
    await expect(page.locator("#map path.track")).to_have_count(1)
    # it moves on the map
    where = await drone.bounding_box()
    for _ in range(100):
        await page.wait_for_timeout(100)
        if await drone.bounding_box() != where:
            break
    else:
        pytest.fail("fw1 did not move on the map in 10 s")
    row = page.locator('#fleet tr[data-drone-id="fw1"]')
    await expect(row.locator("td").nth(2)).to_have_text(re.compile("enroute|on scene"))

    # a console opened mid-flight shows the flight's story so far, its route and its track
    late = await browser.new_page()
    late.on("pageerror", lambda exc: errors.append(str(exc)))
    await late.goto(service.console_url(service.pilot_token))
    await expect(late.locator("#log")).to_contain_text("fw1 launching")
    await expect(late.locator("#map path.route")).to_have_count(1)
    await expect(late.locator("#map path.track")).to_have_count(1)

    # Go here: pick a point on the map; the service answers (accepted, or refused with why)
    result = page.locator("#command-result")
    await page.locator("#flight-controls [data-pick=goto]").click()
    await expect(page.locator("#map-hint")).to_be_visible()
    box = await page.locator("#map").bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await expect(page.locator("#map-hint")).to_be_hidden()
    await expect(result).to_have_text(re.compile(r"^goto( refused)?: "), timeout=20_000)
    await expect(result).not_to_contain_text("sending")

    await page.locator("#flight-controls [data-command=return]").click()
    await expect(result).to_have_text(re.compile(r"^return: accepted"), timeout=20_000)
    await expect(row.locator("td").nth(2)).to_have_text(re.compile("returning|landing|docked"))
    assert errors == []


async def test_silent_telemetry_turns_drones_stale_then_fresh(
    service: RunningService, browser: BrowserContext
) -> None:
    """The telemetry socket stays open but the messages stop (a stalled network path):
    the console must not keep showing the last picture as live."""
    errors: list[str] = []
    page = await browser.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    silent = False

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def forward(message: str | bytes) -> None:
            if not silent:
                ws.send(message)

        server.on_message(forward)

    await page.route_web_socket("**/ws/telemetry*", route)
    await page.goto(service.console_url(service.pilot_token))
    row = page.locator('#fleet tr[data-drone-id="fw2"]')
    await expect(row.locator("td").nth(1)).to_have_text("up", timeout=30_000)
    await expect(row).to_have_attribute("data-stale", "false")

    silent = True
    await expect(row).to_have_attribute("data-stale", "true", timeout=10_000)
    await expect(row).to_contain_text("stale")
    await expect(page.locator('#map [data-drone-id="fw2"]')).to_have_class(re.compile(r"\bstale\b"))

    silent = False
    await expect(row).to_have_attribute("data-stale", "false", timeout=10_000)
    await expect(page.locator('#map [data-drone-id="fw2"]')).not_to_have_class(
        re.compile(r"\bstale\b")
    )
    assert errors == []
