"""Many independent evaluations at once: local worker processes or a Dask cluster.

Results come back in the order of the jobs whatever finishes first, and every job carries
everything it needs (random draws are made before dispatch), so the same jobs give the same
results on one process, on local workers or on a cluster.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


def default_workers() -> int:
    return os.cpu_count() or 1


def _one_thread_each() -> None:
    """Worker processes share the cores between them: one HiGHS thread each (see solve.py)."""
    os.environ["OPTIMIZER_HIGHS_THREADS"] = "1"


def _progress(label: str) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def run_all(
    function: Callable[[Any], Any],
    jobs: Sequence[Any],
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    label: str = "solving",
) -> list[Any]:
    """``[function(job) for job in jobs]``, in parallel, with a progress bar on the terminal.

    ``client`` (a ``dask.distributed.Client``) or ``scheduler`` (its address) sends the jobs
    to a Dask cluster; otherwise ``workers`` local processes run them (None: all cores;
    1 runs them in this process). Workers are spawned, so a script that asks for more than
    one must guard its entry point with ``if __name__ == "__main__":`` (Python's rule for
    spawned processes); the Python API therefore defaults to 1 and the CLI to all cores.
    """
    if client is not None or scheduler is not None:
        return _run_dask(function, jobs, scheduler, client, label)
    workers = workers or default_workers()
    results: list[Any] = [None] * len(jobs)
    if workers == 1 or len(jobs) <= 1:
        with _progress(label) as progress:
            task = progress.add_task(label, total=len(jobs))
            for index, job in enumerate(jobs):
                results[index] = function(job)
                progress.advance(task)
        return results
    # Not fork: HiGHS keeps a process-wide thread pool, and a child forked after the parent
    # has solved anything inherits it in a broken state (it spins). Spawned workers start clean.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=min(workers, len(jobs)), mp_context=context, initializer=_one_thread_each
    ) as pool:
        futures = {pool.submit(function, job): index for index, job in enumerate(jobs)}
        with _progress(label) as progress:
            task = progress.add_task(label, total=len(jobs))
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                progress.advance(task)
    return results


def _run_dask(function, jobs, scheduler, client, label) -> list[Any]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:  # pragma: no cover - depends on the optional extra
        from optimizer.errors import OptimizerError

        raise OptimizerError("Dask is not installed: pip install '.[dask]' to use --scheduler") from None
    own = client is None
    if own:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, ValueError, TimeoutError) as error:
            from optimizer.errors import InputError, Problem

            raise InputError(
                [Problem("--scheduler", f"cannot reach the Dask scheduler {scheduler!r}: {error}")]
            ) from None
    try:
        futures = client.map(function, list(jobs), pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        results: list[Any] = [None] * len(jobs)
        with _progress(label) as progress:
            task = progress.add_task(label, total=len(jobs))
            for future in dask_completed(futures):
                results[index[future.key]] = future.result()
                progress.advance(task)
        return results
    finally:
        if own:
            client.close()
