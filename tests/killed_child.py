"""A child process killed with SIGKILL mid-work, for the crash tests of recordings.

The child is ``python -m MODULE ARG`` (with this process's ``sys.path``); it prints
lines ``WORD N`` as its count of work done grows and never stops by itself.
:func:`run_until_killed` reads them until N reaches a target, kills the child with
SIGKILL (checking that the signal killed it) and returns the last N it printed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys


def run_until_killed(module: str, arg: str, count: int) -> int:
    """Run ``python -m module arg`` until it reports ``count``, SIGKILL it, return its count."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with subprocess.Popen(
        [sys.executable, "-m", module, arg],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    ) as child:
        try:
            assert child.stdout is not None
            done = 0
            for line in child.stdout:
                done = int(line.split()[1])
                if done >= count:
                    break
            child.send_signal(signal.SIGKILL)
            assert child.wait(10) == -signal.SIGKILL
            return done
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
