"""Reading inputs without trusting them: special files, sizes that lie, rows and horizons
without end. Each case must end in one clear problem (exit 2 from the CLI) within seconds,
not a hang, an exhausted memory or an internal error.

The tiny folder (tests/test_bad_inputs.py) plans 1,000 tokens/s on chips serving 100 each
at 2 USD/chip-hour in 2026Q1: 10 chips x 2 x 2,190 h = 43,800 USD.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import workload, write_csv
from test_bad_inputs import TINY_COST_USD, tiny

import optimizer
from optimizer.errors import InputError
from optimizer.io.bounded import FileRefused, read_at_most
from optimizer.io.loading import MAX_ROWS
from optimizer.io.schema import MAX_HORIZON_QUARTERS

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs and /dev/zero are POSIX")
MEMORY_LIMIT = 2 * 2**30  # far above what the tiny folder needs; /dev/zero read whole would pass it


def only_problem(folder: Path) -> str:
    with pytest.raises(InputError) as caught:
        optimizer.load(folder)
    problems = caught.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    return str(problems[0])


def run_cli(folder: Path, out: Path) -> subprocess.CompletedProcess:
    """The real command, in a child whose memory is capped and which must end in 60 s."""

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    command = [sys.executable, "-m", "optimizer.cli", "plan", "--data", str(folder), "--out", str(out)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, preexec_fn=cap_memory)


@posix_only
def test_fifo_and_device_links_are_refused_before_reading(tmp_path):
    """A FIFO would block the reader forever; /dev/zero would fill memory: neither is opened."""
    folder = tiny(tmp_path / "in")
    (folder / "latency.csv").unlink()
    os.mkfifo(folder / "latency.csv")
    (folder / "policy.yaml").unlink()
    (folder / "policy.yaml").symlink_to("/dev/zero")
    result = run_cli(folder, tmp_path / "out")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "latency.csv: is a named pipe (FIFO), not a regular file: refused without reading it" in result.stderr
    assert "policy.yaml: is a device, not a regular file: refused without reading it" in result.stderr
    assert not (tmp_path / "out").exists()


def test_folders_are_not_read_as_files(tmp_path):
    folder = tiny(tmp_path / "in")
    (folder / "latency.csv").unlink()
    (folder / "latency.csv").mkdir()
    assert only_problem(folder).endswith("latency.csv: is a folder, not a regular file: refused without reading it")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_a_size_of_zero_is_not_trusted():
    """/proc files are regular and report a size of 0, yet hold text: the read is bounded
    by the limit, not by what stat says."""
    path = Path("/proc/self/status")
    assert path.stat().st_size == 0
    with pytest.raises(FileRefused, match="above 16 bytes: 17"):
        read_at_most(path, 16, lambda size: f"above 16 bytes: {size}")
    assert read_at_most(path, 1 << 20, str).startswith(b"Name:")


def test_more_rows_than_the_limit_are_refused_on_the_first_row_beyond(tmp_path):
    folder = tiny(tmp_path / "in")
    rows = "".join(f"w{k},m,g,2026Q1,1,1000\n" for k in range(MAX_ROWS + 5))
    (folder / "workloads.csv").write_text("workload,model,geography,quarter,tokens_per_s,latency_slo_ms\n" + rows)
    # Line 1 is the header, data row k (from 1) is on line k + 1: the first one too many
    # is row MAX_ROWS + 1, on line MAX_ROWS + 2.
    assert only_problem(folder).endswith(
        f"workloads.csv, line {MAX_ROWS + 2}: more than {MAX_ROWS:,} rows, the limit for input tables: "
        "is this the right file?"
    )


@pytest.mark.parametrize("quarter", ["0999Q4", "1999Q4", "2200Q1", "4026Q4"])
def test_quarters_outside_the_years_are_refused(tmp_path, quarter):
    folder = tiny(tmp_path / "in")
    write_csv(folder / "workloads.csv", [workload("w", "2026Q1", 1000), workload("w", quarter, 1000)])
    assert only_problem(folder).endswith(
        f"workloads.csv, line 3, column quarter: value {quarter!r}: expected a quarter such as 2026Q1, "
        "in the years 2000 to 2199"
    )


def test_the_horizon_is_bounded(tmp_path):
    """2026Q1 to 2050Q4 is 25 years x 4 = 100 quarters (the limit); 2051Q1 is one more."""
    assert MAX_HORIZON_QUARTERS == 100
    folder = tiny(tmp_path / "in")
    write_csv(folder / "workloads.csv", [workload("w", "2026Q1", 1000), workload("w", "2050Q4", 1000)])
    assert len(optimizer.load(folder).horizon) == 100
    write_csv(folder / "workloads.csv", [workload("w", "2026Q1", 1000), workload("w", "2051Q1", 1000)])
    assert only_problem(folder).endswith(
        "workloads.csv, line 3, column quarter: the horizon runs from 2026Q1 (line 2) to 2051Q1: "
        "101 quarters, above the limit of 100; is this year right?"
    )


def test_a_commitment_until_the_last_year_counts_its_share_in_the_horizon(tmp_path):
    """A spend commitment from 2026Q1 to 2199Q4 spans 174 x 4 = 696 quarters; the one-quarter
    horizon owes 1/696 of it: 69,600,000 / 696 = 100,000 USD, of which the plan's 43,800
    is consumed and 56,200 is the shortfall. A contract to 2199Q4 gives chips in 2026Q1 only."""
    folder = tiny(tmp_path / "in")
    commitment = {"provider": "aws", "first": "2026Q1", "last": "2199Q4", "usd": 69.6e6}
    write_csv(folder / "spend_commitments.csv", [commitment])
    plan = optimizer.solve(optimizer.load(folder), payback=False)
    assert plan.totals["total_cost_usd"] == pytest.approx(100_000.0, rel=1e-9)
    assert plan.totals["total_cost_usd"] - TINY_COST_USD == pytest.approx(56_200.0, rel=1e-9)
    write_csv(folder / "contracts.csv", [{"offer": "o1", "chips": 10, "start": "2026Q1", "end": "2199Q4"}])
    (folder / "spend_commitments.csv").unlink()
    plan = optimizer.solve(optimizer.load(folder), payback=False)
    assert plan.totals["total_cost_usd"] == pytest.approx(TINY_COST_USD, rel=1e-9)


def test_every_duplicate_names_the_first_row(tmp_path):
    folder = tiny(tmp_path / "in")
    rows = [workload("w", "2026Q1", 1000), workload("v", "2026Q1", 5), workload("w", "2026Q1", 7)]
    write_csv(folder / "workloads.csv", rows + [workload("w", "2026Q1", 9), workload("v", "2026Q1", 1)])
    with pytest.raises(InputError) as caught:
        optimizer.load(folder)
    assert [(p.line, p.message) for p in caught.value.problems] == [
        (4, "duplicate key (workload='w', quarter='2026Q1'); first defined at line 2"),
        (5, "duplicate key (workload='w', quarter='2026Q1'); first defined at line 2"),
        (6, "duplicate key (workload='v', quarter='2026Q1'); first defined at line 3"),
    ]
