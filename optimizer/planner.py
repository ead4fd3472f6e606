"""The planning pipeline: inputs -> LP -> proven optimum -> verified plan."""

from __future__ import annotations

import time
from dataclasses import replace

from . import deadline
from . import model as lp_model
from .certificate import certify, uncertified
from .errors import SolveError
from .inputs import Inputs
from .plan import Plan, assemble
from .ports import payback as port_payback
from .solve import solve as solve_lp
from .verify import verify


def solve(inputs: Inputs, time_limit: float | None = None, method: str = "auto", integer: bool = False,
          payback: bool = True) -> Plan:
    """Cost-minimal plan for ``inputs``, verified against every contract constraint.

    ``time_limit`` (seconds) bounds the whole call, re-solves included. ``method`` is
    ``auto`` (dual simplex), ``simplex`` or ``ipm``; ``integer`` buys offers
    with ``chips_per_instance`` in whole instances. Chosen ports get their saving and
    payback (one re-solve each without the port; ``payback=False`` skips them, as scenario
    comparisons and sweeps do); with a resilience requirement the plan
    also reports what it costs (one solve without it). Raises
    :class:`~optimizer.errors.SolveError` when HiGHS does not prove an optimum (naming the
    conflicting rules when there are some) and :class:`~optimizer.errors.VerificationError`
    when the plan breaks a constraint.
    """
    with deadline.budget(time_limit):   # payback and resilience re-solves draw on it too
        return _solve(inputs, time_limit, method, integer, payback)


def _solve(inputs: Inputs, time_limit: float | None, method: str, integer: bool, payback: bool) -> Plan:
    started = time.perf_counter()
    inputs = inputs.canonical()  # the plan does not depend on how the files are sorted
    model = lp_model.build(inputs, integer=integer)
    built = time.perf_counter()
    solution = solve_lp(model, time_limit=time_limit, method=method)
    solved = time.perf_counter()
    plan = assemble(model, solution)
    assembled = time.perf_counter()
    verify(inputs, plan.allocation, plan.purchases, solution.objective, plan.commitments, plan.ports,
           plan.recourse, integer=model.integer)
    verified = time.perf_counter()
    plan.certificate = certify(solution.highs, model.objective_constant)
    if not plan.certificate.certified:
        raise SolveError(uncertified(plan.certificate))
    certified = time.perf_counter()
    if payback:
        plan.ports = port_payback(plan)
    if inputs.policy.resilience is not None:
        relaxed = replace(inputs, policy=inputs.policy.model_copy(update={"resilience": None}))
        plan.totals["resilience_cost_usd"] = plan.totals["total_cost_usd"] - solve(
            relaxed, time_limit, method, integer, payback=False).totals["total_cost_usd"]
    plan.seconds = {
        "build": built - started,
        "solve": solved - built,
        "highs_run": solution.seconds["solve"],
        "assemble": assembled - solved,
        "verify": verified - assembled,
        "certify": certified - verified,
        "payback_and_resilience": time.perf_counter() - certified,
    }
    return plan
