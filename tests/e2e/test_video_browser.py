"""The officer's viewer (web/view.html) in real headless Chromium (Debian's, with H.264)
against the real service fed by a simulated camera over real UDP: the stream plays through
Media Source Extensions and through WebCodecs, the page reads each frame's capture time
(SEI) and shows a latency, the telemetry readouts fill in, a refused token shows the error
state, and the player comes back after the camera stops and starts again."""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import BrowserContext, Page, expect

from dfr.site import load_site
from sitl.camera import CameraPose, SimCamera
from tests.e2e.browser import RunningService, running_service

pytestmark = pytest.mark.timeout(120)

CAMERA_SIZE_PX = (320, 180)  # small: the machine is shared
CAMERA_FPS = 15.0
FRAME_WAIT_MS = 30_000  # generous: a loaded machine decodes late, never wrongly


@dataclass(frozen=True, slots=True)
class VideoSetup:
    service: RunningService
    camera: SimCamera
    drone_id: str

    def viewer_url(self, mode: str, token: str | None = None) -> str:
        token = token or self.service.viewer_token
        return f"{self.service.base_url}/view.html?drone={self.drone_id}&mode={mode}#token={token}"


@asynccontextmanager
async def video_setup(tmp_path: Path) -> AsyncIterator[VideoSetup]:
    async with AsyncExitStack() as stack:
        service = await stack.enter_async_context(running_service(tmp_path))
        drone = load_site(tmp_path / "site").drones[0]
        address = urlsplit(drone.video_url)
        assert address.hostname == "127.0.0.1" and address.port is not None
        camera = SimCamera(
            drone.id,
            lambda: CameraPose(32.7555, -97.3308, 60.0, 90.0, 32.7556, -97.3307),
            ("127.0.0.1", address.port),
            width=CAMERA_SIZE_PX[0],
            height=CAMERA_SIZE_PX[1],
            fps=CAMERA_FPS,
        )
        await stack.enter_async_context(camera)
        yield VideoSetup(service, camera, drone.id)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[VideoSetup]:
    async with video_setup(tmp_path) as running:
        yield running


async def open_viewer(browser: BrowserContext, url: str, errors: list[str]) -> Page:
    page = await browser.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(url)
    return page


async def frames_shown(page: Page) -> int:
    return int(await page.evaluate("window.dfrViewer ? window.dfrViewer.framesShown : 0"))


async def wait_for_frames(page: Page, more_than: int) -> None:
    # a function, not an expression: Playwright evals an expression in the page, which
    # the page's content security policy (no 'unsafe-eval') refuses
    await page.wait_for_function(
        "(n) => window.dfrViewer && window.dfrViewer.framesShown > n"
        " && window.dfrViewer.latencyMs !== null",
        arg=more_than,
        timeout=FRAME_WAIT_MS,
    )


@pytest.mark.parametrize("mode", ["mse", "webcodecs"])
async def test_live_video_plays_and_shows_latency(
    setup: VideoSetup, browser: BrowserContext, mode: str, tmp_path: Path
) -> None:
    errors: list[str] = []
    page = await open_viewer(browser, setup.viewer_url(mode), errors)
    # the token left the address bar for this tab's sessionStorage
    assert "token" not in page.url
    assert await page.evaluate("sessionStorage.getItem('dfr.token')") == setup.service.viewer_token
    await wait_for_frames(page, 10)
    shown = await frames_shown(page)
    await wait_for_frames(page, shown + 10)  # still playing, not one burst
    viewer = await page.evaluate(
        "({mode: dfrViewer.mode, latency: dfrViewer.latencyMs, first: dfrViewer.firstFrameMs,"
        " samples: dfrViewer.latencySamplesMs.length, errors: dfrViewer.errors})"
    )
    assert viewer["mode"] == mode
    assert math.isfinite(viewer["latency"])  # a number from the frame's own SEI
    assert math.isfinite(viewer["first"]) and viewer["first"] > 0
    assert viewer["samples"] >= 10
    assert viewer["errors"] == []
    await expect(page.locator("#banner")).to_have_attribute("data-state", "live")
    await expect(page.locator("#latency")).to_have_text(re.compile(r"^-?\d+ ms$"))
    await expect(page.locator("#drone-id")).to_have_text(setup.drone_id)
    await expect(page.locator("#mode")).to_have_text("MSE" if mode == "mse" else "WebCodecs")
    # no vehicle answers in this test: the telemetry says so instead of inventing numbers
    await expect(page.locator("#phase")).to_contain_text("docked")
    await expect(page.locator("#battery")).to_have_text("—")
    if mode == "mse":
        painted = await page.evaluate(
            "document.getElementById('video').getVideoPlaybackQuality().totalVideoFrames"
        )
        assert painted > 10
    else:
        # the canvas holds the picture: not a blank (all-black) canvas
        lit = await page.evaluate(
            "(() => { const c = document.getElementById('canvas');"
            " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            " let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i] + d[i+1] + d[i+2];"
            " return s / (d.length / 4); })()"
        )
        assert lit > 20
    await page.screenshot(path=str(tmp_path / f"viewer-{mode}.png"))
    await page.set_viewport_size({"width": 390, "height": 844})  # a phone, upright
    await page.screenshot(path=str(tmp_path / f"viewer-{mode}-phone.png"))
    assert errors == []


async def test_refused_token_shows_the_error_state(
    setup: VideoSetup, browser: BrowserContext
) -> None:
    errors: list[str] = []
    page = await open_viewer(
        browser, setup.viewer_url("webcodecs", token="not-a-token-0123456789"), errors
    )
    await expect(page.locator("#banner")).to_have_attribute("data-state", "error")
    await expect(page.locator("#banner")).to_contain_text("token refused")
    assert await frames_shown(page) == 0
    assert errors == []


@pytest.mark.parametrize("mode", ["mse", "webcodecs"])
async def test_video_lost_then_back_without_reload(
    setup: VideoSetup, browser: BrowserContext, mode: str
) -> None:
    errors: list[str] = []
    page = await open_viewer(browser, setup.viewer_url(mode), errors)
    await wait_for_frames(page, 5)
    setup.camera.enabled = False
    await expect(page.locator("#banner")).to_have_attribute(
        "data-state", "lost", timeout=FRAME_WAIT_MS
    )
    await expect(page.locator("#banner")).to_contain_text("Video lost")
    shown = await frames_shown(page)
    setup.camera.enabled = True
    await wait_for_frames(page, shown + 5)
    assert await page.evaluate("dfrViewer.errors") == []
    await expect(page.locator("#banner")).to_have_attribute(
        "data-state", "live", timeout=FRAME_WAIT_MS
    )
    assert errors == []
