"""Where the time goes: the tool end to end against HiGHS alone, per instance size.

For each size the instance is generated (benchmarks/generate.py), then, each in a fresh
process so that peak memory is per run:
- ``optimizer plan`` end to end (wall clock of the command), with its stages: load,
  build (the LP's arrays), solve (hand-over to HiGHS and HiGHS's run), assemble, verify, write;
- the same minus the process start-up, measured on the one-offer instance;
- HiGHS alone on the LP built directly as sparse matrices (benchmarks/raw_highs.py),
  with dual simplex and with interior point, for the literal contract LP (dense share
  rows) and for the tool's formulation (auxiliary v, s columns).

    python benchmarks/run.py 1e3 1e4 1e5 [1e6] > benchmarks/results.md
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
INSTANCES = HERE / "instances"


def child(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line; add its peak RSS."""
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                               cwd=HERE.parent)
    return json.loads(completed.stdout.strip().splitlines()[-1])


STAGES = """
import json, resource, sys, time
sys.path.insert(0, "benchmarks")
start = time.perf_counter()
import optimizer
from optimizer.loading import bundled_data
from optimizer.outputs import write_outputs, csv_writer, json_writer
from optimizer.plan import summary
imported = time.perf_counter()
inputs = optimizer.load({folder!r})
loaded = time.perf_counter()
plan = optimizer.solve(inputs)
solved = time.perf_counter()
write_outputs(__import__("pathlib").Path({out!r}), {{"summary.json": json_writer(summary(plan)),
    "allocation.csv": csv_writer(plan.allocation), "purchases.csv": csv_writer(plan.purchases)}}, [])
written = time.perf_counter()
print(json.dumps(dict(pairs=len(plan.model.pairs), objective=plan.totals["total_cost_usd"],
    imports=imported - start, load=loaded - imported, **plan.seconds, write=written - solved,
    total=written - start, peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""

RAW = """
import json, resource, sys, time
sys.path.insert(0, "benchmarks")
import optimizer
from raw_highs import build_lp, solve_raw
inputs = optimizer.load({folder!r})
started = time.perf_counter()
lp = build_lp(inputs, literal={literal})
built = time.perf_counter() - started
objective, seconds = solve_raw(lp, {method!r})
print(json.dumps(dict(objective=objective, seconds=seconds, build=built, nonzeros=len(lp.a_matrix_.value_),
    peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


def command_seconds(folder: Path, repeats: int = 3) -> float:
    """Best wall clock of ``optimizer plan`` as a user runs it."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "optimizer.cli", "plan", "--data", str(folder), "--out",
                        str(INSTANCES / "out" / folder.name)], capture_output=True, check=True, cwd=HERE.parent)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+", type=float)
    parser.add_argument("--skip-literal-from", type=float, default=5e5,
                        help="do not build the dense literal LP from this many pairs on (too large)")
    arguments = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from generate import generate, one_offer

    one_offer(INSTANCES / "one-offer")
    startup = command_seconds(INSTANCES / "one-offer", repeats=5)
    print(f"Process start-up (`optimizer plan` on the one-offer instance): {startup:.2f} s\n")
    print("| pairs | load | build | solve (HiGHS run) | assemble + verify | write | end to end, less start-up "
          "| peak memory | HiGHS alone, tool's LP: simplex / IPM | HiGHS alone, literal LP: simplex / IPM "
          "| ratio to best HiGHS (tool's LP / literal LP) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for size in arguments.sizes:
        folder = INSTANCES / f"{int(size)}"
        if not (folder / "workloads.csv").exists():
            generate(int(size), folder)
        stages = child(STAGES.format(folder=str(folder), out=str(INSTANCES / "out" / folder.name)))
        end_to_end = command_seconds(folder, repeats=1 if size >= 1e6 else 3) - startup
        raw = {}
        for literal in (False, True):
            if literal and size >= arguments.skip_literal_from:
                continue
            for method in ("simplex", "ipm"):
                result = child(RAW.format(folder=str(folder), literal=literal, method=method))
                assert abs(result["objective"] - stages["objective"]) <= 1e-6 * abs(stages["objective"])
                raw[(literal, method)] = result["seconds"]
        best_own = min(raw[(False, m)] for m in ("simplex", "ipm"))
        literal_text, ratio_literal = "not run (dense rows too large)", "-"
        if (True, "simplex") in raw:
            best_literal = min(raw[(True, m)] for m in ("simplex", "ipm"))
            literal_text = f"{raw[(True, 'simplex')]:.2f} / {raw[(True, 'ipm')]:.2f} s"
            ratio_literal = f"{end_to_end / best_literal:.2f}"
        print(f"| {stages['pairs']:,} | {stages['load']:.2f} | {stages['build']:.2f} | {stages['solve']:.2f} "
              f"({stages['highs_run']:.2f}) | {stages['assemble'] + stages['verify']:.2f} | {stages['write']:.2f} "
              f"| {end_to_end:.2f} s | {stages['peak_mb']:,.0f} MB "
              f"| {raw[(False, 'simplex')]:.2f} / {raw[(False, 'ipm')]:.2f} s | {literal_text} "
              f"| {end_to_end / best_own:.2f} / {ratio_literal} |", flush=True)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
