"""How strong is our hand? The negotiation-leverage report, in dollars.

One sign convention for every amount: USD over the whole horizon, positive when it is
money we would lose (pay more, or save less). So a walk-away cost of 120M means walking
away from that supplier raises our optimal cost by 120M; the value of capacity is what
one more chip-hour would save us; the cost of a rule is what lifting it would save us.

Definitions (README, "How strong is our hand?"):
- V(p): optimal total cost when an offer's price is p in every quarter (quarter
  overrides keep their ratio to the offer's price), all else fixed.
- An offer *holds* volume when V's right slope at today's price p0 exceeds its
  take-or-pay chip-hours; its *price ceiling* is then where V's piece starting at p0
  ends. Otherwise its *price to win* is where the piece ending at p0 starts: below it
  the offer gains volume. ``chip_hours_at_risk`` is V's left minus right slope at p0.
- Walking away from a supplier: none of its offers sells more than its take-or-pay
  minimum (signed commitments stay sunk and usable).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .plan import Plan
from .price_pieces import PriceCurve, search_volume
from .whatif import INF, Change, Outcome, WhatIf

PRICE_STEPS = [round(-0.5 + 0.1 * k, 1) for k in range(16)]   # -50% ... +100%
CURVE_LEVELS = [0.75, 0.5, 0.25, 0.0]
SUPPLIER_DIMENSIONS = ("provider", "vendor")
OUTAGE_DIMENSIONS = ("provider", "region")


@dataclass
class Leverage:
    """The leverage report's tables (see the module docstring for the sign convention)."""

    suppliers: pd.DataFrame
    supplier_shares: pd.DataFrame
    offer_prices: pd.DataFrame
    capacity: pd.DataFrame
    rules: pd.DataFrame
    walk_away_curve: pd.DataFrame
    price_response: pd.DataFrame
    outage: pd.DataFrame
    summary: dict[str, Any]
    seconds: float = 0.0
    solves: int = 0
    notes: list[str] = field(default_factory=list)


class _Context:
    """Index sets of one plan: which columns, pairs and rows belong to which group."""

    def __init__(self, plan: Plan):
        self.plan = plan
        model = plan.model
        self.hours = plan.inputs.policy.hours_per_quarter
        self.terms = model.terms.reset_index(drop=True)
        self.pairs = model.pairs
        self.columns = plan.solution.columns
        self.base_cost = self.terms["usd_per_chip_hour"].to_numpy() * self.hours
        self.min_chips = self.terms["min_chips"].to_numpy()
        self.max_chips = self.terms["max_chips"].to_numpy()
        self.y_today = plan.solution.y
        self.u_today = plan.solution.u
        self.share_rows = model.rows["share"]["row"].to_numpy() if "share" in model.rows else np.array([], int)
        self.pair_quarter = self.pairs["quarter"].to_numpy()
        self.workload_quarter = model.workloads["quarter"].to_numpy()
        self.demand = model.workloads["tokens_per_s"].to_numpy()
        self.tolerance = 1e-9 * max(1.0, abs(plan.solution.objective))

    def terms_of(self, dimension: str) -> dict[str, np.ndarray]:
        return {str(k): np.asarray(v) for k, v in self.terms.groupby(dimension).indices.items()}

    def pairs_of(self, terms: np.ndarray) -> np.ndarray:
        return np.flatnonzero(np.isin(self.pairs["t"].to_numpy(), terms))

    def chip_hours(self, outcome: Outcome, terms: np.ndarray) -> float:
        return float(outcome.values[self.columns["y"][terms]].sum() * self.hours)

    def volume(self, outcome: Outcome, pairs: np.ndarray) -> float:
        return float(outcome.values[self.columns["x"][pairs]].sum())

    def unmet(self, outcome: Outcome) -> np.ndarray:
        return outcome.values[self.columns["u"]]

    def walk_away(self, terms: np.ndarray) -> dict[int, tuple[float, float]]:
        """Column bounds holding these terms to their take-or-pay minimum."""
        return {int(self.columns["y"][t]): (self.min_chips[t], self.min_chips[t]) for t in terms}

    def rules_lifted(self) -> dict[int, tuple[float, float]]:
        return {int(r): (-INF, INF) for r in self.share_rows}


def _price_handles(plan: Plan, context: _Context, groups: dict[str, np.ndarray], weights: np.ndarray,
                   prices: dict[str, float]) -> tuple[WhatIf, dict[str, int], float]:
    """A WhatIf copy where each group's cost sits on one handle column (cost = its price).

    Handle row: h_G - sum_{t in G} weights[t] * y_t = 0; the y_t lose their own cost.
    """
    whatif = WhatIf(plan)
    names = sorted(groups)
    y_cols = context.columns["y"]
    first_row = whatif.highs.getNumRow()
    handles = whatif.add_columns(np.array([prices[g] for g in names]), [([], []) for _ in names])
    entries = [(np.concatenate([[handles[k]], y_cols[groups[g]]]), np.concatenate([[1.0], -weights[groups[g]]]))
               for k, g in enumerate(names)]
    whatif.add_rows(np.zeros(len(names)), np.zeros(len(names)), entries)
    assert whatif.highs.getNumRow() == first_row + len(names)
    members = np.concatenate([groups[g] for g in names]) if names else np.array([], int)
    whatif.set_base_costs(y_cols[members], np.zeros(len(members)))
    base = whatif.baseline()
    return whatif, {g: int(handles[k]) for k, g in enumerate(names)}, base.objective


def leverage(inputs, plan: Plan | None = None) -> Leverage:
    """The full leverage report for ``inputs`` (solving the plan first when not given)."""
    from .planner import solve

    started = time.perf_counter()
    plan = plan or solve(inputs)
    context = _Context(plan)
    plain = WhatIf(plan)
    v0 = plan.solution.objective

    offer_prices = _offer_prices(plan, context)
    supplier_tables = _suppliers(plan, context, plain, v0)
    capacity = _capacity(plan, context, plain, v0)
    rules, premium = _rules(plan, context, plain, v0)
    outage = _outage(plan, context, plain)
    summary = {**{k: v for k, v in plan.totals.items() if k not in ("solver_objective_usd", "method")},
               "diversification_premium_usd": premium}
    result = Leverage(
        suppliers=supplier_tables["suppliers"], supplier_shares=supplier_tables["shares"],
        offer_prices=offer_prices, capacity=capacity, rules=rules,
        walk_away_curve=supplier_tables["curve"], price_response=supplier_tables["response"],
        outage=outage, summary=summary,
    )
    result.seconds = time.perf_counter() - started
    result.solves = plain.solves + supplier_tables["solves"] + offer_prices.attrs.pop("solves", 0)
    return result


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


def _offer_prices(plan: Plan, context: _Context) -> pd.DataFrame:
    """Price ceiling or price to win of every offer, with chip-hours held and at risk."""
    offers = plan.inputs.offers.set_index("offer")
    groups = context.terms_of("offer")
    p0 = {o: float(offers.loc[o, "usd_per_chip_hour"]) for o in groups}
    # Handle weight per term: H x (quarter price / offer price), so the handle's cost is the
    # offer's price and its value the (price-weighted) chip-hours.
    ratio = np.array([
        context.terms.loc[t, "usd_per_chip_hour"] / p0[o] if p0[o] > 0 else 1.0
        for t, o in enumerate(context.terms["offer"])
    ])
    whatif, handles, v0 = _price_handles(plan, context, groups, ratio * context.hours, p0)
    assumed = _assumed_offers(plan)
    records = []
    for offer in sorted(groups):
        terms = groups[offer]
        curve = PriceCurve(whatif, handles[offer], p0[offer], v0, context.tolerance)
        up, down = curve.beside(+1), curve.beside(-1)
        slope_up, slope_down = curve.slope_at(up), curve.slope_at(down)
        minimum = float((ratio[terms] * context.min_chips[terms]).sum() * context.hours)
        holds = slope_up > minimum + 1e-9 * max(1.0, minimum) + 1e-6
        ceiling = to_win = None
        if holds:
            candidate = float(up.ranging.col_cost_up.value_[handles[offer]])
            end = curve.ceiling(slope_up, candidate)
            ceiling, method = end.price, end.method
        else:
            candidate = float(down.ranging.col_cost_dn.value_[handles[offer]])
            end = curve.floor(slope_down, candidate)
            to_win, method = end.price, end.method
            if minimum > 0:
                method = f"take-or-pay; price to win by {method}"
        row = offers.loc[offer]
        records.append({
            "offer": offer, "provider": row["provider"], "accelerator": row["accelerator"],
            "usd_per_chip_hour": p0[offer],
            "chip_hours": float(plan.solution.y[terms].sum() * context.hours),
            "chip_hours_at_risk": max(0.0, context.chip_hours(down, terms) - context.chip_hours(up, terms)),
            "price_ceiling_usd_per_chip_hour": ceiling,
            "price_to_win_usd_per_chip_hour": to_win,
            "ceiling_pct": None if ceiling is None else (ceiling / p0[offer] - 1) * 100 if p0[offer] else None,
            "price_to_win_pct": None if to_win is None else (to_win / p0[offer] - 1) * 100 if p0[offer] else None,
            "method": method,
            "rests_on_assumption": offer in assumed,
        })
    table = pd.DataFrame(records)
    table.attrs["solves"] = whatif.solves
    return table


def _suppliers(plan: Plan, context: _Context, plain: WhatIf, v0: float) -> dict[str, Any]:
    assumed = _assumed_offers(plan)
    rows, shares, curve_rows, response_rows = [], [], [], []
    solves = 0
    x_today = plan.solution.x
    total_volume = float(x_today.sum())
    lifted = context.rules_lifted()
    limit_rows = _volume_limit_rows(plan, context, plain)
    for dimension in SUPPLIER_DIMENSIONS:
        groups = context.terms_of(dimension)
        whatif, handles, _ = _price_handles(plan, context, groups, context.base_cost, {g: 1.0 for g in groups})
        for supplier in sorted(groups):
            terms = groups[supplier]
            pairs = context.pairs_of(terms)
            volume_today = float(x_today[pairs].sum())
            spend = float((context.base_cost[terms] * plan.solution.y[terms]).sum())
            if volume_today <= 0 and spend <= 0:
                continue
            offers = set(context.terms.loc[terms, "offer"])
            walked = plain.solve(Change(col_bounds=context.walk_away(terms)))
            walked_free = plain.solve(Change(col_bounds=context.walk_away(terms), row_bounds=lifted))
            stranded = float(context.unmet(walked).sum() - context.u_today.sum()) if walked.optimal else None
            curve = PriceCurve(whatif, handles[supplier], 1.0, v0, context.tolerance)
            up = curve.beside(+1)
            minimum = float((context.base_cost[terms] * context.min_chips[terms]).sum())
            slope = curve.slope_at(up)
            ceiling = None
            if slope > minimum + 1e-9 * max(1.0, minimum) + 1e-6:
                end = curve.ceiling(slope, float(up.ranging.col_cost_up.value_[handles[supplier]]))
                ceiling = None if end.price is None else (end.price - 1) * 100
            response = {}
            for step in PRICE_STEPS:
                outcome = whatif.solve(Change(cost={handles[supplier]: 1 + step}))
                response[1 + step] = outcome
                response_rows.append({
                    "dimension": dimension, "supplier": supplier, "price_change_pct": step * 100,
                    "volume_tokens_per_s": context.volume(outcome, pairs),
                    "supplier_revenue_usd": (1 + step) * float(outcome.values[handles[supplier]]),
                    "total_cost_usd": outcome.objective,
                })
            half = _half_volume(whatif, handles[supplier], context, pairs, volume_today, response)
            rows.append({
                "dimension": dimension, "supplier": supplier, "spend_usd": spend,
                "share": volume_today / total_volume if total_volume else 0.0,
                "walk_away_cost_usd": walked.objective - v0 if walked.optimal else None,
                "walk_away_cost_no_rules_usd": walked_free.objective - v0 if walked_free.optimal else None,
                "unserved_if_removed_tokens_per_s": stranded,
                "uniform_ceiling_pct": ceiling,
                "half_volume_pct": half,
                "rests_on_assumption": bool(offers & assumed),
            })
            for quarter, volume in pd.Series(x_today[pairs]).groupby(context.pair_quarter[pairs]).sum().items():
                quarter_total = float(x_today[context.pair_quarter == quarter].sum())
                shares.append({"dimension": dimension, "supplier": supplier, "quarter": quarter,
                               "share": volume / quarter_total if quarter_total else 0.0})
            for level in CURVE_LEVELS:
                limits = {row: (-INF, level * cap) for row, cap in limit_rows.get((dimension, supplier), [])}
                outcome = plain.solve(Change(row_bounds=limits))
                curve_rows.append({"dimension": dimension, "supplier": supplier, "volume_pct": level * 100,
                                   "total_cost_usd": outcome.objective if outcome.optimal else None})
        solves += whatif.solves
    return {
        "suppliers": pd.DataFrame(rows), "shares": pd.DataFrame(shares), "curve": pd.DataFrame(curve_rows),
        "response": pd.DataFrame(response_rows), "solves": solves,
    }


def _half_volume(whatif: WhatIf, handle: int, context: _Context, pairs: np.ndarray, volume_today: float,
                 response: dict[float, Outcome]) -> float | None:
    """Price rise (%) on all the supplier's offers at which its volume falls to half of today's."""
    if volume_today <= 0:
        return None
    target = volume_today / 2
    known = sorted(f for f in response if f >= 1)
    start = 1.0
    for factor in known:
        if context.volume(response[factor], pairs) > target:
            start = factor
    factor = search_volume(
        lambda f: context.volume(whatif.solve(Change(cost={handle: f})), pairs), target, start, limit=101.0
    )
    return None if factor is None else (factor - 1) * 100


def _volume_limit_rows(plan: Plan, context: _Context, plain: WhatIf) -> dict[tuple[str, str], list[tuple[int, float]]]:
    """Inactive rows sum_{pairs of S in q} x <= +inf, one per supplier and quarter with volume.

    Returns (row, today's volume) per supplier, to hold it to a fraction of today's volume.
    """
    x_today = plan.solution.x
    specs, keys = [], []
    for dimension in SUPPLIER_DIMENSIONS:
        for supplier, terms in context.terms_of(dimension).items():
            pairs = context.pairs_of(terms)
            for quarter in np.unique(context.pair_quarter[pairs]):
                members = pairs[context.pair_quarter[pairs] == quarter]
                volume = float(x_today[members].sum())
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


def _capacity(plan: Plan, context: _Context, plain: WhatIf, v0: float) -> pd.DataFrame:
    """Value of one more chip-hour where max_chips binds: the dual, checked by a re-solve."""
    y = plan.solution.y
    duals = np.asarray(plan.solution.highs.getSolution().col_dual)[context.columns["y"]]
    binding = np.flatnonzero((context.max_chips > 0) & (y >= context.max_chips * (1 - 1e-9)))
    records = []
    for t in binding:
        dual_value = max(0.0, -duals[t] / context.hours)
        step = max(1e-3, 1e-4 * context.max_chips[t])
        column = int(context.columns["y"][t])
        outcome = plain.solve(Change(col_bounds={column: (context.min_chips[t], context.max_chips[t] + step)}))
        measured = (v0 - outcome.objective) / (step * context.hours)
        agrees = abs(measured - dual_value) <= 1e-3 * max(1.0, abs(dual_value))
        records.append({
            "offer": context.terms.loc[t, "offer"], "quarter": context.terms.loc[t, "quarter"],
            "max_chips": context.max_chips[t], "chips": y[t],
            "value_usd_per_chip_hour": dual_value if agrees else max(0.0, measured),
            "method": "dual" if agrees else "re-solve",
        })
    columns = ["offer", "quarter", "max_chips", "chips", "value_usd_per_chip_hour", "method"]
    return pd.DataFrame(records, columns=columns)


def _rules(plan: Plan, context: _Context, plain: WhatIf, v0: float) -> tuple[pd.DataFrame, float | None]:
    """Cost of each binding share rule (lifted alone) and per point; the diversification premium."""
    columns = ["dimension", "group", "quarter", "kind", "limit", "cost_of_rule_usd", "usd_per_share_point"]
    if not len(context.share_rows):
        return pd.DataFrame(columns=columns), 0.0
    free = plain.solve(Change(row_bounds=context.rules_lifted()))
    premium = v0 - free.objective if free.optimal else None
    rules = plan.model.rows["share"].merge(
        plan.binding_rules[["dimension", "group", "quarter", "kind"]], on=["dimension", "group", "quarter", "kind"]
    )
    quarters = sorted(plan.model.share_total)
    records = []
    for rule in rules.itertuples(index=False):
        lifted = plain.solve(Change(row_bounds={int(rule.row): (-INF, INF)}))
        relaxed_limit = min(1.0, rule.limit + 0.01) if rule.kind == "max" else max(0.0, rule.limit - 0.01)
        total_column = int(context.columns["s"][quarters.index(rule.quarter)])
        relaxed = plain.solve(Change(coefficients={(int(rule.row), total_column): (-relaxed_limit, -rule.limit)}))
        points = abs(relaxed_limit - rule.limit) * 100
        records.append({
            "dimension": rule.dimension, "group": rule.group, "quarter": rule.quarter, "kind": rule.kind,
            "limit": rule.limit,
            "cost_of_rule_usd": v0 - lifted.objective if lifted.optimal else None,
            "usd_per_share_point": (v0 - relaxed.objective) / points if relaxed.optimal and points else None,
        })
    return pd.DataFrame(records, columns=columns), premium


def _outage(plan: Plan, context: _Context, plain: WhatIf) -> pd.DataFrame:
    """Today's purchases fixed, one provider (or region) lost, rules lifted: demand stranded."""
    y_cols = context.columns["y"]
    fixed = {int(y_cols[t]): (context.y_today[t], context.y_today[t]) for t in range(len(context.terms))}
    lifted = context.rules_lifted()
    demand_by_quarter = pd.Series(context.demand).groupby(context.workload_quarter).sum()
    records = []
    for dimension in OUTAGE_DIMENSIONS:
        for supplier, terms in sorted(context.terms_of(dimension).items()):
            if context.y_today[terms].sum() <= 0:
                continue
            bounds = dict(fixed)
            bounds.update({int(y_cols[t]): (0.0, 0.0) for t in terms})
            outcome = plain.solve(Change(col_bounds=bounds, row_bounds=lifted))
            extra = context.unmet(outcome) - context.u_today
            stranded = pd.Series(extra).groupby(context.workload_quarter).sum()
            for quarter, amount in stranded.items():
                amount = max(0.0, float(amount))
                records.append({"dimension": dimension, "supplier": supplier, "quarter": quarter,
                                "stranded_tokens_per_s": amount,
                                "stranded_share": amount / demand_by_quarter[quarter] if demand_by_quarter[quarter] else 0.0})
    return pd.DataFrame(records, columns=["dimension", "supplier", "quarter", "stranded_tokens_per_s", "stranded_share"])
