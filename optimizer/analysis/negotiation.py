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

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import highspy
import numpy as np
import pandas as pd

from optimizer.analysis.price_pieces import (
    BEYOND,
    MAX_PIECES,
    MAX_SWITCHES,
    RESOLUTION,
    SIDE_STEP,
    PriceCurve,
    search_volume,
)
from optimizer.errors import SolveError
from optimizer.io.schema import DIMENSIONS
from optimizer.io.tables import named_rows
from optimizer.model.builder import build
from optimizer.plan.assembly import Plan
from optimizer.solver.highs import one_highs_thread
from optimizer.solver.lp import solve_lp
from optimizer.solver.whatif import INF, Change, MipWhatIf, Outcome, ReSolver, WhatIf

PRICE_STEPS = [round(-0.5 + 0.1 * k, 1) for k in range(16)]  # -50% ... +100%
CURVE_LEVELS = [0.75, 0.5, 0.25, 0.0]
HALF_VOLUME_LIMIT = 11.0  # search price rises up to +1000%
SUPPLIER_DIMENSIONS = ("provider", "vendor")
OUTAGE_DIMENSIONS = ("provider", "region")
SUPPLIER_COLUMNS = [
    "dimension",
    "supplier",
    "spend_usd",
    "share",
    "walk_away_cost_usd",
    "walk_away_cost_no_rules_usd",
    "unserved_if_removed_tokens_per_s",
    "walk_away_penalty_usd",
    "rests_on_assumption",
]
CURVE_COLUMNS = ["dimension", "supplier", "volume_pct", "total_cost_usd", "method"]
RESPONSE_COLUMNS = [
    "dimension",
    "supplier",
    "price_change_pct",
    "volume_tokens_per_s",
    "supplier_revenue_usd",
    "total_cost_usd",
    "method",
]
SETTING_COLUMNS = ["setting", "dimension", "group", "kind", "limit", "limit_without", "cost_of_setting_usd"]
DEFAULT_LIMIT = {"max_share": 1.0, "min_share": 0.0}


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
    ports: pd.DataFrame = field(default_factory=pd.DataFrame)
    policy_rules: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SETTING_COLUMNS))
    seconds: float = 0.0
    solves: int = 0
    task_seconds: dict[str, float] = field(default_factory=dict)  # where the time went, per analysis
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
        self.x_today = plan.solution.x
        self.u_today = plan.solution.u
        self.share_rows = model.rows["share"]["row"].to_numpy() if "share" in model.rows else np.array([], int)
        self.pair_quarter = self.pairs["quarter"].to_numpy()
        self.workload_quarter = model.workloads["quarter"].to_numpy()
        self.demand = model.workloads["tokens_per_s"].to_numpy()
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
            if self.x_today[pairs].sum() > 0 or (self.base_cost[terms] * self.y_today[terms]).sum() > 0:
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


def _cost_columns(plan: Plan) -> pd.DataFrame:
    """One row per column with a price in the objective: on-demand chips y, commitments c.

    ``cost`` is the column's objective coefficient today; ``minimum`` what its take-or-pay
    minimum costs (on-demand chips).
    """
    model, columns = plan.model, plan.solution.columns
    hours = plan.inputs.policy.hours_per_quarter
    terms, starts = model.terms, model.starts
    on_demand = np.flatnonzero((terms["term"] == "on-demand").to_numpy())
    price = terms["usd_per_chip_hour"].to_numpy()
    from optimizer.model.builder import commitment_weight

    weight = commitment_weight(model)
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "column": columns["y"][on_demand],
                    "offer": terms["offer"].to_numpy()[on_demand],
                    "cost": price[on_demand] * hours,
                    "minimum": price[on_demand] * hours * terms["min_chips"].to_numpy()[on_demand],
                }
            ),
            pd.DataFrame(
                {
                    "column": columns["c"],
                    "offer": starts["offer"].to_numpy(),
                    "cost": starts["usd_per_chip_hour"].to_numpy() * hours * weight,
                    "minimum": 0.0,
                }
            ),
        ],
        ignore_index=True,
    )


def _price_handles(
    context: _Context, groups: dict[str, list[str]], prices: dict[str, float]
) -> tuple[WhatIf, MipWhatIf | None, dict[str, int], dict[str, float]]:
    """A WhatIf copy where each group's cost sits on one handle column whose cost is its price.

    Handle row: h_G - sum_j (cost_j / price_G) * col_j = 0 (scaled to a largest entry of 1)
    over the group's cost columns,
    which lose their own cost, so the objective is unchanged at today's prices. Returns the
    copy (the LP, integer decisions held at today's values), for mixed-integer plans a
    :class:`MipWhatIf` carrying the same handles (the full re-solves that confirm each
    figure), the handles, and each group's take-or-pay minimum in the handle's units.
    """
    mip = MipWhatIf(context.plan, "costs") if context.plan.model.mixed_integer else None
    copies = list(mip.copies) if mip else [WhatIf(context.plan, changes="costs", fix_integers=True)]
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


def _curve(
    context: _Context, whatif: WhatIf, handle: int, offers: list[str], p0: float, mip: MipWhatIf | None = None
) -> PriceCurve:
    columns = context.costs_of(offers)["column"].to_numpy()
    return PriceCurve(whatif, handle, p0, context.v0, context.tolerance, links=context.links_of(columns), mip=mip)


def _solves(whatif: WhatIf, mip: MipWhatIf | None) -> int:
    return mip.solves if mip else whatif.solves


def leverage(inputs, plan: Plan | None = None, workers: int = 2) -> Leverage:
    """The full leverage report for ``inputs`` (solving the plan first when not given).

    The analyses run on separate warm copies of the LP, one task per independent
    experiment (each port's break-even is one) on a queue that ``workers`` threads share,
    each with one HiGHS thread (HiGHS releases the GIL while it solves); each copy runs
    its experiments in a fixed order, so the report does not depend on the number of workers.
    """
    from optimizer.plan.pipeline import solve

    started = time.perf_counter()
    plan = plan or solve(inputs)
    context = _Context(plan)
    ports = max(1, len(plan.model.ports))
    tasks: dict[str, Any] = {  # the longest kinds first, so the workers finish together
        **{f"ports-{k}": (lambda k=k: port_break_even(context, part=k, parts=ports)) for k in range(ports)},
        "offers": lambda: _offer_prices(context),
        "walk": lambda: _walk_analyses(context),
        "provider": lambda: _supplier_prices(context, "provider"),
        "vendor": lambda: _supplier_prices(context, "vendor"),
        "rules": lambda: _rule_analyses(context),
        "settings": lambda: _policy_settings(context),
    }
    with ThreadPoolExecutor(max_workers=max(1, workers), initializer=one_highs_thread if workers > 1 else None) as pool:
        futures = {name: pool.submit(_timed, task) for name, task in tasks.items()}
        results = {name: future.result() for name, future in futures.items()}
    plain = {**results["walk"], **results["rules"]}
    prices = pd.concat([results["provider"]["suppliers"], results["vendor"]["suppliers"]], ignore_index=True)
    suppliers = plain["suppliers"].merge(prices, on=["dimension", "supplier"], how="left")
    summary = {
        **{k: v for k, v in plan.totals.items() if k not in ("solver_objective_usd", "method")},
        "diversification_premium_usd": plain["premium"],
    }
    if plan.model.mixed_integer:
        summary["prices_and_duals_from"] = (
            "the LP with integer decisions (whole instances, ports) fixed at their "
            "optimum; walk-away and rule costs re-solve the full MIP"
        )
    result = Leverage(
        suppliers=suppliers,
        supplier_shares=plain["shares"],
        offer_prices=results["offers"]["table"],
        capacity=plain["capacity"],
        rules=plain["rules"],
        walk_away_curve=plain["curve"],
        price_response=pd.concat([results["provider"]["response"], results["vendor"]["response"]], ignore_index=True),
        outage=plain["outage"],
        summary=summary,
        ports=pd.concat([results[f"ports-{k}"]["table"] for k in range(ports)]).sort_index().reset_index(drop=True),
        policy_rules=results["settings"]["table"],
    )
    result.seconds = time.perf_counter() - started
    result.solves = sum(r["solves"] for r in results.values())
    result.task_seconds = {name: r["seconds"] for name, r in results.items()}
    return result


def _timed(task) -> dict[str, Any]:
    started = time.perf_counter()
    return {**task(), "seconds": time.perf_counter() - started}


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


def _offer_prices(context: _Context) -> dict[str, Any]:
    """Price ceiling or price to win of every offer, with chip-hours held and at risk.

    Each figure is a bracket: ``proven_keep`` is the price farthest from today's proven to
    leave the offer's volume as it is, ``proven_move`` the nearest proven to move it. The
    ceiling is the proven-keep price, the price to win the proven-move price. On
    mixed-integer plans the LP with integer decisions held finds the candidate and full
    re-solves confirm it (:meth:`PriceCurve.confirmed`); ``chip_hours_at_risk`` is read
    from that LP.
    """
    offers = context.plan.inputs.offers.set_index("offer")
    groups = {offer: [offer] for offer in sorted(set(context.terms["offer"]))}
    p0 = {o: float(offers.loc[o, "usd_per_chip_hour"]) for o in groups}
    # The handle's cost is the offer's price; each cost column weighs in by its cost / price
    # (hours, term length, and quarter prices relative to the offer's), so the handle's value
    # is V's slope: the chip-hours the offer sells, price-weighted.
    whatif, mip, handles, minimum = _price_handles(context, groups, p0)
    terms_of = context.terms_of("offer")
    records = []
    for offer in sorted(groups):
        terms = terms_of[offer]
        curve = _curve(context, whatif, handles[offer], [offer], p0[offer], mip)
        up = curve.beside(+1)
        holds = context.holds(curve.slope(up), minimum[offer])
        down = curve.beside(-1, ranging=not holds)
        ceiling = to_win = keep = move = None
        if not up.optimal:  # spend shares with take-or-pay: a dearer offer breaks a hard rule
            ceiling, method = p0[offer], "any price rise breaks a hard rule"
            keep = p0[offer]
        elif holds:
            end = curve.confirmed(curve.line_slope(up, +1), +1, curve.piece_end(up, +1))
            ceiling, method, keep, move = end.price, end.method, end.keep, end.move
        elif context.holds(curve.slope(down), minimum[offer]):
            # any cut wins the volume at risk (today's integer choice proves it)
            to_win, method = p0[offer], "tie at today's price"
            keep, move = p0[offer], p0[offer] * (1 - SIDE_STEP)
        else:
            end = curve.confirmed(curve.line_slope(down, -1), -1, curve.piece_end(down, -1))
            to_win, method, keep, move = end.price, end.method, end.keep, end.move
            if minimum[offer] > 0:
                method = f"take-or-pay; price to win by {method}"
        row = offers.loc[offer]
        records.append(
            {
                "offer": offer,
                "provider": row["provider"],
                "accelerator": row["accelerator"],
                "usd_per_chip_hour": p0[offer],
                "chip_hours": float(context.y_today[terms].sum() * context.hours),
                "chip_hours_at_risk": (
                    max(0.0, context.chip_hours(down, terms) - context.chip_hours(up, terms))
                    if up.optimal and down.optimal
                    else None
                ),
                "price_ceiling_usd_per_chip_hour": ceiling,
                "price_to_win_usd_per_chip_hour": to_win,
                "ceiling_pct": _percent(ceiling, p0[offer]),
                "price_to_win_pct": _percent(to_win, p0[offer]),
                "proven_keep_usd_per_chip_hour": keep,
                "proven_move_usd_per_chip_hour": move,
                "method": method,
                "rests_on_assumption": offer in context.assumed,
            }
        )
    columns = [
        "offer",
        "provider",
        "accelerator",
        "usd_per_chip_hour",
        "chip_hours",
        "chip_hours_at_risk",
        "price_ceiling_usd_per_chip_hour",
        "price_to_win_usd_per_chip_hour",
        "ceiling_pct",
        "price_to_win_pct",
        "proven_keep_usd_per_chip_hour",
        "proven_move_usd_per_chip_hour",
        "method",
        "rests_on_assumption",
    ]
    return {"table": pd.DataFrame(records, columns=columns), "solves": _solves(whatif, mip)}


def _percent(price: float | None, today: float) -> float | None:
    return None if price is None or today <= 0 else (price / today - 1) * 100


SUPPLIER_PRICE_COLUMNS = [
    "dimension",
    "supplier",
    "uniform_ceiling_pct",
    "uniform_ceiling_moves_pct",
    "uniform_ceiling_method",
    "half_volume_pct",
    "half_volume_above_pct",
    "half_volume_method",
]


def _supplier_prices(context: _Context, dimension: str) -> dict[str, Any]:
    """Uniform price ceiling, half-volume price and price response of every supplier in use.

    Brackets as for offers: ``uniform_ceiling_pct`` is the highest rise proven to keep every
    chip-hour, ``uniform_ceiling_moves_pct`` the lowest proven to move some;
    ``half_volume_pct`` the lowest rise proven to leave at most half of today's volume,
    ``half_volume_above_pct`` the highest proven to leave more. On mixed-integer plans each
    point of the price response is a full re-solve (method ``MIP re-solve``).
    """
    groups = context.offers_of(dimension)
    whatif, mip, handles, minimum = _price_handles(context, groups, {g: 1.0 for g in groups})
    rows, response_rows = [], []
    factors = [1 + step for step in PRICE_STEPS]
    for supplier, _, pairs in context.in_use(dimension):
        curve = _curve(context, whatif, handles[supplier], groups[supplier], 1.0, mip)
        up = curve.beside(+1)
        ceiling = moves = None
        ceiling_method = "no volume beyond take-or-pay"
        if not up.optimal:  # no rise keeps the hard rules feasible
            ceiling, moves, ceiling_method = 0.0, 0.0, "any price rise breaks a hard rule"
        elif context.holds(curve.slope(up), minimum[supplier]):
            end = curve.confirmed(curve.line_slope(up, +1), +1, curve.piece_end(up, +1))
            ceiling = None if end.keep is None or end.price is None else (end.keep - 1) * 100
            moves = None if end.move is None else (end.move - 1) * 100
            ceiling_method = end.method
        if mip is None:
            response = dict(zip(factors, curve.sweep(factors), strict=True))
            response_method = "LP re-solve or ranging interval"
        else:
            response = dict(zip(factors, curve.sweep_full(factors), strict=True))
            response_method = "MIP re-solve"
        for factor, outcome in response.items():
            response_rows.append(
                {
                    "dimension": dimension,
                    "supplier": supplier,
                    "price_change_pct": round((factor - 1) * 100, 6),
                    "volume_tokens_per_s": context.volume(outcome, pairs),
                    "supplier_revenue_usd": factor * curve.slope(outcome),
                    "total_cost_usd": outcome.objective if outcome.optimal else math.nan,
                    "method": response_method,
                }
            )
        try:
            half = (
                _half_volume(curve, context.held_today(groups[supplier]), response) if up.optimal else (None, None, "")
            )
        except SolveError as error:
            half = (None, None, f"a re-solve failed: {error}")
        rows.append(
            {
                "dimension": dimension,
                "supplier": supplier,
                "uniform_ceiling_pct": ceiling,
                "uniform_ceiling_moves_pct": moves,
                "uniform_ceiling_method": ceiling_method,
                "half_volume_pct": half[0],
                "half_volume_above_pct": half[1],
                "half_volume_method": half[2],
            }
        )
    return {
        "suppliers": pd.DataFrame(rows, columns=SUPPLIER_PRICE_COLUMNS),
        "response": pd.DataFrame(response_rows, columns=RESPONSE_COLUMNS),
        "solves": _solves(whatif, mip),
    }


def _full_copy(context: _Context, changes: str = "bounds") -> ReSolver:
    """A copy for re-solves of the full problem: plain LP, or the two-bound MIP re-solver."""
    if context.plan.model.mixed_integer:
        return MipWhatIf(context.plan, changes)
    return WhatIf(context.plan, changes=changes)


def _walk_analyses(context: _Context) -> dict[str, Any]:
    """Walking away, wholly and in part: bound and row changes on warm copies."""
    plain = _full_copy(context)
    walk = _walk_away(context, plain, _volume_limit_rows(context, plain))
    return {**walk, "solves": plain.solves}


def _rule_analyses(context: _Context) -> dict[str, Any]:
    """Capacity values, rule costs and the outage drill, on another warm copy (the outage
    drill fixes today's chips, so a mixed-integer plan's integer decisions are held)."""
    plain = _full_copy(context)
    capacity = _capacity(context, plain)
    rules, premium = _rules(context, plain)
    outage = _outage(context, plain.held if isinstance(plain, MipWhatIf) else plain)
    return {"capacity": capacity, "rules": rules, "premium": premium, "outage": outage, "solves": plain.solves}


def walk_away_costs(plan: Plan) -> pd.DataFrame:
    """Walk-away cost of every supplier in use (rules kept) and the demand it would strand.

    The light version of the report, for scenario comparisons, with the report's re-solver
    (on a mixed-integer plan: two warm LPs when they meet, else branch and bound started
    from the better of them).
    """
    context = _Context(plan)
    plain = _full_copy(context)
    rows = []
    for dimension in SUPPLIER_DIMENSIONS:
        for supplier, terms, _ in context.in_use(dimension):
            walked = plain.solve(Change(col_bounds=context.walk_away(terms)))
            rows.append({"dimension": dimension, "supplier": supplier, **_walked(context, walked)})
    return pd.DataFrame(
        rows,
        columns=[
            "dimension",
            "supplier",
            "walk_away_cost_usd",
            "unserved_if_removed_tokens_per_s",
            "walk_away_penalty_usd",
        ],
    )


def _walked(context: _Context, outcome: Outcome) -> dict[str, float | None]:
    """Walk-away cost, the demand it strands, and the part of the cost that is the penalty
    on that stranded demand (a policy setting, not a price: when it is large, the threat of
    walking away is not credible and the dollar figure mostly restates the penalty)."""
    if not outcome.optimal:
        return {"walk_away_cost_usd": None, "unserved_if_removed_tokens_per_s": None, "walk_away_penalty_usd": None}
    stranded = float(context.unmet(outcome).sum() - context.u_today.sum())
    return {
        "walk_away_cost_usd": outcome.objective - context.v0,
        "unserved_if_removed_tokens_per_s": stranded,
        "walk_away_penalty_usd": stranded * context.plan.inputs.policy.penalty_usd_per_token_s,
    }


def _walk_away(
    context: _Context, plain: ReSolver, limit_rows, curve_copy: ReSolver | None = None
) -> dict[str, pd.DataFrame]:
    """Walk-away costs (rules kept and lifted), unserved demand, shares and partial walk-away.

    Every figure re-solves the full problem on ``plain`` (integer decisions free on a
    mixed-integer plan: method ``MIP re-solve`` in the curve); ``curve_copy``, when given,
    prices the partial walk-away curve instead."""
    curve_method = "MIP re-solve" if isinstance(curve_copy or plain, MipWhatIf) else "LP re-solve"
    curve_copy = curve_copy or plain
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
                    "spend_usd": float((context.base_cost[terms] * context.y_today[terms]).sum()),
                    "share": volume_today / total_volume if total_volume else 0.0,
                    "walk_away_cost_usd": walked["walk_away_cost_usd"],
                    "walk_away_cost_no_rules_usd": walked_free.objective - context.v0 if walked_free.optimal else None,
                    "unserved_if_removed_tokens_per_s": walked["unserved_if_removed_tokens_per_s"],
                    "walk_away_penalty_usd": walked["walk_away_penalty_usd"],
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
                    outcome, method = curve_copy.solve(Change(row_bounds=limits)), curve_method
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
    return {
        "suppliers": pd.DataFrame(rows, columns=SUPPLIER_COLUMNS),
        "shares": pd.DataFrame(shares, columns=["dimension", "supplier", "quarter", "share"]),
        "curve": pd.DataFrame(curve_rows, columns=CURVE_COLUMNS),
    }


def _half_volume(
    curve: PriceCurve, volume_today: float, response: dict[float, Outcome]
) -> tuple[float | None, float | None, str]:
    """Price rise (%) on all the supplier's offers at which its volume falls to half of today's:
    (lowest rise proven at or below half, highest rise proven above half, method).

    Volume is the supplier's price-weighted chip-hours, the handle's value: without spend
    rows moving with the price it is V's slope, so the same at every optimum except at the
    piece ends (``volume_today``: today's plan's; on a tie at today's price V's right slope
    is already lower, and half may be lost on any rise). Served tokens/s are
    not: with whole instances, several optimal plans serve different tokens/s at one cost,
    and the returned plan's tokens/s need not even fall as the price rises.

    Volume is constant on each piece of V, so the answer is a piece end: starting from the
    highest response point still above half (or today's price, tested just beside it: a tie
    can lose everything on any rise), walk the LP's pieces up to the first one at or below
    half. On mixed-integer plans the walk follows the LP of the integer choice optimal at
    the start, and full re-solves on both sides of the piece end confirm it; when they
    disagree the walk restarts from the later point, or bisects on full re-solves.
    """
    if volume_today <= 0:
        return None, None, ""
    target = volume_today / 2

    def volume(outcome: Outcome) -> float:
        return curve.slope(outcome)

    rises = sorted(f for f in response if f > 1)
    first_below = next((f for f in rises if volume(response[f]) <= target), None)
    start = max(
        [f for f in rises if volume(response[f]) > target and (first_below is None or f < first_below)], default=1.0
    )
    outcome = curve.full_at(start * (1 + SIDE_STEP)) if start == 1.0 else response[start]
    if start == 1.0 and volume(outcome) <= target:
        return SIDE_STEP * 100, 0.0, "tie at today's price"
    if curve.mip is None:
        above, below, method = _volume_walk(curve, volume, target, start)
        if below is None:
            return None, None, f"{method}: above half up to +{(HALF_VOLUME_LIMIT - 1) * 100:.0f}%"
        return (below - 1) * 100, (above - 1) * 100, method
    # Mixed-integer: a bracket [a, b] of full re-solves, above half at a, at or below at b.
    a, at_a = start, outcome
    if first_below is None:
        b, at_b = HALF_VOLUME_LIMIT, curve.full_at(HALF_VOLUME_LIMIT)
        if volume(at_b) > target:
            return None, None, f"MIP re-solve: above half up to +{(HALF_VOLUME_LIMIT - 1) * 100:.0f}%"
    else:
        b, at_b = first_below, response[first_below]
    for _ in range(MAX_SWITCHES):
        lp_a = curve.with_integers(at_a.values)
        keep, move, method = _volume_walk(lp_a, volume, target, a, limit=b)
        if move is None and not at_b.optimal:  # no plan at b (hard rules): bisect on full re-solves
            while b - a > RESOLUTION * a:
                middle = (a + b) / 2
                at_middle = curve.full_at(middle)
                if volume(at_middle) > target:
                    a, at_a = middle, at_middle
                else:
                    b, at_b = middle, at_middle
            break
        if move is None:  # a's integer choice holds above half up to b: the switch to b's does it
            keep, move = _switch_point(lp_a, curve.with_integers(at_b.values), a, b)
            method = "integer decisions switch"
        at_keep, at_move = curve.full_at(keep), curve.full_at(move)
        if volume(at_keep) <= target:
            b, at_b = keep, at_keep
        elif volume(at_move) > target:
            a, at_a = move, at_move
        else:
            return (move - 1) * 100, (keep - 1) * 100, f"{method}, confirmed by MIP re-solves"
        if b - a <= RESOLUTION * a:
            break
    return (b - 1) * 100, (a - 1) * 100, "bracket of MIP re-solves"


def _switch_point(first: PriceCurve, second: PriceCurve, low: float, high: float) -> tuple[float, float]:
    """Bracket (first cheaper, second cheaper) of the price where two integer choices' LPs
    cost the same, ``first`` cheaper at ``low`` and ``second`` at ``high``; to 1e-7."""

    def first_cheaper(price: float) -> bool:
        one, two = first.at(price), second.at(price)
        return not two.optimal or (one.optimal and one.objective <= two.objective)

    while high - low > BEYOND * low:
        middle = (low + high) / 2
        if first_cheaper(middle):
            low = middle
        else:
            high = middle
    return low, high


def _volume_walk(
    curve: PriceCurve, volume, target: float, start: float, limit: float = HALF_VOLUME_LIMIT
) -> tuple[float, float | None, str]:
    """On one LP: (highest price proven above ``target``, lowest proven at or below, method),
    from ``start`` (above target) up; None when still above at ``limit``."""
    outcome = curve.at(start * (1 + SIDE_STEP), ranging=True)
    if volume(outcome) <= target:
        return start, start * (1 + SIDE_STEP), "ranging"
    for _ in range(MAX_PIECES if curve.exact else 0):
        assert outcome.cost_range is not None, "an exact curve ranges its outcomes"
        bound = outcome.cost_range[1]
        if not np.isfinite(bound) or bound > limit:
            return start, None, "ranging"
        beyond = bound * (1 + BEYOND)
        outcome = curve.at(beyond, ranging=True)
        if volume(outcome) <= target:
            return bound, beyond, "ranging"
    found = search_volume(lambda f: volume(curve.at(f)), target, start, limit)
    return (start, None, "bisection") if found is None else (found[0], found[1], "bisection")


def _volume_limit_rows(context: _Context, plain: ReSolver) -> dict[tuple[str, str], list[tuple[int, float]]]:
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


def _capacity(context: _Context, plain: ReSolver) -> pd.DataFrame:
    """Value of one more chip-hour where max_chips binds: the dual, checked; for a
    commitment offer, max_chips raised in every quarter (``_commitment_capacity``).

    The dual is the exact saving of one more chip when HiGHS's bound ranging shows the
    optimal basis survives a larger max_chips (method ``dual``); at a degenerate optimum it
    need not, and a re-solve with a little more capacity measures it (``re-solve``). With
    integer decisions, both come from the LP with them fixed at their optimum.
    """
    y, v0 = context.y_today, context.v0
    if not isinstance(plain, WhatIf):  # a mixed-integer plan's re-solver: its LP, integer decisions held
        plain = WhatIf(context.plan, changes="bounds", fix_integers=True)
    plain.baseline()
    duals = np.asarray(plain.highs.getSolution().col_dual)[context.columns["y"]]
    status, ranging = plain.highs.getRanging()
    ranged = np.asarray(ranging.col_bound_up.value_) if status == highspy.HighsStatus.kOk else None
    binding = np.flatnonzero((context.max_chips > 0) & (y >= context.max_chips * (1 - 1e-9)))
    committed = (context.terms["term"] != "on-demand").to_numpy()
    records = []
    for t in binding[~committed[binding]]:
        dual_value = max(0.0, -duals[t] / context.hours)
        column = int(context.columns["y"][t])
        if ranged is not None and ranged[column] > context.max_chips[t] * (1 + 1e-9) + 1e-9:
            value, method = dual_value, "dual"
        else:
            step = max(1e-3, 1e-4 * context.max_chips[t])
            outcome = plain.solve(Change(col_bounds={column: (context.min_chips[t], context.max_chips[t] + step)}))
            value, method = max(0.0, (v0 - outcome.objective) / (step * context.hours)), "re-solve"
        records.append(
            {
                "offer": context.terms.loc[t, "offer"],
                "quarter": context.terms.loc[t, "quarter"],
                "max_chips": context.max_chips[t],
                "chips": y[t],
                "value_usd_per_chip_hour": value,
                "method": method,
            }
        )
    for offer in sorted(set(context.terms["offer"].to_numpy()[binding[committed[binding]]])):
        records.append(_commitment_capacity(context, plain, offer))
    columns = ["offer", "quarter", "max_chips", "chips", "value_usd_per_chip_hour", "method"]
    return pd.DataFrame(records, columns=columns)


def _commitment_capacity(context: _Context, plain: WhatIf, offer: str) -> dict[str, Any]:
    """Value of capacity of a 1yr/3yr offer: max_chips raised by a step in every quarter it can
    hold chips, per chip-hour added. One quarter's headroom alone is worth nothing to it (a
    commitment holds its chips for 4 or 12 quarters, so it would break max_chips in the
    others): the value lies in a larger max_chips over the term, which is how offers sell.

    value = (V(today) - V(max_chips + step in every quarter)) / (step x H x quarters).
    """
    terms = np.flatnonzero((context.terms["offer"] == offer).to_numpy())
    step = max(1e-3, 1e-4 * float(context.max_chips[terms].max()))
    bounds = {int(context.columns["y"][t]): (context.min_chips[t], context.max_chips[t] + step) for t in terms}
    outcome = plain.solve(Change(col_bounds=bounds))
    quarters = context.terms["quarter"].to_numpy()[terms]
    return {
        "offer": offer,
        "quarter": f"{quarters[0]}-{quarters[-1]}",
        "max_chips": float(context.max_chips[terms].max()),
        "chips": float(context.y_today[terms].max()),
        "value_usd_per_chip_hour": max(0.0, (context.v0 - outcome.objective) / (step * context.hours * len(terms))),
        "method": "re-solve, every quarter",
    }


def _rules(context: _Context, plain: ReSolver) -> tuple[pd.DataFrame, float | None]:
    """Cost of each binding rule, lifted alone (share rules also per point), and the
    diversification premium (every share rule lifted at once). Spend commitments and
    binding budgets are priced the same way: what lifting each would save."""
    columns = ["dimension", "group", "quarter", "kind", "limit", "cost_of_rule_usd", "usd_per_share_point"]
    records = _money_rules(context, plain)
    if not len(context.share_rows):
        return pd.DataFrame(records, columns=columns), 0.0
    plan, v0 = context.plan, context.v0
    free = plain.solve(Change(row_bounds=context.rules_lifted()))
    premium = v0 - free.objective if free.optimal else None
    rules = plan.model.rows["share"].merge(
        plan.binding_rules[["dimension", "group", "quarter", "kind"]], on=["dimension", "group", "quarter", "kind"]
    )
    quarters = sorted(plan.model.share_total)
    for rule in named_rows(rules):
        lifted = plain.solve(Change(row_bounds={int(rule.row): (-INF, INF)}))
        relaxed_limit = min(1.0, rule.limit + 0.01) if rule.kind == "max" else max(0.0, rule.limit - 0.01)
        total_column = int(context.columns["s"][quarters.index(rule.quarter)])
        relaxed = plain.solve(Change(coefficients={(int(rule.row), total_column): (-relaxed_limit, -rule.limit)}))
        points = abs(relaxed_limit - rule.limit) * 100
        records.append(
            {
                "dimension": rule.dimension,
                "group": rule.group,
                "quarter": rule.quarter,
                "kind": rule.kind,
                "limit": rule.limit,
                "cost_of_rule_usd": v0 - lifted.objective if lifted.optimal else None,
                "usd_per_share_point": (v0 - relaxed.objective) / points if relaxed.optimal and points else None,
            }
        )
    return pd.DataFrame(records, columns=columns), premium


def share_settings(policy) -> list[tuple[str, str, str, str, float, Any]]:
    """Every share line of policy.yaml that sets a rule: (setting, dimension, group, kind,
    limit, the policy with that line removed). A default line (group ``*``: every group
    without its own override) falls back to no rule; an override line to the default."""
    settings: list[tuple[str, str, str, str, float, Any]] = []
    for kind in ("max_share", "min_share"):
        defaults = getattr(policy, kind)
        for dimension in DIMENSIONS:
            limit = getattr(defaults, dimension)
            if limit != DEFAULT_LIMIT[kind]:
                removed = policy.model_copy(update={kind: defaults.model_copy(update={dimension: DEFAULT_LIMIT[kind]})})
                settings.append((f"{kind}.{dimension}", dimension, "*", kind, limit, removed))
        named = getattr(policy.share_overrides, kind)
        for dimension in sorted(named):
            for group, limit in sorted(named[dimension].items()):
                kept = {
                    d: {g: v for g, v in groups.items() if (d, g) != (dimension, group)} for d, groups in named.items()
                }
                overrides = policy.share_overrides.model_copy(update={kind: kept})
                settings.append(
                    (
                        f"share_overrides.{kind}.{dimension}.{group}",
                        dimension,
                        group,
                        kind,
                        limit,
                        policy.model_copy(update={"share_overrides": overrides}),
                    )
                )
    return settings


def _policy_settings(context: _Context) -> dict[str, Any]:
    """What each share line of policy.yaml costs: V(today) - V(the line removed), the line
    lifted in every quarter at once (a planner edits the file, not one (rule, quarter) row).

    Each figure is a from-scratch solve of the changed inputs (built and solved as the plan
    was, integer decisions free): a removed line can add rows as well as lift them (an
    override at 1.0 removed brings the default cap back), which no bound change expresses.
    None when the changed rules cannot all hold (spend basis against take-or-pay).
    """
    plan = context.plan
    rows = []
    for setting, dimension, group, kind, limit, policy in share_settings(plan.inputs.policy):
        changed = replace(plan.inputs, policy=policy)
        try:
            objective = solve_lp(build(changed, integer=plan.model.integer)).objective
        except SolveError:
            objective = None
        rows.append(
            {
                "setting": setting,
                "dimension": dimension,
                "group": group,
                "kind": "max" if kind == "max_share" else "min",
                "limit": limit,
                "limit_without": (policy.cap if kind == "max_share" else policy.floor)(dimension, group)
                if group != "*"
                else DEFAULT_LIMIT[kind],
                "cost_of_setting_usd": None if objective is None else context.v0 - objective,
            }
        )
    return {"table": pd.DataFrame(rows, columns=SETTING_COLUMNS), "solves": len(rows)}


def _money_rules(context: _Context, plain: ReSolver) -> list[dict[str, Any]]:
    """Spend commitments (kind min: spend at least) and binding budgets (kind max), lifted alone."""
    model, records = context.plan.model, []
    commitments = model.rows.get("spend_commitment")
    for item in [] if commitments is None else named_rows(commitments):
        lifted = plain.solve(Change(row_bounds={int(item.row): (-INF, INF)}))
        records.append(
            {
                "dimension": "spend_commitment",
                "group": item.provider,
                "quarter": f"{item.first}-{item.last}",
                "kind": "min",
                "limit": item.usd_in_horizon,
                "cost_of_rule_usd": context.v0 - lifted.objective if lifted.optimal else None,
                "usd_per_share_point": None,
            }
        )
    budgets = model.rows.get("budget")
    binding = set(context.plan.budgets.loc[context.plan.budgets["binding"], "quarter"])
    for item in [] if budgets is None else named_rows(budgets):
        if item.quarter not in binding:
            continue
        lifted = plain.solve(Change(row_bounds={int(item.row): (-INF, INF)}))
        records.append(
            {
                "dimension": "budget",
                "group": "all",
                "quarter": item.quarter,
                "kind": "max",
                "limit": item.budget_usd,
                "cost_of_rule_usd": context.v0 - lifted.objective if lifted.optimal else None,
                "usd_per_share_point": None,
            }
        )
    return records


def _outage(context: _Context, plain: ReSolver) -> pd.DataFrame:
    """Today's purchases fixed, one provider (or region) lost, rules lifted: demand stranded."""
    y_cols = context.columns["y"]
    fixed = {int(y_cols[t]): (context.y_today[t], context.y_today[t]) for t in range(len(context.terms))}
    lifted = context.rules_lifted()
    capacity_row = dict(
        zip(context.plan.model.rows["capacity"]["t"], context.plan.model.rows["capacity"]["row"], strict=True)
    )
    demand_by_quarter = pd.Series(context.demand).groupby(context.workload_quarter).sum().to_dict()
    records = []
    for dimension in OUTAGE_DIMENSIONS:
        for supplier, terms in sorted(context.terms_of(dimension).items()):
            signed = context.terms["contract_chips"].to_numpy()[terms]
            if context.y_today[terms].sum() + signed.sum() <= 0:
                continue
            bounds = dict(fixed)
            bounds.update({int(y_cols[t]): (0.0, 0.0) for t in terms})
            rows = dict(lifted)
            # signed chips lost too
            rows.update({int(capacity_row[t]): (-INF, 0.0) for t in terms if t in capacity_row})
            outcome = plain.solve(Change(col_bounds=bounds, row_bounds=rows))
            if not outcome.optimal:
                continue
            extra = context.unmet(outcome) - context.u_today
            stranded = pd.Series(extra).groupby(context.workload_quarter).sum()
            for quarter, amount in stranded.items():
                amount = max(0.0, float(amount))
                demand = demand_by_quarter[quarter]
                records.append(
                    {
                        "dimension": dimension,
                        "supplier": supplier,
                        "quarter": quarter,
                        "stranded_tokens_per_s": amount,
                        "stranded_share": amount / demand if demand else 0.0,
                    }
                )
    return pd.DataFrame(
        records, columns=["dimension", "supplier", "quarter", "stranded_tokens_per_s", "stranded_share"]
    )


def port_break_even(context: _Context, part: int = 0, parts: int = 1) -> dict[str, Any]:
    """For every pair that needs porting: the largest one-time cost its savings repay over
    the horizon, and the smallest cut in its chip's prices at which porting at the stated
    cost is chosen (full re-solves, integer decisions included). ``part`` of ``parts``:
    every parts-th port from the part-th, so the work splits over threads."""
    from optimizer.plan.ports import port_columns

    plan = context.plan
    columns = [
        "model",
        "accelerator",
        "port_usd",
        "port_quarters",
        "ported",
        "break_even_port_usd",
        "price_cut_to_port_pct",
        "price_cut_not_ported_pct",
    ]
    if plan.model.ports.empty:
        return {"table": pd.DataFrame(columns=columns), "solves": 0}
    whatif = _full_copy(context, "costs")
    records, index = [], []
    for port in range(part, len(plan.model.ports), parts):
        item = plan.model.ports.iloc[port]
        z = port_columns(plan, port)
        chosen = bool(plan.solution.z[np.isin(plan.solution.columns["z"], z)].sum() > 0.5)
        never = whatif.solve(Change(col_bounds={int(c): (0.0, 0.0) for c in z}))
        free = whatif.solve(Change(cost={int(c): 0.0 for c in z}))
        break_even = never.objective - free.objective if never.optimal and free.optimal else None
        offers = sorted(set(context.terms.loc[context.terms["accelerator"] == item["accelerator"], "offer"]))
        records.append(
            {
                "model": item["model"],
                "accelerator": item["accelerator"],
                "port_usd": item["port_usd"],
                "port_quarters": item["port_quarters"],
                "ported": chosen,
                "break_even_port_usd": max(0.0, break_even) if break_even is not None else None,
                **dict(
                    zip(
                        ["price_cut_to_port_pct", "price_cut_not_ported_pct"],
                        (0.0, None) if chosen else _cut_to_port(context, whatif, z, offers),
                        strict=True,
                    )
                ),
            }
        )
        index.append(port)
    return {"table": pd.DataFrame(records, columns=columns, index=index), "solves": whatif.solves}


CUT_STEP = 1e-3  # percentage points either side of a porting cut's crossing, checked by full re-solves


def _cut_to_port(
    context: _Context, whatif: ReSolver, z: np.ndarray, offers: list[str]
) -> tuple[float | None, float | None]:
    """Smallest cut (%) in the prices of the chip's offers proven to make the port chosen, and
    the largest proven not to (None, None: not even at 90%).

    Both ends are full re-solves. Between a cut where it is not chosen (integer choice z_lo)
    and one where it is (z_hi), the LPs with each choice held give the candidate, the cut at
    which they cost the same (bisection on the two cheap LPs); full re-solves CUT_STEP
    either side confirm it, or replace one end with a new integer choice and repeat.
    """
    costs = context.costs_of(offers)
    links = context.links_of(costs["column"].to_numpy())
    held = whatif.held if isinstance(whatif, MipWhatIf) else whatif
    integers = whatif.integers if isinstance(whatif, MipWhatIf) else np.array([], int)

    def change(cut: float, values: np.ndarray | None = None) -> Change:
        factor = 1 - cut / 100
        fixed = (
            {}
            if values is None
            else {int(c): (float(v), float(v)) for c, v in zip(integers, np.round(values[integers]), strict=True)}
        )
        return Change(
            cost={int(c): v * factor for c, v in zip(costs["column"], costs["cost"], strict=True)},
            col_bounds=fixed,
            coefficients={(row, col): (value * factor, value) for row, col, value in links},
        )

    def ported(outcome: Outcome) -> bool:
        return outcome.optimal and float(outcome.values[z].sum()) > 0.5

    def held_cost(cut: float, values: np.ndarray | None) -> float:
        outcome = held.solve(change(cut, values))
        return outcome.objective if outcome.optimal else math.inf

    top = whatif.solve(change(90.0))
    if not ported(top):
        return None, None
    low, high, low_values, high_values = 0.0, 90.0, None, top.values  # None: today's choice
    for _ in range(MAX_SWITCHES):
        a, b = low, high  # the two choices' LPs: not ported cheaper at a, ported cheaper at b
        while b - a > CUT_STEP / 10:
            middle = (a + b) / 2
            if held_cost(middle, high_values) < held_cost(middle, low_values):
                b = middle
            else:
                a = middle
        below, above = max(low, a - CUT_STEP), min(high, b + CUT_STEP)
        at_below, at_above = whatif.solve(change(below)), whatif.solve(change(above))
        if ported(at_below):
            high, high_values = below, at_below.values
        elif not ported(at_above):
            low, low_values = above, at_above.values
        else:
            return above, below
        if high - low <= 2 * CUT_STEP:
            break
    return high, low
