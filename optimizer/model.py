"""The LP of the data contract, built with PuLP: one ``add_<family>`` per constraint family.

Notation (contract, "Formulation"): w workload rows, o offers, q horizon quarters,
x[w,o] tokens/s served on an allowed pair, y[o,q] chips provisioned, u[w] tokens/s left
unserved, H hours per quarter, P the penalty per unserved token/s per quarter::

    minimize   sum_{o,q} price[o,q] * H * y[o,q]  +  sum_w P * u[w]
    demand     sum_o x[w,o] + u[w] = tokens_per_s[w]
    capacity   sum_{w: q(w)=q} x[w,o] / tokens_per_s_per_chip[w,o] <= y[o,q]
    bounds     min_chips[o,q] <= y[o,q] <= max_chips[o,q]
    shares     S_g <= max_share[d,g] * S ;  S_g >= min_share[d,g] * S

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

from .allowed import allowed_pairs, offer_terms
from .inputs import Inputs
from .pulp_compat import weighted_sum
from .schema import DIMENSIONS


@dataclass
class LpModel:
    """The PuLP problem and the tables that map its columns and rows to domain keys.

    ``pairs``, ``terms`` and ``workloads`` are aligned with the variable lists ``x``, ``y``
    and ``u``; ``volume`` (by term position) and ``share_total`` (by quarter) hold the
    auxiliary v and s variables of the share rows; ``rows`` maps each constraint family to a table of its keys with the
    row's position in the problem (``row``), which is also its position in HiGHS.
    """

    inputs: Inputs
    prob: pulp.LpProblem
    pairs: pd.DataFrame
    terms: pd.DataFrame
    workloads: pd.DataFrame
    x: list[pulp.LpVariable]
    y: list[pulp.LpVariable]
    u: list[pulp.LpVariable]
    volume: dict[int, pulp.LpVariable] = field(default_factory=dict)
    share_total: dict[str, pulp.LpVariable] = field(default_factory=dict)
    rows: dict[str, pd.DataFrame] = field(default_factory=dict)
    row_count: int = 0

    def add_rows(self, family: str, keys: pd.DataFrame, constraints: list[pulp.LpConstraint]) -> None:
        """Add constraints of one family, recording each one's key and row position."""
        start = self.row_count
        for offset, constraint in enumerate(constraints):
            self.prob += constraint, f"{family}{start + offset}"
        self.row_count += len(constraints)
        keys = keys.reset_index(drop=True).assign(row=np.arange(start, self.row_count))
        self.rows[family] = pd.concat([self.rows[family], keys]) if family in self.rows else keys


def build(inputs: Inputs) -> LpModel:
    """Build the contract's LP for ``inputs`` (families in the order of the contract)."""
    terms = offer_terms(inputs)
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
        workloads=workloads,
        x=[prob.add_variable(f"x{i}", lowBound=0) for i in range(len(pairs))],
        y=[
            prob.add_variable(f"y{j}", lowBound=low, upBound=high)
            for j, (low, high) in enumerate(zip(terms["min_chips"], terms["max_chips"], strict=True))
        ],
        u=[prob.add_variable(f"u{w}", lowBound=0) for w in range(len(workloads))],
    )
    add_objective(model)
    add_demand(model)
    add_capacity(model)
    add_shares(model)
    return model


def _groups(index: np.ndarray, count: int) -> list[np.ndarray]:
    """Positions of ``index`` grouped by value 0..count-1 (stable within a group)."""
    order = np.argsort(index, kind="stable")
    bounds = np.searchsorted(index[order], np.arange(count + 1))
    return [order[bounds[k] : bounds[k + 1]] for k in range(count)]


def add_objective(model: LpModel) -> None:
    """Compute cost of every provisioned chip-hour plus the penalty on unserved demand."""
    policy = model.inputs.policy
    price = model.terms["usd_per_chip_hour"].to_numpy() * policy.hours_per_quarter
    penalty = policy.penalty_usd_per_token_s
    model.prob += weighted_sum(model.y + model.u, list(price) + [penalty] * len(model.u))


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
    """sum_w x[w,o] / tokens_per_s_per_chip <= y[o,q] for every (offer, quarter) with pairs."""
    per_term = _groups(model.pairs["t"].to_numpy(), len(model.terms))
    inverse = 1.0 / model.pairs["tokens_per_s_per_chip"].to_numpy()
    used = [t for t, members in enumerate(per_term) if len(members)]
    constraints = [
        weighted_sum([model.x[i] for i in per_term[t]] + [model.y[t]], list(inverse[per_term[t]]) + [-1.0]) <= 0
        for t in used
    ]
    keys = model.terms.loc[used, ["offer", "quarter"]].assign(t=used)
    model.add_rows("capacity", keys, constraints)


def share_rules(model: LpModel) -> pd.DataFrame:
    """Every share row the contract asks for: (dimension, group, quarter, kind, limit).

    One row per group with at least one offer available in the quarter, when its cap is
    below 1 (kind max) or its floor above 0 (kind min).
    """
    policy = model.inputs.policy
    terms = model.terms.assign(offer_group=model.terms["offer"])
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


def add_shares(model: LpModel) -> None:
    """S_g <= cap * S and S_g >= floor * S per (dimension, group, quarter), volume or spend."""
    rules = share_rules(model)
    if rules.empty:
        return
    terms = model.terms
    quarters_used = sorted(set(rules["quarter"]))
    if model.inputs.policy.share_basis == "volume":
        per_term = _groups(model.pairs["t"].to_numpy(), len(terms))
        amount = {t: model.prob.add_variable(f"v{t}", lowBound=0) for t in range(len(terms)) if len(per_term[t])}
        model.volume = amount
        definitions = [
            weighted_sum([amount[t]] + [model.x[i] for i in per_term[t]], [1.0] + [-1.0] * len(per_term[t])) == 0
            for t in amount
        ]
        model.add_rows("volume", terms.loc[list(amount), ["offer", "quarter"]], definitions)
        weight = {t: 1.0 for t in amount}
    else:
        amount = dict(enumerate(model.y))
        weight = dict(enumerate(terms["usd_per_chip_hour"].to_numpy()))
    total = {q: model.prob.add_variable(f"s{k}", lowBound=0) for k, q in enumerate(quarters_used)}
    model.share_total = total
    in_quarter = terms.groupby("quarter").indices
    definitions = []
    for q in quarters_used:
        members = [t for t in in_quarter[q] if t in amount and weight[t]]
        definitions.append(
            weighted_sum([total[q]] + [amount[t] for t in members], [1.0] + [-weight[t] for t in members]) == 0
        )
    model.add_rows("total", pd.DataFrame({"quarter": quarters_used}), definitions)
    members = terms.assign(offer_group=terms["offer"])
    index = {
        dimension: members.groupby(["quarter", "offer_group" if dimension == "offer" else dimension]).indices
        for dimension in DIMENSIONS
    }
    constraints = []
    for rule in rules.itertuples(index=False):
        group_terms = index[rule.dimension][(rule.quarter, rule.group)]
        members = [t for t in group_terms if t in amount and weight[t]]
        row = weighted_sum(
            [amount[t] for t in members] + [total[rule.quarter]], [weight[t] for t in members] + [-rule.limit]
        )
        constraints.append(row <= 0 if rule.kind == "max" else row >= 0)
    model.add_rows("share", rules, constraints)
