"""Whether the walk-away costs hold when the capacities they rest on move.

Every bundled ``max_chips`` is an assumption, and capacity decides what walking away
costs: what another supplier can absorb. Each figure is therefore solved again with every
offer's capacity (``max_chips`` in ``offers.csv`` and ``offer_quarters.csv``) scaled down
and up, from scratch (plan and walk-away re-solves), so the report can say how far it moves.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from optimizer.analysis.walk_away import walk_away_costs
from optimizer.errors import SolveError
from optimizer.io.tables import Inputs
from optimizer.plan.assembly import Plan
from optimizer.plan.pipeline import solve

CAPACITY_FACTORS = (0.8, 1.2)
SENSITIVITY_COLUMNS = [
    "dimension",
    "supplier",
    "walk_away_cost_usd",
    "walk_away_cost_capacity_low_usd",
    "walk_away_cost_capacity_high_usd",
    "change_low_pct",
    "change_high_pct",
    "holds",
]


def scaled_capacity(inputs: Inputs, factor: float) -> Inputs:
    """``inputs`` with every max_chips times ``factor``; a take-or-pay min_chips above the
    new max comes down to it (a supplier cannot oblige us to more than it sells)."""
    offers = inputs.offers.assign(max_chips=inputs.offers["max_chips"] * factor)
    offers["min_chips"] = offers[["min_chips", "max_chips"]].min(axis=1)
    quarters = inputs.offer_quarters.copy()
    if len(quarters):
        quarters["max_chips"] = quarters["max_chips"] * factor
        quarters["min_chips"] = quarters[["min_chips", "max_chips"]].min(axis=1).where(quarters["min_chips"].notna())
    return replace(inputs, offers=offers, offer_quarters=quarters)


def capacity_sensitivity(inputs: Inputs, plan: Plan, factors: tuple[float, float] = CAPACITY_FACTORS) -> pd.DataFrame:
    """Each supplier's walk-away cost today and with capacities at ``factors`` (low, high):
    the plan solved again at that capacity and each supplier walked away from. ``holds``:
    a plan can walk away at both and the cost keeps its sign (a figure that flips or
    vanishes rests on the capacity assumption). Changes are in percent of today's figure."""
    today = walk_away_costs(plan)
    moved: list[pd.Series | None] = []
    for factor in factors:
        try:
            scaled = solve(scaled_capacity(inputs, factor), integer=plan.model.integer, payback=False)
            moved.append(walk_away_costs(scaled).set_index(["dimension", "supplier"])["walk_away_cost_usd"])
        except SolveError:  # no plan keeps the hard rules at that capacity
            moved.append(None)
    rows = []
    for dimension, supplier, cost in zip(
        today["dimension"], today["supplier"], today["walk_away_cost_usd"], strict=True
    ):
        # a supplier the scaled plan does not use costs nothing to leave
        low, high = (None if series is None else series.get((dimension, supplier), 0.0) for series in moved)
        rows.append(
            {
                "dimension": dimension,
                "supplier": supplier,
                "walk_away_cost_usd": cost,
                "walk_away_cost_capacity_low_usd": low,
                "walk_away_cost_capacity_high_usd": high,
                "change_low_pct": _change(cost, low),
                "change_high_pct": _change(cost, high),
                "holds": _holds(cost, low, high),
            }
        )
    return pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)


def _change(today: float | None, moved: float | None) -> float | None:
    if today is None or moved is None or pd.isna(today) or pd.isna(moved) or abs(today) < 1.0:
        return None
    return (moved - today) / abs(today) * 100


def _holds(today: float | None, low: float | None, high: float | None) -> bool:
    figures = [float(value) for value in (today, low, high) if value is not None and not pd.isna(value)]
    if len(figures) < 3:
        return False
    signs = {int(value > 0.5) - int(value < -0.5) for value in figures}  # within a dollar: zero
    return len(signs) == 1
