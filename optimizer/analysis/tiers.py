"""Leverage per price tier: what volume would unlock an offer's next tier, and what it would save.

A tier is a negotiated price, so the useful questions are how far the plan is from the
next break and what reaching it is worth: the price saving the break gives, and the net
cost to the whole plan of holding the chips that reach it (a re-solve with the term's
chips held at the break or above: positive when the optimum is right not to go there).
"""

from __future__ import annotations

import math

import pandas as pd

from optimizer.analysis.context import Context, full_copy
from optimizer.plan.assembly import tiers_reached
from optimizer.solver.whatif import Change

TIER_COLUMNS = [
    "offer",
    "quarter",
    "kind",
    "tier",
    "chips",
    "usd_per_chip_hour",
    "next_tier",
    "next_from_chips",
    "chips_to_next_tier",
    "next_usd_per_chip_hour",
    "saving_usd_per_chip_hour",
    "saving_at_next_tier_usd",
    "cost_of_reaching_usd",
]


def tier_table(context: Context) -> tuple[pd.DataFrame, int]:
    """One row per tiered term (offer, quarter): the tier reached, the next one and the
    cost of reaching it (re-solves of the full problem); and the number of solves."""
    model = context.plan.model
    tiers = model.tiers
    if tiers.empty:
        return pd.DataFrame(columns=TIER_COLUMNS), 0
    plain = full_copy(context)
    reached = tiers_reached(model, context.plan.solution)
    hours = context.hours
    records = []
    for t in sorted(set(tiers["t"].tolist())):
        block = tiers[tiers["t"] == t]
        tier = int(reached.get(t, 0))
        chips = float(context.y_today[t])
        current = block[block["tier"] == tier].iloc[0]
        listed = float(current["usd_per_chip_hour"])
        following = block[block["tier"] == tier + 1]
        record = {
            "offer": context.terms.at[t, "offer"],
            "quarter": context.terms.at[t, "quarter"],
            "kind": current["kind"],
            "tier": tier,
            "chips": chips,
            "usd_per_chip_hour": context.spend_today[t] / (chips * hours) if chips > 0 else listed,
        }
        if not following.empty:
            nxt = following.iloc[0]
            start, price = float(nxt["from_chips"]), float(nxt["usd_per_chip_hour"])
            saving = listed - price
            record |= {
                "next_tier": tier + 1,
                "next_from_chips": start,
                "chips_to_next_tier": max(0.0, start - chips),
                "next_usd_per_chip_hour": price,
                "saving_usd_per_chip_hour": saving,
                "saving_at_next_tier_usd": saving * start * hours if current["kind"] == "all_units" else 0.0,
                "cost_of_reaching_usd": _cost_of_reaching(context, plain, t, start),
            }
        records.append(record)
    return pd.DataFrame(records, columns=TIER_COLUMNS).astype({"next_tier": "Int64"}), plain.solves


def _cost_of_reaching(context: Context, plain, t: int, start: float) -> float:
    """V(term t holds at least ``start`` chips) - V(today); NaN when no plan can (above max_chips)."""
    if start > context.max_chips[t]:
        return math.nan
    column = int(context.columns["y"][t])
    outcome = plain.solve(Change(col_bounds={column: (max(start, context.min_chips[t]), context.max_chips[t])}))
    return outcome.objective - context.v0 if outcome.optimal else math.nan
