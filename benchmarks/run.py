"""Where the time goes: the tool end to end against HiGHS alone, per instance size and family.

For each family (benchmarks/generate.py: ``square`` and ``wide``) and size the instance is
generated, then, each in a fresh process so that peak memory is per run:
- ``optimizer plan`` end to end, less the process start-up (the command's own ``main``
  timed in a process that has imported it), with its peak memory; and in another process
  its stages: load, build (the LP's arrays), solve (hand-over to HiGHS and HiGHS's run),
  assemble + verify + certify, write. The start-up itself is the median wall clock of the
  command on the one-offer instance;
- HiGHS alone, dual simplex and interior point, on the plain sparse LP of the contract
  built independently (benchmarks/raw_highs.py; the tool builds the same form), and on
  the former formulation with auxiliary volume columns v[o,q], built the same way.
Every figure is the median of ``--repeats`` runs (three by default), all in one run so the
ratios compare like with like; interior point, slower than dual simplex at every size
measured, runs once, stopped at ``--ipm-limit`` seconds (shown as "> limit").

    python benchmarks/run.py 1e3 1e4 1e5 1e6 > benchmarks/results.md
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
INSTANCES = HERE / "instances"


def child(code: str) -> dict:
    """Run ``code`` in a fresh interpreter and return the JSON line it prints last."""
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=HERE.parent
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


STAGES = """
import json, resource, shutil, sys, time
shutil.rmtree({out!r}, ignore_errors=True)  # outputs without a manifest replace nothing (reporting/batch.py)
import optimizer
from optimizer.reporting.batch import write_outputs
from optimizer.reporting.files import csv_writer, json_writer
from optimizer.plan.assembly import summary
imported = time.perf_counter()
inputs = optimizer.load({folder!r})
loaded = time.perf_counter()
plan = optimizer.solve(inputs)
solved = time.perf_counter()
write_outputs(__import__("pathlib").Path({out!r}), {{"summary.json": json_writer(summary(plan)),
    "allocation.csv": csv_writer(plan.allocation), "purchases.csv": csv_writer(plan.purchases)}}, [])
written = time.perf_counter()
print(json.dumps(dict(pairs=len(plan.model.pairs), objective=plan.totals["total_cost_usd"],
    load=loaded - imported, **plan.seconds, write=written - solved,
    peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""

COMMAND = """
import contextlib, io, json, resource, sys, time
import optimizer.cli
started = time.perf_counter()   # everything before is the process start-up
sys.argv = ["optimizer", "plan", "--data", {folder!r}, "--out", {out!r}]
with contextlib.redirect_stdout(io.StringIO()):
    try:
        optimizer.cli.main()
    except SystemExit as stop:
        assert not stop.code, stop.code
print(json.dumps(dict(seconds=time.perf_counter() - started,
                      peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""

RAW = """
import json, sys
sys.path.insert(0, "benchmarks")
import optimizer
from raw_highs import build_lp, solve_raw
objective, seconds = solve_raw(build_lp(optimizer.load({folder!r}), {formulation!r}), {method!r}, float("{limit}"))
print(json.dumps(dict(objective=objective, seconds=seconds)))
"""


def command_seconds(folder: Path) -> float:
    """Wall clock of ``optimizer plan`` as a user runs it, process start-up included."""
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "optimizer.cli",
            "plan",
            "--data",
            str(folder),
            "--out",
            str(INSTANCES / "out" / folder.name),
        ],
        capture_output=True,
        check=True,
        cwd=HERE.parent,
    )
    return time.perf_counter() - started


def median_runs(run, repeats: int) -> dict:
    """Each key's median over ``repeats`` calls of ``run`` (which returns a dict of numbers)."""
    results = [run() for _ in range(repeats)]
    return {key: statistics.median(result[key] for result in results) for key in results[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+", type=float)
    parser.add_argument("--families", nargs="+", default=["square", "wide"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ipm-limit", type=float, default=120.0, help="seconds before an interior point run stops")
    arguments = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from generate import generate, one_offer

    one_offer(INSTANCES / "one-offer")
    startup = statistics.median(command_seconds(INSTANCES / "one-offer") for _ in range(5))
    print(f"Process start-up (`optimizer plan` on the one-offer instance, median of 5): {startup:.2f} s\n")
    print(
        "| family | pairs | load | build | solve (HiGHS run) | assemble + verify + certify | write "
        "| end to end, less start-up | peak memory | HiGHS alone, plain LP: simplex / IPM "
        "| HiGHS alone, LP with v columns: simplex / IPM | ratio to best HiGHS on the plain LP |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for family in arguments.families:
        for size in arguments.sizes:
            folder = INSTANCES / f"{family}-{int(size)}"
            if not (folder / "workloads.csv").exists():
                generate(int(size), folder, family=family)
            out = str(INSTANCES / "out" / folder.name)
            stages_code = STAGES.format(folder=str(folder), out=out)
            command_code = COMMAND.format(folder=str(folder), out=out)
            stages = median_runs(lambda code=stages_code: child(code), arguments.repeats)
            command = median_runs(lambda code=command_code: child(code), arguments.repeats)
            end_to_end = command["seconds"]
            raw = {}
            for formulation in ("plain", "auxiliary"):
                for method, repeats, limit in (
                    ("simplex", arguments.repeats, math.inf),
                    ("ipm", 1, arguments.ipm_limit),
                ):
                    code = RAW.format(folder=str(folder), formulation=formulation, method=method, limit=limit)
                    result = median_runs(lambda code=code: child(code), repeats)
                    if math.isnan(result["objective"]):
                        raw[(formulation, method)] = math.inf
                        continue
                    assert abs(result["objective"] - stages["objective"]) <= 1e-6 * abs(stages["objective"])
                    raw[(formulation, method)] = result["seconds"]
            best_plain = min(raw[("plain", method)] for method in ("simplex", "ipm"))

            def seconds(formulation: str, method: str, raw=raw) -> str:
                value = raw[(formulation, method)]
                return f"> {arguments.ipm_limit:.0f}" if math.isinf(value) else f"{value:.2f}"

            checks = stages["assemble"] + stages["verify"] + stages["certify"]
            print(
                f"| {family} | {int(stages['pairs']):,} | {stages['load']:.2f} | {stages['build']:.2f} "
                f"| {stages['solve']:.2f} ({stages['highs_run']:.2f}) | {checks:.2f} | {stages['write']:.2f} "
                f"| {end_to_end:.2f} s | {command['peak_mb']:,.0f} MB "
                f"| {seconds('plain', 'simplex')} / {seconds('plain', 'ipm')} s "
                f"| {seconds('auxiliary', 'simplex')} / {seconds('auxiliary', 'ipm')} s "
                f"| {end_to_end / best_plain:.2f}x |",
                flush=True,
            )


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
