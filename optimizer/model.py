"""The LP of the data contract, built with PuLP: one ``add_<family>`` per constraint family.

Notation (contract, "Formulation"): w workload rows, o offers, q horizon quarters,
x[w,o] tokens/s served on an allowed pair, y[o,q] chips held, u[w] tokens/s left unserved,
H hours per quarter, P the penalty per unserved token/s per quarter::

    minimize   sum_{on-demand o,q} price[o,q] * H * y[o,q]
             + sum_{commitments o,s} price[o,s] * H * L_eff[o,s] * c[o,s]
             + sum_k shortfall[k]  +  sum_w P * u[w]  +  sunk contract cost (a constant)
    demand     sum_o x[w,o] + u[w] = tokens_per_s[w]
    capacity   sum_{w: q(w)=q} x[w,o] / tokens_per_s_per_chip[w,o] <= y[o,q] + contract_chips[o,q]
    bounds     min_chips[o,q] <= y[o,q] <= max_chips[o,q]
    commitment y[o,q] = sum_{s <= q < s + L[o]} c[o,s]                   (1yr: L = 4, 3yr: L = 12)
    pools      sum_{o in pool} y[o,q] <= max_{o in pool} max_chips[o,q]
    shares     S_g <= max_share[d,g] * S ;  S_g >= min_share[d,g] * S    (every g that can hold chips in q)
    spend      spend(provider, first..last) + shortfall[k] >= usd[k]       (spend commitments)
    budget     spend(q) <= budget[q]

(spend and budget rows enter HiGHS divided by their amount: ``per_amount``).

c[o,s] are chips committed for L quarters from s (a quarter in which the offer is
available); L_eff is L, or with ``commitment_cost: in_horizon`` the term's quarters
inside the horizon. spend(...) is what is paid in those quarters: on-demand chips, the
running commitments' quarterly payments and signed contracts. Without commitments,
contracts, pools, spend commitments or budgets, this is exactly the contract's v1 LP.

Share rows are kept sparse with auxiliary variables: v[o,q] (volume served by an offer
in a quarter) and s[q] (the quarter's total S), so a group's row holds one entry per
offer of the group instead of one per allowed pair of the quarter.

Variables and rows are named by position (``x17``, ``demand3``): PuLP rewrites characters
such as ``-`` in names, so domain keys live in this module's tables, never in names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pulp

from . import quarters
from .allowed import allowed_pairs, commitment_starts, offer_terms
from .inputs import Inputs
from .pulp_compat import weighted_sum
from .schema import DIMENSIONS


@dataclass
class LpModel:
    """The PuLP problem and the tables that map its columns and rows to domain keys.

    ``pairs``, ``terms``, ``starts`` and ``workloads`` are aligned with the variable lists
    ``x``, ``y``, ``c`` and ``u``; ``volume`` (by term position) and ``share_total`` (by
    quarter) hold the auxiliary v and s variables of the share rows, ``shortfall`` one
    variable per spend commitment; ``rows`` maps each constraint family to a table of its
    keys with the row's position in the problem (``row``), which is also its position in
    HiGHS. ``price_links`` lists (row, variable, coefficient) entries that are prices
    (spend rows), so a what-if on a price can move them too.
    """

    inputs: Inputs
    prob: pulp.LpProblem
    pairs: pd.DataFrame
    terms: pd.DataFrame
    starts: pd.DataFrame
    workloads: pd.DataFrame
    x: list[pulp.LpVariable]
    y: list[pulp.LpVariable]
    c: list[pulp.LpVariable]
    u: list[pulp.LpVariable]
    volume: dict[int, pulp.LpVariable] = field(default_factory=dict)
    share_total: dict[str, pulp.LpVariable] = field(default_factory=dict)
    shortfall: list[pulp.LpVariable] = field(default_factory=list)
    running: dict[int, list[int]] = field(default_factory=dict)
    rows: dict[str, pd.DataFrame] = field(default_factory=dict)
    row_count: int = 0
    price_links: list[tuple[int, pulp.LpVariable, float]] = field(default_factory=list)
    objective_constant: float = 0.0   # sunk contract cost: added to HiGHS's objective, not passed to it
    ports: pd.DataFrame = field(default_factory=pd.DataFrame)   # model, accelerator, port_usd, port_quarters
    port_starts: pd.DataFrame = field(default_factory=pd.DataFrame)  # port (position), quarter
    z: list[pulp.LpVariable] = field(default_factory=list)      # binary: port started in that quarter
    instances: list[pulp.LpVariable] = field(default_factory=list)
    recourse: dict[str, tuple[np.ndarray, list[pulp.LpVariable], list[pulp.LpVariable]]] = field(default_factory=dict)
    integer: bool = False
    column_of: dict[str, int] = field(default_factory=dict)  # HiGHS column of each variable, set by solve

    def add_rows(self, family: str, keys: pd.DataFrame, constraints: list[pulp.LpConstraint],
                 links: list[list[tuple[pulp.LpVariable, float]]] | None = None) -> None:
        """Add constraints of one family, recording each one's key and row position.

        ``links``, per constraint, the (variable, coefficient) entries that are prices.
        """
        start = self.row_count
        for offset, constraint in enumerate(constraints):
            self.prob += constraint, f"{family}{start + offset}"
            for variable, coefficient in (links[offset] if links else []):
                self.price_links.append((start + offset, variable, coefficient))
        self.row_count += len(constraints)
        keys = keys.reset_index(drop=True).assign(row=np.arange(start, self.row_count))
        self.rows[family] = pd.concat([self.rows[family], keys]) if family in self.rows else keys

    def hourly_spend(self, t: int) -> tuple[list[pulp.LpVariable], list[float], float]:
        """What term t costs per hour: (variables, prices, constant from signed contracts)."""
        term = self.terms.iloc[t]
        constant = float(term["contract_usd_per_hour"])
        if term["term"] == "on-demand":
            return [self.y[t]], [float(term["usd_per_chip_hour"])], constant
        running = self.running[t]
        prices = self.starts["usd_per_chip_hour"].to_numpy()
        return [self.c[s] for s in running], [float(prices[s]) for s in running], constant


def running_commitments(terms: pd.DataFrame, starts: pd.DataFrame) -> dict[int, list[int]]:
    """For each commitment term (position), the commitment starts still running in its quarter."""
    start_of: dict[str, list[tuple[int, int, int]]] = {}
    for s, (offer, quarter, length) in enumerate(
            zip(starts["offer"], starts["quarter"], starts["term_quarters"], strict=True)):
        start_of.setdefault(offer, []).append((quarters.ordinal(quarter), int(length), s))
    running = {}
    for t, (offer, quarter, term) in enumerate(zip(terms["offer"], terms["quarter"], terms["term"], strict=True)):
        if term != "on-demand":
            q = quarters.ordinal(quarter)
            running[t] = [s for begin, length, s in start_of.get(offer, []) if begin <= q < begin + length]
    return running


def build(inputs: Inputs, integer: bool = False) -> LpModel:
    """Build the contract's LP for ``inputs`` (families in the order of the contract).

    ``integer``: offers with ``chips_per_instance`` are bought in whole instances (a MIP).
    Porting decisions are binary whenever a (model, accelerator) pair needs porting.
    """
    terms = offer_terms(inputs)
    starts = commitment_starts(terms, inputs.horizon)
    pairs = allowed_pairs(inputs, terms)
    term_index = pd.Series(np.arange(len(terms)), index=pd.MultiIndex.from_frame(terms[["offer", "quarter"]]))
    pairs["t"] = term_index.reindex(pd.MultiIndex.from_frame(pairs[["offer", "quarter"]])).to_numpy()
    workloads = inputs.workloads.reset_index(drop=True)
    prob = pulp.LpProblem("compute_procurement", pulp.LpMinimize)
    model = LpModel(
        inputs=inputs,
        prob=prob,
        pairs=pairs,
        terms=terms,
        starts=starts,
        workloads=workloads,
        x=[prob.add_variable(f"x{i}", lowBound=0) for i in range(len(pairs))],
        y=[
            prob.add_variable(f"y{j}", lowBound=low, upBound=high)
            for j, (low, high) in enumerate(zip(terms["min_chips"], terms["max_chips"], strict=True))
        ],
        c=[prob.add_variable(f"c{s}", lowBound=0) for s in range(len(starts))],
        u=[prob.add_variable(f"u{w}", lowBound=0) for w in range(len(workloads))],
        shortfall=[prob.add_variable(f"f{k}", lowBound=0) for k in range(len(inputs.spend_commitments))],
        running=running_commitments(terms, starts),
        integer=integer,
    )
    add_demand(model)
    add_capacity(model)
    add_commitments(model)
    add_pools(model)
    add_shares(model)
    add_spend_commitments(model)
    add_budgets(model)
    add_ports(model)
    add_ramps(model)
    add_instances(model)
    add_power(model)
    add_resilience(model)
    add_objective(model)
    return model


def _groups(index: np.ndarray, count: int) -> list[np.ndarray]:
    """Positions of ``index`` grouped by value 0..count-1 (stable within a group)."""
    order = np.argsort(index, kind="stable")
    bounds = np.searchsorted(index[order], np.arange(count + 1))
    return [order[bounds[k] : bounds[k + 1]] for k in range(count)]


def commitment_weight(model: LpModel) -> np.ndarray:
    """Quarters of each commitment start the objective pays for: L, or L inside the horizon."""
    column = "term_quarters" if model.inputs.policy.commitment_cost == "whole" else "inside"
    return model.starts[column].to_numpy(dtype=float)


def add_objective(model: LpModel) -> None:
    """Chip-hours on demand, commitments (whole term by default), shortfalls, penalty, ports, sunk cost."""
    policy = model.inputs.policy
    hours = policy.hours_per_quarter
    on_demand = (model.terms["term"] == "on-demand").to_numpy()
    price = np.where(on_demand, model.terms["usd_per_chip_hour"].to_numpy() * hours, 0.0)
    commitment = model.starts["usd_per_chip_hour"].to_numpy() * hours * commitment_weight(model)
    penalty = policy.penalty_usd_per_token_s
    port_cost = model.ports["port_usd"].to_numpy()[model.port_starts["port"].to_numpy()] if model.z else []
    model.objective_constant = float(model.terms["contract_usd_per_hour"].sum() * hours)
    model.prob += weighted_sum(
        model.y + model.c + model.shortfall + model.u + model.z,
        list(price) + list(commitment) + list(shortfall_unit_usd(model)) + [penalty] * len(model.u)
        + list(port_cost),
    )


def add_demand(model: LpModel) -> None:
    """sum_o x[w,o] + u[w] = tokens_per_s[w] for every workload row."""
    by_row = _groups(model.pairs["w"].to_numpy(), len(model.workloads))
    demand = model.workloads["tokens_per_s"].to_numpy()
    constraints = [
        pulp.lpSum([model.x[i] for i in members] + [model.u[w]]) == demand[w]
        for w, members in enumerate(by_row)
    ]
    keys = model.workloads[["workload", "quarter"]].assign(w=np.arange(len(model.workloads)))
    model.add_rows("demand", keys, constraints)


def add_capacity(model: LpModel) -> None:
    """sum_w x[w,o] / tokens_per_s_per_chip <= y[o,q] + contract_chips[o,q] where o can serve."""
    per_term = _groups(model.pairs["t"].to_numpy(), len(model.terms))
    inverse = 1.0 / model.pairs["tokens_per_s_per_chip"].to_numpy()
    signed = model.terms["contract_chips"].to_numpy()
    used = [t for t, members in enumerate(per_term) if len(members)]
    constraints = [
        weighted_sum([model.x[i] for i in per_term[t]] + [model.y[t]], list(inverse[per_term[t]]) + [-1.0])
        <= signed[t]
        for t in used
    ]
    keys = model.terms.loc[used, ["offer", "quarter"]].assign(t=used)
    model.add_rows("capacity", keys, constraints)


def add_commitments(model: LpModel) -> None:
    """y[o,q] = sum of the commitments c[o,s] running in q (started in the last L quarters)."""
    running = model.running
    if not running:
        return
    held = sorted(running)
    constraints = [
        weighted_sum([model.y[t]] + [model.c[s] for s in running[t]], [1.0] + [-1.0] * len(running[t])) == 0
        for t in held
    ]
    model.add_rows("commitment", model.terms.loc[held, ["offer", "quarter"]].assign(t=held), constraints)


def add_pools(model: LpModel) -> None:
    """Offers sharing a pool hold, together, at most the pool's largest max_chips in a quarter."""
    pooled = model.terms[model.terms["pool"].notna()]
    keys, constraints = [], []
    for (pool, quarter), block in pooled.groupby(["pool", "quarter"], sort=True):
        if block["offer"].nunique() < 2:
            continue
        capacity = float(block["max_chips"].max())
        constraints.append(pulp.lpSum([model.y[t] for t in block.index]) <= capacity)
        keys.append((pool, quarter, capacity))
    if constraints:
        model.add_rows("pool", pd.DataFrame(keys, columns=["pool", "quarter", "max_chips"]), constraints)


def share_rules(model: LpModel) -> pd.DataFrame:
    """Every share row the contract asks for: (dimension, group, quarter, kind, limit).

    One row per group that can hold chips in the quarter (an offer on sale, a commitment
    still running or a signed contract: every row of ``model.terms``), when its cap is
    below 1 (kind max) or its floor above 0 (kind min). Groups with nothing on sale count
    too (contract v5): otherwise running commitments and signed chips escape the caps.
    """
    policy = model.inputs.policy
    terms = model.terms.assign(offer_group=lambda t: t["offer"])
    records = []
    for dimension in DIMENSIONS:
        column = "offer_group" if dimension == "offer" else dimension
        for (quarter, group) in terms[["quarter", column]].drop_duplicates().itertuples(index=False):
            cap, floor = policy.cap(dimension, group), policy.floor(dimension, group)
            if cap < 1:
                records.append((dimension, group, quarter, "max", cap))
            if floor > 0:
                records.append((dimension, group, quarter, "min", floor))
    rules = pd.DataFrame(records, columns=["dimension", "group", "quarter", "kind", "limit"])
    return rules.sort_values(["dimension", "group", "quarter", "kind"], kind="stable").reset_index(drop=True)


def _amounts(model: LpModel, terms: list[int], volume: dict[int, pulp.LpVariable] | None):
    """(variables, weights, constant) of the share amount of some terms: volume or hourly spend."""
    variables, weights, constant = [], [], 0.0
    for t in terms:
        if volume is not None:
            if t in volume:
                variables.append(volume[t])
                weights.append(1.0)
            continue
        spend_vars, prices, sunk = model.hourly_spend(t)
        variables += spend_vars
        weights += prices
        constant += sunk
    return variables, weights, constant


def add_shares(model: LpModel) -> None:
    """S_g <= cap * S and S_g >= floor * S per (dimension, group, quarter), volume or spend."""
    rules = share_rules(model)
    if rules.empty:
        return
    terms = model.terms
    quarters_used = sorted(set(rules["quarter"]))
    volume = None
    if model.inputs.policy.share_basis == "volume":
        per_term = _groups(model.pairs["t"].to_numpy(), len(terms))
        volume = {t: model.prob.add_variable(f"v{t}", lowBound=0) for t in range(len(terms)) if len(per_term[t])}
        model.volume = volume
        definitions = [
            weighted_sum([volume[t]] + [model.x[i] for i in per_term[t]], [1.0] + [-1.0] * len(per_term[t])) == 0
            for t in volume
        ]
        model.add_rows("volume", terms.loc[list(volume), ["offer", "quarter"]], definitions)
    total = {q: model.prob.add_variable(f"s{k}", lowBound=0) for k, q in enumerate(quarters_used)}
    model.share_total = total
    in_quarter = terms.groupby("quarter").indices
    definitions, links = [], []
    for q in quarters_used:
        variables, weights, constant = _amounts(model, list(in_quarter[q]), volume)
        definitions.append(weighted_sum([total[q]] + variables, [1.0] + [-w for w in weights]) == constant)
        links.append(_links(volume, variables, [-w for w in weights]))
    model.add_rows("total", pd.DataFrame({"quarter": quarters_used}), definitions, links)
    members = terms.assign(offer_group=terms["offer"])
    index = {
        dimension: members.groupby(["quarter", "offer_group" if dimension == "offer" else dimension]).indices
        for dimension in DIMENSIONS
    }
    constraints, links = [], []
    for rule in rules.itertuples(index=False):
        variables, weights, constant = _amounts(model, list(index[rule.dimension][(rule.quarter, rule.group)]), volume)
        row = weighted_sum(variables + [total[rule.quarter]], weights + [-rule.limit])
        constraints.append(row <= -constant if rule.kind == "max" else row >= -constant)
        links.append(_links(volume, variables, weights))
    model.add_rows("share", rules, constraints, links)


def _links(volume, variables, weights) -> list[tuple[pulp.LpVariable, float]]:
    """Price entries of a spend row (none for volume rows)."""
    return [] if volume is not None else list(zip(variables, weights, strict=True))


def _spend_in(model: LpModel, mask: np.ndarray):
    """(variables, USD coefficients, sunk USD) of everything paid in the terms of ``mask``."""
    hours = model.inputs.policy.hours_per_quarter
    variables, weights, constant = _amounts(model, list(np.flatnonzero(mask)), None)
    return variables, [w * hours for w in weights], constant * hours


def shortfall_unit_usd(model: LpModel) -> np.ndarray:
    """Dollars per unit of each shortfall column f[k]: f counts the commitment's amount
    (``1 / per_amount``), so its coefficient in its scaled row is 1. Written in dollars,
    it would enter that row as 1 / amount, which HiGHS drops as zero below 1e-9 (a $10B
    commitment), leaving a walk-away from the provider with no feasible plan."""
    amounts = spend_commitment_terms(model)["usd_in_horizon"].to_numpy(dtype=float)
    return 1.0 / np.array([per_amount(a) for a in amounts], dtype=float)


def per_amount(usd: float) -> float:
    """The factor a money row (spend commitment, budget) is multiplied by: one over its amount.

    HiGHS checks rows against an absolute tolerance (1e-7, and 1e-6 for the solutions of
    a MIP). A row written in dollars with a $10B right-hand side cannot meet it: one
    rounding step of 1e10 is 1.9e-6, so HiGHS rejected every good MIP solution as
    infeasible after presolve and either reported "Solve error" or returned a worse one as
    optimal (two draws of the bundled Monte Carlo sweep). Written as a fraction of its
    amount, the row's tolerance is relative, the measure the verifier uses.
    """
    return 1.0 / max(1.0, abs(usd))


def spend_commitment_terms(model: LpModel) -> pd.DataFrame:
    """Each spend commitment with the part of its amount that falls in the horizon.

    A period reaching outside the horizon keeps the share of its amount of the quarters
    inside (pro rata): the plan can only consume what falls within it.
    """
    horizon = model.inputs.horizon
    rows = []
    for k, item in enumerate(model.inputs.spend_commitments.itertuples(index=False)):
        period = quarters.quarter_range(item.first, item.last)
        inside = [q for q in period if q in horizon]
        rows.append({"k": k, "provider": item.provider, "first": item.first, "last": item.last, "usd": item.usd,
                     "usd_in_horizon": item.usd * len(inside) / len(period), "quarters": inside})
    return pd.DataFrame(rows, columns=["k", "provider", "first", "last", "usd", "usd_in_horizon", "quarters"])


def add_spend_commitments(model: LpModel) -> None:
    """spend(provider, period) + shortfall[k] >= usd[k]: what is not consumed is paid anyway."""
    commitments = spend_commitment_terms(model)
    if commitments.empty:
        return
    constraints, links = [], []
    for item in commitments.itertuples(index=False):
        mask = (model.terms["provider"] == item.provider) & model.terms["quarter"].isin(item.quarters)
        variables, weights, sunk = _spend_in(model, mask.to_numpy())
        unit = per_amount(item.usd_in_horizon)
        weights = [w * unit for w in weights]
        row = weighted_sum(variables + [model.shortfall[item.k]], weights + [1.0])   # f in units of 1 / unit
        constraints.append(row >= (item.usd_in_horizon - sunk) * unit)
        links.append(list(zip(variables, weights, strict=True)))
    model.add_rows("spend_commitment", commitments[["k", "provider", "first", "last", "usd_in_horizon"]],
                   constraints, links)


def add_budgets(model: LpModel) -> None:
    """Everything paid in a quarter (on demand, commitments running, contracts) <= its budget."""
    policy = model.inputs.policy
    keys, constraints, links = [], [], []
    for quarter in model.inputs.horizon:
        budget = policy.budget(quarter)
        if budget is None:
            continue
        variables, weights, sunk = _spend_in(model, (model.terms["quarter"] == quarter).to_numpy())
        unit = per_amount(budget)
        weights = [w * unit for w in weights]
        constraints.append(weighted_sum(variables, weights) <= (budget - sunk) * unit)
        keys.append((quarter, budget))
        links.append(list(zip(variables, weights, strict=True)))
    if constraints:
        model.add_rows("budget", pd.DataFrame(keys, columns=["quarter", "budget_usd"]), constraints, links)


def _port_groups(model: LpModel, pairs: pd.DataFrame) -> dict[tuple[int, str], np.ndarray]:
    """Positions of ``pairs`` by (port, quarter) for the pairs that need a port."""
    if model.ports.empty or pairs.empty:
        return {}
    key = model.workloads["model"].to_numpy()[pairs["w"].to_numpy()]
    accelerator = model.terms["accelerator"].to_numpy()[pairs["t"].to_numpy()]
    index = {(m, a): p for p, (m, a) in enumerate(zip(model.ports["model"], model.ports["accelerator"], strict=True))}
    port = np.array([index.get((m, a), -1) for m, a in zip(key, accelerator, strict=True)])
    frame = pd.DataFrame({"port": port, "quarter": pairs["quarter"].to_numpy(), "position": np.arange(len(pairs))})
    frame = frame[frame["port"] >= 0]
    return {(int(p), q): block["position"].to_numpy() for (p, q), block in frame.groupby(["port", "quarter"])}


def add_ports(model: LpModel) -> None:
    """Binary port decisions: sum_q z[p,q] <= 1, and a pair not yet ported serves nothing:
    sum_{w in q, its pairs} x <= D(model, q) * sum_{s: s + lead <= q} z[p,s]."""
    performance = model.inputs.performance
    needs = performance[(performance["port_usd"] > 0) | (performance["port_quarters"] > 0)]
    used = set(zip(model.workloads["model"].to_numpy()[model.pairs["w"].to_numpy()],
                   model.terms["accelerator"].to_numpy()[model.pairs["t"].to_numpy()], strict=True))
    needs = needs.loc[np.array([(m, a) in used for m, a in zip(needs["model"], needs["accelerator"], strict=True)],
                               dtype=bool)]
    model.ports = needs[["model", "accelerator", "port_usd", "port_quarters"]].reset_index(drop=True)
    if model.ports.empty:
        return
    horizon = model.inputs.horizon
    model.port_starts = pd.DataFrame([(p, q) for p in range(len(model.ports)) for q in horizon],
                                     columns=["port", "quarter"])
    model.z = [model.prob.add_variable(f"z{k}", lowBound=0, upBound=1, cat=pulp.LpBinary)
               for k in range(len(model.port_starts))]
    once = [pulp.lpSum(model.z[k * len(horizon):(k + 1) * len(horizon)]) <= 1 for k in range(len(model.ports))]
    model.add_rows("port_once", model.ports[["model", "accelerator"]], once)
    _add_readiness(model, model.pairs, model.x, "port_ready")


def _add_readiness(model: LpModel, pairs: pd.DataFrame, x: list[pulp.LpVariable], family: str) -> None:
    """Rows holding unported pairs at zero: sum_{o on the chip} x[w,o] <= D[w] * (ported by then),
    one per workload row. Per row rather than per model and quarter: the LP relaxation is
    then tight enough for HiGHS to settle the port decisions with little branching."""
    horizon = model.inputs.horizon
    demand = model.workloads["tokens_per_s"].to_numpy()
    rows_of_pair = pairs["w"].to_numpy()
    keys, constraints = [], []
    for (port, quarter), members in sorted(_port_groups(model, pairs).items()):
        lead = int(model.ports["port_quarters"].iloc[port])
        ready = [model.z[port * len(horizon) + k] for k, q in enumerate(horizon)
                 if quarters.ordinal(q) + lead <= quarters.ordinal(quarter)]
        for w in sorted(set(rows_of_pair[members])):
            mine = members[rows_of_pair[members] == w]
            constraints.append(weighted_sum([x[i] for i in mine] + ready,
                                            [1.0] * len(mine) + [-float(demand[w])] * len(ready)) <= 0)
            keys.append((model.ports["model"].iloc[port], model.ports["accelerator"].iloc[port], quarter,
                         model.workloads["workload"].iloc[w]))
    if constraints:
        model.add_rows(family, pd.DataFrame(keys, columns=["model", "accelerator", "quarter", "workload"]), constraints)


def add_ramps(model: LpModel) -> None:
    """Volume of a provider, vendor or accelerator in q+1 <= factor x its volume in q + allowance."""
    horizon = model.inputs.horizon
    terms_column = {"provider": "provider", "vendor": "vendor", "accelerator": "accelerator"}
    keys, constraints = [], []
    for dimension, limits in sorted(model.inputs.policy.ramp_limits.items()):
        group_of_pair = model.terms[terms_column[dimension]].to_numpy()[model.pairs["t"].to_numpy()]
        quarter_of_pair = model.pairs["quarter"].to_numpy()
        for group, limit in sorted(limits.items()):
            for before, after in zip(horizon, horizon[1:], strict=False):
                now = np.flatnonzero((group_of_pair == group) & (quarter_of_pair == before))
                later = np.flatnonzero((group_of_pair == group) & (quarter_of_pair == after))
                if not len(later):
                    continue
                row = weighted_sum([model.x[i] for i in later] + [model.x[i] for i in now],
                                   [1.0] * len(later) + [-limit.factor] * len(now))
                constraints.append(row <= limit.allowance_tokens_per_s)
                keys.append((dimension, group, after, limit.factor, limit.allowance_tokens_per_s))
    if constraints:
        model.add_rows("ramp", pd.DataFrame(keys, columns=["dimension", "group", "quarter", "factor",
                                                           "allowance_tokens_per_s"]), constraints)


def add_instances(model: LpModel) -> None:
    """With ``integer``: chips of offers with chips_per_instance come in whole instances."""
    if not model.integer:
        return
    per_instance = model.inputs.offers.set_index("offer")["chips_per_instance"]
    keys, constraints = [], []
    targets = [(model.y[t], o, q) for t, (o, q, term, buyable) in enumerate(
        zip(model.terms["offer"], model.terms["quarter"], model.terms["term"], model.terms["buyable"], strict=True))
        if term == "on-demand" and buyable]
    targets += [(model.c[s], o, q) for s, (o, q) in enumerate(zip(model.starts["offer"], model.starts["quarter"],
                                                                   strict=True))]
    for variable, offer, quarter in targets:
        size = per_instance.get(offer)
        if size is None or pd.isna(size):
            continue
        count = model.prob.add_variable(f"n{len(model.instances)}", lowBound=0, cat=pulp.LpInteger)
        model.instances.append(count)
        constraints.append(weighted_sum([variable, count], [1.0, -float(size)]) == 0)
        keys.append((offer, quarter, float(size)))
    if constraints:
        model.add_rows("instance", pd.DataFrame(keys, columns=["offer", "quarter", "chips_per_instance"]),
                       constraints)


def add_power(model: LpModel) -> None:
    """sum of chips held x power_kw <= megawatts x 1000 per power cap and quarter (signed chips too)."""
    power = model.inputs.power
    if power.empty:
        return
    kw = model.terms["accelerator"].map(model.inputs.accelerators.set_index("accelerator")["power_kw"]).to_numpy()
    keys, constraints = [], []
    for index, cap in zip(power.index, power.itertuples(index=False), strict=True):
        mask = np.ones(len(model.terms), dtype=bool)
        for column in ("provider", "region"):
            value = getattr(cap, column)
            if not pd.isna(value):
                mask &= (model.terms[column] == value).to_numpy()
        for quarter in ([cap.quarter] if not pd.isna(cap.quarter) else model.inputs.horizon):
            members = np.flatnonzero(mask & (model.terms["quarter"] == quarter).to_numpy())
            if not len(members):
                continue
            signed = float((kw[members] * model.terms["contract_chips"].to_numpy()[members]).sum())
            constraints.append(weighted_sum([model.y[t] for t in members], list(kw[members]))
                               <= cap.megawatts * 1000 - signed)
            keys.append((index, cap.provider, cap.region, quarter, cap.megawatts))
    if constraints:
        model.add_rows("power", pd.DataFrame(keys, columns=["cap", "provider", "region", "quarter", "megawatts"]),
                       constraints)


def add_resilience(model: LpModel) -> None:
    """For every single outage (one provider or region lost), a re-allocation of the chips held
    elsewhere that strands at most the allowed share of each quarter's demand:
    sum_o x^g[w,o] + u^g[w] = D[w];  sum_w x^g / tp <= y + signed (o outside g);
    sum_{w in q} u^g[w] <= max_stranded_share x D(q)."""
    resilience = model.inputs.policy.resilience
    if resilience is None:
        return
    dimension = resilience.dimension
    workloads = model.workloads
    demand_of_quarter = workloads.groupby("quarter")["tokens_per_s"].sum()
    group_of_pair = model.terms[dimension].to_numpy()[model.pairs["t"].to_numpy()]
    signed = model.terms["contract_chips"].to_numpy()
    inverse = 1.0 / model.pairs["tokens_per_s_per_chip"].to_numpy()
    for k, group in enumerate(sorted(set(model.terms[dimension]))):
        kept = np.flatnonzero(group_of_pair != group)
        x = [model.prob.add_variable(f"r{k}x{i}", lowBound=0) for i in range(len(kept))]
        u = [model.prob.add_variable(f"r{k}u{w}", lowBound=0) for w in range(len(workloads))]
        model.recourse[group] = (kept, x, u)
        by_row = _groups(model.pairs["w"].to_numpy()[kept], len(workloads))
        rows = [pulp.lpSum([x[i] for i in members] + [u[w]]) == workloads["tokens_per_s"].iloc[w]
                for w, members in enumerate(by_row)]
        model.add_rows("outage_demand", workloads[["workload", "quarter"]].assign(outage=group), rows)
        per_term = _groups(model.pairs["t"].to_numpy()[kept], len(model.terms))
        used = [t for t, members in enumerate(per_term) if len(members)]
        rows = [weighted_sum([x[i] for i in per_term[t]] + [model.y[t]],
                             list(inverse[kept[per_term[t]]]) + [-1.0]) <= signed[t] for t in used]
        model.add_rows("outage_capacity", model.terms.loc[used, ["offer", "quarter"]].assign(outage=group), rows)
        in_quarter = workloads.groupby("quarter").indices
        quarters_ = sorted(in_quarter)
        rows = [pulp.lpSum([u[w] for w in in_quarter[q]]) <= resilience.max_stranded_share * demand_of_quarter[q]
                for q in quarters_]
        model.add_rows("stranded", pd.DataFrame({"quarter": quarters_, "outage": group}), rows)
        if model.z:
            _add_readiness(model, model.pairs.iloc[kept].reset_index(drop=True).assign(t=model.pairs["t"].to_numpy()[kept]),
                           x, "outage_port_ready")
