"""The console, the viewer and /docs run in real Chromium under the content security
policy every answer carries, with no violation; the docs page renders the operations from
our own Swagger UI files."""

from __future__ import annotations

from typing import Any

from playwright.async_api import BrowserContext, Page

from tests.e2e.browser import RunningService

LISTEN = """() => {
  window.__violations = [];
  document.addEventListener("securitypolicyviolation", (e) =>
    window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
}"""


async def open_watched(browser: BrowserContext, url: str) -> tuple[Page, list[str]]:
    page = await browser.new_page()
    problems: list[str] = []

    def on_console(message: Any) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    await page.add_init_script(LISTEN.removeprefix("() => {").removesuffix("}"))
    response = await page.goto(url)
    assert response is not None and response.ok, url
    assert "default-src 'self'" in response.headers["content-security-policy"]
    return page, problems


async def violations(page: Page, problems: list[str]) -> list[str]:
    seen: list[str] = await page.evaluate("window.__violations || []")
    return seen + problems


async def test_console_runs_under_the_policy(
    browser: BrowserContext, service: RunningService
) -> None:
    page, problems = await open_watched(browser, service.console_url(service.pilot_token))
    await page.wait_for_selector("#console:not([hidden])")
    await page.wait_for_selector("#conn-events[data-state='open']")
    await page.wait_for_selector(".leaflet-container")
    await page.wait_for_timeout(500)  # let the map and the sockets settle
    assert await violations(page, problems) == []


async def test_viewer_runs_under_the_policy(
    browser: BrowserContext, service: RunningService
) -> None:
    url = f"{service.base_url}/view.html?drone=fw1#token={service.viewer_token}"
    page, problems = await open_watched(browser, url)
    await page.wait_for_selector("#banner")
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(11, 14, 18)"  # view.css applied
    await page.wait_for_timeout(1000)
    assert await violations(page, problems) == []


async def test_docs_render_the_operations(browser: BrowserContext, service: RunningService) -> None:
    page, problems = await open_watched(
        browser, f"{service.base_url}/docs?token={service.pilot_token}"
    )
    await page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    paths = await page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/calls" in p for p in paths), paths
    assert await violations(page, problems) == []
