"""Which commitment decisions rest on the terminal-value rule: does the plan buy an offer's
1yr/3yr term when it counts the commitment's whole cost, and when it counts only its part
inside the horizon (``commitment_cost``)? Where the two answers differ, every figure about
that offer depends on what the chips are assumed to be worth after the horizon."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.analysis.context import Context, full_copy
from optimizer.model.builder import commitment_weight
from optimizer.solver.whatif import Change

COLUMNS = ["offer", "chips_committed_whole", "chips_committed_in_horizon", "flips_with_commitment_cost"]
BOUGHT = 1e-6  # chips committed below this are none (solver noise)


def commitment_rule_flips(context: Context) -> tuple[pd.DataFrame, int]:
    """Per commitment offer: chips committed (summed over start quarters) under each rule,
    today's from the plan and the other's from a full re-solve with the commitments costed
    by the other rule; and whether the offer is bought under one rule only."""
    plan = context.plan
    starts = plan.model.starts
    if starts.empty:
        return pd.DataFrame(columns=COLUMNS), 0
    whole_now = plan.inputs.policy.commitment_cost == "whole"
    columns = plan.solution.columns["c"]
    unit = starts["usd_per_chip_hour"].to_numpy(dtype=float) * context.hours
    other_cost = unit * commitment_weight(plan.model, whole=not whole_now)
    copy = full_copy(context)
    outcome = copy.solve(Change(cost={int(c): float(v) for c, v in zip(columns, other_cost, strict=True)}))
    today = pd.Series(plan.solution.c).groupby(starts["offer"].to_numpy()).sum()
    other = (
        pd.Series(outcome.values[columns]).groupby(starts["offer"].to_numpy()).sum()
        if outcome.optimal
        else pd.Series(np.nan, index=today.index)
    )
    other = other.mask(other.abs() <= BOUGHT, 0.0)  # solver noise, both signs (NaN: no plan)
    whole, inside = (today, other) if whole_now else (other, today)
    table = pd.DataFrame(
        {
            "offer": today.index,
            "chips_committed_whole": whole.to_numpy(),
            "chips_committed_in_horizon": inside.to_numpy(),
        }
    )
    bought_whole = table["chips_committed_whole"] > BOUGHT
    bought_inside = table["chips_committed_in_horizon"] > BOUGHT
    known = table[["chips_committed_whole", "chips_committed_in_horizon"]].notna().all(axis=1)
    table["flips_with_commitment_cost"] = [
        bool(w != i) if k else None for w, i, k in zip(bought_whole, bought_inside, known, strict=True)
    ]
    return table[COLUMNS], copy.solves
