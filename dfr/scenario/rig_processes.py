"""The processes a self-started scenario runs: ``dfr sim`` (the simulated fleet) and
``dfr serve`` (the service), each ``python -m dfr.cli …`` with its output in a log file,
bound to 127.0.0.1, and always stopped (SIGTERM, then SIGKILL) on exit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The runner's environment without its own ``DFR_`` settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DFR_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env.update(extra)
    return env


class Child:
    """A ``dfr`` subcommand in a process of its own."""

    def __init__(self, name: str, args: Sequence[str], log: Path, env: Mapping[str, str]) -> None:
        self.name = name
        self.args = list(args)
        self.log = log
        self.env = dict(env)
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "dfr.cli",
                *self.args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                env=child_env(self.env),
            )
        logger.info("%s: started (pid %d)", self.name, self.process.pid)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def kill(self) -> int:
        """SIGKILL, as a crash would; the exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        status = await self.process.wait()
        logger.info("%s: killed (%d)", self.name, status)
        return status

    async def stop(self) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
        logger.info("%s: stopped (%s)", self.name, process.returncode)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


async def rig_key(data_dir: Path, log: Path) -> str:
    """A new API key of the rig preset on ``data_dir`` (``dfr key add``, as an operator
    makes one), for the runner to act with; the key text, shown once, from its output."""
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "dfr.cli",
            *("key", "add", "scenario-runner", "--preset", "rig", "--data-dir", str(data_dir)),
            *("--by", "dfr scenario run"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=out,
            env=child_env({}),
        )
        shown, _ = await process.communicate()
    found = re.search(r"key: (dfr_\S+)", shown.decode(errors="replace"))
    if process.returncode != 0 or found is None:
        raise RuntimeError(f"dfr key add failed ({process.returncode}): see {log}")
    return found.group(1)


@contextlib.asynccontextmanager
async def running(child: Child) -> AsyncIterator[Child]:
    await child.start()
    try:
        yield child
    finally:
        await asyncio.shield(child.stop())
