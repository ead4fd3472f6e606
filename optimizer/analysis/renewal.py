"""The hand at renewal: walk-away costs once the commitments up for renewal are gone.

Today's walk-away cost of a supplier counts the contracts and spend commitments already
signed with it as owed whatever we do, so a large commitment makes walking away look
expensive. The negotiation a lab actually has is the renewal: rows marked ``renewal`` in
``contracts.csv`` and ``spend_commitments.csv`` are removed, the plan is solved again from
scratch, and each supplier's walk-away cost is measured against that plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.analysis.walk_away import walk_away_costs
from optimizer.errors import SolveError
from optimizer.io.tables import Inputs
from optimizer.plan.assembly import Plan
from optimizer.plan.pipeline import solve

RENEWAL_COLUMNS = [
    "dimension",
    "supplier",
    "walk_away_cost_usd",
    "walk_away_cost_at_renewal_usd",
    "unserved_if_removed_at_renewal_tokens_per_s",
]


@dataclass(frozen=True)
class RenewalView:
    table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RENEWAL_COLUMNS))  # renewal.csv
    summary: dict[str, Any] = field(default_factory=dict)


def up_for_renewal(inputs: Inputs) -> list[str]:
    """Where the rows marked for renewal are ("contracts.csv line 3"), in file order."""
    found = []
    for table in (inputs.contracts, inputs.spend_commitments):
        if not table.empty and "renewal" in table:
            marked = table[table["renewal"].astype(bool)]
            places = zip(marked["_file"], marked["_line"], strict=True)
            found += [f"{Path(file).name} line {line}" for file, line in places]
    return found


def at_renewal(inputs: Inputs) -> Inputs:
    """``inputs`` without the contracts and spend commitments marked ``renewal``."""
    kept = {}
    for name in ("contracts", "spend_commitments"):
        table = getattr(inputs, name)
        kept[name] = table[~table["renewal"].astype(bool)] if not table.empty and "renewal" in table else table
    return replace(inputs, **kept)


def renewal_costs(plan: Plan) -> RenewalView:
    """The renewal plan (solved from scratch without the rows up for renewal) and the
    walk-away cost of every supplier it uses; empty when no row is up for renewal."""
    removed = up_for_renewal(plan.inputs)
    if not removed:
        return RenewalView()
    try:
        renewed = solve(at_renewal(plan.inputs), integer=plan.model.integer, payback=False)
    except SolveError as error:  # the rules cannot hold without the rows: said, not raised
        return RenewalView(summary={"renewal_removes": removed, "renewal_error": str(error)})
    costs = walk_away_costs(renewed).rename(
        columns={
            "walk_away_cost_usd": "walk_away_cost_at_renewal_usd",
            "unserved_if_removed_tokens_per_s": "unserved_if_removed_at_renewal_tokens_per_s",
        }
    )
    summary = {
        "renewal_removes": removed,
        "renewal_total_cost_usd": renewed.totals["total_cost_usd"],
        "renewal_total_cost_pv_usd": renewed.totals["total_cost_pv_usd"],
    }
    return RenewalView(costs[["dimension", "supplier", *RENEWAL_COLUMNS[3:]]], summary)


def beside_today(renewal: RenewalView, today: pd.DataFrame) -> pd.DataFrame:
    """renewal.csv: walk-away costs today (``today``: suppliers.csv's rows) beside those at
    renewal, for every supplier in use in either plan. A supplier a plan does not use costs
    nothing to walk away from in it."""
    if "renewal_total_cost_usd" not in renewal.summary:
        return pd.DataFrame(columns=RENEWAL_COLUMNS)
    table = today[["dimension", "supplier", "walk_away_cost_usd"]].merge(
        renewal.table, on=["dimension", "supplier"], how="outer", indicator=True
    )
    unused_today, unused_then = table["_merge"] == "right_only", table["_merge"] == "left_only"
    table.loc[unused_today, "walk_away_cost_usd"] = 0.0  # blank elsewhere: no plan can walk away
    table.loc[unused_then, RENEWAL_COLUMNS[3:]] = 0.0
    return table[RENEWAL_COLUMNS].sort_values(["dimension", "supplier"], ignore_index=True)
