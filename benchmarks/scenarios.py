"""Scenarios per second on the bundled data, with 1 and with 2 local worker processes.

The workload is the bundled Maia-price grid made finer (-50% to 0% in 1% steps: 51
scenarios), each a full apply + validate + solve + verify. Worker start-up is included.
Each worker count runs three times, interleaved (1, 2, 1, 2, ...), and the median is shown.
Every HiGHS gets one thread, in this process as in the workers, so the speed-up measures
the workers alone (with HiGHS free to use both cores, one in-process run would be faster).

    python benchmarks/scenarios.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    os.environ["OPTIMIZER_HIGHS_THREADS"] = "1"  # the fair baseline: workers get one thread each too
    sys.path.insert(0, str(HERE.parent))
    from optimizer.scenarios.sweeps import read_sweep, run_sweep

    spec, base = read_sweep(HERE.parent / "scenarios" / "sweeps" / "maia-price.yaml")
    parameter = spec.grid[0]
    finer = parameter.model_copy(update={"change_pct": parameter.change_pct.model_copy(update={"step": 1.0})})
    spec = spec.model_copy(update={"grid": [finer]})
    print("| local workers | scenarios | seconds (median of 3) | runs | scenarios per second | speed-up |")
    print("|---|---|---|---|---|---|")
    seconds: dict[int, list[float]] = {1: [], 2: []}
    count = 0
    for _ in range(3):
        for workers in seconds:
            started = time.perf_counter()
            points, _ = run_sweep(spec, base, workers=workers)
            seconds[workers].append(time.perf_counter() - started)
            count = len(points)
    baseline = statistics.median(seconds[1])
    for workers, runs in seconds.items():
        median = statistics.median(runs)
        listed = ", ".join(f"{run:.1f}" for run in runs)
        print(f"| {workers} | {count} | {median:.2f} | {listed} | {count / median:.1f} | {baseline / median:.2f}x |")


if __name__ == "__main__":
    main()
