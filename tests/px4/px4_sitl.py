"""Real PX4 SITL for the tests marked ``px4``: N SIH quadrotors on PX4 SITL's ports.

The PX4 build lives outside the repository (see the README, "Real PX4 SITL"). Its
directory (``…/build/px4_sitl_default``) is named by ``DFR_PX4_BUILD_DIR``; without it
the ``px4`` tests are not collected as runnable and say why.

Each instance *i* runs ``px4 -d -i i -w DIR/i BUILD/etc`` with PX4's own SIH start-up
(``PX4_SYS_AUTOSTART=10040``, headless), its home from ``PX4_HOME_LAT/LON/ALT`` (PX4's
``px4-rc.sihsim`` turns them into ``SIH_LOC_*``), and any parameter as
``PX4_PARAM_<NAME>`` (applied by PX4's ``rcS`` after the airframe). MAV_SYS_ID is *i*+1;
the API link sends to 127.0.0.1:14540+*i*, which is where a site's ``udpin://…:14540+i``
listens. Ports cannot be shifted: only one PX4 fleet runs at a time on a machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BUILD_DIR_ENV = "DFR_PX4_BUILD_DIR"
READY_LINE = "Ready for takeoff"
# With a data-link loss action set, PX4 refuses to arm until a GCS is heard ("Preflight
# Fail: No connection to the GCS"), so it never says READY_LINE before the service
# connects: such a fleet is taken as up once the start-up script has run.
STARTED_LINE = "Startup script returned successfully"


def build_dir() -> Path | None:
    """The PX4 build named by ``DFR_PX4_BUILD_DIR``, if it holds a px4 binary."""
    value = os.environ.get(BUILD_DIR_ENV, "")
    if not value:
        return None
    path = Path(value)
    return path if (path / "bin" / "px4").is_file() else None


@dataclass(frozen=True, slots=True)
class Px4Home:
    lat_deg: float
    lon_deg: float
    alt_amsl_m: float


@dataclass
class Px4Instance:
    index: int
    process: asyncio.subprocess.Process
    work_dir: Path
    lines: list[str] = field(default_factory=list)

    @property
    def sysid(self) -> int:
        return self.index + 1

    def log_text(self) -> str:
        return "\n".join(self.lines)


def ready_line(params: Mapping[str, float | int] | None) -> str:
    """The log line after which an instance started with ``params`` is up."""
    gcs_required = float((params or {}).get("NAV_DLL_ACT", 0)) > 0
    return STARTED_LINE if gcs_required else READY_LINE


async def _read_lines(instance: Px4Instance, ready: asyncio.Event, ready_text: str) -> None:
    stream = instance.process.stdout
    assert stream is not None
    while line := await stream.readline():
        text = line.decode(errors="replace").rstrip()
        instance.lines.append(text)
        if ready_text in text:
            ready.set()


# PX4's ports are fixed: test processes running side by side (pytest-xdist workers)
# take turns through this lock, held while a fleet is up.
FLEET_LOCK = Path(tempfile.gettempdir()) / "dfr-px4-sitl-fleet.lock"


@contextlib.asynccontextmanager
async def _fleet_turn() -> AsyncIterator[None]:
    with FLEET_LOCK.open("a") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:  # another process's fleet is flying
                await asyncio.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.asynccontextmanager
async def px4_fleet(
    build: Path,
    homes: Sequence[Px4Home],
    work_root: Path,
    *,
    params: Mapping[str, float | int] | None = None,
    ready_timeout_s: float = 90.0,
) -> AsyncIterator[list[Px4Instance]]:
    """Start one PX4 SIH instance per home, wait until each is up (``ready_line``), stop
    on exit (SIGTERM, then SIGKILL after 10 s). One fleet at a time on the machine."""
    async with _fleet_turn(), _fleet(build, homes, work_root, params, ready_timeout_s) as up:
        yield up


@contextlib.asynccontextmanager
async def _fleet(
    build: Path,
    homes: Sequence[Px4Home],
    work_root: Path,
    params: Mapping[str, float | int] | None,
    ready_timeout_s: float,
) -> AsyncIterator[list[Px4Instance]]:
    ready_text = ready_line(params)
    instances: list[Px4Instance] = []
    readers: list[asyncio.Task[None]] = []
    try:
        for i, home in enumerate(homes):
            work = work_root / str(i)
            shutil.rmtree(work, ignore_errors=True)  # parameters.bson would keep an old home
            work.mkdir(parents=True)
            env = {
                key: value
                for key, value in os.environ.items()
                if not key.startswith(("PX4_HOME_", "PX4_PARAM_"))
            }
            env.update(
                HEADLESS="1",
                PX4_SYS_AUTOSTART="10040",
                PX4_SIM_MODEL="sihsim_quadx",
                PX4_SIMULATOR="sihsim",
                PX4_HOME_LAT=repr(home.lat_deg),
                PX4_HOME_LON=repr(home.lon_deg),
                PX4_HOME_ALT=repr(home.alt_amsl_m),
            )
            for name, value in (params or {}).items():
                env[f"PX4_PARAM_{name}"] = str(value)
            process = await asyncio.create_subprocess_exec(
                str(build / "bin" / "px4"),
                "-d",
                "-i",
                str(i),
                "-w",
                str(work),
                str(build / "etc"),
                cwd=work,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
            instance = Px4Instance(i, process, work)
            instances.append(instance)
            ready = asyncio.Event()
            readers.append(
                asyncio.create_task(_read_lines(instance, ready, ready_text), name=f"px4 {i}: log")
            )
            try:
                async with asyncio.timeout(ready_timeout_s):
                    await ready.wait()
            except TimeoutError:
                raise RuntimeError(
                    f"PX4 instance {i} not ready after {ready_timeout_s:.0f} s:\n"
                    + instance.log_text()[-3000:]
                ) from None
        yield instances
    finally:
        for instance in instances:
            if instance.process.returncode is None:
                instance.process.send_signal(signal.SIGTERM)
        for instance in instances:
            try:
                async with asyncio.timeout(10.0):
                    await instance.process.wait()
            except TimeoutError:
                instance.process.kill()
                await instance.process.wait()
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
