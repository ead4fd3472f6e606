"""Leverage report time against one plan's time, on the bundled data and synthetic instances.

Both commands run as a user runs them (process start-up, loading, writing included), best of
three; the in-process figures compare ``optimizer.leverage`` with ``optimizer.solve`` alone,
and list each analysis's own seconds (``Leverage.task_seconds``): where the time goes.

    python benchmarks/leverage.py data 1e4 1e5
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
INSTANCES = HERE / "instances"


def wall(command: list[str], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, cwd=HERE.parent)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent))
    from generate import generate

    import optimizer
    from optimizer.analysis.negotiation import leverage

    print(
        "| instance | pairs | `optimizer plan` | `optimizer leverage` | ratio "
        "| in process: solve / leverage (re-solves) | ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    parts = []
    for name in sys.argv[1:]:
        folder = HERE.parent / "data" if name == "data" else INSTANCES / str(int(float(name)))
        if name != "data" and not (folder / "workloads.csv").exists():
            generate(int(float(name)), folder)
        repeats = 3 if name == "data" or float(name) < 1e5 else 1
        base = [sys.executable, "-m", "optimizer.cli"]
        out = INSTANCES / "out" / f"lev-{name}"
        plan_seconds = wall(base + ["plan", "--data", str(folder), "--out", str(out / "plan")], repeats)
        leverage_seconds = wall(base + ["leverage", "--data", str(folder), "--out", str(out / "lev")], repeats)
        inputs = optimizer.load(folder)
        started = time.perf_counter()
        plan = optimizer.solve(inputs)
        solve_seconds = time.perf_counter() - started
        report = leverage(inputs, plan)
        print(
            f"| {name} | {len(plan.model.pairs):,} | {plan_seconds:.2f} s | {leverage_seconds:.2f} s "
            f"| {leverage_seconds / plan_seconds:.1f}x | {solve_seconds:.2f} s / {report.seconds:.2f} s "
            f"({report.solves}) | {report.seconds / solve_seconds:.1f}x |",
            flush=True,
        )
        parts.append(
            f"- {name}: "
            + ", ".join(
                f"{task} {seconds:.1f} s"
                for task, seconds in sorted(report.task_seconds.items(), key=lambda item: -item[1])
            )
        )
    print("\nWhere the in-process leverage time goes (each analysis's own seconds, two workers):")
    print("\n".join(parts))


if __name__ == "__main__":
    main()
