"""Outcome metrics from a real flight: one call flown by the simulated fleet and sent
home; GET /api/v1/metrics and the CSV over HTTP give its figures, and the console's
Metrics view shows them with its charts."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, expect

from tests.e2e.browser import RunningService, running_service, screenshot_path
from tests.e2e.harness import wait_for

pytestmark = pytest.mark.timeout(120)

SIM_SPEED = 15.0
SCENE = {"lat": 32.6905, "lon": -97.3290}  # ~1.2 km north of the hq dock (fw1)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[RunningService]:
    async with running_service(tmp_path, fleet_speed=SIM_SPEED) as running:
        yield running


async def test_a_flown_call_gives_its_figures_over_http_and_in_the_console(
    service: RunningService, browser: BrowserContext
) -> None:
    async with service.client() as api:

        async def fw1_ready() -> bool:
            drone = (await api.get("/drones/fw1")).json()
            return bool(drone["link"] == "up" and drone["armable"] and drone["health_ok"])

        await wait_for(fw1_ready, 40, "fw1 up and armable")
        start = datetime.now(UTC) - timedelta(minutes=1)
        call = {"cad_id": "MET-1", "nature": "shots fired", "priority": 1, "location": SCENE}
        made = await api.post("/calls", json={**call, "units": [{"id": "4B"}]})
        assert made.status_code == 201, made.text
        incident_id = made.json()["id"]
        flight_id = (await api.get(f"/incidents/{incident_id}")).json()["flight_id"]

        async def phase_is(name: str) -> bool:
            return bool((await api.get(f"/flights/{flight_id}")).json()["phase"] == name)

        await wait_for(lambda: phase_is("on_scene"), 60, "on scene")
        # the officer arrives after the drone; the CAD says so in a later message
        arrived = datetime.now(UTC).isoformat()
        later = await api.post(
            "/calls", json={**call, "units": [{"id": "4B", "arrived_at": arrived}]}
        )
        assert later.json()["changed"] == ["units"]
        back = await api.post(f"/flights/{flight_id}/commands", json={"type": "return"})
        assert back.status_code == 200, back.text

        async def docked() -> bool:
            return bool((await api.get(f"/flights/{flight_id}")).json()["outcome"] == "docked")

        await wait_for(docked, 60, "back on its dock")
        window = {
            "from": start.isoformat(),
            "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
        }
        m = (await api.get("/metrics", params=window)).json()

    (row,) = m["incidents"]
    assert row["cad_id"] == "MET-1" and row["drone_id"] == "fw1"
    assert 0 < row["launch_s"] < row["airborne_s"] < row["on_scene_s"] < row["back_s"]
    assert row["on_scene_s"] < row["first_officer_s"] and row["drone_first"] is True
    assert row["drone_lead_s"] > 0 and row["cleared_without_officer"] is False
    assert m["steps"]["on_scene_s"]["average_s"] == row["on_scene_s"] == m["p90"]["on_scene_s"]
    assert m["drone_first"] == {"count": 1, "of": 1, "pct": 100.0}
    (flight,) = m["flights"]
    assert flight["flight_id"] == flight_id and flight["outcome"] == "docked"
    assert flight["flight_s"] > 0 and flight["battery_used_pct"] > 0
    (fw1,) = m["drones"]
    assert (fw1["drone_id"], fw1["flights"], fw1["flight_s"]) == ("fw1", 1, flight["flight_s"])
    async with service.client() as api:
        sheet = await api.get("/metrics.csv", params=window)
    (csv_row,) = csv.DictReader(io.StringIO(sheet.text))
    assert float(csv_row["on_scene_s"]) == row["on_scene_s"] and csv_row["drone_first"] == "true"

    errors: list[str] = []
    page = await browser.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(service.console_url(service.viewer_token))
    await page.locator("#metrics-toggle").click()
    view = page.locator("#metrics")
    await expect(view).to_be_visible()
    await expect(view.locator("#metrics-status")).to_contain_text("1 call", timeout=10_000)
    average = round(row["on_scene_s"])
    shown = f"{average} s" if average < 60 else f"{average // 60} min {average % 60:02d} s"
    await expect(view.locator('[data-figure="on_scene_average"] .figure-value')).to_have_text(shown)
    await expect(view.locator('[data-figure="drone_first"] .figure-value')).to_have_text(
        "100% (1/1)"
    )
    await expect(view.locator('[data-chart="on_scene"] rect.bar[data-value="1"]')).to_have_count(1)
    await expect(
        view.locator('[data-chart="flight_hours"] rect.bar[data-label="fw1"]')
    ).to_have_count(1)
    await page.screenshot(path=screenshot_path("console-metrics.png"))
    assert "metrics.csv?from=" in (await view.locator("#metrics-csv").get_attribute("href") or "")
    async with page.expect_download() as download_info:
        await view.locator("#metrics-csv").click()
    download = await download_info.value
    saved = Path(await download.path())
    assert "MET-1" in await asyncio.to_thread(saved.read_text)
    assert errors == []
