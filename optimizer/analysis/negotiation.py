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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import pandas as pd

from optimizer.analysis.capacity import capacity_values
from optimizer.analysis.capacity_sensitivity import SENSITIVITY_COLUMNS, capacity_sensitivity
from optimizer.analysis.context import Context, full_copy
from optimizer.analysis.discounts import DISCOUNT_COLUMNS, discount_table
from optimizer.analysis.offer_prices import OfferPrices, price_offers
from optimizer.analysis.outage import outage_table
from optimizer.analysis.port_break_even import BreakEvens, break_evens
from optimizer.analysis.price_to_win import WIN_COLUMNS
from optimizer.analysis.renewal import RENEWAL_COLUMNS, RenewalView, beside_today, renewal_costs
from optimizer.analysis.rules import SETTING_COLUMNS, PolicySettings, RuleCosts, policy_setting_costs, rule_costs
from optimizer.analysis.supplier_prices import SupplierPrices, price_suppliers
from optimizer.analysis.terminal_value import commitment_rule_flips
from optimizer.analysis.tiers import TIER_COLUMNS, tier_table
from optimizer.analysis.walk_away import WalkAway, walk_away_tables
from optimizer.plan.assembly import Plan
from optimizer.plan.pipeline import solve
from optimizer.solver.highs import one_highs_thread
from optimizer.solver.whatif import MipWhatIf

T = TypeVar("T")


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
    tiers: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TIER_COLUMNS))
    spend_discounts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DISCOUNT_COLUMNS))
    capacity_sensitivity: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SENSITIVITY_COLUMNS))
    renewal: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RENEWAL_COLUMNS))
    supplier_price_to_win: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=WIN_COLUMNS))
    seconds: float = 0.0
    solves: int = 0
    task_seconds: dict[str, float] = field(default_factory=dict)  # where the time went, per analysis
    notes: list[str] = field(default_factory=list)


def leverage(inputs, plan: Plan | None = None, workers: int = 2, sensitivity: bool = False) -> Leverage:
    """The full leverage report for ``inputs`` (solving the plan first when not given);
    with ``sensitivity``, the walk-away costs solved again at capacities -20% and +20%
    (:mod:`optimizer.analysis.capacity_sensitivity`: two more plans from scratch).

    The analyses run on separate warm copies of the LP, one task per independent
    experiment (each port's break-even is one) on a queue that ``workers`` threads share,
    each with one HiGHS thread (HiGHS releases the GIL while it solves); each copy runs
    its experiments in a fixed order, so the report does not depend on the number of workers.
    """
    started = time.perf_counter()
    plan = plan or solve(inputs)
    context = Context(plan)
    parts = max(1, len(plan.model.ports))
    tasks: dict[str, Callable[[], Any]] = {  # the longest kinds first, so the workers finish together
        **{f"ports-{k}": partial(break_evens, context, part=k, parts=parts) for k in range(parts)},
        "offers": partial(price_offers, context),
        "walk": partial(walk_away_tables, context),
        "provider": partial(price_suppliers, context, "provider"),
        "vendor": partial(price_suppliers, context, "vendor"),
        "rules": partial(_rule_analyses, context),
        "settings": partial(policy_setting_costs, context),
        "terminal": partial(commitment_rule_flips, context),
        "tiers": partial(tier_table, context),
        "discounts": partial(discount_table, context),
        "renewal": partial(renewal_costs, plan),
    }
    with ThreadPoolExecutor(max_workers=max(1, workers), initializer=one_highs_thread if workers > 1 else None) as pool:
        futures = {name: pool.submit(_timed, task) for name, task in tasks.items()}
        timed = {name: future.result() for name, future in futures.items()}
    results = {name: result for name, (result, _) in timed.items()}
    offers: OfferPrices = results["offers"]
    walk: WalkAway = results["walk"]
    shared: _RuleAnalyses = results["rules"]
    settings: PolicySettings = results["settings"]
    provider: SupplierPrices = results["provider"]
    vendor: SupplierPrices = results["vendor"]
    ports: list[BreakEvens] = [results[f"ports-{k}"] for k in range(parts)]
    flips, flip_solves = results["terminal"]
    tiers, tier_solves = results["tiers"]
    discounts, discount_solves = results["discounts"]
    renewal: RenewalView = results["renewal"]
    prices = pd.concat([provider.suppliers, vendor.suppliers], ignore_index=True)
    summary = {
        **{k: v for k, v in plan.totals.items() if k not in ("solver_objective_usd", "method")},
        "diversification_premium_usd": shared.rules.premium,
        "flips_with_commitment_cost": sorted(flips.loc[flips["flips_with_commitment_cost"].eq(True), "offer"]),
        **renewal.summary,
    }
    if plan.model.mixed_integer:
        summary["prices_and_duals_from"] = (
            "the LP with integer decisions (whole instances, ports) fixed at their "
            "optimum; walk-away and rule costs re-solve the full MIP"
        )
    result = Leverage(
        suppliers=walk.suppliers.merge(prices, on=["dimension", "supplier"], how="left"),
        supplier_shares=walk.shares,
        offer_prices=_with_flips(offers.table, flips),
        capacity=shared.capacity,
        rules=shared.rules.table,
        walk_away_curve=walk.curve,
        price_response=pd.concat([provider.response, vendor.response], ignore_index=True),
        outage=shared.outage,
        summary=summary,
        ports=pd.concat([part.table for part in ports]).sort_index().reset_index(drop=True),
        policy_rules=settings.table,
        tiers=tiers,
        spend_discounts=discounts,
        renewal=beside_today(renewal, walk.suppliers),
        supplier_price_to_win=pd.concat([provider.to_win, vendor.to_win], ignore_index=True),
    )
    if sensitivity:
        result.capacity_sensitivity = capacity_sensitivity(inputs, plan)
    result.seconds = time.perf_counter() - started
    tallied = ("terminal", "tiers", "discounts", "renewal")
    counted = sum(r.solves for name, r in results.items() if name not in tallied)
    result.solves = flip_solves + tier_solves + discount_solves + counted
    result.task_seconds = {name: seconds for name, (_, seconds) in timed.items()}
    return result


def _with_flips(offers: pd.DataFrame, flips: pd.DataFrame) -> pd.DataFrame:
    """offer_prices.csv with, for 1yr/3yr offers, whether buying them flips with the
    terminal-value rule (blank for other offers)."""
    return offers.merge(flips[["offer", "flips_with_commitment_cost"]], on="offer", how="left")


def _timed(task: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    return task(), time.perf_counter() - started


@dataclass(frozen=True)
class _RuleAnalyses:
    """The analyses sharing one warm copy, whose solves they count together."""

    capacity: pd.DataFrame
    rules: RuleCosts
    outage: pd.DataFrame
    solves: int


def _rule_analyses(context: Context) -> _RuleAnalyses:
    """Capacity values, rule costs and the outage drill, on another warm copy (the outage
    drill fixes today's chips, so a mixed-integer plan's integer decisions are held)."""
    plain = full_copy(context)
    return _RuleAnalyses(
        capacity=capacity_values(context, plain),
        rules=rule_costs(context, plain),
        outage=outage_table(context, plain.held if isinstance(plain, MipWhatIf) else plain),
        solves=plain.solves,
    )
