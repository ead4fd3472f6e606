"""Solving the PuLP model with HiGHS in process, and reading back a proven optimum only.

The status is checked twice, on PuLP's side and on HiGHS's own model status, because
PuLP's HiGHS wrapper maps a time-limit stop to "optimal" (solver notes, "Pitfalls").
Values are read from HiGHS's solution arrays by column position rather than variable by
variable: the column of each variable is found once, by name, in PuLP's column order.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import highspy
import numpy as np
import pulp

from .errors import SolveError
from .model import LpModel

# Measured with benchmarks/run.py on 2 cores: below this many allowed pairs dual simplex
# wins (no interior-point start-up, exact vertex); above it interior point with
# crossover is several times faster and still returns a basis for warm re-solves.
IPM_FROM_PAIRS = 20_000


@contextmanager
def _stdout_silenced():
    """Silence C-level writes to stdout (HiGHS prints a banner when constructed)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


class QuietHiGHS(pulp.HiGHS):
    """``pulp.HiGHS`` without the banner HiGHS prints on construction."""

    def createAndConfigureSolver(self, lp):  # noqa: N802 (PuLP's name)
        with _stdout_silenced():
            super().createAndConfigureSolver(lp)


@dataclass
class Solution:
    """A proven optimum: values of x, y, u (aligned with the model's tables) and duals.

    ``row_dual[r]`` is HiGHS's dual of row r: the change of the optimal cost per unit
    increase of the row's right-hand side (minimisation).
    """

    objective: float
    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    row_dual: np.ndarray
    method: str
    seconds: dict[str, float] = field(default_factory=dict)
    highs: highspy.Highs | None = None
    columns: dict[str, np.ndarray] = field(default_factory=dict)


def choose_method(model: LpModel, method: str) -> str:
    if method != "auto":
        return method
    return "ipm" if len(model.pairs) >= IPM_FROM_PAIRS else "simplex"


def solve(model: LpModel, time_limit: float | None = None, method: str = "auto") -> Solution:
    """Solve ``model``; raise :class:`SolveError` unless HiGHS proves an optimum."""
    chosen = choose_method(model, method)
    solver = QuietHiGHS(msg=False, timeLimit=time_limit, solver=chosen)
    started = time.perf_counter()
    model.prob.solve(solver)
    elapsed = time.perf_counter() - started
    highs = model.prob.solverModel
    status = highs.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal or model.prob.status != pulp.LpStatusOptimal:
        raise SolveError(_explain(highs, status, time_limit))
    if model.prob.sol_status != pulp.LpSolutionOptimal:
        raise SolveError(f"HiGHS stopped with solution status {model.prob.sol_status}: not a proven optimum")
    columns = column_positions(model)
    solution = highs.getSolution()
    values = np.asarray(solution.col_value)
    return Solution(
        objective=float(highs.getInfo().objective_function_value),
        x=values[columns["x"]],
        y=values[columns["y"]],
        u=values[columns["u"]],
        row_dual=np.asarray(solution.row_dual),
        method=chosen,
        seconds={"solve": float(highs.getRunTime()), "pulp_solve_call": elapsed},
        highs=highs,
        columns=columns,
    )


def column_positions(model: LpModel) -> dict[str, np.ndarray]:
    """HiGHS column of every x, y and u variable, from PuLP's column order."""
    exported = getattr(model.prob, "exported_variables", None)
    variables = exported() if callable(exported) else model.prob.variables()
    position = {variable.name: i for i, variable in enumerate(variables)}
    return {
        name: np.array([position[v.name] for v in getattr(model, name)], dtype=np.int64)
        for name in ("x", "y", "u")
    }


def _explain(highs: highspy.Highs, status: highspy.HighsModelStatus, time_limit: float | None) -> str:
    text = highs.modelStatusToString(status)
    if status == highspy.HighsModelStatus.kTimeLimit:
        return (
            f"HiGHS stopped at the time limit ({time_limit:g} s) before proving an optimum; "
            "no plan is reported. Raise --time-limit."
        )
    if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return (
            "the hard rules cannot all hold (take-or-pay minimums against share caps or floors "
            "on spend): no plan exists. Relax a min_chips or a share rule."
        )
    return f"HiGHS did not prove an optimum (model status: {text}); no plan is reported"
