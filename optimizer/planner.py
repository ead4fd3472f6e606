"""The planning pipeline: inputs -> LP -> proven optimum -> verified plan."""

from __future__ import annotations

import time

from . import model as lp_model
from .inputs import Inputs
from .plan import Plan, assemble
from .solve import solve as solve_lp
from .verify import verify


def solve(inputs: Inputs, time_limit: float | None = None, method: str = "auto") -> Plan:
    """Cost-minimal plan for ``inputs``, verified against every contract constraint.

    ``method`` is ``auto`` (dual simplex for small LPs, interior point for large ones),
    ``simplex`` or ``ipm``. Raises :class:`~optimizer.errors.SolveError` when HiGHS does
    not prove an optimum and :class:`~optimizer.errors.VerificationError` when the plan
    breaks a constraint.
    """
    started = time.perf_counter()
    model = lp_model.build(inputs)
    built = time.perf_counter()
    solution = solve_lp(model, time_limit=time_limit, method=method)
    solved = time.perf_counter()
    plan = assemble(model, solution)
    assembled = time.perf_counter()
    verify(inputs, plan.allocation, plan.purchases, solution.objective, plan.commitments, plan.ports,
           plan.recourse, integer=model.integer)
    verified = time.perf_counter()
    plan.seconds = {
        "build": built - started,
        "solve": solved - built,
        "highs_run": solution.seconds["solve"],
        "assemble": assembled - solved,
        "verify": verified - assembled,
    }
    return plan
