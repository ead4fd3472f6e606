"""Leverage per minimum-spend discount level: how far the plan's spend is from it, and
what it is worth.

A level reached is worth what losing it would cost the whole plan (a re-solve with the
level off); a level not reached costs what reaching it would (a re-solve with it on:
positive when the optimum is right not to go there, the figure to put against a
provider's offer of a bigger discount for more spend).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from optimizer.analysis.context import Context, full_copy
from optimizer.solver.whatif import Change

DISCOUNT_COLUMNS = [
    "provider",
    "first",
    "last",
    "from_in_horizon_usd",
    "discount",
    "spend_usd",
    "reached",
    "to_reach_usd",
    "rebate_usd",
    "value_usd",
    "cost_of_reaching_usd",
]


def discount_table(context: Context) -> tuple[pd.DataFrame, int]:
    """One row per level of ``spend_discounts.csv`` inside the horizon: the plan's spend
    against it, and ``value_usd`` (reached: V with the level off, minus V) or
    ``cost_of_reaching_usd`` (not reached: V with it on, minus V; blank when no plan can
    reach it); and the number of solves."""
    plan = context.plan
    levels = plan.spend_discounts
    if levels.empty:
        return pd.DataFrame(columns=DISCOUNT_COLUMNS), 0
    plain = full_copy(context)
    columns = context.columns["discount_z"]
    moved = []
    for k, taken in enumerate(levels["reached"]):
        held = (0.0, 0.0) if taken else (1.0, 1.0)
        outcome = plain.solve(Change(col_bounds={int(columns[k]): held}))
        moved.append(outcome.objective - context.v0 if outcome.optimal else math.nan)
    reached = levels["reached"].to_numpy(dtype=bool)
    table = levels.assign(
        value_usd=np.where(reached, moved, math.nan), cost_of_reaching_usd=np.where(reached, math.nan, moved)
    )
    return table[DISCOUNT_COLUMNS], plain.solves
