"""A link worker: a process of its own running the MAVSDK links of some of the site's
drones, for the service that started it (``python -m dfr.fleet.link_worker``).

MAVSDK holds a fixed number of MAVLink channels per process (16) and hands every message
from its own native threads to the interpreter; past a dozen drones one process can hold
neither the links nor the hand-offs. So the service runs the links in workers of a few
drones each (:mod:`dfr.fleet.link_workers`) and each worker is this module: the first line
on stdin says which drones (``{"k": "start", "drones": [{"id", "url", "sysid"}, ...],
"position_rate_hz", "log_level"}``); then every line on stdin is a command for one of them
and every line on stdout is what the links report (:mod:`dfr.fleet.link_wire`). Logs go
to stderr, which is the service's.

The worker ends when stdin closes (the service stopped it, or died: the pipe closes with
the process), and the kernel ends it if the service is killed while it is busy
(``PR_SET_PDEATHSIG``), so no worker outlives its service holding the drones' UDP ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dfr.fleet.drone_state import DroneState
from dfr.fleet.link import DroneLink
from dfr.fleet.link_outbox import Outbox, shrink_pipe
from dfr.fleet.link_types import LinkWarning, MissionProgress
from dfr.fleet.link_wire import (
    COMMANDS,
    JSON,
    MISSION_COMMANDS,
    error_out,
    items_in,
    limits_out,
    parse,
    state_out,
    warning_out,
)
from dfr.planning.vehicle_limits import VehicleLimits

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
READ_LIMIT_BYTES = 1 << 22  # a mission of a few thousand items on one line


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the service that started it dies."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return  # not Linux: stdin's end still stops the worker
    if os.getppid() != parent:  # the parent died before the prctl took
        os._exit(1)


class ServiceGone(Exception):
    """stdin closed: the service stopped this worker (or died)."""


class Worker:
    def __init__(self, start: JSON, out: asyncio.StreamWriter) -> None:
        self.outbox = Outbox(out)
        rate_hz = float(start.get("position_rate_hz", 10.0))
        self.links = {
            d["id"]: DroneLink(
                d["id"],
                d["url"],
                on_state=self._state,
                on_status_text=self._bind_text(d["id"]),
                on_mission_progress=self._bind_progress(d["id"]),
                on_limits=self._bind_limits(d["id"]),
                on_link_warning=self._bind_warning(d["id"]),
                sysid=int(d["sysid"]),
                position_rate_hz=rate_hz,
            )
            for d in start["drones"]
        }

    def send(self, message: JSON) -> None:
        self.outbox.other(message)

    # -- what the links report --------------------------------------------------------

    def _state(self, state: DroneState) -> None:
        self.outbox.state(
            state.drone_id, {"k": "state", "d": state.drone_id, "s": state_out(state)}
        )

    def _bind_text(self, drone_id: str) -> Any:
        def took(severity: str, message: str) -> None:
            self.send({"k": "text", "d": drone_id, "severity": severity, "message": message})

        return took

    def _bind_progress(self, drone_id: str) -> Any:
        def took(progress: MissionProgress) -> None:
            self.send({"k": "progress", "d": drone_id, "c": progress.current, "t": progress.total})

        return took

    def _bind_limits(self, drone_id: str) -> Any:
        def took(limits: VehicleLimits) -> None:
            self.send({"k": "limits", "d": drone_id, "limits": limits_out(limits)})

        return took

    def _bind_warning(self, drone_id: str) -> Any:
        def took(warning: LinkWarning) -> None:
            self.send({"k": "warning", "d": drone_id, "w": warning_out(warning)})

        return took

    # -- what the service asks ----------------------------------------------------------

    async def run(self, commands: asyncio.StreamReader) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self.outbox.run(), name="outbox")
            for drone_id, link in self.links.items():
                tg.create_task(link.run(), name=f"{drone_id}: link")
            self.send({"k": "hello", "pid": os.getpid(), "drones": list(self.links)})
            while raw := await commands.readline():
                message = parse(raw)
                tg.create_task(self._call(message), name=f"call {message.get('id')}")
            logger.info("link worker %d: the service closed its pipe; stopping", os.getpid())
            raise ServiceGone  # ends the group: every link's session closes

    async def _call(self, message: JSON) -> None:
        call_id, drone_id, method = message["id"], message["d"], message["m"]
        args: list[Any] = list(message.get("a", []))
        try:
            link = self.links[drone_id]
            if method not in COMMANDS:
                raise ValueError(f"{method!r} is not a link command")
            if method in MISSION_COMMANDS:
                args = [items_in(args[0])]
            await getattr(link, method)(*args)
        except Exception as exc:
            self.send({"k": "reply", "id": call_id, "error": error_out(exc)})
        else:
            self.send({"k": "reply", "id": call_id, "ok": True})


async def _pipes() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=READ_LIMIT_BYTES)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    shrink_pipe(sys.stdout.fileno())
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, sys.stdout
    )
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    return reader, writer


async def _main() -> None:
    reader, writer = await _pipes()
    first = await reader.readline()
    if not first:
        return
    start = parse(first)
    logging.basicConfig(
        level=start.get("log_level", "INFO"),
        stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s link-worker[{os.getpid()}] %(name)s: %(message)s",
    )
    # MAVSDK's asyncio wrapper runs each blocking call in the default executor
    loop = asyncio.get_running_loop()
    drones = len(start["drones"])
    loop.set_default_executor(
        ThreadPoolExecutor(max_workers=4 + 3 * drones, thread_name_prefix="dfr-mavsdk")
    )
    worker = Worker(start, writer)
    try:
        await worker.run(reader)
    except* (ServiceGone, BrokenPipeError, ConnectionResetError):
        pass  # stopped by the service, or the service is gone


def main() -> None:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the service's to handle
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the service is gone
        asyncio.run(_main())
    # MAVSDK's native threads can outlive the interpreter's shutdown: leave without waiting
    os._exit(0)


if __name__ == "__main__":
    main()
