"""The console in real Chromium against the real service: the map, the fleet panel, calls
arriving over /ws/events, alerts, and reconnecting when a stream drops."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, WebSocketRoute, expect

from tests.e2e.browser import RunningService

pytestmark = pytest.mark.timeout(120)


async def new_page(browser: BrowserContext, errors: list[str]) -> Page:
    """A page whose uncaught script errors are appended to ``errors``."""
    page = await browser.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page


async def signed_in(browser: BrowserContext, service: RunningService, errors: list[str]) -> Page:
    page = await new_page(browser, errors)
    await page.goto(service.console_url(service.pilot_token))
    await expect(page.locator("#conn-events")).to_have_attribute("data-state", "open")
    return page


async def post_call(
    service: RunningService,
    cad_id: str,
    nature: str,
    priority: int,
    lat_lon: tuple[float, float],
    **extra: str,
) -> httpx.Response:
    """A CAD call posted to the real service, as the CAD would send it."""
    call = {
        "cad_id": cad_id,
        "nature": nature,
        "priority": priority,
        "location": {"lat": lat_lon[0], "lon": lat_lon[1]},
        **extra,
    }
    async with service.client() as api:
        return await api.post("/calls", json=call)


async def test_docks_and_drones_on_the_map_and_in_the_fleet_panel(
    service: RunningService, browser: BrowserContext
) -> None:
    errors: list[str] = []
    page = await signed_in(browser, service, errors)
    async with service.client() as api:
        docks = (await api.get("/docks")).json()
        drones = (await api.get("/drones")).json()
    assert len(docks) == 4 and len(drones) == 4
    for dock in docks:
        await expect(page.locator(f'#map [data-dock-id="{dock["id"]}"]')).to_have_count(1)
    for drone in drones:
        marker = page.locator(f'#map [data-drone-id="{drone["id"]}"]')
        await expect(marker).to_have_count(1)
        # no vehicle answers on these ports: shown at its dock, honestly without a position
        await expect(marker).to_contain_text("no position")
        row = page.locator(f'#fleet tr[data-drone-id="{drone["id"]}"]')
        await expect(row).to_contain_text("connecting")
        await expect(row).to_contain_text("no data")
        await expect(row).to_have_attribute("data-stale", "true")
        await expect(row.locator("a.video-link")).to_have_attribute(
            "href", f"/view.html?drone={drone['id']}"
        )
    # selecting a drone from the fleet panel highlights it on the map
    await page.locator('#fleet tr[data-drone-id="fw1"]').click()
    await expect(page.locator('#map [data-drone-id="fw1"]')).to_have_class(
        "drone unplaced stale selected"
    )
    await expect(page.locator("#flight-summary")).to_contain_text("fw1 has no flight")
    assert errors == []


async def test_posted_call_appears_in_the_queue_without_reload(
    service: RunningService, browser: BrowserContext
) -> None:
    errors: list[str] = []
    page = await signed_in(browser, service, errors)
    await page.evaluate("window.sameDocument = true")
    await expect(page.locator("#queue")).to_contain_text("No calls")
    response = await post_call(
        service, "FW-2026-000123", "shots fired", 1, (32.7555, -97.3308), address="200 Texas St"
    )
    assert response.status_code == 201
    incident_id = response.json()["id"]
    item = page.locator(f'#queue [data-incident-id="{incident_id}"]')
    await expect(item).to_contain_text("shots fired")
    await expect(item).to_contain_text("P1")
    await expect(item).to_contain_text("FW-2026-000123 · 200 Texas St")
    await expect(page.locator(f'#map [data-incident-id="{incident_id}"]')).to_have_class(
        "incident p1"
    )
    await expect(page.locator("#log")).to_contain_text("P1 shots fired (FW-2026-000123)")
    # the dispatcher's answer shows in the queue with its reasons
    async with service.client() as api:
        status = (await api.get(f"/incidents/{incident_id}")).json()["status"]
    await expect(item.locator(".status")).to_have_text(status.replace("_", " "))
    if status == "queued":
        await expect(item).to_contain_text("fw1 link connecting")
    assert await page.evaluate("window.sameDocument") is True
    assert errors == []


async def test_airspace_drawn_by_kind_with_names_on_hover(
    service: RunningService, browser: BrowserContext
) -> None:
    errors: list[str] = []
    page = await signed_in(browser, service, errors)
    async with service.client() as api:
        response = await api.get("/airspace")
    if response.status_code == 404:
        await expect(page.locator("#map-notice")).to_contain_text("Airspace: not available")
        return
    features = response.json()["features"]
    by_kind: dict[str, int] = {}
    for feature in features:
        kind = feature["properties"]["kind"]
        by_kind[kind] = by_kind.get(kind, 0) + 1
    for kind, count in by_kind.items():
        await expect(page.locator(f'#map [data-zone-kind="{kind}"]')).to_have_count(count)
    inactive = [f for f in features if f["properties"].get("active") is False]
    await expect(page.locator("#map path.zone.inactive")).to_have_count(len(inactive))
    # hovering a no-fly zone names it
    no_fly = next(
        f
        for f in features
        if f["properties"]["kind"] == "no_fly" and f["properties"].get("active", True)
    )
    name = no_fly["properties"]["name"]
    await page.locator(f'#map path[data-zone-name="{name}"]').hover(force=True)
    await expect(page.locator("#map-hover")).to_contain_text(name)
    assert errors == []


async def test_map_zooms_with_the_wheel_and_pans_by_drag(
    service: RunningService, browser: BrowserContext
) -> None:
    errors: list[str] = []
    page = await signed_in(browser, service, errors)
    scale = page.locator("#map .scale")
    dock = page.locator('#map [data-dock-id="hq"]')
    await expect(dock).to_have_count(1)
    fitted_m = float(await scale.get_attribute("data-metres") or "0")
    box = await page.locator("#map").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    await page.mouse.move(cx, cy)
    await page.mouse.wheel(0, -800)  # zoom in
    await expect(scale).not_to_have_attribute("data-metres", str(int(fitted_m)))
    zoomed_m = float(await scale.get_attribute("data-metres") or "0")
    assert zoomed_m < fitted_m
    before = await dock.bounding_box()
    await page.mouse.move(cx, cy)
    await page.mouse.down()
    await page.mouse.move(cx + 120, cy + 40, steps=6)
    await page.mouse.up()
    after = await dock.bounding_box()
    assert before is not None and after is not None
    assert after["x"] - before["x"] > 60 and after["y"] - before["y"] > 20  # it went with the drag
    await page.locator("#zoom-fit").click()
    await expect(scale).to_have_attribute("data-metres", str(int(fitted_m)))
    assert errors == []


async def test_events_stream_drop_shows_reconnecting_then_recovers(
    service: RunningService, browser: BrowserContext
) -> None:
    """The first /ws/events connection is cut by the 'network'; later ones reach the
    real service. The console says so, reconnects by itself, and catches up."""
    errors: list[str] = []
    page = await new_page(browser, errors)
    attempts: list[str] = []

    async def route(ws: WebSocketRoute) -> None:
        attempts.append(ws.url)
        if len(attempts) == 1:
            await ws.close(code=1011, reason="network dropped")
        else:
            ws.connect_to_server()

    await page.route_web_socket("**/ws/events*", route)
    await page.goto(service.console_url(service.pilot_token))
    await expect(page.locator("#log")).to_contain_text("events stream lost; reconnecting")
    await expect(page.locator("#conn-events")).to_have_attribute(
        "data-state", "open", timeout=15_000
    )
    await expect(page.locator("#conn-events")).to_have_text("events: live")
    assert len(attempts) >= 2
    await post_call(service, "AFTER-1", "welfare check", 4, (32.70, -97.35))
    await expect(page.locator("#queue")).to_contain_text("welfare check")
    assert errors == []


async def test_critical_alert_stays_until_acknowledged(
    service: RunningService, browser: BrowserContext
) -> None:
    """An alert message on the real events stream (injected into it, as the monitor would
    send one): it is logged, and a critical one holds the banner until acknowledged."""
    errors: list[str] = []
    page = await new_page(browser, errors)
    routes: list[WebSocketRoute] = []

    def route(ws: WebSocketRoute) -> None:
        ws.connect_to_server()
        routes.append(ws)

    await page.route_web_socket("**/ws/events*", route)
    await page.goto(service.console_url(service.pilot_token))
    await expect(page.locator("#conn-events")).to_have_attribute("data-state", "open")
    alert = {
        "type": "alert",
        "t": "2026-11-26T14:00:00Z",
        "drone_id": "fw2",
        "flight_id": "flt-1",
        "kind": "battery_reserve",
        "severity": "critical",
        "message": "battery 18 % is below the reserve to get home",
        "action": "returning to the dock now",
    }
    routes[-1].send(json.dumps(alert))
    routes[-1].send(
        json.dumps(
            {
                **alert,
                "severity": "warning",
                "kind": "link",
                "message": "link quality low",
                "action": "watching",
            }
        )
    )
    banner = page.locator("#critical [data-alert=critical]")
    await expect(banner).to_have_count(1)
    await expect(banner).to_contain_text("fw2 battery reserve")
    await expect(banner).to_contain_text("returning to the dock now")
    await expect(page.locator("#log li.sev-warning")).to_contain_text("link quality low")
    await page.wait_for_timeout(1500)  # it does not go away by itself
    await expect(banner).to_have_count(1)
    await banner.get_by_role("button", name="Acknowledge").click()
    await expect(banner).to_have_count(0)
    await expect(page.locator("#log")).to_contain_text("acknowledged: fw2 battery reserve")
    assert errors == []


async def test_keyboard_selects_drones_and_incidents_and_zooms_the_map(
    service: RunningService, browser: BrowserContext
) -> None:
    errors: list[str] = []
    page = await signed_in(browser, service, errors)
    response = await post_call(service, "KB-1", "noise complaint", 5, (32.75, -97.33))
    incident_id = response.json()["id"]
    head = page.locator(f'#queue [data-incident-id="{incident_id}"] .incident-head')
    await head.focus()
    await page.keyboard.press("Enter")
    await expect(head).to_have_attribute("aria-expanded", "true")
    await expect(page.locator(f'#map [data-incident-id="{incident_id}"]')).to_have_class(
        "incident p5 selected"
    )

    row = page.locator('#fleet tr[data-drone-id="fw3"]')
    await row.focus()
    await page.keyboard.press("Enter")
    await expect(row).to_have_attribute("aria-selected", "true")

    scale = page.locator("#map .scale")
    fitted = await scale.get_attribute("data-metres")
    await page.locator("#map").focus()
    for _ in range(3):
        await page.keyboard.press("+")
    await expect(scale).not_to_have_attribute("data-metres", fitted or "")
    await page.keyboard.press("0")
    await expect(scale).to_have_attribute("data-metres", fitted or "")
    assert errors == []


async def test_a_held_dock_says_so_on_the_map_and_in_the_log(
    service: RunningService, browser: BrowserContext
) -> None:
    errors: list[str] = []
    page = await signed_in(browser, service, errors)
    marker = page.locator('#map [data-dock-id="hq"]')
    await expect(marker).not_to_have_class("dock held")
    async with service.client(service.supervisor_token) as api:
        held = await api.post("/docks/hq/hold", json={"reason": "lightning within 10 km"})
        assert held.status_code == 201, held.text
        try:
            await expect(marker).to_have_class("dock held")
            await expect(marker.locator(".label")).to_have_text("hq on hold")
            await expect(marker).to_have_attribute(
                "data-hover", re.compile(r"on hold: lightning within 10 km \(by sam\)$")
            )
            await expect(page.locator("#log")).to_contain_text(
                "dock hq on hold: lightning within 10 km (by sam)"
            )
        finally:
            assert (await api.delete("/docks/hq/hold")).status_code == 200
    await expect(marker).to_have_class("dock")
    await expect(marker.locator(".label")).to_have_text("hq")
    await expect(page.locator("#log")).to_contain_text("dock hq: hold lifted (by sam)")
    assert errors == []
