"""Stopping a child process a test started: SIGTERM, then SIGKILL if it does not end."""

from __future__ import annotations

import asyncio
import signal
from asyncio.subprocess import Process


async def stop_child(child: Process, grace_s: float = 15.0) -> None:
    """End ``child`` unless it has ended (or the test killed it already)."""
    if child.returncode is not None:
        return
    child.send_signal(signal.SIGTERM)
    try:
        async with asyncio.timeout(grace_s):
            await child.wait()
    except TimeoutError:
        child.kill()
        await child.wait()
