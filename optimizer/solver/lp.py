"""Solving the model with HiGHS in process, and reading back a proven optimum only.

The model's arrays go to a ``highspy.Highs`` the tool owns in one ``passModel``; the
status is read from HiGHS itself. Values are read from HiGHS's solution arrays by the
column positions the model's builder handed out. (``solve_elsewhere`` hands the same
arrays to a solver PuLP drives instead: ``--solver``.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import highspy
import numpy as np

from optimizer import deadline
from optimizer.errors import SolveError, TimeLimitReached
from optimizer.model.arrays import dot
from optimizer.model.builder import LpModel, shortfall_unit_usd
from optimizer.solver.highs import new_highs, set_mip_gap
from optimizer.tolerances import LP_FEASIBILITY, objectives_agree

if TYPE_CHECKING:
    from optimizer.solver.certificate import Certificate


@dataclass
class Solution:
    """A proven optimum: values of x, y, u (aligned with the model's tables) and duals.

    ``row_dual[r]`` is HiGHS's dual of row r: the change of the optimal cost per unit
    increase of the row's right-hand side (minimisation). From another solver
    (``solver`` set, ``highs`` None) the same sign, or NaN when it returned none.
    """

    objective: float
    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    c: np.ndarray
    shortfall: np.ndarray
    row_dual: np.ndarray
    method: str
    seconds: dict[str, float] = field(default_factory=dict)
    highs: highspy.Highs | None = None
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    z: np.ndarray = field(default_factory=lambda: np.empty(0))
    tier_y: np.ndarray = field(default_factory=lambda: np.empty(0))  # chips on each tier segment (model.tiers)
    tier_b: np.ndarray = field(default_factory=lambda: np.empty(0))  # each tier's binary
    discount_z: np.ndarray = field(default_factory=lambda: np.empty(0))  # each spend-discount level's binary
    discount_a: np.ndarray = field(default_factory=lambda: np.empty(0))  # the part of each paying column discounted
    recourse: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    mip_gap: float | None = None
    solver: str | None = None  # the PuLP solver that found it (None: the tool's own HiGHS),
    certificate: Certificate | None = None  # its certificate, when it returned duals,
    uncertified: str | None = None  # and why the plan is not certified, if it is not


def cost_scale(model: LpModel) -> float:
    """The size of the problem's costs: every demand unserved at its price, plus sunk costs."""
    unserved = model.inputs.unserved_usd_per_token_s()
    return float((unserved * model.workloads["tokens_per_s"].to_numpy(dtype=float)).sum()) + abs(
        model.objective_constant
    )


def choose_method(method: str) -> str:
    """``auto`` is HiGHS's dual simplex: on this formulation (sparse share rows) it beat
    interior point at every size measured by benchmarks/run.py (README, "Benchmarks"),
    and it is deterministic, which a race between the two methods would not be."""
    return "simplex" if method == "auto" else method


def _rows_broken(highs: highspy.Highs) -> bool:
    """An optimum whose original rows or bounds are broken by more than HiGHS's default LP
    feasibility tolerance (``tolerances.LP_FEASIBILITY``). HiGHS accepts 1e-6 from a MIP,
    but a MIP's plan is certified against the LP with its integers fixed: a point between
    the two tolerances can cost less than that LP's optimum, which the certificate refuses."""
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return False
    return float(highs.getInfo().max_primal_infeasibility) > LP_FEASIBILITY


def solve_lp(model: LpModel, time_limit: float | None = None, method: str = "auto") -> Solution:
    """Solve ``model``; raise :class:`SolveError` unless HiGHS proves an optimum."""
    chosen = choose_method(method)
    highs = new_highs()
    highs.setOptionValue("solver", chosen)
    set_mip_gap(highs, cost_scale(model))
    try:
        model.lp.pass_to(highs)
        with deadline.budget(time_limit):
            deadline.limit(highs)
            highs.run()
            if highs.getModelStatus() == highspy.HighsModelStatus.kSolveError or _rows_broken(highs):
                # Presolve can leave a reduced problem whose solutions break the original rows
                # by more than HiGHS's tolerance (a MIP then ends in "Solve error"; an LP can
                # come back "optimal", a little infeasible and cheaper than the optimum);
                # without presolve the same problem solves.
                highs.setOptionValue("presolve", "off")
                highs.clearSolver()
                deadline.limit(highs)
                highs.run()
    except Exception as error:  # the solver is an outside component: its failure is not a plan
        raise SolveError(
            f"HiGHS failed while solving ({type(error).__name__}: {error}); no plan is reported"
        ) from error
    status = highs.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        stop = TimeLimitReached if status == highspy.HighsModelStatus.kTimeLimit else SolveError
        raise stop(_explain(model, highs, status, time_limit))
    if highs.getInfo().primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        raise SolveError("HiGHS reported an optimum without a feasible solution: not a proven optimum")
    solution = highs.getSolution()
    values = np.asarray(solution.col_value)
    objective = dot(model.lp.cost, values) + model.objective_constant
    reported = float(highs.getInfo().objective_function_value) + model.objective_constant
    if not objectives_agree(reported, objective):
        raise SolveError(
            f"HiGHS reported an objective of {reported:,.2f} USD for a solution that costs "
            f"{objective:,.2f} USD; no plan is reported"
        )
    return solution_from_values(
        model,
        values,
        np.asarray(solution.row_dual),
        objective,
        method=chosen,
        seconds={"solve": float(highs.getRunTime())},
        highs=highs,
        mip_gap=float(highs.getInfo().mip_gap) if model.mixed_integer else None,
    )


def solve_elsewhere(model: LpModel, solver: type, time_limit: float | None = None) -> Solution:
    """Solve ``model`` with a solver PuLP drives (:mod:`optimizer.solver.external`): no HiGHS
    model is kept (``highs`` None), and ``row_dual`` is NaN where the solver returned no duals."""
    from optimizer.solver import external as external_solver

    lp = model.lp.highs_lp()
    found = external_solver.solve(lp, solver, time_limit, cost_scale(model), model.objective_constant)
    duals = found.row_dual if found.row_dual is not None else np.full(lp.num_row_, np.nan)
    return solution_from_values(
        model,
        found.values,
        duals,
        found.objective,
        method=f"{found.solver} via PuLP",
        seconds={"solve": found.seconds},
        solver=found.solver,
        certificate=found.certificate,
        uncertified=found.uncertified,
    )


def solution_from_values(
    model: LpModel, values: np.ndarray, row_dual: np.ndarray, objective: float, **given
) -> Solution:
    """The solution's values, read by the model's column groups."""
    columns = column_positions(model)
    return Solution(
        objective=objective,
        x=values[columns["x"]],
        y=values[columns["y"]],
        u=values[columns["u"]],
        c=values[columns["c"]],
        shortfall=values[columns["f"]] * shortfall_unit_usd(model),
        z=values[columns["z"]],
        tier_y=values[columns["tier_y"]],
        tier_b=values[columns["tier_b"]],
        discount_z=values[columns["discount_z"]],
        discount_a=values[columns["discount_a"]],
        recourse={
            group: (values[columns[f"recourse_x:{group}"]], values[columns[f"recourse_u:{group}"]])
            for group in model.recourse
        },
        row_dual=row_dual,
        columns=columns,
        **given,
    )


def column_positions(model: LpModel) -> dict[str, np.ndarray]:
    """HiGHS column of every column group: x, y, c, u, shortfall f, ports z, instances n,
    tier segments and binaries, spend-discount binaries and discounted parts, each
    quarter's share total s, and the recourse x and u of each outage.

    ``s`` is aligned with ``sorted(model.share_total)``, by (basis, quarter) (empty without share rules).
    """
    columns = {
        "x": model.x,
        "y": model.y,
        "c": model.c,
        "u": model.u,
        "f": model.shortfall,
        "z": model.z,
        "n": model.instances,
        "tier_y": model.tier_y,
        "tier_b": model.tier_b,
        "discount_z": model.discount_z,
        "discount_a": model.discount_a,
        "s": np.array([model.share_total[key] for key in sorted(model.share_total)], dtype=np.int64),
    }
    for group, (_, x, u) in model.recourse.items():
        columns[f"recourse_x:{group}"] = x
        columns[f"recourse_u:{group}"] = u
    return columns


def _explain(model: LpModel, highs: highspy.Highs, status: highspy.HighsModelStatus, time_limit: float | None) -> str:
    text = highs.modelStatusToString(status)
    if status == highspy.HighsModelStatus.kTimeLimit:
        if time_limit is None:  # the budget of an enclosing command ran out
            return deadline.exhausted()
        return (
            f"HiGHS stopped at the time limit ({time_limit:g} s) before proving an optimum; "
            "no plan is reported. Raise --time-limit."
        )
    if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        from optimizer.solver.infeasibility import explain

        rules = "\n".join(f"  - {sentence}" for sentence in explain(model, highs))
        return (
            "the hard rules cannot all hold, so no plan exists. These conflict (drop or relax any one of "
            f"them):\n{rules}"
        )
    return f"HiGHS did not prove an optimum (model status: {text}); no plan is reported"
