"""What every leverage analysis reads of one plan, and the copies it re-solves.

``Context`` holds the plan's index sets: which columns, pairs and rows belong to which
offer or supplier. ``price_handles`` makes the LP copy where a group of offers costs one
column's price (V(p) in :mod:`optimizer.analysis.negotiation`), ``price_curve`` walks V on
it; ``full_copy`` re-solves the full problem.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from optimizer.analysis.price_pieces import PriceCurve
from optimizer.model.builder import minimum_on_segments, tiered_terms
from optimizer.plan.assembly import Plan, tier_payments
from optimizer.solver.whatif import INF, MipWhatIf, Outcome, ReSolver, WhatIf


class Context:
    """Index sets of one plan: which columns, pairs and rows belong to which group."""

    def __init__(self, plan: Plan):
        self.plan = plan
        model = plan.model
        self.hours = plan.inputs.policy.hours_per_quarter
        self.terms = model.terms.reset_index(drop=True)
        self.pairs = model.pairs
        self.columns = plan.solution.columns
        self.spend_today = _spend_today(plan)
        self.min_chips = self.terms["min_chips"].to_numpy()
        self.max_chips = self.terms["max_chips"].to_numpy()
        self.y_today = plan.solution.y
        self.x_today = plan.solution.x
        self.u_today = plan.solution.u
        self.share_rows = model.rows["share"]["row"].to_numpy() if "share" in model.rows else np.array([], int)
        self.pair_quarter = self.pairs["quarter"].to_numpy()
        self.workload_quarter = model.workloads["quarter"].to_numpy()
        self.demand = model.workloads["tokens_per_s"].to_numpy()
        self.unserved_cost = model.lp.cost[model.u]  # per token/s of each row, as the objective counts it
        self.priced = ~np.isnan(plan.inputs.revenue_per_mtok())
        self.v0 = plan.solution.objective
        self.tolerance = 1e-9 * max(1.0, abs(self.v0))
        self.assumed = _assumed_offers(plan)
        self.cost_columns = _cost_columns(plan)
        self.links = model.price_links

    def offers_of(self, dimension: str) -> dict[str, list[str]]:
        return {str(k): sorted(set(v)) for k, v in self.terms.groupby(dimension)["offer"]}

    def costs_of(self, offers: list[str]) -> pd.DataFrame:
        """The columns carrying these offers' cost in the objective, with that cost."""
        return self.cost_columns[self.cost_columns["offer"].isin(offers)]

    def held_today(self, offers: list[str]) -> float:
        """The offers' cost in today's plan at unit price: a price-factor handle's value today."""
        costs = self.costs_of(offers)
        solution = self.plan.solution
        today = dict(zip(self.columns["y"], solution.y, strict=True))
        today.update(zip(self.columns["c"], solution.c, strict=True))
        today.update(zip(self.columns["tier_y"], solution.tier_y, strict=True))
        today.update(zip(self.columns["discount_a"], solution.discount_a, strict=True))
        return float(
            sum(cost * today.get(column, 0.0) for column, cost in zip(costs["column"], costs["cost"], strict=True))
        )

    def links_of(self, columns: np.ndarray) -> list[tuple[int, int, float]]:
        """Spend-row coefficients (prices) on these columns: they move with the price."""
        wanted = set(int(c) for c in columns)
        return [link for link in self.links if link[1] in wanted]

    def terms_of(self, dimension: str) -> dict[str, np.ndarray]:
        return {str(k): np.asarray(v) for k, v in self.terms.groupby(dimension).indices.items()}

    def pairs_of(self, terms: np.ndarray) -> np.ndarray:
        return np.flatnonzero(np.isin(self.pairs["t"].to_numpy(), terms))

    def in_use(self, dimension: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """(supplier, its terms, its pairs) for every supplier with volume or spend today."""
        found = []
        for supplier, terms in sorted(self.terms_of(dimension).items()):
            pairs = self.pairs_of(terms)
            if self.x_today[pairs].sum() > 0 or self.spend_today[terms].sum() > 0:
                found.append((supplier, terms, pairs))
        return found

    def chip_hours(self, outcome: Outcome, terms: np.ndarray) -> float:
        """NaN where the hard rules cannot hold (no plan), as for every figure of an outcome."""
        if not outcome.optimal:
            return math.nan
        return float(outcome.values[self.columns["y"][terms]].sum() * self.hours)

    def volume(self, outcome: Outcome, pairs: np.ndarray) -> float:
        if not outcome.optimal:
            return math.nan
        return float(outcome.values[self.columns["x"][pairs]].sum())

    def unmet(self, outcome: Outcome) -> np.ndarray:
        return outcome.values[self.columns["u"]]

    def walk_away(self, terms: np.ndarray) -> dict[int, tuple[float, float]]:
        """Column bounds holding these terms to their take-or-pay minimum."""
        return {int(self.columns["y"][t]): (self.min_chips[t], self.min_chips[t]) for t in terms}

    def rules_lifted(self) -> dict[int, tuple[float, float]]:
        return {int(r): (-INF, INF) for r in self.share_rows}

    def holds(self, slope: float, minimum: float) -> bool:
        """The group keeps more than its take-or-pay minimum (slopes in the handle's units)."""
        return slope > minimum + 1e-9 * max(1.0, minimum) + 1e-6


def _spend_today(plan: Plan) -> np.ndarray:
    """Each term's spend in its quarter at today's chips, undiscounted: price x chip-hours,
    or with price tiers what its tier segments pay."""
    model, solution = plan.model, plan.solution
    spend = model.terms["usd_per_chip_hour"].to_numpy() * plan.inputs.policy.hours_per_quarter * solution.y
    tiered = tiered_terms(model)
    spend[tiered] = tier_payments(model, solution)[tiered]
    return spend


def _cost_columns(plan: Plan) -> pd.DataFrame:
    """One row per column with a price in the objective: on-demand chips y (with price
    tiers, each tier's segment), commitments c.

    ``cost`` is the column's objective coefficient today (a present value under a discount
    rate), read from the LP so that a price handle moves exactly what the objective counts;
    ``minimum`` what its take-or-pay minimum costs (on-demand chips; on a tiered term, the
    segments the minimum fills).
    """
    model, columns = plan.model, plan.solution.columns
    terms = model.terms
    on_demand = np.flatnonzero((terms["term"] == "on-demand").to_numpy() & ~tiered_terms(model))
    cost = model.lp.cost
    y_cost = cost[columns["y"][on_demand]]
    tiers = model.tiers
    tier_t = tiers["t"].to_numpy(dtype=np.int64) if len(tiers) else np.zeros(0, np.int64)
    tier_cost = cost[columns["tier_y"]]
    paying = pd.concat(
        [
            pd.DataFrame(
                {
                    "column": columns["y"][on_demand],
                    "offer": terms["offer"].to_numpy()[on_demand],
                    "cost": y_cost,
                    "minimum": y_cost * terms["min_chips"].to_numpy()[on_demand],
                }
            ),
            pd.DataFrame(
                {
                    "column": columns["tier_y"],
                    "offer": terms["offer"].to_numpy()[tier_t],
                    "cost": tier_cost,
                    "minimum": tier_cost * minimum_on_segments(model),
                }
            ),
            pd.DataFrame(
                {
                    "column": columns["c"],
                    "offer": model.starts["offer"].to_numpy(),
                    "cost": cost[columns["c"]],
                    "minimum": 0.0,
                }
            ),
        ],
        ignore_index=True,
    )
    return pd.concat([paying, _discounted_columns(plan, paying)], ignore_index=True)


def _discounted_columns(plan: Plan, paying: pd.DataFrame) -> pd.DataFrame:
    """The discounted parts a_kj of the paying columns (minimum-spend discounts): each is
    priced with its column's offer, as a negative cost (the rebate). Its minimum is the
    rebate on the column's take-or-pay minimum where today's plan reaches the level."""
    model, columns = plan.model, plan.solution.columns
    parts = model.discounted
    if parts.empty:
        return pd.DataFrame(columns=paying.columns)
    cost = model.lp.cost[columns["discount_a"]]
    held = (paying["minimum"] / paying["cost"].where(paying["cost"] != 0)).set_axis(paying["column"])
    minimum_chips = parts["column"].map(held).fillna(0.0).to_numpy(dtype=float)
    reached = plan.solution.discount_z[parts["k"].to_numpy(dtype=np.int64)] > 0.5
    return pd.DataFrame(
        {
            "column": columns["discount_a"],
            "offer": model.terms["offer"].to_numpy()[parts["t"].to_numpy(dtype=np.int64)],
            "cost": cost,
            "minimum": np.where(reached, cost * minimum_chips, 0.0),
        }
    )


def price_handles(
    context: Context, groups: dict[str, list[str]], prices: dict[str, float]
) -> tuple[WhatIf, MipWhatIf | None, dict[str, int], dict[str, float]]:
    """A WhatIf copy where each group's cost sits on one handle column whose cost is its price.

    Handle row: h_G - sum_j (cost_j / price_G) * col_j = 0 (scaled to a largest entry of 1)
    over the group's cost columns,
    which lose their own cost, so the objective is unchanged at today's prices. Returns the
    copy (the LP, integer decisions held at today's values), for mixed-integer plans a
    :class:`MipWhatIf` carrying the same handles (the full re-solves that confirm each
    figure), the handles, and each group's take-or-pay minimum in the handle's units.
    """
    mip = MipWhatIf(context.plan) if context.plan.model.mixed_integer else None
    copies = list(mip.copies) if mip else [WhatIf(context.plan, fix_integers=True)]
    names = sorted(groups)
    entries, minimum, members = [], {}, []
    handles = np.array([], int)
    for copy in copies:
        handles = copy.add_columns(np.array([prices[g] for g in names]), [([], []) for _ in names])
    for k, name in enumerate(names):
        costs = context.costs_of(groups[name])
        scale = prices[name] if prices[name] > 0 else 1.0
        row = np.concatenate([[1.0], -costs["cost"].to_numpy() / scale])
        # Divided by its largest entry: h_G is a whole horizon's spend (~1e10 USD), and in
        # dollars the row cannot meet HiGHS's absolute feasibility tolerance ("Solve error").
        entries.append((np.concatenate([[handles[k]], costs["column"].to_numpy()]), row / np.abs(row).max()))
        minimum[name] = float(costs["minimum"].sum() / scale)
        members.append(costs["column"].to_numpy())
    moved = np.concatenate(members) if members else np.array([], int)
    for copy in copies:
        copy.add_rows(np.zeros(len(names)), np.zeros(len(names)), entries)
        copy.set_base_costs(moved, np.zeros(len(moved)))
    for copy in copies[:2]:  # the LPs; the full MIP copy is solved on its first experiment
        copy.baseline()
    return copies[0], mip, {g: int(handles[k]) for k, g in enumerate(names)}, minimum


def price_curve(
    context: Context, whatif: WhatIf, handle: int, offers: list[str], p0: float, mip: MipWhatIf | None = None
) -> PriceCurve:
    columns = context.costs_of(offers)["column"].to_numpy()
    return PriceCurve(whatif, handle, p0, context.v0, context.tolerance, links=context.links_of(columns), mip=mip)


def solves_of(whatif: WhatIf, mip: MipWhatIf | None) -> int:
    return mip.solves if mip else whatif.solves


def full_copy(context: Context) -> ReSolver:
    """A copy for re-solves of the full problem: plain LP, or the two-bound MIP re-solver."""
    if context.plan.model.mixed_integer:
        return MipWhatIf(context.plan)
    return WhatIf(context.plan)


def _assumed_offers(plan: Plan) -> set[str]:
    """Offers whose price, or a throughput they serve with, is an assumption."""
    inputs = plan.inputs
    flagged = set(inputs.offers.loc[inputs.offers["assumed"], "offer"])
    perf = inputs.performance[inputs.performance["assumed"]][["model", "accelerator"]]
    if not perf.empty:
        used = plan.model.pairs.merge(plan.model.terms[["offer", "quarter", "accelerator"]], on=["offer", "quarter"])
        used = used.assign(model=plan.model.workloads["model"].to_numpy()[used["w"].to_numpy()])
        flagged |= set(used.merge(perf, on=["model", "accelerator"])["offer"])
    return flagged
