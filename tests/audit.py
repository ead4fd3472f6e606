"""Audit of the leverage report (and the plan's port savings) by from-scratch re-solves.

Every figure is turned into the changed inputs it speaks about, and those inputs are
planned again cold: ``optimizer.solve`` on a modified copy of the validated ``Inputs``
(a fresh model, a fresh HiGHS, no start, no warm copy of anything the report used). The
result is one table, one row per figure: ``family``, ``figure``, ``reported``,
``resolved``, ``difference``, ``tolerance``, ``ok`` and a ``note`` saying what was solved.

Changed inputs, per figure family (V = the optimal ``total_cost_usd`` of a plan):

- ``walk_away`` / ``walk_away_no_rules``: every offer of the supplier (a provider, or the
  offers on a vendor's chips) gets ``max_chips`` = its ``min_chips``, in ``offers`` and in
  each ``offer_quarters`` override (a quarter's own ``min_chips`` where it has one); the
  second figure also drops every share rule (``max_share``, ``min_share``,
  ``share_overrides``). Figure: V(changed) - V. ``walk_away_unserved``: the unmet tokens/s
  of that plan minus today's (with a positive penalty only: at zero it is not unique).
  ``lifted_le_kept``: V(walked, rules lifted) <= V(walked), on the re-solves and on the
  reported figures.
- ``offer_price``: the offer's price (and its ``offer_quarters`` prices, in ratio) moved.
  Decided by V, never by the chip-hours of the plan a re-solve returns: with whole
  instances (or plain ties) several plans are optimal at one price and their chip-hours
  differ, while V is unique. V is concave in the offer's own price (spend rows aside),
  its slope the offer's price-weighted chip-hours, the least over the optimal plans on
  the right. A price ceiling c is bracketed at +-0.5%: V's chord over [p0, c x 0.995]
  equals today's right secant (p0 to p0 x (1 + 1e-4)): V linear, the volume kept; and the
  chord over [c x 0.995, c x 1.005] falls below it: the volume moves. A price to win w:
  the chord over [w x 1.005, p0] is the take-or-pay slope (only take-or-pay sold), over
  [w x 0.995, p0] it exceeds it. No price to win: the chord over [1e-6 x p0, p0] is still
  take-or-pay. No ceiling although it sells volume: V linear up to 1000 x today's.
  Chords are differences of two optima, so compared to 2 x (1e-9 x V + 1e-6) / their width.
  With spend rows that hold the offer's price (spend shares, a budget, a spend
  commitment of its provider) V need not be concave and its slope is not the chip-hours:
  "on the line" is then within the tolerance either side, and the price to win's line is
  today's left secant (too coarse, 2 x the MIP gap over 1e-4 of p0, to see a small gain:
  the re-solved plan holding more than take-or-pay counts as winning too). (Under a
  commitment not yet met, each dollar spent with the provider is owed anyway: V is flat
  in its prices until the commitment is met, then rises, a convex kink a one-sided test
  would miss.)
- ``uniform_ceiling`` / ``half_volume``: all the supplier's prices x (1 + pct/100). The
  ceiling is bracketed as an offer's (V, in the factor). Half volume: V's right slope (a
  secant over 1e-4 just right of the factor) above half of today's plan's spend at
  x 0.995, at or below it at x 1.005 (served tokens/s are no measure: several optimal
  plans serve different tokens/s, and the returned plan's need not fall with the price);
  with spend rows that move with these prices (spend shares, a budget, a spend commitment
  of one of the supplier's providers), the re-solved plan's spend at today's prices: there
  V's slope is (1 - the rows' duals) x the volume, not the volume (bundled: Azure's
  4 B USD commitment keeps Azure's spend at 4 B USD, so its volume halves at +100%, while
  V's slope halves near +40%).
- ``capacity``: ``max_chips`` of the (offer, quarter) raised by delta
  through ``offer_quarters``; figure (V - V(m + delta)) / (delta x hours), delta =
  1e-3 x max(1, m) chips (a fraction of a chip: with whole instances the report's value is
  the LP's with integer decisions fixed, and the audit asks what the MIP saves).
  ``capacity_term`` (commitment offers): the same with every quarter of the offer raised,
  per chip-hour of the quarters it can be held (issue 13: a commitment cannot use one
  quarter's headroom).
- ``rule`` (share rows of ``rules``): V - V(that one (dimension, group, quarter, kind) row
  dropped). A single quarter's row cannot be written in ``policy.yaml``, so this one
  re-builds the model from the inputs with that row left out of
  ``optimizer.model.builder.share_rules`` and solves it cold without the verifier (which would
  rightly flag the lifted rule). ``rule_point``: the same with the limit relaxed by one
  point, per point. ``spend_commitment`` / ``budget`` rows: the row removed from
  ``spend_commitments`` / the quarter's budget removed. ``premium``: V - V(all share
  rules lifted). ``rule_setting`` (``policy_rules``): V - V(one ``policy.yaml`` line,
  or one part of a ``workload_rules`` entry, removed in every quarter).
- ``port_saving`` (plan.ports): V(the pair's performance row removed, i.e. the port
  forbidden) - V. ``port_break_even`` (leverage.ports): V(forbidden) - V(``port_usd`` = 0).
  ``port_price_cut``: the chip's offers cut by the reported % + 0.5 point choose the port,
  by the reported % - 1.5 points (its 1-point bisection plus 0.5) do not.

Tolerances. Costs (walk-away, rule, premium, port figures): max(1 USD, 1e-6 x V), the
issue's bound. Slopes (capacity, per point) divide a difference of two optima by a few
thousand chip-hours, so their costs are compared to 1e-9 x V + 1e-6 USD (both solves are
of one model to an absolute MIP gap of min(1 USD, 1e-9 of its scale); on the bundled data
all 123 capacity rows agree to that), plus 1e-6 of the value. Prices: brackets at +-0.5%,
V's chords to the same cost tolerance over their width.
Chip-hours and tokens/s: 1e-6 relative plus 1 chip-hour / 1 token/s.

``locate=True`` (the long audit) also finds, for a failed price bracket, where the
re-solves put the figure (bisection on full re-solves to 0.5%), so the table says by how
much it is off.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd

import optimizer
import optimizer.model.builder as lp_model
from optimizer.io.schema import MaxShare, MinShare, ShareOverrides, WorkloadRule

COST_REL, COST_ABS = 1e-6, 1.0
SLOPE_REL, SLOPE_ABS = 1e-9, 1e-6
BRACKET = 0.005
HOURS_REL, HOURS_ABS = 1e-6, 1.0
VOLUME_REL, VOLUME_ABS = 1e-6, 1.0
BESIDE = 1e-4
FAMILIES = (
    "walk_away",
    "walk_away_no_rules",
    "walk_away_unserved",
    "lifted_le_kept",
    "offer_price",
    "uniform_ceiling",
    "half_volume",
    "capacity",
    "capacity_term",
    "rule",
    "rule_point",
    "spend_commitment",
    "budget",
    "premium",
    "rule_setting",
    "port_saving",
    "port_break_even",
    "port_price_cut",
)
TERM_METHOD = "re-solve, every quarter"  # capacity rows of 1yr/3yr offers: max_chips raised in every quarter
COLUMNS = ["family", "figure", "reported", "resolved", "difference", "tolerance", "ok", "note"]


@dataclass
class Facts:
    """What the audit reads from one re-solved plan (plans themselves are not kept)."""

    cost: float
    unmet: float
    chip_hours: dict[str, float]
    tokens: dict[str, float]  # served tokens/s per offer (summed over quarters)
    ported: set[tuple[str, str]]
    spend: dict[str, float] = field(default_factory=dict)  # cost_usd of the purchases per offer, present value


def discount_factors(plan: optimizer.Plan, labels: pd.Series) -> np.ndarray:
    """(1 + r) ** (-k / 4) for quarter k of the horizon (contract, "present value"); ones
    without a rate. A supplier's volume under a rate is its spend in present value, the
    price-weighted chip-hours the objective counts."""
    rate = plan.inputs.policy.discount_rate_per_year
    if rate is None:
        return np.ones(len(labels))
    ordinal = labels.map(lambda q: int(q[:4]) * 4 + int(q[5]) - 1).to_numpy(dtype=float)
    first = min(int(q[:4]) * 4 + int(q[5]) - 1 for q in plan.inputs.workloads["quarter"])
    return (1.0 + rate) ** (-(ordinal - first) / 4.0)


def number(value: Any) -> float | None:
    """A report cell as a float, None when empty (None or NaN)."""
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


# ------------------------------------------------------------------------- changed inputs


def with_prices(inputs: optimizer.Inputs, factors: dict[str, float]) -> optimizer.Inputs:
    """Offers' prices x factor, ``offer_quarters`` and ``price_tiers`` prices in ratio."""
    offers = inputs.offers.copy()
    factor = offers["offer"].map(factors).fillna(1.0).astype(float)
    offers["usd_per_chip_hour"] = offers["usd_per_chip_hour"].astype(float) * factor
    overrides = inputs.offer_quarters.copy()
    if not overrides.empty:
        factor = overrides["offer"].map(factors).fillna(1.0).astype(float)
        overrides["usd_per_chip_hour"] = overrides["usd_per_chip_hour"].astype(float) * factor
    tiers = inputs.price_tiers.copy()
    if not tiers.empty:
        tiers["usd_per_chip_hour"] = tiers["usd_per_chip_hour"].astype(float) * tiers["offer"].map(factors).fillna(1.0)
    return replace(inputs, offers=offers, offer_quarters=overrides, price_tiers=tiers)


def walked_away(inputs: optimizer.Inputs, names: Iterable[str]) -> optimizer.Inputs:
    """No offer in ``names`` holds more than its take-or-pay minimum, in any quarter."""
    names = set(names)
    offers = inputs.offers.copy()
    mask = offers["offer"].isin(names)
    minimum = offers["min_chips"].astype(float).fillna(0.0)
    offers.loc[mask, "max_chips"] = minimum[mask]
    overrides = inputs.offer_quarters.copy()
    if not overrides.empty:
        own = dict(zip(offers["offer"], minimum, strict=True))
        hit = overrides["offer"].isin(names)
        quarter_min = overrides["min_chips"].astype(float)
        fallback = overrides["offer"].map(own).astype(float)
        overrides.loc[hit, "max_chips"] = quarter_min.where(quarter_min.notna(), fallback)[hit]
    return replace(inputs, offers=offers, offer_quarters=overrides)


def rules_lifted(inputs: optimizer.Inputs) -> optimizer.Inputs:
    """Every share rule (caps, floors, their overrides, on every basis) dropped from the policy."""
    policy = inputs.policy.model_copy(
        update={
            "max_share": MaxShare(),
            "min_share": MinShare(),
            "share_overrides": ShareOverrides(),
            "extra_share_bases": {},
        }
    )
    return replace(inputs, policy=policy)


def _lift(rules, key: tuple[str, ...]):
    """``rules`` (the policy, or one basis of ``extra_share_bases``) without one line:
    ("max_share", dim), ("min_share", dim) or ("share_overrides", kind, dim, group)."""
    if key[0] in ("max_share", "min_share"):
        block = getattr(rules, key[0]).model_copy(update={key[1]: 1.0 if key[0] == "max_share" else 0.0})
        return rules.model_copy(update={key[0]: block})
    overrides = rules.share_overrides.model_dump()
    overrides[key[1]][key[2]].pop(key[3])
    return rules.model_copy(update={"share_overrides": ShareOverrides(**overrides)})


def setting_lifted(inputs: optimizer.Inputs, key: tuple[str, ...]) -> optimizer.Inputs:
    """One ``policy.yaml`` line lifted (a ``policy_settings`` key)."""
    policy = inputs.policy
    if key[0] == "workload_rules":  # ("workload_rules", k, "exclude" | "max_share", dimension)
        k, part, dimension = int(key[1]), key[2], key[3]
        rules = [rule.model_dump() for rule in policy.workload_rules]
        rules[k][part].pop(dimension)
        return replace(inputs, policy=policy.model_copy(update={"workload_rules": [WorkloadRule(**r) for r in rules]}))
    if key[0] != "extra_share_bases":
        return replace(inputs, policy=_lift(policy, key))
    bases = dict(policy.extra_share_bases)
    bases[key[1]] = _lift(bases[key[1]], key[2:])
    return replace(inputs, policy=policy.model_copy(update={"extra_share_bases": bases}))


def policy_settings(inputs: optimizer.Inputs) -> list[tuple[str, ...]]:
    """Every share line of the policy, as its path: on ``share_basis`` at the top level, on
    other bases under ``extra_share_bases.<basis>``; then each part of each workload rule,
    ``workload_rules.<k>.<exclude|max_share>.<dimension>``."""
    policy = inputs.policy
    owners = [((), policy)] + [
        (("extra_share_bases", basis), rules) for basis, rules in policy.extra_share_bases.items()
    ]
    keys: list[tuple[str, ...]] = []
    for prefix, rules in owners:
        for dimension, value in rules.max_share.model_dump().items():
            if value < 1:
                keys.append((*prefix, "max_share", dimension))
        for dimension, value in rules.min_share.model_dump().items():
            if value > 0:
                keys.append((*prefix, "min_share", dimension))
        for kind, block in rules.share_overrides.model_dump().items():
            for dimension, groups in block.items():
                keys += [(*prefix, "share_overrides", kind, dimension, group) for group in groups]
    for k, rule in enumerate(policy.workload_rules):  # each part of each workload rule
        keys += [("workload_rules", str(k), "exclude", dimension) for dimension in rule.exclude]
        keys += [("workload_rules", str(k), "max_share", dimension) for dimension in rule.max_share]
    return keys


def with_max_chips(inputs: optimizer.Inputs, offer: str, quarter: str, chips: float) -> optimizer.Inputs:
    """``max_chips`` of one (offer, quarter), through ``offer_quarters``."""
    overrides = inputs.offer_quarters.copy()
    hit = (overrides["offer"] == offer) & (overrides["quarter"] == quarter) if not overrides.empty else None
    if hit is not None and hit.any():
        overrides.loc[hit, "max_chips"] = float(chips)
    else:
        row = {column: np.nan for column in overrides.columns}
        row.update({"offer": offer, "quarter": quarter, "max_chips": float(chips), "_file": "audit", "_line": 0})
        added = pd.DataFrame([row])
        overrides = added if overrides.empty else pd.concat([overrides, added], ignore_index=True)
        for column in ("usd_per_chip_hour", "max_chips", "min_chips"):
            if column in overrides:
                overrides[column] = overrides[column].astype(float)
    return replace(inputs, offer_quarters=overrides)


def with_more_chips_everywhere(inputs: optimizer.Inputs, offer: str, delta: float) -> optimizer.Inputs:
    """``max_chips`` + delta in every quarter (offer row and each override of it)."""
    offers = inputs.offers.copy()
    mask = offers["offer"] == offer
    offers.loc[mask, "max_chips"] = offers.loc[mask, "max_chips"].astype(float) + delta
    overrides = inputs.offer_quarters.copy()
    if not overrides.empty:
        hit = (overrides["offer"] == offer) & overrides["max_chips"].notna()
        overrides.loc[hit, "max_chips"] = overrides.loc[hit, "max_chips"].astype(float) + delta
    return replace(inputs, offers=offers, offer_quarters=overrides)


def without_pair(inputs: optimizer.Inputs, model: str, accelerator: str) -> optimizer.Inputs:
    """The (model, accelerator) performance row removed: the port can never be made."""
    performance = inputs.performance
    keep = ~((performance["model"] == model) & (performance["accelerator"] == accelerator))
    return replace(inputs, performance=performance[keep].reset_index(drop=True))


def port_free(inputs: optimizer.Inputs, model: str, accelerator: str) -> optimizer.Inputs:
    performance = inputs.performance.copy()
    hit = (performance["model"] == model) & (performance["accelerator"] == accelerator)
    performance.loc[hit, "port_usd"] = 0.0
    return replace(inputs, performance=performance)


def without_spend_commitment(inputs: optimizer.Inputs, provider: str) -> optimizer.Inputs:
    table = inputs.spend_commitments
    return replace(inputs, spend_commitments=table[table["provider"] != provider].reset_index(drop=True))


def without_budget(inputs: optimizer.Inputs, quarter: str) -> optimizer.Inputs:
    policy = inputs.policy
    budget = policy.budget_usd_per_quarter
    if isinstance(budget, dict):
        budget = {q: v for q, v in budget.items() if q != quarter}
    else:
        budget = {q: budget for q in inputs.horizon if q != quarter}
    return replace(inputs, policy=policy.model_copy(update={"budget_usd_per_quarter": budget or None}))


@contextmanager
def share_rules_changed(change: Callable[[pd.DataFrame], pd.DataFrame]):
    """``optimizer.model.builder.share_rules`` with ``change`` applied to its table (the only way to
    lift one quarter's share row: policy.yaml has no per-quarter rules)."""
    original = lp_model.share_rules
    with mock.patch.object(lp_model, "share_rules", lambda model: change(original(model))):
        yield


# ------------------------------------------------------------------------------ re-solver


@dataclass
class Resolver:
    """Cold solves of changed inputs, cached by a key naming the change."""

    inputs: optimizer.Inputs
    integer: bool = False
    cache: dict[Any, Facts | None] = field(default_factory=dict)
    solves: int = 0

    def __post_init__(self) -> None:
        offers = self.inputs.offers.merge(self.inputs.accelerators[["accelerator", "vendor"]], on="accelerator")
        self.offers_of = {("provider", str(k)): sorted(v) for k, v in offers.groupby("provider")["offer"]}
        self.offers_of.update({("vendor", str(k)): sorted(v) for k, v in offers.groupby("vendor")["offer"]})

    def facts(self, plan: optimizer.Plan) -> Facts:
        hours = plan.inputs.policy.hours_per_quarter
        chips = plan.purchases.groupby("offer")["chips"].sum() * hours
        tokens = plan.allocation.groupby("offer")["tokens_per_s"].sum()
        spend = plan.purchases.assign(pv=plan.purchases["cost_usd"] * discount_factors(plan, plan.purchases["quarter"]))
        spend = spend.groupby("offer")["pv"].sum()
        ported = set(zip(plan.ports["model"], plan.ports["accelerator"], strict=True)) if len(plan.ports) else set()
        present = plan.totals["total_cost_pv_usd"]  # the objective, under a discount rate
        return Facts(
            float(plan.totals["total_cost_usd"] if present is None else present),
            float(plan.totals["unmet_tokens_per_s"]),
            {str(k): float(v) for k, v in chips.items()},
            {str(k): float(v) for k, v in tokens.items()},
            ported,
            {str(k): float(v) for k, v in spend.items()},
        )

    def solve(self, key: Any, changed: Callable[[], optimizer.Inputs]) -> Facts | None:
        """Facts of the plan of ``changed()`` (None: the hard rules cannot hold)."""
        if key not in self.cache:
            self.solves += 1
            try:
                plan = optimizer.solve(changed(), integer=self.integer, payback=False)
            except optimizer.SolveError:
                self.cache[key] = None
            else:
                self.cache[key] = self.facts(plan)
        return self.cache[key]

    def solve_rules(self, key: Any, change: Callable[[pd.DataFrame], pd.DataFrame]) -> float | None:
        """Optimal cost with the share rows changed: built from the inputs and solved cold,
        without the verifier (it checks the policy's rules, which this lifts on purpose)."""
        if key not in self.cache:
            self.solves += 1
            from optimizer.solver.lp import solve_lp

            with share_rules_changed(change):
                model = lp_model.build(self.inputs.canonical(), integer=self.integer)
            try:
                solution = solve_lp(model)
            except optimizer.SolveError:
                self.cache[key] = None
            else:
                self.cache[key] = Facts(float(solution.objective), math.nan, {}, {}, set())
        facts = self.cache[key]
        return None if facts is None else facts.cost

    def supplier_tokens(self, facts: Facts, dimension: str, supplier: str) -> float:
        return sum(facts.tokens.get(o, 0.0) for o in self.offers_of[(dimension, supplier)])


# ---------------------------------------------------------------------------------- audit


def _threshold(keeps: Callable[[float], bool], low: float, high: float, steps: int = 14) -> tuple[float, float]:
    """Bracket (low keeps, high does not) narrowed by bisection to BRACKET relative."""
    for _ in range(steps):
        if high <= low * (1 + BRACKET) or high - low < 1e-12:
            break
        middle = math.sqrt(low * high) if low > 0 else (low + high) / 2
        if keeps(middle):
            low = middle
        else:
            high = middle
    return low, high


class Audit:
    """Builds the audit table for one input set, its plan and its leverage report."""

    def __init__(
        self,
        inputs: optimizer.Inputs,
        plan: optimizer.Plan,
        report,
        integer: bool = False,
        locate: bool = False,
        sample: Callable[[str, list], list] | None = None,
    ):
        self.inputs, self.plan, self.report, self.locate = inputs, plan, report, locate
        self.resolver = Resolver(inputs, integer)
        self.base = self.resolver.facts(plan)
        self.v0 = self.base.cost
        self.hours = inputs.policy.hours_per_quarter
        self.records: list[dict[str, Any]] = []
        self.sample = sample or (lambda family, rows: rows)
        terms = plan.model.terms
        self.minimum = (terms.groupby("offer")["min_chips"].sum() * self.hours).to_dict()
        # take-or-pay as V's slope in the offer's price: chip-hours weighted by quarter price / price
        offer_price = terms["offer"].map(self.price_of(inputs)).astype(float)
        weighted = terms["min_chips"] * self.hours * (terms["usd_per_chip_hour"] / offer_price)
        self.minimum_slope = weighted.groupby(terms["offer"]).sum().to_dict()
        self.price = self.price_of(inputs)

    @staticmethod
    def price_of(inputs: optimizer.Inputs) -> dict[str, float]:
        return dict(zip(inputs.offers["offer"], inputs.offers["usd_per_chip_hour"].astype(float), strict=True))

    # tolerances
    def cost_tolerance(self, *values: float) -> float:
        return max(COST_ABS, COST_REL * max([abs(self.v0), *[abs(v) for v in values]]))

    def slope_cost_tolerance(self) -> float:
        return SLOPE_REL * abs(self.v0) + SLOPE_ABS

    @staticmethod
    def hours_tolerance(value: float) -> float:
        return HOURS_REL * abs(value) + HOURS_ABS

    @staticmethod
    def volume_tolerance(value: float) -> float:
        return VOLUME_REL * abs(value) + VOLUME_ABS

    def add(
        self,
        family: str,
        figure: str,
        reported: float | None,
        resolved: float | None,
        tolerance: float,
        note: str = "",
        ok: bool | None = None,
    ) -> None:
        if ok is None:
            ok = (reported is None and resolved is None) or (
                reported is not None and resolved is not None and abs(reported - resolved) <= tolerance
            )
        difference = None if reported is None or resolved is None else reported - resolved
        self.records.append(
            {
                "family": family,
                "figure": figure,
                "reported": reported,
                "resolved": resolved,
                "difference": difference,
                "tolerance": tolerance,
                "ok": bool(ok),
                "note": note,
            }
        )

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.records, columns=COLUMNS)

    # ------------------------------------------------------------------ walk-away
    def walk_away(self) -> None:
        suppliers = self.report.suppliers
        for row in self.sample("walk_away", list(suppliers.itertuples(index=False))):
            names = self.resolver.offers_of[(row.dimension, row.supplier)]
            label = f"{row.dimension} {row.supplier}"
            kept = self.resolver.solve(("walk", label), lambda names=names: walked_away(self.inputs, names))
            free = self.resolver.solve(
                ("walk-free", label), lambda names=names: rules_lifted(walked_away(self.inputs, names))
            )
            kept_cost = None if kept is None else kept.cost - self.v0
            free_cost = None if free is None else free.cost - self.v0
            self.add(
                "walk_away",
                label,
                number(row.walk_away_cost_usd),
                kept_cost,
                self.cost_tolerance(kept.cost if kept else 0.0),
                "V(offers held to min_chips) - V",
            )
            self.add(
                "walk_away_no_rules",
                label,
                number(row.walk_away_cost_no_rules_usd),
                free_cost,
                self.cost_tolerance(free.cost if free else 0.0),
                "same, share rules lifted",
            )
            # With a zero penalty unserved demand costs nothing, so how much of it an optimal
            # plan leaves is not determined by V: two optimal plans may differ (a drawn MIP
            # case: 0 reported, -1.2 re-solved). The figure is compared only where it is one.
            if kept is not None and self.inputs.policy.penalty_usd_per_token_s > 0:
                unserved = kept.unmet - self.base.unmet
                self.add(
                    "walk_away_unserved",
                    label,
                    number(row.unserved_if_removed_tokens_per_s),
                    unserved,
                    self.volume_tolerance(unserved),
                    "unmet tokens/s of that plan minus today's",
                )
            if kept is not None and free is not None:
                tolerance = self.cost_tolerance(kept.cost)
                reported_kept, reported_free = number(row.walk_away_cost_usd), number(row.walk_away_cost_no_rules_usd)
                reported_ok = (
                    reported_kept is None or reported_free is None or reported_free <= reported_kept + tolerance
                )
                self.add(
                    "lifted_le_kept",
                    label,
                    reported_free,
                    free_cost,
                    tolerance,
                    f"re-solved lifted {free_cost:,.2f} <= kept {kept_cost:,.2f}; reported lifted "
                    f"{reported_free} <= kept {reported_kept}",
                    ok=free.cost <= kept.cost + tolerance and reported_ok,
                )

    # ---------------------------------------------------------------- offer prices
    def _offer_facts(self, offer: str, price: float) -> Facts | None:
        factor = price / self.price[offer]
        return self.resolver.solve(
            ("price", offer, round(factor, 12)), lambda: with_prices(self.inputs, {offer: factor})
        )

    def offer_prices(self) -> None:
        table = self.report.offer_prices
        for row in self.sample("offer_price", list(table.itertuples(index=False))):
            self._offer_price(row)

    def chord(self, cost_at: Callable[[float], float | None], low: float, high: float) -> tuple[float | None, float]:
        """V's chord over [low, high] (``cost_at``: V at a price or factor) and its tolerance:
        both costs to the MIP gap, SLOPE_REL of the larger, plus 1e-6 of the chord."""
        costs = [cost_at(low), cost_at(high)]
        if None in costs:
            return None, 0.0
        chord = (costs[1] - costs[0]) / (high - low)
        spread = 2 * (SLOPE_REL * max(abs(self.v0), *map(abs, costs)) + SLOPE_ABS) / (high - low)
        return chord, spread + 1e-6 * abs(chord)

    def bent(
        self,
        cost_at: Callable[[float], float | None],
        start: float,
        inside: float,
        outside: float,
        concave: bool = True,
    ) -> bool:
        """V bends between ``inside`` and ``outside``: its chord there leaves its chord over
        [start, inside]. On one line up to ``inside``, this is where the line ends (concave V:
        the chord falls; with spend shares V need not be concave, and either way counts).
        With ``inside`` not past ``start``: V is not one line over [start, outside], its
        chords over the two halves differ (wide chords: a secant just beside ``start`` is
        only known to 2 x the MIP gap over its tiny width)."""
        if inside <= start * (1 + 2 * BESIDE):
            inside = (start + outside) / 2
        before = self.chord(cost_at, start, inside)
        after = self.chord(cost_at, inside, outside)
        if before[0] is None or after[0] is None:
            return True
        gap = before[0] - after[0]
        return (gap if concave else abs(gap)) > before[1] + after[1]

    def concave_in(self, names: Iterable[str]) -> bool:
        """V is concave in these offers' prices unless their prices enter the rules: spend
        shares, a budget, or a spend commitment of one of their providers (below it every
        dollar spent with the provider is owed anyway, so V is flat in its prices until the
        commitment is met, then rises: convex there) or a minimum-spend discount of one (its
        threshold moves with the price)."""
        policy = self.inputs.policy
        if "spend" in policy.share_bases() or policy.budget_usd_per_quarter is not None:
            return False
        offers = self.inputs.offers
        providers = set(offers.loc[offers["offer"].isin(list(names)), "provider"])
        priced_rules = set(self.inputs.spend_commitments["provider"]) | set(self.inputs.spend_discounts["provider"])
        return not providers & priced_rules

    def on_line(self, chord: float | None, tol: float, right: tuple[float, float], concave: bool = True) -> bool:
        """A chord from today's price is today's right secant (concave V: not below it)."""
        if chord is None:
            return False
        gap = right[0] - chord
        return (gap if concave else abs(gap)) <= right[1] + tol

    def _offer_price_by_v(self, row) -> None:
        """Ceiling and price to win decided by V, not by the chip-hours of the plan a re-solve
        returns (with whole instances or ties several plans are optimal; their chip-hours
        differ, V does not). V is concave in the offer's own price, its slope the offer's
        (price-weighted) chip-hours. The offer keeps today's volume up to c iff V is linear on
        [p0, c] with today's right slope: V's chord over [p0, c] equals the secant just right
        of p0 (a chord never exceeds it). It sells more than take-or-pay at w iff the chord
        over [w, p0] exceeds the take-or-pay slope (V is linear with that slope down to the
        price to win)."""
        offer, p0 = row.offer, float(row.usd_per_chip_hour)
        ceiling, to_win = number(row.price_ceiling_usd_per_chip_hour), number(row.price_to_win_usd_per_chip_hour)
        minimum = self.minimum_slope.get(offer, 0.0)
        concave = self.concave_in([offer])

        def cost_at(price: float) -> float | None:
            return self.v0 if price == p0 else getattr(self._offer_facts(offer, price), "cost", None)

        right = self.chord(cost_at, p0, p0 * (1 + BESIDE))
        right = (right[0] or 0.0, right[1])

        def keeps(price: float) -> bool:
            return self.on_line(*self.chord(cost_at, p0, price), right, concave)

        # left of today's price V's slope is the take-or-pay minimum (with spend shares, not
        # the chip-hours: today's left secant)
        left = (minimum, 1e-6 * max(1.0, minimum)) if concave else self.chord(cost_at, p0 * (1 - BESIDE), p0)

        least = self.minimum.get(offer, 0.0)

        def wins(price: float) -> bool:
            chord, tol = self.chord(cost_at, price, p0)
            if chord is None or left[0] is None:
                return False
            if concave:
                return chord - left[0] > left[1] + tol
            # Today's left secant is known only to 2 x the MIP gap over 1e-4 of p0 (on the
            # bundled 29 B USD plan, ~1e5 USD per USD/h): too coarse to see a small gain, so
            # the re-solved plan's chip-hours above take-or-pay count too.
            held = self._offer_facts(offer, price).chip_hours.get(offer, 0.0)
            return abs(chord - left[0]) > left[1] + tol or held > least + self.hours_tolerance(max(held, least))

        if ceiling is not None:
            inside = True if ceiling * (1 - BRACKET) <= p0 else keeps(ceiling * (1 - BRACKET))
            outside = self.bent(cost_at, p0, ceiling * (1 - BRACKET), ceiling * (1 + BRACKET), concave)
            resolved, note = ceiling if inside and outside else None, f"method {row.method} (decided by V)"
            if not (inside and outside):
                note += f"; V linear at c x 0.995: {inside}, bent at c x 1.005: {outside}"
                if self.locate:
                    resolved = self._locate(keeps, p0, ceiling, inside, up=True)
            self.add(
                "offer_price", f"ceiling {offer}", ceiling, resolved, ceiling * BRACKET, note, ok=inside and outside
            )
            return
        if to_win is None:
            today = self.base.chip_hours.get(offer, 0.0)
            holds = (
                right[0] > minimum + right[1] + 1e-6 * max(1.0, minimum)
                if concave
                else today > least + self.hours_tolerance(today)
            )
            if holds:  # holds volume, no ceiling
                ok = keeps(p0 * 1000)
                self.add(
                    "offer_price",
                    f"ceiling {offer}",
                    None,
                    None if ok else p0 * 1000,
                    p0 * BRACKET,
                    f"no ceiling reported; V linear up to 1000 x today's price: {ok}",
                    ok=ok,
                )
                return
            ok = not wins(p0 * 1e-6)
            self.add(
                "offer_price",
                f"to win {offer}",
                None,
                None,
                p0 * BRACKET,
                "no price to win reported; at 1e-6 of today's price it wins volume: " + str(not ok),
                ok=ok,
            )
            return
        inside = True if to_win * (1 + BRACKET) >= p0 else not wins(to_win * (1 + BRACKET))
        outside = wins(to_win * (1 - BRACKET))
        resolved, note = to_win if inside and outside else None, f"method {row.method} (decided by V)"
        if not (inside and outside):
            note += f"; only take-or-pay at w x 1.005: {inside}, gains at w x 0.995: {outside}"
            if self.locate:
                resolved = self._locate(wins, p0, to_win, inside, up=False)
        self.add("offer_price", f"to win {offer}", to_win, resolved, to_win * BRACKET, note, ok=inside and outside)

    @staticmethod
    def _locate(test: Callable[[float], bool], p0: float, figure: float, inside: bool, up: bool) -> float | None:
        """Where the re-solves put a failed ceiling (``test`` = keeps, ``up``) or price to win
        (``test`` = wins), by bisection to 0.5%."""
        if up:
            if not inside:
                return _threshold(test, p0 * (1 + BESIDE), figure * (1 - BRACKET))[0] if test(p0 * (1 + BESIDE)) else p0
            low, high = figure * (1 + BRACKET), figure * 2
            while test(high) and high < 1000 * p0:
                low, high = high, high * 2
            return _threshold(test, low, high)[0] if high < 1000 * p0 else None
        if not inside:  # wins above w already
            return _threshold(test, figure * (1 + BRACKET), p0)[0] if not test(p0 * (1 - BESIDE)) else p0
        low = figure * (1 - BRACKET)
        while low > p0 * 1e-6 and not test(low):
            low /= 2
        return None if low <= p0 * 1e-6 else _threshold(test, low, figure * (1 - BRACKET))[0]

    def _offer_price(self, row) -> None:
        if float(row.usd_per_chip_hour) > 0:
            self._offer_price_by_v(row)

    # ---------------------------------------------------------------- supplier prices
    def _supplier_at(self, dimension: str, supplier: str, factor: float) -> Facts | None:
        names = self.resolver.offers_of[(dimension, supplier)]
        return self.resolver.solve(
            ("uniform", dimension, supplier, round(factor, 12)),
            lambda: with_prices(self.inputs, {o: factor for o in names}),
        )

    def supplier_prices(self) -> None:
        table = self.report.suppliers
        if "uniform_ceiling_pct" not in table:
            return
        for row in self.sample("uniform_ceiling", list(table.itertuples(index=False))):
            self._supplier_price(row)

    def _supplier_slope(self, dimension: str, supplier: str, factor: float) -> float | None:
        """V's right slope in the supplier's price factor at ``factor``, as a secant over
        BESIDE: V concave, it lies between the right slopes at factor and factor x (1 + BESIDE)."""
        here = self.v0 if factor == 1 else self._cost_at(dimension, supplier, factor)
        beyond = self._cost_at(dimension, supplier, factor * (1 + BESIDE))
        return None if here is None or beyond is None else (beyond - here) / (factor * BESIDE)

    def _cost_at(self, dimension: str, supplier: str, factor: float) -> float | None:
        facts = self._supplier_at(dimension, supplier, factor)
        return None if facts is None else facts.cost

    def _supplier_price(self, row) -> None:
        """Uniform ceiling and half-volume rise of a supplier, decided by V, not by the plan a
        re-solve returns.

        With whole instances several plans can be optimal at one price, with different
        chip-hours and tokens/s for the supplier, so the returned plan's volume is no test.
        V (the optimal cost) is unique, concave and piecewise linear in the price factor,
        its slope the supplier's price-weighted chip-hours (spend at today's prices, the
        least over the optimal plans on the right). So, without spend shares: the supplier
        keeps its volume up to f iff V is linear with today's right slope on [1, f] (the
        chord of V over [1, f] equals the secant just right of 1), and its volume falls to
        half where V's right slope (a secant just right of the factor) falls to half of
        today's plan's (on a tie at today's price, at once). With spend rows moving with
        the prices (spend shares, budgets, spend commitments) V's slope is not the
        chip-hours and need not fall: the returned plan's spend at today's prices decides
        the half volume.
        """
        dimension, supplier = row.dimension, row.supplier
        names = self.resolver.offers_of[(dimension, supplier)]
        label = f"{dimension} {supplier}"
        concave = self.concave_in(names)  # else spend rows move with these prices: V's slope is not the volume

        def hours(facts: Facts) -> float:
            return sum(facts.chip_hours.get(o, 0.0) for o in names)

        def spend(facts: Facts, factor: float) -> float:  # at today's prices
            return sum(facts.spend.get(o, 0.0) for o in names) / factor

        def cost_at(factor: float) -> float | None:
            return self.v0 if factor == 1 else self._cost_at(dimension, supplier, factor)

        today_hours, minimum = hours(self.base), sum(self.minimum.get(o, 0.0) for o in names)
        slope_tol = 2 * self.slope_cost_tolerance() / BESIDE
        right = self.chord(cost_at, 1.0, 1 + BESIDE)
        right = (right[0] or 0.0, right[1])
        today_volume = spend(self.base, 1.0)

        def volume(factor: float) -> float | None:
            if concave:
                return self._supplier_slope(dimension, supplier, factor)
            facts = self._supplier_at(dimension, supplier, factor)
            return None if facts is None else spend(facts, factor)

        def kept(factor: float) -> bool:
            return self.on_line(*self.chord(cost_at, 1.0, factor), right, concave)

        def above_half(factor: float) -> bool:
            value = volume(factor)
            return value is not None and value > today_volume / 2 + slope_tol / factor + 1e-6 * today_volume

        checks = (
            (
                "uniform_ceiling",
                number(row.uniform_ceiling_pct),
                kept,
                today_hours > minimum + self.hours_tolerance(today_hours),
            ),
            ("half_volume", number(row.half_volume_pct), above_half, today_volume > slope_tol),
        )
        for family, pct, keeps, holds in checks:
            if pct is None:
                if not holds:
                    self.add(family, label, None, None, 0.0, "holds nothing: none expected")
                    continue
                ok = keeps(11.0)
                self.add(
                    family,
                    label,
                    None,
                    None if ok else math.inf,
                    0.0,
                    f"none reported; at +1000% it still keeps {'all' if family == 'uniform_ceiling' else 'half'}: {ok}",
                    ok=ok,
                )
                continue
            factor = 1 + pct / 100
            inside = True if factor * (1 - BRACKET) <= 1 else keeps(factor * (1 - BRACKET))
            if family == "uniform_ceiling":
                outside = self.bent(cost_at, 1.0, factor * (1 - BRACKET), factor * (1 + BRACKET), concave)
            else:
                outside = not keeps(factor * (1 + BRACKET))
            resolved, note = pct if inside and outside else None, ""
            if not (inside and outside):
                note = f"keeps at x0.995: {inside}, loses at x1.005: {outside}"
                if self.locate:
                    if not inside:
                        low, high = (1 + BESIDE, factor * (1 - BRACKET))
                        resolved = (_threshold(keeps, low, high)[0] - 1) * 100 if keeps(low) else 0.0
                    else:
                        low, high = factor * (1 + BRACKET), factor * 1.5
                        while keeps(high) and high < 11:
                            low, high = high, high * 1.5
                        resolved = (_threshold(keeps, low, high)[0] - 1) * 100 if high < 11 else None
                    note += " (re-solved by bisection to 0.5%)"
            self.add(family, label, pct, resolved, abs(factor) * BRACKET * 100, note, ok=inside and outside)

    # -------------------------------------------------------------------- capacity
    def capacity(self) -> None:
        table = self.report.capacity
        offers = self.inputs.offers
        kinds = offers["term"] if "term" in offers else pd.Series("on-demand", index=offers.index)
        term_kind = dict(zip(offers["offer"], kinds, strict=True))
        tolerance = self.slope_cost_tolerance()
        per_quarter = table[table["method"] != TERM_METHOD]
        for row in self.sample("capacity", list(per_quarter.itertuples(index=False))):
            m = float(row.max_chips)
            delta = 1e-3 * max(1.0, m)
            more = self.resolver.solve(
                ("capacity", row.offer, row.quarter),
                lambda row=row, chips=m + delta: with_max_chips(self.inputs, row.offer, row.quarter, chips),
            )
            reported = number(row.value_usd_per_chip_hour)
            resolved = None if more is None else (self.v0 - more.cost) / (delta * self.hours)
            slack = 2 * tolerance / (delta * self.hours) + 1e-6 * abs(reported or 0.0)
            self.add(
                "capacity",
                f"{row.offer} {row.quarter}",
                reported,
                resolved,
                slack,
                f"(V - V(max_chips + {delta:g})) / chip-hours; method {row.method}; term {term_kind.get(row.offer)}",
            )
        for row in table[table["method"] == TERM_METHOD].itertuples(index=False):
            offer, m = row.offer, float(row.max_chips)
            delta = 1e-3 * max(1.0, m)
            quarters = int((self.plan.model.terms["offer"] == offer).sum())
            more = self.resolver.solve(
                ("capacity-term", offer),
                lambda offer=offer, delta=delta: with_more_chips_everywhere(self.inputs, offer, delta),
            )
            resolved = None if more is None else (self.v0 - more.cost) / (delta * self.hours * quarters)
            reported = number(row.value_usd_per_chip_hour)
            self.add(
                "capacity_term",
                offer,
                reported,
                resolved,
                2 * tolerance / (delta * self.hours * quarters) + 1e-6 * abs(reported or 0.0),
                f"max_chips + {delta:g} in all {quarters} quarters, per chip-hour added",
            )

    # ----------------------------------------------------------------------- rules
    def rules(self) -> None:
        table = self.report.rules
        tolerance = self.slope_cost_tolerance()
        for row in self.sample("rule", list(table.itertuples(index=False))):
            reported = number(row.cost_of_rule_usd)
            label = f"{row.dimension} {row.group} {row.quarter} {row.kind}"
            if row.dimension not in ("spend_commitment", "budget"):
                label += f" ({row.basis})"
            if row.dimension == "spend_commitment":
                facts = self.resolver.solve(
                    ("spend", row.group), lambda group=row.group: without_spend_commitment(self.inputs, group)
                )
                self.add(
                    "spend_commitment",
                    label,
                    reported,
                    None if facts is None else self.v0 - facts.cost,
                    self.cost_tolerance(),
                    "V - V(spend commitment row removed)",
                )
                continue
            if row.dimension == "budget":
                facts = self.resolver.solve(
                    ("budget", row.quarter), lambda quarter=row.quarter: without_budget(self.inputs, quarter)
                )
                self.add(
                    "budget",
                    label,
                    reported,
                    None if facts is None else self.v0 - facts.cost,
                    self.cost_tolerance(),
                    "V - V(that quarter's budget removed)",
                )
                continue
            key = (row.dimension, row.group, row.quarter, row.kind, row.basis)  # one row per basis

            def drop(rules: pd.DataFrame, key=key) -> pd.DataFrame:
                hit = (
                    (rules["dimension"] == key[0])
                    & (rules["group"] == key[1])
                    & (rules["quarter"] == key[2])
                    & (rules["kind"] == key[3])
                    & (rules["basis"] == key[4])
                )
                return rules[~hit].reset_index(drop=True)

            lifted = self.resolver.solve_rules(("rule", *key), drop)
            self.add(
                "rule",
                label,
                reported,
                None if lifted is None else self.v0 - lifted,
                self.cost_tolerance(),
                "V - V(that share row dropped; model rebuilt, solved cold)",
            )
            per_point = number(getattr(row, "usd_per_share_point", None))
            if per_point is None:
                continue
            limit = float(row.limit)
            relaxed_limit = min(1.0, limit + 0.01) if row.kind == "max" else max(0.0, limit - 0.01)
            points = abs(relaxed_limit - limit) * 100

            def relax(rules: pd.DataFrame, key=key, relaxed_limit=relaxed_limit) -> pd.DataFrame:
                rules = rules.copy()
                hit = (
                    (rules["dimension"] == key[0])
                    & (rules["group"] == key[1])
                    & (rules["quarter"] == key[2])
                    & (rules["kind"] == key[3])
                    & (rules["basis"] == key[4])
                )
                rules.loc[hit, "limit"] = relaxed_limit
                return rules

            relaxed = self.resolver.solve_rules(("rule-point", *key), relax)
            self.add(
                "rule_point",
                label,
                per_point,
                None if relaxed is None else (self.v0 - relaxed) / points,
                tolerance / points + 1e-6 * abs(per_point),
                "(V - V(limit relaxed 1 point)) per point",
            )

    def premium(self) -> None:
        reported = number(self.report.summary.get("diversification_premium_usd"))
        facts = self.resolver.solve(("lifted",), lambda: rules_lifted(self.inputs))
        self.add(
            "premium",
            "diversification premium",
            reported,
            None if facts is None else self.v0 - facts.cost,
            self.cost_tolerance(),
            "V - V(every share rule lifted)",
        )

    def rule_settings(self) -> None:
        """What each policy.yaml share line and workload-rule part costs, lifted in every quarter: the report's
        ``policy_rules`` figure against V - V(that line removed)."""
        reported_by = dict(
            zip(self.report.policy_rules["setting"], self.report.policy_rules["cost_of_setting_usd"], strict=True)
        )
        for key in policy_settings(self.inputs):
            facts = self.resolver.solve(("setting", key), lambda key=key: setting_lifted(self.inputs, key))
            name = ".".join(key)
            self.add(
                "rule_setting",
                name,
                number(reported_by.get(name)),
                None if facts is None else self.v0 - facts.cost,
                self.cost_tolerance(),
                "V - V(this policy line removed in every quarter)",
            )

    # ----------------------------------------------------------------------- ports
    def ports(self, plan_ports: pd.DataFrame | None) -> None:
        if plan_ports is not None and len(plan_ports):
            for row in plan_ports.itertuples(index=False):
                facts = self.resolver.solve(
                    ("never", row.model, row.accelerator),
                    lambda row=row: without_pair(self.inputs, row.model, row.accelerator),
                )
                self.add(
                    "port_saving",
                    f"{row.model} on {row.accelerator}",
                    number(row.net_saving_usd),
                    None if facts is None else facts.cost - self.v0,
                    self.cost_tolerance(),
                    "V(port forbidden: performance row removed) - V",
                )
        table = getattr(self.report, "ports", None)
        if table is None or table.empty:
            return
        for row in self.sample("port_break_even", list(table.itertuples(index=False))):
            label = f"{row.model} on {row.accelerator}"
            never = self.resolver.solve(
                ("never", row.model, row.accelerator),
                lambda row=row: without_pair(self.inputs, row.model, row.accelerator),
            )
            free = self.resolver.solve(
                ("free", row.model, row.accelerator), lambda row=row: port_free(self.inputs, row.model, row.accelerator)
            )
            resolved = None if never is None or free is None else max(0.0, never.cost - free.cost)
            self.add(
                "port_break_even",
                label,
                number(row.break_even_port_usd),
                resolved,
                self.cost_tolerance(),
                "max(0, V(port forbidden) - V(port_usd = 0))",
            )
            cut = number(row.price_cut_to_port_pct)
            if bool(row.ported) or cut is None:
                continue
            offers = sorted(set(self.inputs.offers.loc[self.inputs.offers["accelerator"] == row.accelerator, "offer"]))

            def ported(pct: float, row=row, offers=offers) -> bool | None:
                factor = 1 - pct / 100
                facts = self.resolver.solve(
                    ("cut", row.accelerator, round(pct, 9)),
                    lambda: with_prices(self.inputs, {o: factor for o in offers}),
                )
                return None if facts is None else (row.model, row.accelerator) in facts.ported

            more, less = ported(min(100.0, cut + 0.5)), ported(max(0.0, cut - 1.5)) if cut >= 1.5 else False
            self.add(
                "port_price_cut",
                label,
                cut,
                cut if more and not less else None,
                1.0,
                f"ported at {cut + 0.5:.2f}% cut: {more}; ported at {max(0.0, cut - 1.5):.2f}%: {less}",
                ok=bool(more) and not less,
            )

    def run(self, families: Iterable[str] = FAMILIES, plan_ports: pd.DataFrame | None = None) -> pd.DataFrame:
        families = set(families)
        if families & {"walk_away", "walk_away_no_rules", "walk_away_unserved", "lifted_le_kept"}:
            self.walk_away()
        if "offer_price" in families:
            self.offer_prices()
        if families & {"uniform_ceiling", "half_volume"}:
            self.supplier_prices()
        if families & {"capacity", "capacity_term"}:
            self.capacity()
        if families & {"rule", "rule_point", "spend_commitment", "budget"}:
            self.rules()
        if "premium" in families:
            self.premium()
        if "rule_setting" in families:
            self.rule_settings()
        if families & {"port_saving", "port_break_even", "port_price_cut"}:
            self.ports(plan_ports)
        table = self.table()
        return table[table["family"].isin(families)].reset_index(drop=True)


def audit(
    inputs: optimizer.Inputs,
    integer: bool = False,
    families: Iterable[str] = FAMILIES,
    locate: bool = False,
    report=None,
    plan: optimizer.Plan | None = None,
    sample: Callable[[str, list], list] | None = None,
) -> tuple[pd.DataFrame, Audit]:
    """Plan ``inputs`` (with port paybacks), build its leverage report, audit every figure."""
    from optimizer.analysis.negotiation import leverage

    plan = plan or optimizer.solve(inputs, integer=integer)
    report = report if report is not None else leverage(inputs, plan, workers=1)
    checker = Audit(inputs, plan, report, integer=integer, locate=locate, sample=sample)
    return checker.run(families, plan.ports), checker
