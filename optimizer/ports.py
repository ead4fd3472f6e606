"""Porting decisions: what a chosen port saves and when it pays back; break-even of the rest.

A port is the one-time cost of making a (model, accelerator) pair production-ready. Its
value is measured by re-solving the full problem without it (the port's decisions held
at zero): the saving is the difference in optimal cost, and the payback quarter is the
first in which the quarterly savings, added up, cover the port's cost.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .plan import Plan
from .whatif import Change, MipWhatIf, Outcome, WhatIf


def port_columns(plan: Plan, port: int) -> np.ndarray:
    """HiGHS columns of one port's decisions (one binary per horizon quarter)."""
    starts = plan.model.port_starts
    return plan.solution.columns["z"][np.flatnonzero(starts["port"].to_numpy() == port)]


def quarterly_cost(plan: Plan, values: np.ndarray) -> pd.Series:
    """What a solution pays in each quarter: chips held (commitments as paid), signed
    contracts and the penalty on unserved demand (spend-commitment shortfalls and ports,
    not tied to a quarter, are left out)."""
    model, columns = plan.model, plan.solution.columns
    hours = model.inputs.policy.hours_per_quarter
    y, c, u = values[columns["y"]], values[columns["c"]], values[columns["u"]]
    payment = model.terms["usd_per_chip_hour"].to_numpy() * hours * y
    prices = model.starts["usd_per_chip_hour"].to_numpy()
    for t, running in model.running.items():
        payment[t] = float((prices[running] * c[running]).sum() * hours)
    payment = payment + model.terms["contract_usd_per_hour"].to_numpy() * hours
    spend = pd.Series(payment).groupby(model.terms["quarter"].to_numpy()).sum()
    penalty = pd.Series(u * model.inputs.policy.penalty_usd_per_token_s).groupby(
        model.workloads["quarter"].to_numpy()).sum()
    return spend.add(penalty, fill_value=0.0).reindex(model.inputs.horizon, fill_value=0.0)


def without_port(whatif: WhatIf, plan: Plan, port: int) -> Outcome:
    columns = port_columns(plan, port)
    return whatif.solve(Change(col_bounds={int(c): (0.0, 0.0) for c in columns}))


def payback(plan: Plan) -> pd.DataFrame:
    """The plan's ports with their net saving and payback quarter filled in."""
    if plan.ports.empty:
        return plan.ports
    whatif = MipWhatIf(plan, changes="bounds")
    today = quarterly_cost(plan, np.asarray(plan.solution.highs.getSolution().col_value))
    table = plan.ports.copy()
    index = {(m, a): p for p, (m, a) in enumerate(zip(plan.model.ports["model"], plan.model.ports["accelerator"],
                                                       strict=True))}
    for row, item in table.iterrows():
        outcome = without_port(whatif, plan, index[(item["model"], item["accelerator"])])
        if not outcome.optimal:
            continue
        table.loc[row, "net_saving_usd"] = outcome.objective - plan.solution.objective
        saved = (quarterly_cost(plan, outcome.values) - today).cumsum()
        repaid = saved[saved >= item["port_usd"]]
        table.loc[row, "payback_quarter"] = repaid.index[0] if len(repaid) else None
    return table
