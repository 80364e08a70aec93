"""Fixtures shared by the browser tests: a Chromium context and the service alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext

from tests.e2e.browser import RunningService, chromium, running_service


@pytest.fixture
async def browser() -> AsyncIterator[BrowserContext]:
    """Debian's headless Chromium with a fresh profile."""
    async with chromium() as context:
        yield context


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[RunningService]:
    """The real service under uvicorn, no fleet (tests that fly override this)."""
    async with running_service(tmp_path) as running:
        yield running
