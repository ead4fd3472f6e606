"""A solved, verified plan as pandas tables, and how it is assembled from a solution."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from optimizer import quarters
from optimizer.io.consistency import unservable_reasons
from optimizer.io.tables import Inputs, named_rows
from optimizer.model.builder import LpModel, chip_kw, spend_commitment_terms
from optimizer.plan.money import money_by_quarter, present_values
from optimizer.plan.moving import moves_table
from optimizer.solver.certificate import Certificate
from optimizer.solver.lp import Solution
from optimizer.tolerances import VALUE_NOISE, VERIFY_RELATIVE

# Values this small relative to their row's demand are solver noise, reported as zero.
SHARE_DIMENSIONS = ("provider", "vendor", "region", "accelerator")


@dataclass(frozen=True)
class Plan:
    """A cost-minimal plan that passed :func:`optimizer.plan.verification.verify`.

    Tables (one row per key, zero rows omitted):
    - ``allocation``: workload, quarter, offer, provider, region, accelerator, tokens_per_s, chips
    - ``purchases``: offer, quarter, provider, region, accelerator, chips, cost_usd (chips
      held in the quarter; cost_usd is what is paid in it, running commitments included)
    - ``commitments``: offer, start_quarter, end_quarter, term, chips, usd_per_chip_hour,
      cost_usd (whole term), cost_in_horizon_usd, cost_after_horizon_usd
    - ``contracts``: offer, quarter, chips, used_chips, cost_usd (signed, sunk)
    - ``spend_commitments``: provider, first, last, usd, usd_in_horizon, consumed_usd, shortfall_usd
    - ``spend_discounts``: provider, first, last, from_usd, from_in_horizon_usd, discount,
      spend_usd (paid to the provider in the period's horizon quarters, at list prices),
      reached, rebate_usd (discount x spend_usd on the level reached, else 0),
      to_reach_usd (what the spend misses of from_in_horizon_usd)
    - ``budgets``: quarter, budget_usd, spend_usd, binding
    - ``ports``: model, accelerator, port_quarter, serves_from, port_usd, net_saving_usd,
      payback_quarter (the last two filled by the planner, which re-solves without the port)
    - ``resilience``: outage, quarter, demand_tokens_per_s, stranded_tokens_per_s, stranded_share
      (the re-allocation the plan holds ready for each single outage); ``recourse`` its allocation
    - ``unmet``: workload, quarter, model, geography, tokens_per_s, unmet_tokens_per_s, reason
    - ``moves``: what moves onto or off each group between consecutive quarters and what it
      costs (:mod:`optimizer.plan.moving`; empty without ``switching``)
    - ``money``: per horizon quarter, cost, revenue, gross margin, cash paid and its present
      value (:mod:`optimizer.plan.money`)
    - ``shares``: dimension, group, quarter, tokens_per_s, volume_share, spend_usd, spend_share,
      power_kw, power_share (chips held and signed x power_kw; blank unless every offered
      accelerator has a power_kw)
    - ``binding_rules``: share rules at their limit, with their basis, the share reached on it and the saving
      of the first unit of relaxation read from the dual, per share point (the leverage
      report's ``usd_per_share_point`` re-solves a whole point instead, so it can be lower);
      in a quarter with nothing served, the rules with a nonzero dual (those holding its
      demand back), share and saving blank
    Frozen: the pipeline (:func:`optimizer.solve`) makes the finished plan in one step from
    the assembled tables, its certificate, port payback and resilience cost; nothing patches it.
    ``totals`` holds the headline numbers; ``model`` and ``solution`` are kept for re-solves;
    ``certificate`` proves the optimum (:mod:`optimizer.solver.certificate`); ``notes`` say what a
    reader must know about a plan from another solver (``--solver``): whether it is
    certified, what was not computed.
    """

    inputs: Inputs
    allocation: pd.DataFrame
    purchases: pd.DataFrame
    commitments: pd.DataFrame
    contracts: pd.DataFrame
    spend_commitments: pd.DataFrame
    spend_discounts: pd.DataFrame
    budgets: pd.DataFrame
    ports: pd.DataFrame
    resilience: pd.DataFrame
    unmet: pd.DataFrame
    moves: pd.DataFrame
    money: pd.DataFrame
    shares: pd.DataFrame
    binding_rules: pd.DataFrame
    totals: dict[str, Any]
    recourse: pd.DataFrame = field(repr=False)
    model: LpModel = field(repr=False)
    solution: Solution = field(repr=False)
    seconds: dict[str, float] = field(default_factory=dict)
    certificate: Certificate | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "optimal"

    def share_table(self, dimension: str, basis: str | None = None) -> pd.DataFrame:
        """Shares of one dimension as a quarter x group table (basis: volume, spend or power;
        default ``share_basis``)."""
        column = f"{basis or self.inputs.policy.share_basis}_share"
        rows = self.shares[self.shares["dimension"] == dimension]
        return rows.pivot_table(index="quarter", columns="group", values=column, fill_value=0.0)


def _clean(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return np.where(values > VALUE_NOISE * np.maximum(1.0, scale), values, 0.0)


def assemble(model: LpModel, solution: Solution) -> Plan:
    """Turn solver values into the plan's tables, with noise below ``VALUE_NOISE`` removed."""
    inputs = model.inputs
    policy = inputs.policy
    hours = policy.hours_per_quarter
    workloads = model.workloads
    demand = workloads["tokens_per_s"].to_numpy()
    pairs = model.pairs
    terms = model.terms
    starts = model.starts

    x = _clean(solution.x, demand[pairs["w"].to_numpy()])
    c = _clean(solution.c, np.full(len(starts), 1.0))
    y = np.maximum(_clean(solution.y, terms["max_chips"].to_numpy()), terms["min_chips"].to_numpy())
    start_price = starts["usd_per_chip_hour"].to_numpy()
    payment = terms["usd_per_chip_hour"].to_numpy() * hours * y
    for t, running in model.running.items():  # commitment terms: chips and payments of the running commitments
        y[t] = c[running].sum()
        payment[t] = float((start_price[running] * c[running]).sum() * hours)
    tier = tiers_reached(model, solution)
    tiered = tier.index.to_numpy(dtype=np.int64)
    payment[tiered] = tier_payments(model, solution)[tiered]
    sunk = terms["contract_usd_per_hour"].to_numpy() * hours
    spend = payment + sunk

    located = pairs.merge(
        terms[["offer", "quarter", "provider", "region", "accelerator", "vendor"]], on=["offer", "quarter"], how="left"
    )
    allocation = pd.DataFrame(
        {
            "workload": workloads["workload"].to_numpy()[pairs["w"].to_numpy()],
            "quarter": located["quarter"],
            "offer": located["offer"],
            "provider": located["provider"],
            "region": located["region"],
            "accelerator": located["accelerator"],
            "tokens_per_s": x,
            "chips": x / pairs["tokens_per_s_per_chip"].to_numpy(),
        }
    )
    allocation = allocation[allocation["tokens_per_s"] > 0].reset_index(drop=True)
    purchases = terms[["offer", "quarter", "provider", "region", "accelerator"]].assign(chips=y, cost_usd=payment)
    if len(tiered):  # the tier reached and the price paid per chip-hour, only when tiers are given
        paid = np.divide(payment, y * hours, out=np.zeros(len(y)), where=y > 0)
        purchases = purchases.assign(tier=tier.reindex(range(len(terms))).astype("Int64"), usd_per_chip_hour=paid)
    purchases = purchases[purchases["chips"] > 0].reset_index(drop=True)

    served = np.bincount(pairs["w"].to_numpy(), weights=x, minlength=len(workloads))
    unserved = _clean(np.clip(demand - served, 0.0, None), demand)
    volume = np.bincount(pairs["t"].to_numpy(), weights=x, minlength=len(terms))
    needed = np.bincount(
        pairs["t"].to_numpy(), weights=x / pairs["tokens_per_s_per_chip"].to_numpy(), minlength=len(terms)
    )

    commitments = _commitments(model, c, hours)
    ports = _ports(model, solution)
    resilience, recourse = _resilience(model, solution)
    contracts = _contracts(terms, needed, sunk)
    spend_commitments = _spend_commitments(model, spend, solution)
    spend_discounts, rebates = _spend_discounts(model, spend, solution)
    budgets = _budgets(model, spend)
    amounts = terms.assign(volume=volume, spend=spend, power=_power_kw(model, y))
    shares = _shares(amounts)
    binding = _binding_rules(model, solution, amounts)
    unmet = _unmet(model, solution, unserved, y, binding, budgets)

    on_demand = float(payment[(terms["term"] == "on-demand").to_numpy()].sum())
    committed = float(commitments["cost_usd" if policy.commitment_cost == "whole" else "cost_in_horizon_usd"].sum())
    after = float(commitments["cost_after_horizon_usd"].sum()) if policy.commitment_cost == "whole" else 0.0
    shortfall = float(spend_commitments["shortfall_usd"].sum())
    port_cost = float(ports["port_usd"].sum())
    moves = moves_table(model, x)
    moving = float(moves["cost_usd"].sum())
    rebate = float(spend_discounts["rebate_usd"].sum())
    compute = on_demand + committed + float(sunk.sum()) + shortfall + port_cost + moving - rebate
    unserved_cost = unserved * inputs.unserved_usd_per_token_s()
    rate = inputs.revenue_per_mtok()
    priced = ~np.isnan(rate)
    penalty = float(unserved_cost[~priced].sum())
    lost_revenue = float(unserved_cost[priced].sum())
    delivered = (demand - unserved) * workloads["utilization"].to_numpy(dtype=float)
    served_mtok = float(quarters.mtok_per_quarter(delivered.sum(), hours))
    row_revenue = rate * quarters.mtok_per_quarter(delivered, hours)  # NaN where a row has no revenue
    revenue = float(row_revenue[priced].sum()) if priced.any() else None
    money = money_by_quarter(model, spend, c, ports, moves, spend_commitments, rebates, row_revenue, unserved_cost)
    in_use_cost = compute - after  # what serving the horizon's tokens costs (cost_per_mtok_usd)
    totals = {
        "status": "optimal",
        "total_cost_usd": compute + penalty + lost_revenue,
        "compute_cost_usd": compute,
        "unmet_penalty_usd": penalty,
        "lost_revenue_usd": lost_revenue if priced.any() else None,
        "revenue_usd": revenue,
        # Only when every row with demand has a revenue: otherwise part of the cost earns nothing we know.
        "gross_margin_usd": revenue - in_use_cost if revenue is not None and priced[demand > 0].all() else None,
        "unmet_tokens_per_s": float(unserved.sum()),
        "served_mtok": served_mtok,
        "cost_per_mtok_usd": in_use_cost / served_mtok if served_mtok > 0 else None,
        "tokens_per_usd": served_mtok * 1e6 / in_use_cost if in_use_cost > 0 else None,
        "hhi_provider": _hhi(located.assign(v=x), "provider"),
        "hhi_vendor": _hhi(located.assign(v=x), "vendor"),
        "share_basis": policy.share_basis,
        "on_demand_cost_usd": on_demand,
        "commitment_cost_usd": committed,
        "commitment_cost_after_horizon_usd": float(commitments["cost_after_horizon_usd"].sum()),
        "sunk_contract_cost_usd": float(sunk.sum()),
        "spend_shortfall_usd": shortfall,
        "spend_discount_usd": rebate,
        "port_cost_usd": port_cost,
        "moving_cost_usd": moving,
        "discount_rate_per_year": policy.discount_rate_per_year,
        **present_values(model, solution.objective, c, row_revenue, unserved_cost),
        "mip_gap": solution.mip_gap,
        "solver_objective_usd": solution.objective,
        "method": solution.method,
    }
    return Plan(
        inputs=inputs,
        allocation=allocation,
        purchases=purchases,
        commitments=commitments,
        contracts=contracts,
        spend_commitments=spend_commitments,
        spend_discounts=spend_discounts,
        budgets=budgets,
        ports=ports,
        resilience=resilience,
        unmet=unmet,
        moves=moves,
        money=money,
        shares=shares,
        binding_rules=binding,
        totals=totals,
        recourse=recourse,
        model=model,
        solution=solution,
    )


def tiers_reached(model: LpModel, solution: Solution) -> pd.Series:
    """The tier each tiered term reached (0: the offer's own price), by term position:
    all_units the one tier picked, incremental the last segment in use."""
    tiers = model.tiers
    if tiers.empty:
        return pd.Series([], index=pd.Index([], dtype=np.int64), dtype=np.int64)
    on = tiers.assign(on=solution.tier_b > 0.5)
    return on[on["on"]].groupby("t")["tier"].max().astype(np.int64)


def tier_payments(model: LpModel, solution: Solution) -> np.ndarray:
    """What each term pays for its tier segments in its quarter (zero for untiered terms)."""
    paid = np.zeros(len(model.terms))
    tiers = model.tiers
    if tiers.empty:
        return paid
    hours = model.inputs.policy.hours_per_quarter
    segment = _clean(solution.tier_y, tiers["t"].map(model.terms["max_chips"]).to_numpy(dtype=float))
    amount = tiers["usd_per_chip_hour"].to_numpy(dtype=float) * segment * hours
    np.add.at(paid, tiers["t"].to_numpy(dtype=np.int64), amount)
    return paid


def _commitments(model: LpModel, c: np.ndarray, hours: float) -> pd.DataFrame:
    starts = model.starts
    ordinal = starts["quarter"].map(quarters.ordinal).to_numpy() if len(starts) else np.array([], int)
    per_quarter = starts["usd_per_chip_hour"].to_numpy() * hours * c
    table = pd.DataFrame(
        {
            "offer": starts["offer"],
            "start_quarter": starts["quarter"],
            "end_quarter": [
                quarters.label(int(o + n - 1)) for o, n in zip(ordinal, starts["term_quarters"], strict=True)
            ],
            "term": starts["offer"].map(model.inputs.offers.set_index("offer")["term"]) if len(starts) else [],
            "payment": starts["offer"].map(model.inputs.offers.set_index("offer")["payment"]) if len(starts) else [],
            "chips": c,
            "usd_per_chip_hour": starts["usd_per_chip_hour"],
            "cost_usd": per_quarter * starts["term_quarters"].to_numpy(),
            "cost_in_horizon_usd": per_quarter * starts["inside"].to_numpy(),
        }
    )
    table["cost_after_horizon_usd"] = table["cost_usd"] - table["cost_in_horizon_usd"]
    return table[table["chips"] > 0].reset_index(drop=True)


def _ports(model: LpModel, solution: Solution) -> pd.DataFrame:
    """Ports the plan starts: where, when, and from when the pair serves."""
    columns = ["model", "accelerator", "port_quarter", "serves_from", "port_usd", "net_saving_usd", "payback_quarter"]
    records = []
    for k in np.flatnonzero(solution.z > 0.5):
        start = model.port_starts.iloc[k]
        port = model.ports.iloc[int(start["port"])]
        records.append(
            {
                "model": port["model"],
                "accelerator": port["accelerator"],
                "port_quarter": start["quarter"],
                "serves_from": quarters.label(quarters.ordinal(start["quarter"]) + int(port["port_quarters"])),
                "port_usd": float(port["port_usd"]),
                "net_saving_usd": None,
                "payback_quarter": None,
            }
        )
    return pd.DataFrame(records, columns=columns)


def _resilience(model: LpModel, solution: Solution) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For each single outage, the demand the ready re-allocation strands per quarter, and that allocation."""
    columns = ["outage", "quarter", "demand_tokens_per_s", "stranded_tokens_per_s", "stranded_share"]
    allocation_columns = ["outage", "workload", "quarter", "offer", "tokens_per_s"]
    if not model.recourse:
        return pd.DataFrame(columns=columns), pd.DataFrame(columns=allocation_columns)
    workloads = model.workloads
    demand = workloads.groupby("quarter")["tokens_per_s"].sum().to_dict()
    records, frames = [], []
    for group, (kept, _, _) in model.recourse.items():
        x, u = solution.recourse[group]
        x = _clean(x, workloads["tokens_per_s"].to_numpy()[model.pairs["w"].to_numpy()[kept]])
        stranded = pd.Series(np.clip(u, 0.0, None)).groupby(workloads["quarter"].to_numpy()).sum()
        for quarter, amount in stranded.items():
            records.append(
                (
                    group,
                    quarter,
                    demand[quarter],
                    float(amount),
                    float(amount / demand[quarter]) if demand[quarter] else 0.0,
                )
            )
        pairs = model.pairs.iloc[kept]
        frames.append(
            pd.DataFrame(
                {
                    "outage": group,
                    "workload": workloads["workload"].to_numpy()[pairs["w"]],
                    "quarter": pairs["quarter"].to_numpy(),
                    "offer": pairs["offer"].to_numpy(),
                    "tokens_per_s": x,
                }
            )
        )
    allocation = pd.concat(frames, ignore_index=True)
    return pd.DataFrame(records, columns=columns), allocation[allocation["tokens_per_s"] > 0].reset_index(drop=True)


def _contracts(terms: pd.DataFrame, needed: np.ndarray, sunk: np.ndarray) -> pd.DataFrame:
    signed = terms["contract_chips"].to_numpy()
    table = pd.DataFrame(
        {
            "offer": terms["offer"],
            "quarter": terms["quarter"],
            "chips": signed,
            "used_chips": np.minimum(signed, needed),
            "cost_usd": sunk,
        }
    )
    return table[table["chips"] > 0].reset_index(drop=True)


def _spend_commitments(model: LpModel, spend: np.ndarray, solution: Solution) -> pd.DataFrame:
    """What each spend commitment consumed, and the shortfall paid anyway."""
    records = []
    for item in named_rows(spend_commitment_terms(model)):
        mask = (model.terms["provider"] == item.provider) & model.terms["quarter"].isin(item.quarters)
        consumed = float(spend[mask.to_numpy()].sum())
        records.append(
            {
                "provider": item.provider,
                "first": item.first,
                "last": item.last,
                "usd": item.usd,
                "usd_in_horizon": item.usd_in_horizon,
                "consumed_usd": consumed,
                "shortfall_usd": max(0.0, item.usd_in_horizon - consumed),
            }
        )
    return pd.DataFrame(
        records, columns=["provider", "first", "last", "usd", "usd_in_horizon", "consumed_usd", "shortfall_usd"]
    )


SPEND_DISCOUNT_COLUMNS = [
    "provider",
    "first",
    "last",
    "from_usd",
    "from_in_horizon_usd",
    "discount",
    "spend_usd",
    "reached",
    "rebate_usd",
    "to_reach_usd",
]


def _spend_discounts(model: LpModel, spend: np.ndarray, solution: Solution) -> tuple[pd.DataFrame, pd.Series]:
    """Each minimum-spend discount level: the spend of its period, whether the plan reached
    it (its binary), the rebate; and the rebates by quarter (discount x that quarter's spend)."""
    records, rebates = [], pd.Series(dtype=float)
    terms = model.terms
    for level, reached in zip(named_rows(model.discounts), solution.discount_z > 0.5, strict=True):
        mask = ((terms["provider"] == level.provider) & terms["quarter"].isin(level.quarters)).to_numpy()
        paid = float(spend[mask].sum())
        if reached:
            by_quarter = pd.Series(spend[mask] * level.discount).groupby(terms["quarter"].to_numpy()[mask]).sum()
            rebates = rebates.add(by_quarter, fill_value=0.0)
        records.append(
            {
                "provider": level.provider,
                "first": level.first,
                "last": level.last,
                "from_usd": level.from_usd,
                "from_in_horizon_usd": level.from_in_horizon_usd,
                "discount": level.discount,
                "spend_usd": paid,
                "reached": bool(reached),
                "rebate_usd": paid * level.discount if reached else 0.0,
                "to_reach_usd": max(0.0, level.from_in_horizon_usd - paid),
            }
        )
    return pd.DataFrame(records, columns=SPEND_DISCOUNT_COLUMNS), rebates


def _budgets(model: LpModel, spend: np.ndarray) -> pd.DataFrame:
    records = []
    for quarter in model.inputs.horizon:
        budget = model.inputs.policy.budget(quarter)
        if budget is None:
            continue
        paid = float(spend[(model.terms["quarter"] == quarter).to_numpy()].sum())
        records.append(
            {
                "quarter": quarter,
                "budget_usd": budget,
                "spend_usd": paid,
                "binding": paid >= budget - VERIFY_RELATIVE * max(1.0, budget),
            }
        )
    return pd.DataFrame(records, columns=["quarter", "budget_usd", "spend_usd", "binding"])


def _hhi(located: pd.DataFrame, dimension: str) -> float | None:
    """Herfindahl-Hirschman index of volume shares over the horizon, on the 0-10,000 scale."""
    volume = located.groupby(dimension)["v"].sum()
    total = volume.sum()
    if total <= 0:
        return None
    return float(((volume / total * 100) ** 2).sum())


def _shares(terms: pd.DataFrame) -> pd.DataFrame:
    """Each group's amount and share of its quarter on every basis: tokens/s, USD, kW."""
    frames = []
    amounts = ["volume", "spend", "power"]
    for dimension in SHARE_DIMENSIONS:
        grouped = terms.groupby(["quarter", dimension], as_index=False)[amounts].sum(min_count=1)
        totals = grouped.groupby("quarter")[amounts].transform("sum")
        share = {a: (grouped[a] / totals[a].where(totals[a] > 0)).fillna(0.0) for a in amounts}
        frames.append(
            pd.DataFrame(
                {
                    "dimension": dimension,
                    "group": grouped[dimension],
                    "quarter": grouped["quarter"],
                    "tokens_per_s": grouped["volume"],
                    "volume_share": share["volume"],
                    "spend_usd": grouped["spend"],
                    "spend_share": share["spend"],
                    "power_kw": grouped["power"],
                    "power_share": share["power"].where(grouped["power"].notna()),
                }
            )
        )
    shares = pd.concat(frames, ignore_index=True)
    shares = shares[(shares["tokens_per_s"] > 0) | (shares["spend_usd"] > 0) | (shares["power_kw"] > 0)]
    return shares.sort_values(["dimension", "quarter", "group"], kind="stable").reset_index(drop=True)


def _power_kw(model: LpModel, y: np.ndarray) -> np.ndarray:
    """kW drawn by the chips held and signed on each term; all NaN unless every accelerator
    offered has a power_kw (a share of power over part of the chips would mislead)."""
    kw = chip_kw(model)
    if np.isnan(kw).any():
        return np.full(len(kw), np.nan)
    return (y + model.terms["contract_chips"].to_numpy(dtype=float)) * kw


BINDING_COLUMNS = ["dimension", "group", "quarter", "kind", "limit", "basis", "share", "usd_per_share_point"]


def _binding_rules(model: LpModel, solution: Solution, terms: pd.DataFrame) -> pd.DataFrame:
    """Share rules whose group sits at its limit, each measured on its own basis, with the
    share reached and the dual's saving."""
    rules = model.rows.get("share")
    if rules is None or rules.empty:
        return pd.DataFrame(columns=BINDING_COLUMNS)
    terms = terms.assign(offer_group=terms["offer"])
    records = []
    for basis in dict.fromkeys(rules["basis"]):
        records += _binding_on(model, solution, terms, basis, rules[rules["basis"] == basis])
    return pd.DataFrame(records, columns=BINDING_COLUMNS)


def _binding_on(model: LpModel, solution: Solution, terms: pd.DataFrame, basis: str, rules: pd.DataFrame) -> list:
    """The binding rules of one basis (``_binding_rules``)."""
    total = terms.groupby("quarter")[basis].sum()
    amounts = {
        dimension: terms.groupby(["quarter", "offer_group" if dimension == "offer" else dimension])[basis].sum()
        for dimension in rules["dimension"].unique()
    }
    noise = VALUE_NOISE * max(1.0, *model.inputs.unserved_usd_per_token_s())  # duals are in these units
    records = []
    for rule in named_rows(rules):
        amount = amounts[rule.dimension].get((rule.quarter, rule.group), 0.0)
        quarter_total = total.get(rule.quarter, 0.0)
        key = (rule.dimension, rule.group, rule.quarter, rule.kind, rule.limit, basis)
        if quarter_total <= 0:
            # Nothing served: every rule sits at 0 = limit x 0; the ones holding demand back
            # carry a dual. The share is undefined and the first point of relaxation saves
            # nothing, though lifting the rule may (leverage's rule costs), so both are blank.
            if abs(solution.row_dual[rule.row]) > noise:
                records.append((*key, None, None))
            continue
        gap = abs(amount - rule.limit * quarter_total)
        if gap > VERIFY_RELATIVE * max(1.0, quarter_total):
            continue
        # The row is written per hour for spend (price x chips), per token/s for volume, in kW for power.
        row_total = quarter_total / model.inputs.policy.hours_per_quarter if basis == "spend" else quarter_total
        saving = abs(solution.row_dual[rule.row]) * 0.01 * row_total
        records.append((*key, amount / quarter_total, saving))
    return records


def _unmet(
    model: LpModel,
    solution: Solution,
    unserved: np.ndarray,
    y: np.ndarray,
    binding: pd.DataFrame,
    budgets: pd.DataFrame,
) -> pd.DataFrame:
    """Unserved demand per workload row and why: nothing can serve it, capacity, a rule, price."""
    columns = ["workload", "quarter", "model", "geography", "tokens_per_s", "unmet_tokens_per_s", "reason"]
    workloads = model.workloads
    short = np.flatnonzero(unserved > 0).tolist()
    if len(short) == 0:
        return pd.DataFrame(columns=columns)
    inputs = model.inputs
    terms = model.terms
    worth = inputs.unserved_usd_per_token_s()  # aligned with workloads
    priced = workloads["revenue_usd_per_mtok"].notna().to_numpy()
    hours = inputs.policy.hours_per_quarter
    options = model.pairs.groupby("w")
    nothing = [w for w in short if w not in options.groups]
    reasons = dict(zip(nothing, unservable_reasons(inputs, terms, workloads.iloc[nothing]), strict=True))
    records = []
    for w in short:
        row = workloads.iloc[w]
        if w in reasons:
            reason = "nothing can serve it: " + reasons[w]
        else:
            mine = model.pairs.loc[options.groups[w]]
            t = mine["t"].to_numpy()
            room = y[t] < terms["max_chips"].to_numpy()[t] * (1 - VERIFY_RELATIVE)
            unit_cost = terms["usd_per_chip_hour"].to_numpy()[t] * hours / mine["tokens_per_s_per_chip"].to_numpy()
            tight = set(budgets.loc[budgets["binding"], "quarter"]) if not budgets.empty else set()
            if not room.any():
                reason = "capacity ran out: every offer that can serve it is at max_chips"
            elif row["quarter"] in tight:
                reason = f"the budget held it back: {row['quarter']}'s compute budget is spent"
            elif (unit_cost[room] > worth[w]).all():
                price = "the revenue it earns" if priced[w] else "the unmet-demand penalty"
                reason = f"serving it on the offers with room costs more than {price}"
            else:
                held = binding[binding["quarter"] == row["quarter"]]
                names = ", ".join(
                    f"{r.dimension} {r.group} {r.kind} {r.limit:g} of {r.basis}" for r in held.itertuples()
                )
                reason = "a share rule held it back" + (f" ({names})" if names else "")
        records.append(
            (row["workload"], row["quarter"], row["model"], row["geography"], row["tokens_per_s"], unserved[w], reason)
        )
    return pd.DataFrame(records, columns=columns)


def summary(plan: Plan) -> dict[str, Any]:
    """The contents of ``summary.json``: totals, per-quarter shares, binding rules, money per
    quarter, warnings."""
    totals = {k: v for k, v in plan.totals.items() if k not in ("solver_objective_usd", "method")}

    def nested(dimension: str, column: str) -> dict[str, dict[str, float]]:
        rows = plan.shares[plan.shares["dimension"] == dimension]
        result: dict[str, dict[str, float]] = {}
        for r in named_rows(rows):
            result.setdefault(r.quarter, {})[r.group] = float(getattr(r, column))
        return result

    bases = plan.inputs.policy.share_bases()
    power = "power" in bases and bool(plan.shares["power_kw"].notna().all())  # kW known (power rules need it)
    return {
        **totals,
        "share_bases": bases,
        "shares": {d: nested(d, f"{bases[0]}_share") for d in ("provider", "vendor")},
        "volume_shares": {d: nested(d, "volume_share") for d in ("provider", "vendor")},
        "spend_shares": {d: nested(d, "spend_share") for d in ("provider", "vendor")},
        **({"power_shares": {d: nested(d, "power_share") for d in ("provider", "vendor")}} if power else {}),
        "binding_rules": plan.binding_rules.drop(columns="usd_per_share_point").to_dict("records"),
        "by_quarter": plan.money.astype(object).where(plan.money.notna(), None).to_dict("records"),
        "certificate": plan.certificate.as_dict() if plan.certificate else None,
        **({"solver": plan.solution.solver, "notes": plan.notes} if plan.solution.solver else {}),
        "warnings": [str(problem) for problem in plan.inputs.warnings],
    }
