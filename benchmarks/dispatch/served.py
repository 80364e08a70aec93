"""The real service under a real uvicorn on 127.0.0.1, for the service benchmarks.

``async with served(settings, site) as (service, base_url):`` starts the service's
lifespan through uvicorn on a free port (``settings.port`` 0) and stops both on exit.
Also: free UDP port ranges and process CPU from ``/proc`` (psutil is not installed).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator

import uvicorn
from starlette.types import ASGIApp

from dfr.api.app import create_app
from dfr.config import Settings
from dfr.service import Service
from dfr.site import Site

CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def free_udp_base(count: int, *, start: int = 30_000, stop: int = 60_000, step: int = 997) -> int:
    """A port ``p`` such that 127.0.0.1:p .. p+count-1 are all free for UDP right now."""
    for base in range(start, stop - count, step):
        sockets: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sockets.append(s)
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
        return base
    raise RuntimeError(f"no {count} consecutive free UDP ports between {start} and {stop}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (``/proc/<pid>/stat`` fields 14, 15)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S


@contextlib.asynccontextmanager
async def serve_app(app: ASGIApp, *, startup_timeout_s: float = 120.0) -> AsyncIterator[str]:
    """Real uvicorn for ``app`` on 127.0.0.1, a free port; yields the base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_config=None,
        lifespan="on",
        ws_ping_interval=None,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    async with asyncio.TaskGroup() as tg:
        serving = tg.create_task(server.serve(), name="bench: uvicorn")
        try:
            async with asyncio.timeout(startup_timeout_s):
                while not server.started:
                    if serving.done():
                        raise RuntimeError("uvicorn stopped during start-up")
                    await asyncio.sleep(0.05)
            port = next(s.getsockname()[1] for srv in server.servers for s in srv.sockets)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True


@contextlib.asynccontextmanager
async def served(settings: Settings, site: Site) -> AsyncIterator[tuple[Service, str]]:
    """The service (its lifespan run by uvicorn) on 127.0.0.1, a free port."""
    service = Service(settings, site)
    async with serve_app(create_app(settings, site, service=service)) as base_url:
        yield service, base_url
