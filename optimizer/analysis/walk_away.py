"""What walking away from a supplier costs us, with the rules kept and lifted, and the
demand it strands; its share of our volume; and walking away in part (the supplier held
to a fraction of today's volume)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.analysis.context import Context, full_copy
from optimizer.errors import SolveError
from optimizer.plan.assembly import Plan
from optimizer.solver.whatif import INF, Change, MipWhatIf, Outcome, ReSolver
from optimizer.tolerances import VALUE_NOISE

SUPPLIER_DIMENSIONS = ("provider", "vendor")
CURVE_LEVELS = [0.75, 0.5, 0.25, 0.0]
SUPPLIER_COLUMNS = [
    "dimension",
    "supplier",
    "spend_usd",
    "share",
    "walk_away_cost_usd",
    "walk_away_cost_no_rules_usd",
    "unserved_if_removed_tokens_per_s",
    "walk_away_penalty_usd",
    "walk_away_lost_revenue_usd",
    "walk_away_lost_margin_usd",
    "rests_on_assumption",
]
STRANDED_COLUMNS = [
    "walk_away_cost_usd",
    "unserved_if_removed_tokens_per_s",
    "walk_away_penalty_usd",
    "walk_away_lost_revenue_usd",
    "walk_away_lost_margin_usd",
]
CURVE_COLUMNS = ["dimension", "supplier", "volume_pct", "total_cost_usd", "method"]


def walk_away_costs(plan: Plan) -> pd.DataFrame:
    """Walk-away cost of every supplier in use (rules kept) and the demand it would strand.

    The light version of the report, for scenario comparisons, with the report's re-solver
    (on a mixed-integer plan: two warm LPs when they meet, else branch and bound started
    from the better of them).
    """
    context = Context(plan)
    plain = full_copy(context)
    rows = []
    for dimension in SUPPLIER_DIMENSIONS:
        for supplier, terms, _ in context.in_use(dimension):
            walked = plain.solve(Change(col_bounds=context.walk_away(terms)))
            rows.append({"dimension": dimension, "supplier": supplier, **_walked(context, walked)})
    return pd.DataFrame(rows, columns=["dimension", "supplier", *STRANDED_COLUMNS])


def _walked(context: Context, outcome: Outcome) -> dict[str, float | None]:
    """Walk-away cost, the demand it strands, and how the cost splits: the policy penalty on
    stranded rows without a revenue (a setting, not a price: when it is large, the threat
    of walking away is not credible and the dollar figure mostly restates it), the revenue
    lost on rows with one, and the margin lost, the cost less the penalty part (the fall in
    revenue less compute cost). The last two are blank when no row has a revenue."""
    if not outcome.optimal:
        return dict.fromkeys(STRANDED_COLUMNS, None)
    more = context.unmet(outcome) - context.u_today
    more = np.where(np.abs(more) > VALUE_NOISE * np.maximum(1.0, context.demand), more, 0.0)  # solver noise
    lost = more * context.unserved_cost
    priced = context.priced
    cost = outcome.objective - context.v0
    penalty = float(lost[~priced].sum())
    return {
        "walk_away_cost_usd": cost,
        "unserved_if_removed_tokens_per_s": float(more.sum()),
        "walk_away_penalty_usd": penalty,
        "walk_away_lost_revenue_usd": float(lost[priced].sum()) if priced.any() else None,
        "walk_away_lost_margin_usd": cost - penalty if priced.any() else None,
    }


@dataclass(frozen=True)
class WalkAway:
    suppliers: pd.DataFrame  # SUPPLIER_COLUMNS: suppliers.csv before the price columns
    shares: pd.DataFrame  # supplier_shares.csv
    curve: pd.DataFrame  # walk_away_curve.csv
    solves: int


def walk_away_tables(context: Context) -> WalkAway:
    """Walk-away costs (rules kept and lifted), unserved demand, shares and partial walk-away.

    Every figure re-solves the full problem on one warm copy (integer decisions free on a
    mixed-integer plan: method ``MIP re-solve`` in the curve), by bound and row changes."""
    plain = full_copy(context)
    limit_rows = _volume_limit_rows(context, plain)
    curve_method = "MIP re-solve" if isinstance(plain, MipWhatIf) else "LP re-solve"
    rows, shares, curve_rows = [], [], []
    total_volume = float(context.x_today.sum())
    lifted = context.rules_lifted()
    for dimension in SUPPLIER_DIMENSIONS:
        for supplier, terms, pairs in context.in_use(dimension):
            walked = _walked(context, plain.solve(Change(col_bounds=context.walk_away(terms))))
            walked_free = plain.solve(Change(col_bounds=context.walk_away(terms), row_bounds=lifted))
            volume_today = float(context.x_today[pairs].sum())
            rows.append(
                {
                    "dimension": dimension,
                    "supplier": supplier,
                    "spend_usd": float(context.spend_today[terms].sum()),
                    "share": volume_today / total_volume if total_volume else 0.0,
                    "walk_away_cost_usd": walked["walk_away_cost_usd"],
                    "walk_away_cost_no_rules_usd": walked_free.objective - context.v0 if walked_free.optimal else None,
                    "unserved_if_removed_tokens_per_s": walked["unserved_if_removed_tokens_per_s"],
                    **{key: walked[key] for key in STRANDED_COLUMNS[2:]},
                    "rests_on_assumption": bool(set(context.terms.loc[terms, "offer"]) & context.assumed),
                }
            )
            by_quarter = pd.Series(context.x_today[pairs]).groupby(context.pair_quarter[pairs]).sum()
            for quarter, volume in by_quarter.items():
                quarter_total = float(context.x_today[context.pair_quarter == quarter].sum())
                shares.append(
                    {
                        "dimension": dimension,
                        "supplier": supplier,
                        "quarter": quarter,
                        "share": volume / quarter_total if quarter_total else 0.0,
                    }
                )
            for level in CURVE_LEVELS:
                limits = {row: (-INF, level * cap) for row, cap in limit_rows.get((dimension, supplier), [])}
                try:
                    outcome, method = plain.solve(Change(row_bounds=limits)), curve_method
                except SolveError as error:
                    outcome, method = Outcome(False, math.nan, np.empty(0)), f"{curve_method} failed: {error}"
                curve_rows.append(
                    {
                        "dimension": dimension,
                        "supplier": supplier,
                        "volume_pct": level * 100,
                        "total_cost_usd": outcome.objective if outcome.optimal else None,
                        "method": method,
                    }
                )
    # Named columns: with nothing served, no supplier is in use and the tables are empty.
    return WalkAway(
        suppliers=pd.DataFrame(rows, columns=SUPPLIER_COLUMNS),
        shares=pd.DataFrame(shares, columns=["dimension", "supplier", "quarter", "share"]),
        curve=pd.DataFrame(curve_rows, columns=CURVE_COLUMNS),
        solves=plain.solves,
    )


def _volume_limit_rows(context: Context, plain: ReSolver) -> dict[tuple[str, str], list[tuple[int, float]]]:
    """Inactive rows sum_{pairs of S in q} x <= +inf, one per supplier and quarter with volume.

    Returns (row, today's volume) per supplier, to hold it to a fraction of today's volume.
    """
    specs, keys = [], []
    for dimension in SUPPLIER_DIMENSIONS:
        for supplier, _, pairs in context.in_use(dimension):
            for quarter in np.unique(context.pair_quarter[pairs]):
                members = pairs[context.pair_quarter[pairs] == quarter]
                volume = float(context.x_today[members].sum())
                if volume > 0:
                    specs.append((context.columns["x"][members], np.ones(len(members))))
                    keys.append((dimension, supplier, volume))
    if not specs:
        return {}
    rows = plain.add_rows(np.full(len(specs), -INF), np.full(len(specs), INF), specs)
    limits: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for row, (dimension, supplier, volume) in zip(rows, keys, strict=True):
        limits.setdefault((dimension, supplier), []).append((int(row), volume))
    return limits
