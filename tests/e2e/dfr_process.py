"""``dfr`` commands as processes of their own, for tests that kill them (SIGKILL)."""

from __future__ import annotations

import asyncio
import os
import sys
from asyncio.subprocess import Process
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from tests.child_stop import stop_child
from tests.e2e.harness import PILOT, free_tcp_port


def child_env(settings: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without its ``DFR_`` settings, with ``settings`` instead."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DFR_")}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    env.update(settings or {})
    return env


@asynccontextmanager
async def dfr_process(
    args: list[str], log: Path, cwd: Path, settings: Mapping[str, str] | None = None
) -> AsyncIterator[Process]:
    """``python -m dfr.cli ARGS`` with its output in ``log`` and ``settings`` (``DFR_…``)
    in its environment; stopped at the end (SIGTERM, then SIGKILL) unless the test killed
    it first."""
    with log.open("ab") as out:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "dfr.cli",
            *args,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            cwd=cwd,
            env=child_env(settings),
        )
    try:
        yield child
    finally:
        await stop_child(child)


def serve_args(site: Path, data: Path, offset: int) -> list[str]:
    """``dfr serve`` on ``site`` with the test pilot token, on a free port."""
    return [
        "serve",
        "--site",
        str(site),
        "--data-dir",
        str(data),
        "--port",
        str(free_tcp_port()),
        "--token",
        PILOT,
        "--port-offset",
        str(offset),
    ]


def url_of(args: list[str]) -> str:
    return f"http://127.0.0.1:{args[args.index('--port') + 1]}"
