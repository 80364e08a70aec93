"""A real PostgreSQL for the tests, from Debian's server binaries
(``/usr/lib/postgresql/*/bin``; ``scripts/test`` installs the ``postgresql`` package).

One cluster per test process (each pytest-xdist worker has its own), started at the
first test that asks for it: ``initdb`` into a temporary directory, then ``postgres``
as a child listening on 127.0.0.1 on a free port, its unix socket in that directory,
nothing written to disk that a test would miss (``fsync=off``). Each test gets a fresh
database (``CREATE DATABASE``, tens of milliseconds, dropped after it). The cluster is
stopped and its directory removed at the end of the session; should the test process
die first, the kernel sends the server SIGQUIT (``setpriv --pdeathsig``) and it exits at
once, and the next session removes what it left. A cluster Debian's package may run on 5432 is not
used and not touched.

PostgreSQL refuses to run as root: as root (CI), the cluster runs as the ``postgres``
user the package makes, owning its directory.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

INSTALL_HINT = (
    "PostgreSQL's server binaries (initdb, postgres) are missing under "
    "/usr/lib/postgresql/*/bin: install Debian's package "
    "(apt-get install -y postgresql; scripts/test does it when run as root)"
)
SERVER_ROOT = Path("/usr/lib/postgresql")  # Debian's: one bin/ per major version
PREFIX = "dfr-pg-"
READY_TIMEOUT_S = 30.0
STALE_AFTER_S = 600.0  # a directory this old without a live server is a dead run's
USER = "dfr"  # the cluster's superuser; trust authentication, loopback and socket only


def server_binaries() -> Path:
    """The newest installed major version's bin directory; fails the test if none."""
    found = [
        path.parent
        for path in SERVER_ROOT.glob("*/bin/postgres")
        if (path.parent / "initdb").exists()
    ]
    if not found:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return max(found, key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(directory: Path) -> list[str]:
    """``setpriv`` options that run a command as the ``postgres`` user when we are root
    (``directory`` then becomes theirs); none otherwise."""
    if os.geteuid() != 0:
        return []
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail(f"running as root, and there is no 'postgres' user: {INSTALL_HINT}")
    os.chown(directory, user.pw_uid, user.pw_gid)
    return ["--reuid=postgres", "--regid=postgres", "--init-groups"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_clusters() -> None:
    """Remove the directories of earlier runs whose server is gone (the run died)."""
    for directory in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            if time.time() - directory.stat().st_mtime < STALE_AFTER_S:
                continue  # maybe another worker's, still starting
            pid_file = directory / "data" / "postmaster.pid"
            if pid_file.exists() and _alive(int(pid_file.read_text().split()[0])):
                continue
        except (OSError, ValueError, IndexError):
            pass
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class PostgresServer:
    directory: Path
    port: int
    process: subprocess.Popen[bytes]
    _admin: psycopg.Connection[tuple[object, ...]] | None = None
    _names: Iterator[int] = field(default_factory=itertools.count)

    def url(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new, empty database: its URL."""
        if self._admin is None:
            self._admin = psycopg.connect(self.url("postgres"), autocommit=True)
        name = f"test_{next(self._names)}"
        # FILE_COPY: a copy of the files, not of their WAL (faster here than WAL_LOG)
        self._admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 STRATEGY FILE_COPY")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database :meth:`create_database` made, ending its sessions first."""
        assert self._admin is not None
        name = url.rsplit("/", 1)[1]
        self._admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def log(self) -> str:
        try:
            return (self.directory / "server.log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.close()
        if self.process.poll() is None:
            # immediate shutdown: no checkpoint, the directory is removed next
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def start_server() -> PostgresServer:
    binaries = server_binaries()
    remove_stale_clusters()
    directory = Path(tempfile.mkdtemp(prefix=PREFIX))
    as_user = _as_server_user(directory)
    initdb = subprocess.run(
        [
            "setpriv",
            *as_user,
            "--",
            str(binaries / "initdb"),
            "--pgdata",
            str(directory / "data"),
            "--username",
            USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if initdb.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        pytest.fail(f"initdb failed ({initdb.returncode}): {initdb.stdout}{initdb.stderr}")
    port = _free_port()
    with open(directory / "server.log", "wb") as log:
        process = subprocess.Popen(
            [
                "setpriv",
                *as_user,
                "--pdeathsig=SIGQUIT",  # the test process died: immediate shutdown
                "--",
                str(binaries / "postgres"),
                "-D",
                str(directory / "data"),
                "-p",
                str(port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={directory}",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=100",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = PostgresServer(directory, port, process)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if process.poll() is not None:
            log_text = server.log()
            server.stop()
            pytest.fail(f"postgres exited ({process.returncode}) at start:\n{log_text}")
        try:
            psycopg.connect(server.url("postgres"), connect_timeout=2).close()
            return server
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                log_text = server.log()
                server.stop()
                pytest.fail(
                    f"postgres did not take connections in {READY_TIMEOUT_S} s:\n{log_text}"
                )
            time.sleep(0.05)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """This test process's PostgreSQL cluster."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a fresh, empty database on this process's cluster (dropped after the
    test: the cluster's directory stays small)."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)
