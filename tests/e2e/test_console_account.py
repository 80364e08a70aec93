"""People sign in to the console in real Chromium against the real service: user name,
password and authenticator code, under the system use notice the form shows first; the
session is an HttpOnly cookie the page cannot read; the live streams open on it; signing
out ends it; a console left alone locks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest
from playwright.async_api import BrowserContext, Page, expect

from dfr.audit.trail import open_audit_trail
from dfr.auth.accounts import Accounts
from dfr.auth.tokens import Role
from dfr.config import DEFAULT_SYSTEM_USE_NOTICE
from dfr.store import SqliteStore
from tests.e2e.browser import RunningService, running_service

pytestmark = pytest.mark.timeout(120)

PASSWORD = "a long pass phrase for the console 7"


async def _person(data_dir: Path, username: str, role: Role) -> str:
    """A new account in the running service's store; its TOTP secret ('' for viewers)."""
    async with SqliteStore(data_dir / "dfr.db") as store:
        new = await Accounts(store).add(username, role, datetime.now(UTC), PASSWORD)
    return new.account.totp_secret or ""


async def _sign_in(page: Page, username: str, code: str) -> None:
    await page.fill("#signin-username", username)
    await page.fill("#signin-password", PASSWORD)
    await page.fill("#signin-code", code)
    await page.click("#signin-submit")


async def _opened(browser: BrowserContext, url: str, errors: list[str]) -> Page:
    page = await browser.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(url)
    return page


async def test_a_pilot_signs_in_with_a_code_and_the_session_stays_out_of_reach(
    service: RunningService, browser: BrowserContext, tmp_path: Path
) -> None:
    secret = await _person(tmp_path / "data", "pia", Role.PILOT)
    errors: list[str] = []
    page = await _opened(browser, service.console_url(), errors)
    await expect(page.locator("#signin-username")).to_be_visible()
    # the system use notice is on the form, in full, before anyone signs in
    notice = page.locator("#signin-form #signin-notice")
    await expect(notice).to_be_visible()
    await expect(notice).to_contain_text("System use notice")
    await expect(page.locator("#signin-notice-text")).to_have_text(DEFAULT_SYSTEM_USE_NOTICE)
    await expect(page.locator("#signin-submit")).to_be_enabled()

    await _sign_in(page, "pia", "000000")  # a wrong code
    await expect(page.locator("#signin-error")).to_contain_text("not accepted")
    await expect(page.locator("#console")).to_be_hidden()

    await _sign_in(page, "pia", pyotp.TOTP(secret).now())
    await expect(page.locator("#console")).to_be_visible()
    await expect(page.locator("#role")).to_have_attribute("data-can-command", "true")
    await expect(page.locator("#conn-events")).to_have_attribute("data-state", "open")
    await expect(page.locator("#conn-telemetry")).to_have_attribute("data-state", "open")
    # the session is an HttpOnly cookie: no script of the page can read or leak it
    assert "dfr_session" not in await page.evaluate("document.cookie")
    assert await page.evaluate("sessionStorage.getItem('dfr.token')") is None
    await page.screenshot(path=str(tmp_path / "signed-in.png"))
    trail = open_audit_trail(tmp_path / "data")
    try:
        sign_ins = [r for r in trail.records() if r.action == "sign_in" and r.outcome == "ok"]
    finally:
        trail.close()
    assert [r.detail["notice_acknowledged"] for r in sign_ins] == [True]  # sent from the form

    again = await _opened(browser, service.console_url(), errors)  # a new tab: still signed in
    await expect(again.locator("#console")).to_be_visible()
    await again.close()

    await page.click("#signout")
    await expect(page.locator("#signin-username")).to_be_visible()
    answer = await page.evaluate("fetch('/api/v1/me').then((r) => r.status)")
    assert answer == 401  # the cookie's session ended on the service, not only in the page
    assert errors == []


async def test_a_console_nobody_uses_locks_and_says_so(
    browser: BrowserContext, tmp_path: Path
) -> None:
    words = "Example City Police: authorized users only.\n\nEverything you do here is logged."
    async with running_service(
        tmp_path, session_idle_s=4.0, session_check_s=0.5, system_use_notice=words
    ) as served:
        await _person(tmp_path / "data", "val", Role.VIEWER)
        errors: list[str] = []
        page = await _opened(browser, served.console_url(), errors)
        await expect(page.locator("#signin-notice-text")).to_have_text(words)  # the agency's
        await page.fill("#signin-username", "val")
        await page.fill("#signin-password", PASSWORD)
        await page.click("#signin-submit")
        await expect(page.locator("#console")).to_be_visible()
        await expect(page.locator("#conn-events")).to_have_attribute("data-state", "open")
        # it keeps refreshing by itself, but nobody uses it: it locks
        error = page.locator("#signin-error")
        await expect(error).to_contain_text("locked after 4 seconds idle", timeout=30_000)
        await expect(page.locator("#console")).to_be_hidden()
        await page.screenshot(path=str(tmp_path / "locked.png"))
        assert errors == []
