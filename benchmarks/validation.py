"""Validation scales linearly up to the input limits: time and peak memory of loading.

Each case is a one-offer folder whose table is filled to 1/8, 1/4, 1/2 and all of a limit
(``MAX_ROWS`` rows, or ``MAX_CSV_BYTES`` bytes for rows with 100 KB cells), loaded in a
fresh process (``optimizer.load``: reading, row validation, duplicate keys, cross-file
checks) whose wall time and peak memory are measured. Shapes:
- ``valid``: distinct valid workload rows (the whole pipeline, problems none);
- ``unservable``: distinct workload rows, each in a geography no latency row reaches (a
  warning per row, with its reason);
- ``duplicates``: every workload row with the same key (one problem per row after the first);
- ``malformed``: workload rows short of fields (one problem per row);
- ``big-cells``: offers with the same key, each with a 100 KB ``source`` cell;
- ``wide``: distinct valid workload rows with 994 more (ignored) columns of two
  characters each: the most cells the byte limit allows, for memory.
Linear means a flat time per row down each shape's column.

    python benchmarks/validation.py [SHAPE ...] > benchmarks/validation.md
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from optimizer.io.loading import MAX_CSV_BYTES, MAX_ROWS

HERE = Path(__file__).parent
SHAPES = ("valid", "unservable", "duplicates", "malformed", "big-cells", "wide")
FRACTIONS = (8, 4, 2, 1)  # a 1/k share of the limit
CELL = 100_000
WIDE_EXTRA = 994  # with the contract's 6 columns, the 1,000 a header may have
OFFERS_HEADER = "offer,provider,region,accelerator,usd_per_chip_hour,max_chips,source\n"
WORKLOADS_HEADER = "workload,model,geography,quarter,tokens_per_s,latency_slo_ms\n"


def folder(root: Path, shape: str, rows: int) -> Path:
    """A one-offer folder whose workloads (or offers) table has ``rows`` rows of ``shape``."""
    root.mkdir()
    (root / "accelerators.csv").write_text("accelerator,vendor\na,nvidia\n")
    (root / "performance.csv").write_text("model,accelerator,tokens_per_s_per_chip,ttft_ms\nm,a,100,100\n")
    (root / "latency.csv").write_text("geography,region,rtt_ms\ng,r1,50\n")
    (root / "policy.yaml").write_text("{}\n")
    offers = OFFERS_HEADER + "o1,aws,r1,a,2.0,100,list\n"
    workloads = WORKLOADS_HEADER + "w,m,g,2026Q1,1000,1000\n"
    if shape == "valid":
        workloads = WORKLOADS_HEADER + "".join(f"w{k},m,g,2026Q1,1000,1000\n" for k in range(rows))
    elif shape == "duplicates":
        workloads = WORKLOADS_HEADER + "w,m,g,2026Q1,1000,1000\n" * rows
    elif shape == "unservable":
        workloads = WORKLOADS_HEADER + "".join(f"w{k},m,g{k},2026Q1,1000,1000\n" for k in range(rows))
    elif shape == "malformed":
        workloads = WORKLOADS_HEADER + "w,m,g\n" * rows
    elif shape == "wide":
        extra = "," + ",".join("ab" for _ in range(WIDE_EXTRA))
        header = WORKLOADS_HEADER.rstrip("\n") + "," + ",".join(f"x{k}" for k in range(WIDE_EXTRA)) + "\n"
        workloads = header + "".join(f"w{k},m,g,2026Q1,1000,1000{extra}\n" for k in range(rows))
    else:
        offers = OFFERS_HEADER + f"o1,aws,r1,a,2.0,100,{'x' * CELL}\n" * rows
    (root / "offers.csv").write_text(offers)
    (root / "workloads.csv").write_text(workloads)
    return root


LOAD = """
import json, resource, sys, time
import optimizer
from optimizer.errors import InputError
started = time.perf_counter()
try:
    optimizer.load(sys.argv[1])
    problems = 0
except InputError as error:
    problems = len(error.problems)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mib": peak, "problems": problems}))
"""


def measure(path: Path) -> dict:
    completed = subprocess.run([sys.executable, "-c", LOAD, str(path)], capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    print("| shape | rows | file MiB | problems | seconds | us per row | peak MiB |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for shape in sys.argv[1:] or SHAPES:
            limit = {"big-cells": MAX_CSV_BYTES // (CELL + 30), "wide": MAX_CSV_BYTES // (3 * WIDE_EXTRA + 30)}
            limit = limit.get(shape, MAX_ROWS)
            for share in FRACTIONS:
                rows = limit // share
                path = folder(Path(scratch) / f"{shape}-{share}", shape, rows)
                table = path / ("offers.csv" if shape == "big-cells" else "workloads.csv")
                size = table.stat().st_size / 2**20
                result = measure(path)
                per_row = result["seconds"] / rows * 1e6
                print(
                    f"| {shape} | {rows:,} | {size:.1f} | {result['problems']:,} | {result['seconds']:.2f} "
                    f"| {per_row:.1f} | {result['peak_mib']:.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
