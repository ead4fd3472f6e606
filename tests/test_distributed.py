"""Distributed runs never hang and never lose finished work (issue 18, part 4).

Local workers: a worker that dies takes only its own job, which runs again once, then is
reported failed; workers end with their parent, however it ends. Dask: an address that
cannot be used, a scheduler with no worker and a cluster that loses every worker are
reported within bounded times. Every call that could hang runs under a time limit here,
so a regression fails the test instead of stalling CI.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from distributed_jobs import fail, kill_once, square
from typer.testing import CliRunner

from optimizer import cli
from optimizer.errors import OptionError
from optimizer.scenarios import runner
from optimizer.scenarios.runner import WORKER_DIED, run_all

TESTS = Path(__file__).parent
BUNDLED_SWEEP = TESTS.parent / "scenarios" / "sweeps" / "maia-price.yaml"
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and SIGTERM as on POSIX")


def failed(job: Any, why: str) -> tuple[str, str]:
    return ("failed", why)


def within(seconds: float, call: Callable[[], Any]) -> Any:
    """``call()``'s result, or the test fails after ``seconds`` (a daemon thread: a hung call
    cannot keep pytest from exiting)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still running after {seconds} s: it hangs")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@posix_only
def test_a_killed_local_worker_loses_only_its_own_job():
    """The job that kills its worker (SIGKILL, as the OOM killer does) dies on its retry
    too and is reported failed; every other job's result is kept, in order."""
    results = within(120, lambda: run_all(square, [1, 2, "kill", 4, 5], workers=2, failed=failed))
    assert results == [1, 4, ("failed", WORKER_DIED), 16, 25]


@posix_only
def test_a_job_whose_worker_was_killed_once_runs_again(tmp_path):
    done = tmp_path / "done"
    done.write_text("")
    jobs = [(1, str(done)), (2, str(tmp_path / "first-try")), (3, str(done))]
    assert within(120, lambda: run_all(kill_once, jobs, workers=2, failed=failed)) == [1, 4, 9]
    assert (tmp_path / "first-try").exists()


def test_an_exception_in_a_job_is_raised_with_the_workers_traceback():
    with pytest.raises(ValueError, match="bad job") as caught:
        within(120, lambda: run_all(fail, [1, 2], workers=2, failed=failed))
    assert "raised in a worker process" in "".join(caught.value.__notes__)


def alive(pid: int) -> bool:
    """Whether the process runs; a zombie (dead, not yet reaped by its new parent) does not."""
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@posix_only
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_workers_end_with_their_parent(tmp_path, signum):
    """A parent running two slow jobs on two spawned workers is killed: both workers are
    gone within 5 s (they watch their parent; on SIGTERM the parent also stops them)."""
    pids = tmp_path / "pids"
    pids.mkdir()
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(f"""
            import sys
            sys.path.insert(0, {str(TESTS)!r})
            from distributed_jobs import slow
            from optimizer.scenarios.runner import run_all
            if __name__ == "__main__":
                run_all(slow, [(1, {str(pids)!r}), (2, {str(pids)!r})], workers=2, failed=lambda job, why: why)
        """)
    )
    parent = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 90
        while len(workers) < 2 and time.monotonic() < deadline and parent.poll() is None:
            time.sleep(0.1)
            workers = [int(p.name) for p in pids.iterdir()]
        assert len(workers) == 2, "the workers did not start"
        killed = time.monotonic()
        parent.send_signal(signum)
        code = parent.wait(timeout=10)
        while any(alive(pid) for pid in workers) and time.monotonic() < killed + 5:
            time.sleep(0.05)
        assert not any(alive(pid) for pid in workers), f"workers left behind after {signum.name}"
        assert code == (-signal.SIGKILL if signum == signal.SIGKILL else 128 + signal.SIGTERM)
    finally:
        parent.kill()
        parent.wait()
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(
    "address,message",
    [
        ("tcp://127.0.0.1:1", "Timed out trying to connect"),
        ("tls://127.0.0.1:8786", "tls:// needs certificates"),
        ("ucx://127.0.0.1:8786", "ucx:// needs the UCX communication package"),
        ("not an address", "cannot connect to the Dask scheduler"),
        ("", "give the address of a Dask scheduler"),
    ],
)
def test_the_cli_refuses_a_scheduler_it_cannot_use(tmp_path, monkeypatch, address, message):
    """Exit 2 with a message, not a traceback (exit 1, "internal error"), and fast."""
    pytest.importorskip("distributed")
    monkeypatch.setattr(runner, "CONNECT_TIMEOUT_S", 2.0)
    command = ["sweep", str(BUNDLED_SWEEP), "--out", str(tmp_path / "out"), "--scheduler", address]
    started = time.monotonic()
    result = within(60, lambda: CliRunner().invoke(cli.app, command))
    assert result.exit_code == 2, result.output
    assert message in result.output and "internal error" not in result.output
    assert time.monotonic() - started < 20
    assert not (tmp_path / "out").exists()


def test_a_scheduler_without_workers_is_an_error_in_bounded_time(monkeypatch):
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(runner, "WORKER_WAIT_S", 1.0)
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        started = time.monotonic()
        with pytest.raises(OptionError, match="has no worker"):
            within(30, lambda: run_all(square, [1, 2], scheduler=cluster.scheduler_address, failed=failed))
        assert time.monotonic() - started < 15


@posix_only
def test_a_cluster_that_loses_its_only_worker_keeps_the_finished_jobs(tmp_path, monkeypatch):
    """One worker without a nanny (nothing restarts it) dies in the third job: the first
    two results are kept and the jobs left are reported failed once the cluster has had no
    worker for WORKER_WAIT_S, instead of waiting for a worker forever."""
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(runner, "WORKER_WAIT_S", 2.0)
    with (
        distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp", dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        command = [sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address]
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
        worker = subprocess.Popen(
            [*command, "--no-nanny", "--nthreads", "1", "--no-dashboard"],
            env=environment,
            stderr=subprocess.DEVNULL,
        )
        try:
            client.wait_for_workers(1, timeout=60)
            results = within(60, lambda: run_all(square, [1, 2, "kill", 4], client=client, failed=failed))
        finally:
            worker.kill()
            worker.wait()
    assert results[:2] == [1, 4]
    assert results[2] == ("failed", "no Dask worker left to run it (the cluster had none for 2 s)")
    assert results[3] in (16, results[2])


@pytest.mark.once
def test_a_job_that_kills_its_dask_workers_is_reported_and_the_others_kept():
    """The nanny restarts a killed worker and the scheduler runs its job again; after
    ``allowed-failures`` deaths that job is failed (KilledWorker), reported with its reason.
    Dask counts a death against every job the worker held: one job per thread here
    (worker-saturation 1), so only the job that kills is blamed."""
    distributed = pytest.importorskip("distributed")
    import dask

    settings = {"distributed.scheduler.allowed-failures": 1, "distributed.scheduler.worker-saturation": 1.0}
    with (
        dask.config.set(settings),
        distributed.LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        results = within(120, lambda: run_all(square, [1, 2, "kill", 4], client=client, failed=failed))
    assert results == [1, 4, ("failed", f"Dask workers died running it: {WORKER_DIED}"), 16]


def test_a_jobs_base_folder_travels_absolute(tmp_path, monkeypatch):
    """A worker may run in another working directory (a Dask worker does): a relative base
    folder, as a scenario built in Python may give, is made absolute when the scenario is
    made, in this process."""
    from optimizer.scenarios.comparison import Job
    from optimizer.scenarios.overlays import Scenario

    monkeypatch.chdir(tmp_path)
    job = Job(Scenario(name="s", base=Path("data")))
    assert job.scenario.base == tmp_path / "data"
    assert Job(Scenario(name="bundled")).scenario.base is None
