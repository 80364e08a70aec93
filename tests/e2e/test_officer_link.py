"""The whole officer-link path in Debian's headless Chromium against the real service and
the simulated fleet with its camera: a pilot signs in with password and authenticator
code, launches from the queue, shares the drone from the console; the link opens on a
phone-sized page (390×844) with live video, the drone and the scene on the map, and the
call's nature and address but not its notes; revoked from the console — and, a second
link, left to run out — the page says "expired" and its video socket is closed.
Screenshots go to the screenshots folder (tests/e2e/browser.py: SCREENSHOTS)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.async_api import Page, expect

from dfr.auth.tokens import Role
from dfr.sim_fleet import specs_for_site
from dfr.site import load_site
from sitl.fleet import Fleet, PortPlan
from sitl.fleet_cameras import enter_cameras
from tests.e2e.browser import chromium, screenshot_path
from tests.e2e.harness import PILOT, Running, port_offset, running_dfr, wait_for
from tests.e2e.scenes import call, wall_site

pytestmark = pytest.mark.timeout(300)

PASSWORD = "a long pass phrase for the officer link 9"
NOTES = "caller is the suspect's neighbour; gate code 4411"  # never shown to a link
ADDRESS = "500 Test Street"
PHONE = {"width": 390, "height": 844}
FRAME_WAIT_MS = 30_000


async def _frames(page: Page, more_than: int) -> None:
    await page.wait_for_function(
        "(n) => window.dfrViewer && window.dfrViewer.framesShown > n",
        arg=more_than,
        timeout=FRAME_WAIT_MS,
    )


async def _expired(page: Page) -> None:
    await expect(page.locator("#expired")).to_be_visible(timeout=20_000)
    await expect(page.locator("#expired h1")).to_have_text("This link has expired")
    await page.wait_for_function("() => window.dfrViewer.videoOpen === false")
    await expect(page.locator("body")).to_have_attribute("data-link", "expired")


@asynccontextmanager
async def _site_with_camera(
    stack: AsyncExitStack, tmp_path: Path, policy: dict[str, Any] | None = None
) -> AsyncIterator[Running]:
    """The service and one simulated drone, ``far``, with its camera, ready to fly."""
    offset = port_offset()
    site_dir = wall_site(
        tmp_path / "site",
        drones=[{"id": "far", "dock": "b", "video_url": "rtp://127.0.0.1:5600"}],
        policy=policy,
    )
    fleet = Fleet(
        specs_for_site(load_site(site_dir), airframe="dfr_quad"),
        ports=PortPlan().shifted(offset),
        speed_factor=5.0,
    )
    await stack.enter_async_context(fleet)
    await enter_cameras(stack, fleet, size_px=(320, 240), fps=10.0)
    dfr = await stack.enter_async_context(
        running_dfr(site_dir, tmp_path / "data", offset=offset, speed=5.0, fleet=fleet)
    )

    async def ready() -> bool:
        drone = (await dfr.client.get("/api/v1/drones/far")).json()
        return bool(drone["link"] == "up" and drone["armable"] and drone["health_ok"])

    await wait_for(ready, 60, "drone ready")
    yield dfr


async def test_a_pilot_shares_a_drone_and_the_officer_sees_it_until_revoked_or_expired(
    tmp_path: Path,
) -> None:
    errors: list[str] = []
    async with AsyncExitStack() as stack:
        dfr = await stack.enter_async_context(_site_with_camera(stack, tmp_path))
        made = await dfr.service.accounts.add("pia", Role.PILOT, datetime.now(UTC), PASSWORD)
        secret = made.account.totp_secret or ""

        # the pilot: signs in, launches from the queue, shares the drone
        pilot_browser = await stack.enter_async_context(chromium())
        console = await pilot_browser.new_page()
        console.on("pageerror", lambda exc: errors.append(f"console: {exc}"))
        await console.goto(f"{dfr.url}/")
        await console.fill("#signin-username", "pia")
        await console.fill("#signin-password", PASSWORD)
        await console.fill("#signin-code", pyotp.TOTP(secret).now())
        await console.click("#signin-submit")
        await expect(console.locator("#console")).to_be_visible()
        body = {**call("LINK-1", priority=4), "address": ADDRESS, "notes": NOTES}
        posted = await dfr.client.post("/api/v1/calls", json=body)
        assert posted.status_code == 201, posted.text
        item = console.locator(f'#queue [data-incident-id="{posted.json()["id"]}"]')
        await item.locator("button.launch").click(timeout=15_000)
        await expect(console.locator("#flight-summary")).to_contain_text(
            "drone far", timeout=15_000
        )

        await console.locator('#fleet tr[data-drone-id="far"] button.share-link').click()
        await console.fill("#share-label", "Unit 4B")
        await console.click("#share-submit")
        await expect(console.locator("#share-result")).to_be_visible()
        url = await console.locator("#share-url").input_value()
        assert url.startswith(f"{dfr.url}/view.html#link=dfrv_")
        listed = console.locator("#share-list li", has_text="Unit 4B")
        await expect(listed).to_contain_text("by pia")

        # the officer: a phone, no account (the site's policy allows it)
        officer_browser = await stack.enter_async_context(chromium())
        phone = await officer_browser.new_page()
        await phone.set_viewport_size(PHONE)
        phone.on("pageerror", lambda exc: errors.append(f"phone: {exc}"))
        await phone.goto(url)
        await _frames(phone, 5)
        assert "dfrv_" not in phone.url  # the link's secret left the address bar
        await expect(phone.locator("#drone-id")).to_have_text("far")
        await expect(phone.locator("#incident")).to_contain_text(f"P4 test call — {ADDRESS}")
        await expect(phone.locator("#mini-map .drone")).to_have_count(1, timeout=15_000)
        await expect(phone.locator("#mini-map .scene")).to_have_count(1)
        assert NOTES not in await phone.content()
        assert await phone.evaluate("document.cookie") == ""  # HttpOnly: out of scripts' reach
        box = await phone.locator("#mini-map").bounding_box()
        assert box is not None and box["height"] >= 150 and box["width"] >= 300
        # nothing covers the call's line: the element at its middle is the line itself
        covered = await phone.evaluate(
            "() => { const r = document.getElementById('incident').getBoundingClientRect();"
            " const at = document.elementFromPoint(r.x + 4, r.y + r.height / 2);"
            " return at && at.id; }"
        )
        assert covered == "incident"
        await phone.screenshot(path=screenshot_path("officer-link-live.png"))
        await console.screenshot(path=screenshot_path("console-officer-links.png"))

        # revoked from the console: the page says so and its video is closed
        await listed.locator("button[data-revoke]").click()
        await expect(console.locator("#share-status")).to_contain_text("revoked")
        await _expired(phone)
        await expect(phone.locator("#expired-detail")).to_contain_text("revoked by pia")
        await phone.screenshot(path=screenshot_path("officer-link-revoked.png"))

        # a second link that runs out by itself
        short = await dfr.client.post(
            "/api/v1/viewer-links", json={"drone_id": "far", "ttl_s": 6, "label": "Unit 9"}
        )
        assert short.status_code == 201, short.text
        second = await officer_browser.new_page()
        await second.set_viewport_size(PHONE)
        second.on("pageerror", lambda exc: errors.append(f"phone 2: {exc}"))
        await second.goto(f"{dfr.url}{short.json()['url']}")
        await _frames(second, 2)
        await _expired(second)
        await expect(second.locator("#expired-detail")).to_contain_text("ask the RTCC")
        await second.screenshot(path=screenshot_path("officer-link-expired.png"))

        trail = dfr.service.audit
        assert trail is not None
        actions = [(r.actor, r.action, r.outcome) for r in trail.records() if "link" in r.action]
        assert ("pia", "viewer_link_created", "ok") in actions
        assert ("pia", "viewer_link_revoked", "ok") in actions
        assert sum(a == "viewer_link_opened" and o == "ok" for _, a, o in actions) == 2
        video = [r for r in trail.records() if r.action == "video_watch"]
        assert any(r.actor.startswith("link:") for r in video)
        assert PILOT not in str([r.to_json() for r in trail.records()])
    assert errors == []


async def test_where_the_agency_says_so_the_officer_signs_in_before_the_link_opens(
    tmp_path: Path,
) -> None:
    """viewer_links_need_sign_in: the link's page asks the officer to sign in (with the
    system use notice), then shows the drone's video; signed out, it asks again."""
    errors: list[str] = []
    async with AsyncExitStack() as stack:
        dfr = await stack.enter_async_context(
            _site_with_camera(stack, tmp_path, {"viewer_links_need_sign_in": True})
        )
        await dfr.service.accounts.add("olive", Role.VIEWER, datetime.now(UTC), PASSWORD)
        shared = await dfr.client.post(
            "/api/v1/viewer-links", json={"drone_id": "far", "label": "Unit 7"}
        )
        assert shared.status_code == 201, shared.text

        browser = await stack.enter_async_context(chromium())
        phone = await browser.new_page()
        await phone.set_viewport_size(PHONE)
        phone.on("pageerror", lambda exc: errors.append(f"phone: {exc}"))
        await phone.goto(f"{dfr.url}{shared.json()['url']}")
        await expect(phone.locator("#signin")).to_be_visible()
        await expect(phone.locator("#signin-notice-text")).to_contain_text("Authorized use only")
        assert "dfrv_" not in phone.url
        await phone.screenshot(path=screenshot_path("officer-link-sign-in.png"))
        await phone.fill("#signin-username", "olive")
        await phone.fill("#signin-password", "not the password")
        await phone.click("#signin-submit")
        await expect(phone.locator("#signin-error")).to_be_visible()
        await phone.fill("#signin-username", "olive")
        await phone.fill("#signin-password", PASSWORD)
        await phone.click("#signin-submit")
        await expect(phone.locator("#signin")).to_be_hidden()
        await _frames(phone, 3)
        await expect(phone.locator("#link-label")).to_contain_text("Unit 7")

        # signed out elsewhere in this browser: the page stops its video and asks again
        out = await phone.evaluate(
            "async () => (await fetch('/api/v1/session', {method: 'DELETE'})).status"
        )
        assert out in (200, 204)
        await expect(phone.locator("#signin")).to_be_visible(timeout=30_000)
        await phone.wait_for_function("() => window.dfrViewer.videoOpen === false")
        opened = [
            (r.actor, r.outcome)
            for r in (dfr.service.audit.records() if dfr.service.audit else [])
            if r.action == "viewer_link_opened"
        ]
        assert opened == [("anonymous", "refused"), ("olive", "ok")]
    assert errors == []
