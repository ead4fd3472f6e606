"""Many independent evaluations at once: local worker processes or a Dask cluster.

Results come back in the order of the jobs whatever finishes first, and every job carries
everything it needs (random draws are made before dispatch), so the same jobs give the same
results on one process, on local workers or on a cluster.

A run never hangs and never loses finished work: a job whose worker dies (killed, out of
memory) is run once more on a fresh worker, then reported by ``failed(job, reason)``;
local workers end with their parent, however it ends; a Dask scheduler that cannot be
reached, has no worker or loses all of them is reported within the time-outs below.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from multiprocessing.connection import Connection, wait
from multiprocessing.context import SpawnContext, SpawnProcess
from types import FrameType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from optimizer.errors import OptimizerError, OptionError
from optimizer.text import visible

# A scheduler answers in milliseconds; 10 s allows a slow link without a long wait on a wrong address.
CONNECT_TIMEOUT_S = 10.0
# Time for a cluster to start its first worker (adaptive clusters start them only once jobs are queued).
WORKER_WAIT_S = 60.0
# How often a Dask run checks that its cluster still has a worker while no job finishes.
POLL_S = 1.0
# Attempts of a job whose worker died: a worker killed from outside or by memory beside
# it deserves a second chance; a job that kills its worker twice would keep doing it.
ATTEMPTS = 2
WORKER_DIED = "worker process died (killed or out of memory)"

Failed = Callable[[Any, str], Any]


def default_workers() -> int:
    return os.cpu_count() or 1


def _progress(label: str) -> Progress:
    """A bar titled by ``label`` (a sweep's name, user text): shown as written, never read as
    rich markup or a format string, its control characters made visible."""
    return Progress(
        TextColumn(visible(label).replace("{", "{{").replace("}", "}}"), markup=False),
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
    *,
    failed: Failed,
) -> list[Any]:
    """``[function(job) for job in jobs]``, in parallel, with a progress bar on the terminal.

    ``client`` (a ``dask.distributed.Client``) or ``scheduler`` (its address) sends the jobs
    to a Dask cluster; otherwise ``workers`` local processes run them (None: all cores;
    1 runs them in this process). Workers are spawned, so a script that asks for more than
    one must guard its entry point with ``if __name__ == "__main__":`` (Python's rule for
    spawned processes); the Python API therefore defaults to 1 and the CLI to all cores.
    A job that could not run to the end (its worker died twice, no Dask worker left) gets
    ``failed(job, reason)`` as its result; an exception raised by ``function`` is raised here.
    """
    if client is not None or scheduler is not None:
        return _run_dask(function, jobs, scheduler, client, label, failed)
    workers = workers or default_workers()
    results: list[Any] = [None] * len(jobs)
    with _progress(label) as progress:
        task = progress.add_task(label, total=len(jobs))
        if workers == 1 or len(jobs) <= 1:
            for index, job in enumerate(jobs):
                results[index] = function(job)
                progress.advance(task)
            return results
        # closing: the workers are stopped as the run ends, even by an exception raised here.
        with _terminate_raises(), closing(_run_local(function, jobs, min(workers, len(jobs)), failed)) as finished:
            for index, result in finished:
                results[index] = result
                progress.advance(task)
    return results


class _Worker:
    """One spawned process running the jobs sent through its pipe, one at a time.

    Not fork: HiGHS keeps a process-wide thread pool, and a child forked after the parent
    has solved anything inherits it in a broken state (it spins). Spawned workers start clean.
    """

    def __init__(self, context: SpawnContext, function: Callable[[Any], Any]) -> None:
        self.connection, child = context.Pipe()
        self.process: SpawnProcess = context.Process(target=_serve, args=(function, child), daemon=True)
        self.process.start()
        child.close()

    def stop(self, kill: bool = False) -> None:
        """Closing the pipe ends an idle worker; ``kill`` ends one that may be running a job."""
        self.connection.close()
        if kill:
            self.process.kill()
        self.process.join()


def _run_local(
    function: Callable[[Any], Any], jobs: Sequence[Any], workers: int, failed: Failed
) -> Generator[tuple[int, Any], None, None]:
    """(index, result) of every job as it finishes, on ``workers`` spawned processes.

    Each worker holds one job at a time, so a worker that dies takes exactly one job with
    it: that job runs again on a fresh worker, and after :data:`ATTEMPTS` deaths its result
    is ``failed(job, WORKER_DIED)``. Every other job, finished or not, is unaffected.
    """
    context = multiprocessing.get_context("spawn")
    waiting = deque(range(len(jobs)))
    attempts = [0] * len(jobs)
    busy: dict[_Worker, int] = {}
    idle: list[_Worker] = []
    try:
        while waiting or busy:
            while waiting and len(busy) < workers:
                worker = idle.pop() if idle else _Worker(context, function)
                index = waiting.popleft()
                attempts[index] += 1
                busy[worker] = index
                with suppress(OSError):  # it died while idle: wait() sees it below, as a death during this job
                    worker.connection.send(jobs[index])
            ready = wait([w.connection for w in busy] + [w.process.sentinel for w in busy])
            for worker in [w for w in busy if w.connection in ready or w.process.sentinel in ready]:
                index = busy.pop(worker)
                try:
                    done, value, remote = worker.connection.recv()
                except (EOFError, OSError):  # the worker died before answering
                    worker.stop(kill=True)
                    if attempts[index] < ATTEMPTS:
                        waiting.appendleft(index)
                    else:
                        yield index, failed(jobs[index], WORKER_DIED)
                    continue
                if not done:
                    value.add_note(f"raised in a worker process:\n{remote}")
                    raise value
                idle.append(worker)
                yield index, value
    finally:  # busy workers remain only when this run is abandoned (an error, Ctrl-C, SIGTERM)
        for worker in busy:
            worker.stop(kill=True)
        for worker in idle:
            worker.stop()


def _serve(function: Callable[[Any], Any], connection: Connection) -> None:
    """A worker's loop: answer each job with (True, result, "") or (False, exception,
    traceback) until the parent closes the pipe."""
    os.environ["OPTIMIZER_HIGHS_THREADS"] = "1"  # the workers share the cores: one HiGHS thread each (solve.py)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches every process: the parent stops the workers
    _exit_with_parent()
    while True:
        try:
            job = connection.recv()
        except EOFError:
            return
        try:
            answer = (True, function(job), "")
        except Exception as error:
            answer = (False, error, traceback.format_exc())
        connection.send(answer)


def _exit_with_parent() -> None:
    """End this worker as soon as its parent is gone, even killed (SIGKILL runs no clean-up
    in the parent) and even in the middle of a job: a daemon thread waits on the parent's
    sentinel, which the operating system signals when the parent process ends (portable)."""
    parent = multiprocessing.parent_process()
    if parent is None:  # pragma: no cover - _serve only runs in a spawned process
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


@contextmanager
def _terminate_raises() -> Iterator[None]:
    """While local workers run, SIGTERM raises SystemExit (exit code 143) instead of ending
    the process at once, so the workers are stopped and the caller's clean-up runs
    (an output batch removes its staging). A handler someone else installed is left alone."""
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _run_dask(
    function: Callable[[Any], Any], jobs: Sequence[Any], scheduler: str | None, client: Any, label: str, failed: Failed
) -> list[Any]:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - depends on the optional extra
        raise OptimizerError("Dask is not installed: pip install '.[dask]' to use --scheduler") from None
    own = client is None
    if own:
        client = _connect(Client, scheduler)
    try:
        futures = client.map(function, list(jobs), pure=False)
        try:
            # After map: an adaptive cluster starts its workers once there are jobs to run.
            client.wait_for_workers(n_workers=1, timeout=WORKER_WAIT_S)
        except TimeoutError:
            client.cancel(futures)
            raise OptionError(
                f"the Dask scheduler {client.scheduler.address} has no worker (waited {WORKER_WAIT_S:g} s "
                "for one): start workers with `dask worker ADDRESS`, or run without --scheduler"
            ) from None
        results: list[Any] = [None] * len(jobs)
        with _progress(label) as progress:
            task = progress.add_task(label, total=len(jobs))
            for index, result in _gather(client, futures, failed, jobs):
                results[index] = result
                progress.advance(task)
        return results
    finally:
        if own:
            client.close()


def _connect(client_class: Any, scheduler: str | None) -> Any:
    """A client of the scheduler at ``scheduler``, or :class:`OptionError` (exit 2) saying why not."""
    if not scheduler or not scheduler.strip():  # Client("") would start a cluster in this process
        raise OptionError("--scheduler: give the address of a Dask scheduler, such as tcp://host:8786")
    scheme = scheduler.partition("://")[0] if "://" in scheduler else "tcp"
    hints = {
        "tls": " (tls:// needs certificates, which the command line cannot pass: from Python, pass "
        "client=Client(address, security=...))",
        "wss": " (wss:// needs certificates, which the command line cannot pass: from Python, pass "
        "client=Client(address, security=...))",
        "ucx": " (ucx:// needs the UCX communication package for Dask, distributed-ucxx, installed)",
    }
    try:
        return client_class(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, ValueError, TypeError, TimeoutError) as error:
        raise OptionError(
            f"--scheduler: cannot connect to the Dask scheduler {scheduler!r}: {error}{hints.get(scheme, '')}"
        ) from None


def _gather(client: Any, futures: list[Any], failed: Failed, jobs: Sequence[Any]) -> Iterator[tuple[int, Any]]:
    """(index, result) of every job as it finishes on the cluster.

    The scheduler runs a lost worker's job again on another worker; a job that took
    several workers down with it (Dask's ``KilledWorker``), and every job still waiting
    when the cluster has had no worker for :data:`WORKER_WAIT_S`, gets ``failed(job, reason)``.
    """
    from distributed import wait as dask_wait
    from distributed.scheduler import KilledWorker

    index = {future.key: i for i, future in enumerate(futures)}
    pending = set(futures)
    alone_since: float | None = None
    while pending:
        try:
            done, pending = dask_wait(pending, timeout=POLL_S, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done = set()
        for future in done:
            i = index[future.key]
            try:
                result = future.result(timeout=CONNECT_TIMEOUT_S)
            except KilledWorker:
                result = failed(jobs[i], f"Dask workers died running it: {WORKER_DIED}")
            except TimeoutError:  # its worker died before the result was fetched: it runs again
                pending.add(future)
                continue
            yield i, result
        if done or client.nthreads():  # progress, or a worker to make it
            alone_since = None
        elif alone_since is None:
            alone_since = time.monotonic()
        elif time.monotonic() - alone_since > WORKER_WAIT_S:
            client.cancel(list(pending))
            reason = f"no Dask worker left to run it (the cluster had none for {WORKER_WAIT_S:g} s)"
            for future in pending:
                yield index[future.key], failed(jobs[index[future.key]], reason)
            return
