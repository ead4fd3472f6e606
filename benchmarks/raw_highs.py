"""The baseline: the contract's LP built directly as sparse matrices and solved by HiGHS alone.

Written separately from :mod:`optimizer.model.builder` (numpy and scipy.sparse, no modelling
layer) and passed to highspy in one call. Two formulations of the share rules:

- ``plain``: the plainest correct sparse LP of the contract, each share row written over
  the x (volume basis) or y (spend basis) of its group, against one total column s[q]
  per quarter;
- ``auxiliary``: with an auxiliary column v[o,q] per offer and quarter holding the
  volume served on it, the share rows written over v (the tool's formulation until
  these benchmarks showed it slower; optimizer/model/builder.py now builds the plain one).

Used by ``run.py`` to time HiGHS's dual simplex and interior point on each instance.
"""

from __future__ import annotations

import highspy
import numpy as np

from optimizer.io.allowed import allowed_pairs, offer_terms
from optimizer.io.schema import DIMENSIONS
from optimizer.io.tables import Inputs


def build_lp(inputs: Inputs, formulation: str = "plain") -> highspy.HighsLp:
    """The LP as a HighsLp, with the share rules in the ``plain`` or the ``auxiliary`` formulation."""
    policy = inputs.policy
    terms = offer_terms(inputs)
    pairs = allowed_pairs(inputs, terms)
    term_of = {key: t for t, key in enumerate(zip(terms["offer"], terms["quarter"], strict=True))}
    t_of_pair = np.array([term_of[k] for k in zip(pairs["offer"], pairs["quarter"], strict=True)], dtype=np.int64)
    n_x, n_y, n_u = len(pairs), len(terms), len(inputs.workloads)
    quarters = sorted(set(terms["quarter"]))
    q_of_term = np.array([quarters.index(q) for q in terms["quarter"]])
    used_terms = np.unique(t_of_pair)

    rules = []
    terms = terms.assign(offer_group=terms["offer"])
    for dimension in DIMENSIONS:
        column = "offer_group" if dimension == "offer" else dimension
        for (quarter, group), members in terms.groupby(["quarter", column]).indices.items():
            cap, floor = policy.cap(dimension, group), policy.floor(dimension, group)
            if cap < 1:
                rules.append((quarters.index(quarter), members, cap, -np.inf, 0.0))
            if floor > 0:
                rules.append((quarters.index(quarter), members, floor, 0.0, np.inf))
    volume = bool(rules) and policy.share_basis == "volume"
    auxiliary = volume and formulation == "auxiliary"
    n_v = len(used_terms) if auxiliary else 0
    n_s = len(quarters) if rules else 0
    v_col = {t: n_x + n_y + n_u + k for k, t in enumerate(used_terms)}
    s_col = n_x + n_y + n_u + n_v

    rows, cols, vals, lower, upper = [], [], [], [], []

    def add_row(r_cols, r_vals, lo, hi):
        r = len(lower)
        rows.extend([r] * len(r_cols))
        cols.extend(r_cols)
        vals.extend(r_vals)
        lower.append(lo)
        upper.append(hi)

    w = pairs["w"].to_numpy()
    order = np.argsort(w, kind="stable")
    bounds = np.searchsorted(w[order], np.arange(n_u + 1))
    demand = inputs.workloads["tokens_per_s"].to_numpy()
    for k in range(n_u):
        members = order[bounds[k] : bounds[k + 1]]
        add_row(list(members) + [n_x + n_y + k], [1.0] * len(members) + [1.0], demand[k], demand[k])
    inverse = 1.0 / pairs["tokens_per_s_per_chip"].to_numpy()
    order = np.argsort(t_of_pair, kind="stable")
    bounds = np.searchsorted(t_of_pair[order], np.arange(n_y + 1))
    for t in used_terms:
        members = order[bounds[t] : bounds[t + 1]]
        add_row(list(members) + [n_x + t], list(inverse[members]) + [-1.0], -np.inf, 0.0)
    price = terms["usd_per_chip_hour"].to_numpy()
    if rules:
        if auxiliary:  # v[o,q] = the volume served on the offer's term, one column per term
            for t in used_terms:
                members = order[bounds[t] : bounds[t + 1]]
                add_row([v_col[t]] + list(members), [1.0] + [-1.0] * len(members), 0.0, 0.0)
            amount = {t: [(v_col[t], 1.0)] for t in used_terms}
        elif volume:  # the volume served on a term is the sum of its x
            amount = {t: [(int(k), 1.0) for k in order[bounds[t] : bounds[t + 1]]] for t in used_terms}
        else:  # spend: price x chips held
            amount = {t: [(n_x + t, price[t])] for t in range(n_y) if price[t]}
        for q in range(n_s):
            members = [entry for t in np.flatnonzero(q_of_term == q) if t in amount for entry in amount[t]]
            add_row([s_col + q] + [c for c, _ in members], [1.0] + [-a for _, a in members], 0.0, 0.0)
        for q, members, limit, lo, hi in rules:
            entries = [entry for t in members if t in amount for entry in amount[t]]
            add_row([c for c, _ in entries] + [s_col + q], [a for _, a in entries] + [-limit], lo, hi)

    n_cols = n_x + n_y + n_u + n_v + n_s
    cost = np.zeros(n_cols)
    cost[n_x : n_x + n_y] = price * policy.hours_per_quarter
    cost[n_x + n_y : n_x + n_y + n_u] = policy.penalty_usd_per_token_s
    col_lower = np.zeros(n_cols)
    col_upper = np.full(n_cols, np.inf)
    col_lower[n_x : n_x + n_y] = terms["min_chips"].to_numpy()
    col_upper[n_x : n_x + n_y] = terms["max_chips"].to_numpy()

    import scipy.sparse as sp

    matrix = sp.csc_matrix((vals, (rows, cols)), shape=(len(lower), n_cols))
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = len(lower)
    lp.col_cost_ = cost
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.row_lower_ = np.array(lower)
    lp.row_upper_ = np.array(upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    return lp


def solve_raw(lp: highspy.HighsLp, method: str, time_limit: float = float("inf")) -> tuple[float, float]:
    """Solve ``lp`` with one HiGHS method; return (objective, HiGHS run time in seconds).

    A run stopped by ``time_limit`` returns (nan, its run time)."""
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("solver", method)
    highs.setOptionValue("time_limit", time_limit)
    highs.passModel(lp)
    highs.run()
    if highs.getModelStatus() == highspy.HighsModelStatus.kTimeLimit:
        return float("nan"), highs.getRunTime()
    assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return highs.getInfo().objective_function_value, highs.getRunTime()
