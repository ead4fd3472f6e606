"""Dual against primal simplex for the leverage report's warm re-solves, side by side.

Each leverage analysis runs alone (one worker) on one plan of the bundled data, once with
every re-solve in dual simplex and once in primal (``whatif.SIMPLEX_STRATEGY``), with the
bundled moving costs and without them (policy ``switching`` removed). Prints seconds,
re-solves and simplex iterations per analysis, and the primal/dual time ratio.

    python benchmarks/warm_start.py
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    sys.path.insert(0, str(HERE.parent))
    import optimizer
    from optimizer.analysis.context import Context
    from optimizer.analysis.offer_prices import price_offers
    from optimizer.analysis.port_break_even import break_evens
    from optimizer.analysis.supplier_prices import price_suppliers
    from optimizer.analysis.walk_away import walk_away_tables
    from optimizer.io.loading import bundled_data
    from optimizer.solver import whatif

    counts = {"runs": 0, "iterations": 0}
    attempt = whatif.WhatIf._attempt

    def counted(self):  # every HiGHS run of a re-solve, with its simplex iterations
        status = attempt(self)
        counts["runs"] += 1
        counts["iterations"] += self.highs.getInfo().simplex_iteration_count
        return status

    whatif.WhatIf._attempt = counted  # type: ignore[method-assign]

    def ports(context):
        parts = max(1, len(context.plan.model.ports))
        return [break_evens(context, part=k, parts=parts) for k in range(parts)]

    analyses = {
        "port break-evens": ports,
        "offer prices": price_offers,
        "provider prices": lambda c: price_suppliers(c, "provider"),
        "vendor prices": lambda c: price_suppliers(c, "vendor"),
        "walking away": walk_away_tables,
    }
    bundled = optimizer.load(bundled_data())
    cases = {
        "moving costs": bundled,
        "no moving costs": replace(bundled, policy=bundled.policy.model_copy(update={"switching": {}})),
    }
    print("| data | analysis | dual: time (HiGHS runs, iterations) | primal: time (runs, iterations) | primal / dual |")
    print("|---|---|---|---|---|")
    for case, inputs in cases.items():
        plan = optimizer.solve(inputs)
        for name, run in analyses.items():
            cells = []
            for strategy in (1, 4):
                whatif.SIMPLEX_STRATEGY = strategy
                context = Context(plan)
                counts.update(runs=0, iterations=0)
                started = time.perf_counter()
                run(context)
                seconds = time.perf_counter() - started
                cells.append((seconds, f"{seconds:.1f} s ({counts['runs']:,}, {counts['iterations']:,})"))
            (dual, dual_cell), (primal, primal_cell) = cells
            print(f"| {case} | {name} | {dual_cell} | {primal_cell} | {primal / dual:.2f}x |", flush=True)
    whatif.SIMPLEX_STRATEGY = 1


if __name__ == "__main__":
    main()
