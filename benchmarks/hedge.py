"""The two-stage hedge's extensive form against one plan and against HiGHS alone, side by side.

For S draws of the bundled example sweep (``scenarios/sweeps/open-questions.yaml``):
building the S scenario LPs, building the extensive form as one sparse matrix and
handing it to HiGHS (the tool's path), HiGHS's run on it, and HiGHS alone on the same
extensive form read back from an MPS file (a fresh HiGHS, the same options: the solver
with no tool around it). One plan is the base scenario's LP built and solved the same way.

    python benchmarks/hedge.py 5 10 20
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
SWEEP = HERE.parent / "scenarios" / "sweeps" / "open-questions.yaml"


def main() -> None:
    sys.path.insert(0, str(HERE.parent))
    import optimizer
    from optimizer.hedge.blocks import scenario_block
    from optimizer.hedge.extensive import load_extensive
    from optimizer.hedge.hedge import draw_blocks, no_progress
    from optimizer.scenarios.overlays import apply
    from optimizer.scenarios.sweeps import draws_of
    from optimizer.solver.highs import new_highs, set_mip_gap
    from optimizer.solver.lp import cost_scale

    sweep, base = optimizer.read_sweep(SWEEP)
    started = time.perf_counter()
    one = scenario_block(apply(base))
    one_build = time.perf_counter() - started
    one_loaded = load_extensive([one], np.ones(1))
    one_loaded.highs.run()
    one_run = one_loaded.highs.getRunTime()
    print(f"One plan (the base scenario's LP): build {one_build:.2f} s, HiGHS run {one_run:.2f} s\n")
    print(
        "| draws | columns | rows | build the draws' LPs | build the extensive form + pass | HiGHS run "
        "| tool's path | HiGHS alone (MPS) | ratio | against one plan |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for count in (int(a) for a in sys.argv[1:]):
        started = time.perf_counter()
        blocks = draw_blocks(sweep, base, draws_of(sweep, samples=count), "in", no_progress)
        scenarios = time.perf_counter() - started
        started = time.perf_counter()
        loaded = load_extensive(blocks, np.full(count, 1.0 / count))
        build = time.perf_counter() - started
        loaded.highs.run()
        run = loaded.highs.getRunTime()
        with tempfile.TemporaryDirectory() as folder:
            path = str(Path(folder) / "extensive.mps")
            loaded.highs.writeModel(path)
            alone = new_highs()
            set_mip_gap(alone, float(np.mean([cost_scale(b.model) for b in blocks])))
            alone.readModel(path)
            alone.run()
            alone_run = alone.getRunTime()
        path_seconds = build + run
        print(
            f"| {count} | {loaded.columns:,} | {loaded.rows:,} | {scenarios:.2f} s | {build:.2f} s | {run:.2f} s "
            f"| {path_seconds:.2f} s | {alone_run:.2f} s | {path_seconds / alone_run:.2f}x "
            f"| {(scenarios + path_seconds) / (one_build + one_run):.0f}x |"
        )


if __name__ == "__main__":
    main()
