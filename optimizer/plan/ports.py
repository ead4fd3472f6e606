"""Porting decisions: what a chosen port saves and when it pays back.

A port is the one-time cost of making a (model, accelerator) pair production-ready.

- **Net saving**: V(port forbidden) - V(plan), the optimal cost with the port's decisions
  held at zero minus the plan's, every other decision (other ports included) free.
- **Payback quarter**: the first quarter q, from the one the port serves in, such that
  the optimal cost of the horizon cut at q with the port made (started when the plan
  starts it) is no more than with it forbidden. Both sides are optimal costs of whole
  problems, spend-commitment shortfalls included, so the answer does not depend on which
  of several equally cheap plans the solver returns, and it cannot fall before the port
  serves. A horizon cut at q keeps the workloads up to q; spend commitments reaching past
  q count pro rata, as they do past the horizon's end (contract, "Spend commitments").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from optimizer import quarters
from optimizer.errors import SolveError, TimeLimitReached, VerificationError
from optimizer.plan.assembly import Plan
from optimizer.solver.whatif import Change, MipWhatIf, Outcome, ReSolver
from optimizer.tolerances import mip_gap_usd


def port_columns(plan: Plan, port: int) -> np.ndarray:
    """HiGHS columns of one port's decisions (one binary per horizon quarter)."""
    starts = plan.model.port_starts
    return plan.solution.columns["z"][np.flatnonzero(starts["port"].to_numpy() == port)]


def port_index(plan: Plan, model: str, accelerator: str) -> int | None:
    """Position of the (model, accelerator) port in the plan's model, None if it has none."""
    ports = plan.model.ports
    found = np.flatnonzero((ports["model"] == model).to_numpy() & (ports["accelerator"] == accelerator).to_numpy())
    return int(found[0]) if len(found) else None


def without_port(whatif: ReSolver, plan: Plan, port: int) -> Outcome:
    columns = port_columns(plan, port)
    return whatif.solve(Change(col_bounds={int(c): (0.0, 0.0) for c in columns}))


def made_in(plan: Plan, port: int, quarter: str) -> Change:
    """The port started in ``quarter`` (and in no other)."""
    columns = port_columns(plan, port)
    start = plan.model.port_starts.loc[plan.model.port_starts["port"] == port, "quarter"].to_numpy()
    return Change(
        col_bounds={int(c): ((1.0, 1.0) if q == quarter else (0.0, 0.0)) for c, q in zip(columns, start, strict=True)}
    )


def payback(plan: Plan, replan: Callable[..., Plan]) -> pd.DataFrame:
    """The plan's ports with their net saving and payback quarter filled in.

    ``replan`` plans a cut horizon from scratch (the pipeline passes its own ``solve``, which
    sits above this module).
    """
    if plan.ports.empty:
        return plan.ports
    whatif = MipWhatIf(plan)  # the full MIP, by branch and bound on warm LPs
    table = plan.ports.copy()
    cut_plans: dict[str, Plan | None] = {}
    for row, item in table.iterrows():
        port = port_index(plan, item["model"], item["accelerator"])
        assert port is not None, "a port of the plan is one of its model's"
        outcome = without_port(whatif, plan, port)
        if outcome.optimal:
            table.loc[row, "net_saving_usd"] = outcome.objective - plan.solution.objective
        for quarter in quarters.quarter_range(item["serves_from"], plan.inputs.horizon[-1]):
            if quarter not in cut_plans:  # the horizon cut at its last quarter is the plan itself
                cut_plans[quarter] = plan if quarter == plan.inputs.horizon[-1] else _cut_plan(plan, quarter, replan)
            if _pays_back(cut_plans[quarter], item):
                table.loc[row, "payback_quarter"] = quarter
                break
    return table


def _cut_plan(plan: Plan, quarter: str, replan: Callable[..., Plan]) -> Plan | None:
    """The optimal plan of the horizon cut at ``quarter`` (None when it has no plan)."""
    inputs = plan.inputs
    last = quarters.ordinal(quarter)
    kept = inputs.workloads["quarter"].map(quarters.ordinal).to_numpy() <= last
    cut = replace(inputs, workloads=inputs.workloads[kept].reset_index(drop=True))
    try:
        return replan(cut, integer=plan.model.integer, payback=False)
    except TimeLimitReached:  # the command's budget is spent: no payback figure is an answer
        raise
    except (SolveError, VerificationError):  # a cut horizon can break a rule the whole one meets
        return None


def _pays_back(cut: Plan | None, item) -> bool:
    """V(cut, port made as planned) <= V(cut, port forbidden), to the MIP's gap."""
    if cut is None:
        return False
    port = port_index(cut, item["model"], item["accelerator"])
    if port is None:
        return False
    whatif = MipWhatIf(cut)
    made = whatif.solve(made_in(cut, port, item["port_quarter"]))
    forbidden = without_port(whatif, cut, port)
    if not made.optimal:
        return False
    return not forbidden.optimal or made.objective <= forbidden.objective + mip_gap_usd(cut.solution.objective)
