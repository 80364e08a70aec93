"""The console in real Chromium against the real service: signing in and roles."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.e2e.browser import RunningService

pytestmark = pytest.mark.timeout(120)


async def open_page(browser: BrowserContext, url: str, errors: list[str]) -> Page:
    page = await browser.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(url)
    return page


async def test_fragment_token_signs_in_and_leaves_the_address_bar(
    service: RunningService, browser: BrowserContext, tmp_path: Path
) -> None:
    errors: list[str] = []
    page = await open_page(browser, service.console_url(service.pilot_token), errors)
    await expect(page.locator("#console")).to_be_visible()
    await expect(page.locator("#signin")).to_be_hidden()
    assert "token" not in page.url
    assert await page.evaluate("sessionStorage.getItem('dfr.token')") == service.pilot_token
    await expect(page.locator("#role")).to_contain_text("pilot")
    await expect(page.locator("#conn-events")).to_have_attribute("data-state", "open")
    await expect(page.locator("#conn-telemetry")).to_have_attribute("data-state", "open")
    # a reload stays signed in (sessionStorage), without the token in the URL
    await page.reload()
    await expect(page.locator("#console")).to_be_visible()
    await expect(page.locator("#role")).to_contain_text("pilot")
    await page.screenshot(path=str(tmp_path / "console.png"))
    assert errors == []


async def test_bad_token_shows_a_clear_sign_in_error(
    service: RunningService, browser: BrowserContext
) -> None:
    errors: list[str] = []
    page = await open_page(browser, service.console_url("not-a-real-token-at-all-000"), errors)
    error = page.locator("#signin-error")
    await expect(error).to_be_visible()
    await expect(error).to_contain_text("refused this token")
    await expect(page.locator("#console")).to_be_hidden()
    assert await page.evaluate("sessionStorage.getItem('dfr.token')") is None
    # then the right token typed into the form signs in
    await page.fill("#signin-token", service.pilot_token)
    await page.press("#signin-token", "Enter")
    await expect(page.locator("#console")).to_be_visible()
    await expect(page.locator("#signin-error")).to_be_hidden()
    assert errors == []


async def test_viewer_token_hides_launch_and_command_controls(
    service: RunningService, browser: BrowserContext
) -> None:
    errors: list[str] = []
    page = await open_page(browser, service.console_url(service.viewer_token), errors)
    await expect(page.locator("#role")).to_contain_text("read only")
    await expect(page.locator("#role")).to_have_attribute("data-can-command", "false")
    await expect(page.locator("#flight-controls")).to_be_hidden()
    await expect(page.locator("button.launch")).to_have_count(0)
    # the picture is still there for a viewer
    await expect(page.locator("#fleet tr")).to_have_count(4)

    pilot = await open_page(browser, service.console_url(service.pilot_token), errors)
    await expect(pilot.locator("#role")).to_have_attribute("data-can-command", "true")
    await expect(pilot.locator("#flight-controls")).to_be_visible()
    assert errors == []
