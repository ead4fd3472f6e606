"""Scenarios per second on the bundled data, with 1 and with 2 local worker processes.

The workload is the bundled Maia-price grid made finer (-50% to 0% in 1% steps: 51
scenarios), each a full apply + validate + solve + verify. Worker start-up is included.
Every HiGHS gets one thread, in this process as in the workers, so the speed-up measures
the workers alone (with HiGHS free to use both cores, one in-process run would be faster).

    python benchmarks/scenarios.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    os.environ["OPTIMIZER_HIGHS_THREADS"] = "1"  # the fair baseline: workers get one thread each too
    sys.path.insert(0, str(HERE.parent))
    from optimizer.sweeps import read_sweep, run_sweep

    spec, base = read_sweep(HERE.parent / "scenarios" / "sweeps" / "maia-price.yaml")
    parameter = spec.grid[0]
    finer = parameter.model_copy(update={"change_pct": parameter.change_pct.model_copy(update={"step": 1.0})})
    spec = spec.model_copy(update={"grid": [finer]})
    print("| local workers | scenarios | seconds | scenarios per second | speed-up |")
    print("|---|---|---|---|---|")
    first = None
    for workers in (1, 2):
        started = time.perf_counter()
        points, _ = run_sweep(spec, base, workers=workers)
        seconds = time.perf_counter() - started
        rate = len(points) / seconds
        first = first or rate
        print(f"| {workers} | {len(points)} | {seconds:.2f} | {rate:.1f} | {rate / first:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
