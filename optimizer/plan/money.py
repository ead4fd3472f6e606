"""The plan's money per quarter (cost, revenue, margin, cash paid) and its present values.

Cost per quarter is what the chips used in it cost (commitments spread over the quarters
they run), so the quarters' gross margins add up to the horizon's. Cash paid is when the
money leaves: an upfront commitment's whole term in its first quarter. Present values
discount each payment from the start of the quarter it is paid in (contract, "Extension:
present value and payment timing").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer import quarters
from optimizer.model.builder import LpModel, commitment_weight, shortfall_due, upfront_starts

QUARTER_COLUMNS = [
    "quarter",
    "chips_usd",
    "port_usd",
    "moving_usd",
    "shortfall_usd",
    "spend_discount_usd",
    "cost_usd",
    "revenue_usd",
    "gross_margin_usd",
    "lost_revenue_usd",
    "unmet_penalty_usd",
    "paid_usd",
    "discount_factor",
    "paid_pv_usd",
]


def money_by_quarter(
    model: LpModel,
    spend: np.ndarray,
    c: np.ndarray,
    ports: pd.DataFrame,
    moves: pd.DataFrame,
    spend_commitments: pd.DataFrame,
    rebates: pd.Series,
    revenue: np.ndarray,
    unserved_cost: np.ndarray,
) -> pd.DataFrame:
    """One row per horizon quarter. ``spend`` is paid per term (chips held, contracts
    included, commitments per quarter they run), ``moves`` the plan's moves (paid in the
    quarter they happen), ``rebates`` the minimum-spend discounts by quarter, ``revenue`` and ``unserved_cost`` per
    workload row (NaN revenue: the row has none). Gross margin is blank in a quarter where
    a row with demand has no revenue, as over the horizon."""
    inputs, terms, starts = model.inputs, model.terms, model.starts
    horizon = pd.Index(inputs.horizon)
    table = pd.DataFrame({"quarter": horizon})
    table["chips_usd"] = by_quarter(spend, terms["quarter"]).reindex(horizon, fill_value=0.0).to_numpy()
    table["port_usd"] = by_quarter(ports["port_usd"], ports["port_quarter"]).reindex(horizon, fill_value=0.0).to_numpy()
    table["moving_usd"] = by_quarter(moves["cost_usd"], moves["quarter"]).reindex(horizon, fill_value=0.0).to_numpy()
    owed = spend_commitments["shortfall_usd"].to_numpy(dtype=float)
    table["shortfall_usd"] = by_quarter(owed, shortfall_due(model)).reindex(horizon, fill_value=0.0).to_numpy()
    table["spend_discount_usd"] = rebates.reindex(horizon, fill_value=0.0).to_numpy(dtype=float)
    paid_out = table["chips_usd"] + table["port_usd"] + table["moving_usd"] + table["shortfall_usd"]
    table["cost_usd"] = paid_out - table["spend_discount_usd"]

    workloads = model.workloads
    priced = ~np.isnan(revenue)
    demand = workloads["tokens_per_s"].to_numpy(dtype=float) > 0
    rows_quarter = workloads["quarter"].to_numpy()
    table["revenue_usd"] = (
        by_quarter(np.where(priced, revenue, 0.0), rows_quarter).reindex(horizon, fill_value=0.0).to_numpy()
    )
    unpriced = by_quarter(demand & ~priced, rows_quarter).reindex(horizon, fill_value=0.0).to_numpy() > 0
    table["gross_margin_usd"] = np.where(unpriced | ~priced.any(), np.nan, table["revenue_usd"] - table["cost_usd"])
    table["lost_revenue_usd"] = (
        by_quarter(np.where(priced, unserved_cost, 0.0), rows_quarter).reindex(horizon, fill_value=0.0).to_numpy()
    )
    table["unmet_penalty_usd"] = (
        by_quarter(np.where(priced, 0.0, unserved_cost), rows_quarter).reindex(horizon, fill_value=0.0).to_numpy()
    )
    if not priced.any():
        table[["revenue_usd", "lost_revenue_usd"]] = np.nan

    upfront = upfront_starts(model)
    one_quarter = starts["usd_per_chip_hour"].to_numpy(dtype=float) * inputs.policy.hours_per_quarter * c
    spread = _spread_over_horizon(model, np.where(upfront, one_quarter, 0.0))
    at_start = by_quarter(np.where(upfront, one_quarter * starts["term_quarters"].to_numpy(), 0.0), starts["quarter"])
    table["paid_usd"] = table["cost_usd"] - spread.reindex(horizon, fill_value=0.0).to_numpy()
    table["paid_usd"] += at_start.reindex(horizon, fill_value=0.0).to_numpy()
    table["discount_factor"] = inputs.discount_of(horizon)
    table["paid_pv_usd"] = table["paid_usd"] * table["discount_factor"]
    return table[QUARTER_COLUMNS]


def by_quarter(values, labels) -> pd.Series:
    """Sum of ``values`` per quarter label."""
    return pd.Series(np.asarray(values, dtype=float)).groupby(np.asarray(labels)).sum()


def _spread_over_horizon(model: LpModel, per_quarter: np.ndarray) -> pd.Series:
    """Each start's quarterly amount in every horizon quarter its term runs."""
    starts = model.starts
    last = quarters.ordinal(model.inputs.horizon[-1])
    records: dict[str, float] = {}
    for quarter, inside, amount in zip(starts["quarter"], starts["inside"], per_quarter, strict=True):
        if amount == 0:
            continue
        first = quarters.ordinal(quarter)
        for k in range(first, min(first + int(inside), last + 1)):
            records[quarters.label(k)] = records.get(quarters.label(k), 0.0) + float(amount)
    return pd.Series(records, dtype=float)


def present_values(
    model: LpModel,
    objective: float,
    c: np.ndarray,
    revenue: np.ndarray,
    unserved_cost: np.ndarray,
) -> dict[str, float | None]:
    """The summary's present values (null without a discount rate). ``total_cost_pv_usd`` is
    the objective; the gross margin counts commitments' in-horizon part only, each upfront
    payment less the terminal value of its quarters after the horizon."""
    inputs = model.inputs
    names = ["total_cost_pv_usd", "compute_cost_pv_usd", "unmet_penalty_pv_usd", "lost_revenue_pv_usd"]
    names += ["revenue_pv_usd", "gross_margin_pv_usd"]
    if inputs.policy.discount_rate_per_year is None:
        return dict.fromkeys(names, None)
    at = inputs.discount_of(model.workloads["quarter"])
    priced = ~np.isnan(revenue)
    penalty = float((unserved_cost * at)[~priced].sum())
    lost = float((unserved_cost * at)[priced].sum())
    compute = objective - penalty - lost
    price_hours = model.starts["usd_per_chip_hour"].to_numpy(dtype=float) * inputs.policy.hours_per_quarter * c
    after = float((price_hours * (commitment_weight(model) - commitment_weight(model, whole=False))).sum())
    revenue_pv = float((np.where(priced, revenue, 0.0) * at).sum()) if priced.any() else None
    every_row = bool(priced[model.workloads["tokens_per_s"].to_numpy(dtype=float) > 0].all())
    return {
        "total_cost_pv_usd": objective,
        "compute_cost_pv_usd": compute,
        "unmet_penalty_pv_usd": penalty,
        "lost_revenue_pv_usd": lost if priced.any() else None,
        "revenue_pv_usd": revenue_pv,
        "gross_margin_pv_usd": revenue_pv - (compute - after) if revenue_pv is not None and every_row else None,
    }
