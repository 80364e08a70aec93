"""The service's link workers: the drones' MAVSDK links in processes of their own, a few
drones per process (``link_worker_drones``), started and supervised by the service.

Each :class:`LinkWorker` owns one process (``python -m dfr.fleet.link_worker``) and the
:class:`~dfr.fleet.remote_link.RemoteDroneLink` of each of its drones: it reads what the
process reports and hands it to the links, and sends their commands and waits for the
answers. Exactly one worker owns each drone. When the process dies, its drones' links
show lost, commands waiting for it fail with a :class:`~dfr.errors.LinkError`, and it is
started again after a backoff (reset once a worker has run for a while).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import sys
import time
from collections.abc import Sequence
from typing import Any

from dfr.errors import CommandTimeout, LinkError
from dfr.fleet.link_types import MissionProgress
from dfr.fleet.link_wire import (
    JSON,
    error_in,
    limits_in,
    line,
    parse,
    state_in,
    warning_in,
)
from dfr.fleet.remote_link import RemoteDroneLink

logger = logging.getLogger(__name__)

RESTART_DELAYS_S = (0.5, 1.0, 2.0, 5.0, 10.0)
STABLE_AFTER_S = 30.0  # a worker that ran this long starts its backoff afresh
STOP_WAIT_S = 3.0  # after its stdin closes, before it is killed
# No MAVSDK command the links send waits this long (a mission upload retries for ~10 s):
# past it the worker is stuck, and the outcome is unknown.
COMMAND_ANSWER_S = 60.0
READ_LIMIT_BYTES = 1 << 22


def share_out(drone_ids: Sequence[str], per_worker: int) -> list[list[str]]:
    """The drones in site order, ``per_worker`` to a worker (the last takes the rest)."""
    if per_worker < 1:
        raise ValueError(f"per_worker must be at least 1, not {per_worker}")
    ids = list(drone_ids)
    return [ids[i : i + per_worker] for i in range(0, len(ids), per_worker)]


class LinkWorker:
    def __init__(
        self,
        index: int,
        links: Sequence[RemoteDroneLink],
        *,
        position_rate_hz: float,
        log_level: str = "INFO",
    ) -> None:
        self.index = index
        self.links = {link.drone_id: link for link in links}
        self.name = f"link worker {index} ({', '.join(self.links)})"
        self.pid: int | None = None
        self.starts = 0  # processes started so far (1 + restarts)
        self._start = {
            "k": "start",
            "drones": [{"id": r.drone_id, "url": r.url, "sysid": r.sysid} for r in links],
            "position_rate_hz": position_rate_hz,
            "log_level": log_level,
        }
        self._proc: asyncio.subprocess.Process | None = None
        self._pending: dict[int, tuple[str, str, asyncio.Future[None]]] = {}
        self._ids = itertools.count(1)

    # -- supervision -------------------------------------------------------------------

    async def run(self) -> None:
        """Keep the worker process running until cancelled (then stop it)."""
        attempt = 0
        while True:
            started = time.monotonic()
            outcome = "ended"
            try:
                outcome = await self._session()
            except Exception as exc:  # could not start it, or it spoke nonsense
                outcome = f"failed: {exc}"
            self._gone(outcome)
            if time.monotonic() - started > STABLE_AFTER_S:
                attempt = 0
            delay = RESTART_DELAYS_S[min(attempt, len(RESTART_DELAYS_S) - 1)]
            attempt += 1
            logger.warning("%s %s; starting it again in %.1f s", self.name, outcome, delay)
            await asyncio.sleep(delay)

    async def _session(self) -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "dfr.fleet.link_worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=READ_LIMIT_BYTES,
        )
        self.starts += 1
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(line(self._start))
            while raw := await proc.stdout.readline():
                self._took(parse(raw), proc)
            code = await proc.wait()
            return f"exited (status {code})"
        finally:
            self._proc = None
            await self._stop(proc)

    async def _stop(self, proc: asyncio.subprocess.Process) -> None:
        if proc.returncode is not None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # the worker's signal to stop: its links close their sessions
        try:
            async with asyncio.timeout(STOP_WAIT_S):
                await proc.wait()
        except TimeoutError:
            logger.warning("%s did not stop in %.0f s: killing it", self.name, STOP_WAIT_S)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    def _gone(self, outcome: str) -> None:
        self.pid = None
        pending, self._pending = self._pending, {}
        for drone_id, method, future in pending.values():
            if not future.done():
                future.set_exception(
                    LinkError(drone_id, f"{method}: its link worker {outcome} before answering")
                )
        for link in self.links.values():
            link.worker_gone()

    # -- what the process reports ------------------------------------------------------

    def _took(self, message: JSON, proc: asyncio.subprocess.Process) -> None:
        kind = message.get("k")
        if kind == "reply":
            self._answered(message)
            return
        if kind == "hello":
            self._proc, self.pid = proc, int(message["pid"])
            for each in self.links.values():
                each.attach(self, self.pid)
            logger.info("%s: running as pid %d", self.name, self.pid)
            return
        link = self.links.get(message.get("d", ""))
        if link is None:
            logger.warning("%s: a message for no drone of its own: %.200s", self.name, message)
            return
        if kind == "state":
            link.took_state(state_in(message["s"]))
        elif kind == "text":
            link.took_text(message["severity"], message["message"])
        elif kind == "progress":
            link.took_progress(MissionProgress(message["c"], message["t"]))
        elif kind == "limits":
            link.took_limits(limits_in(message["limits"]))
        elif kind == "warning":
            link.took_warning(warning_in(message["w"]))
        else:
            logger.warning("%s: unknown message %.200s", self.name, message)

    def _answered(self, message: JSON) -> None:
        entry = self._pending.pop(message["id"], None)
        if entry is None:
            return  # its caller stopped waiting
        drone_id, _method, future = entry
        if future.done():
            return
        if message.get("ok"):
            future.set_result(None)
        else:
            future.set_exception(error_in(message.get("error", {}), drone_id))

    # -- commands ----------------------------------------------------------------------

    async def call(self, drone_id: str, method: str, args: list[Any]) -> None:
        """Run one link command in the worker; raises what the link raised there."""
        proc = self._proc
        if proc is None or proc.stdin is None:
            raise LinkError(drone_id, "its link worker is starting: cannot send commands")
        call_id = next(self._ids)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = (drone_id, method, future)
        try:
            proc.stdin.write(
                line({"k": "call", "id": call_id, "d": drone_id, "m": method, "a": args})
            )
            async with asyncio.timeout(COMMAND_ANSWER_S):
                await future
        except TimeoutError as exc:
            raise CommandTimeout(
                drone_id,
                method,
                "TIMEOUT",
                f"no answer from its link worker in {COMMAND_ANSWER_S:.0f} s",
            ) from exc
        finally:
            self._pending.pop(call_id, None)
