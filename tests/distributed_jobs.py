"""Jobs for tests/test_distributed.py, in a module of their own so spawned workers (which
get this process's sys.path, tests/ included) and Dask workers can import them by name."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def square(job: int | str) -> int:
    """``job`` squared; "kill" kills the process running it (half a second in, as the OOM
    killer would in a long job)."""
    if job == "kill":
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGKILL)
    assert isinstance(job, int)
    return job * job


def kill_once(job: tuple[int, str]) -> int:
    """``job[0]`` squared, after killing the first process that tries (``job[1]``, a file
    that does not exist yet, records that try)."""
    number, marker = job
    if not Path(marker).exists():
        Path(marker).write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return number * number


def fail(job: int) -> int:
    """A bug in a job: raises."""
    raise ValueError(f"bad job {job}")


def slow(job: tuple[int, str]) -> int:
    """Write this worker's pid to ``job[1]``/<pid>, then sleep: a long solve, seen from outside."""
    number, folder = job
    (Path(folder) / str(os.getpid())).write_text("")
    time.sleep(120)
    return number
