"""The planning pipeline: inputs -> LP -> proven optimum -> verified plan."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

from optimizer import deadline
from optimizer.errors import OptionError, SolveError
from optimizer.io.tables import Inputs
from optimizer.model import builder as lp_model
from optimizer.plan.assembly import Plan, assemble
from optimizer.plan.ports import payback as port_payback
from optimizer.plan.verification import verify
from optimizer.solver import external as external_solver
from optimizer.solver.certificate import certify, uncertified
from optimizer.solver.lp import solve_elsewhere, solve_lp

log = logging.getLogger(__name__)


def solve(
    inputs: Inputs,
    time_limit: float | None = None,
    method: str = "auto",
    integer: bool = False,
    payback: bool = True,
    solver: str | None = None,
    write_model: Path | str | None = None,
) -> Plan:
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

    ``solver`` names a solver PuLP drives instead of the tool's HiGHS (``--solver``,
    :mod:`optimizer.solver.external`): the plan is verified like any other but certified
    only when that solver returns duals that pass the certificate (otherwise
    ``plan.certificate`` is None or fails, and ``plan.notes`` say why), and port savings
    and payback, warm HiGHS re-solves, are left blank (a note says so). ``write_model``
    writes the model before the solve (:func:`write_model`; its time counts in ``build``).
    """
    chosen = external_solver.resolve(solver) if solver else None  # bad options fail before any work
    if write_model is not None:
        _check_model_file(inputs, Path(write_model))
    with deadline.budget(time_limit):  # payback and resilience re-solves draw on it too
        return _solve(
            inputs,
            time_limit,
            method,
            integer,
            payback and chosen is None,
            chosen,
            None if write_model is None else Path(write_model),
        )


def write_model(inputs: Inputs, path: Path | str, integer: bool = False) -> None:
    """Write the model the planner solves for ``inputs`` to ``path``, as MPS (``.mps``) or
    CPLEX LP (``.lp``), for audit: its optimum is the plan's ``total_cost_usd``."""
    _check_model_file(inputs, Path(path))
    _write_model(lp_model.build(inputs.canonical(), integer=integer), Path(path))


def _check_model_file(inputs: Inputs, path: Path) -> None:
    """Refuse a model file of neither format, or among the inputs (as ``--out`` is refused)."""
    external_solver.check_model_path(path)
    if inputs.folder is not None and Path(inputs.folder).resolve() in path.resolve().parents:
        raise OptionError(
            f"--write-model {path} is inside the input folder {inputs.folder}: outputs are never "
            "written among the inputs. Choose another path."
        )


def _write_model(model: lp_model.LpModel, path: Path) -> None:
    lp, columns, _ = model.lp.named_lp()
    external_solver.write_model(lp, path, columns, model.objective_constant)


def _solve(
    inputs: Inputs,
    time_limit: float | None,
    method: str,
    integer: bool,
    payback: bool,
    solver: type | None,
    model_file: Path | None,
) -> Plan:
    started = time.perf_counter()
    inputs = inputs.canonical()  # the plan does not depend on how the files are sorted
    model = lp_model.build(inputs, integer=integer)
    if model_file is not None:
        _write_model(model, model_file)
    built = time.perf_counter()
    if solver is None:
        solution = solve_lp(model, time_limit=time_limit, method=method)
    else:
        solution = solve_elsewhere(model, solver, deadline.remaining())
    solved = time.perf_counter()
    plan = assemble(model, solution)
    assembled = time.perf_counter()
    verify(
        inputs,
        plan.allocation,
        plan.purchases,
        solution.objective,
        plan.commitments,
        plan.ports,
        plan.recourse,
        integer=model.integer,
    )
    verified = time.perf_counter()
    notes: list[str] = []
    if solution.highs is None:  # another solver: its own certificate, or none
        certificate = solution.certificate
        notes += [solution.uncertified] if solution.uncertified else []
        notes += (
            [
                "ports: net saving and payback quarter not computed (HiGHS re-solves of the plan's "
                "model; run without --solver for them)"
            ]
            if not plan.ports.empty
            else []
        )
    else:
        certificate = certify(solution.highs, model.lp, model.objective_constant)
        if not certificate.certified:
            raise SolveError(uncertified(certificate))
    certified = time.perf_counter()
    ports = port_payback(plan, replan=solve) if payback else plan.ports
    totals = dict(plan.totals)
    if inputs.policy.resilience is not None:
        relaxed = replace(inputs, policy=inputs.policy.model_copy(update={"resilience": None}))
        totals["resilience_cost_usd"] = (
            totals["total_cost_usd"]
            - _solve(relaxed, time_limit, method, integer, False, solver, None).totals["total_cost_usd"]
        )
    seconds = {
        "build": built - started,
        "solve": solved - built,
        "highs_run": solution.seconds["solve"],
        "assemble": assembled - solved,
        "verify": verified - assembled,
        "certify": certified - verified,
        "payback_and_resilience": time.perf_counter() - certified,
    }
    log.info(
        "plan: %d columns, %d rows, total cost %.2f USD; %s",
        model.lp.num_col,
        model.lp.num_row,
        totals["total_cost_usd"],
        ", ".join(f"{stage} {value:.3f} s" for stage, value in seconds.items()),
    )
    for note in notes:
        log.warning("plan: %s", note)
    return replace(plan, certificate=certificate, notes=notes, ports=ports, totals=totals, seconds=seconds)
