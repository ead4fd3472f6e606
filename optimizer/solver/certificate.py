"""Optimality certificate of a solved plan, computed from the LP and the solver's duals.

The verifier (:mod:`optimizer.plan.verification`) proves the plan *feasible* from the input tables.
This module proves it *optimal*: with the LP as the model built it and handed it to
HiGHS (the builder's own arrays, :class:`~optimizer.model.arrays.LpArrays`; ``l <= x <= u``,
``L <= A x <= U``, minimise ``c x + offset``), the solution ``x`` and HiGHS's row duals
``y``, it recomputes from the matrix itself

- the reduced costs ``d = c - A^T y`` (HiGHS's own column duals are not used);
- dual feasibility: a row dual may be positive only where the row has a finite lower
  bound, negative only where it has a finite upper bound; likewise each reduced cost;
- complementary slackness: ``y_i (A x - L)_i`` for positive ``y_i``, ``|y_i| (U - A x)_i``
  for negative, and the same for each reduced cost and its column bound;
- the dual objective ``offset + sum y_i L_i|U_i + sum d_j l_j|u_j`` and the gap to the
  primal objective (the gap is the sum of the complementary-slackness products).

A MIP (ports, whole instances) has no duals: its integer decisions are fixed at the
optimum and the remaining LP is certified the same way, and HiGHS's branch-and-bound gap
(its proven lower bound against the plan) is reported beside it.

Tolerances (``TOLERANCES``) are relative: residuals to ``1 + |bound|``; dual
infeasibility per column to ``1 + |c_j| + sum_i |a_ij y_i|`` (the size of the terms whose
difference is ``d_j``, so rounding passes and a wrong reduced cost on a cheap column does
not hide behind the largest cost in the model) and per row to ``1 + |y_i|``; the gap and
the sum of the products to ``1 + |objective|``.
A plan whose certificate fails them is not reported (:class:`~optimizer.errors.SolveError`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import highspy
import numpy as np

from optimizer import deadline
from optimizer.errors import SolveError
from optimizer.model.arrays import LpArrays, dot
from optimizer.solver.highs import make_continuous, new_highs
from optimizer.tolerances import CERTIFICATE

TOLERANCES = CERTIFICATE


@dataclass(frozen=True)
class Certificate:
    """What was proven about a plan; see the module docstring for each quantity."""

    lp: str  # "as solved", or "integer decisions fixed" for a MIP
    primal_objective_usd: float
    dual_objective_usd: float
    gap_usd: float
    relative_gap: float
    max_primal_residual: float  # relative, rows and column bounds
    max_dual_infeasibility: float  # relative, per column and row (module docstring)
    max_complementary_slackness_usd: float
    mip_relative_gap: float | None  # HiGHS's proven bound against the plan (MIP only)
    certified: bool

    def as_dict(self) -> dict:
        return {**asdict(self), "tolerances": dict(TOLERANCES)}


@dataclass(frozen=True)
class _Lp:
    """The arrays the certificate reads: the matrix column-wise, costs and bounds."""

    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    offset: float = 0.0


def certify(highs: highspy.Highs, arrays: LpArrays, constant: float = 0.0) -> Certificate:
    """Certificate of the optimum ``highs`` holds for the LP built as ``arrays``;
    ``constant`` is the objective's part that was kept out of the solver (sunk contract costs)."""
    x = np.asarray(highs.getSolution().col_value)
    matrix = arrays.csc
    col_lower, col_upper, row_lower, row_upper = arrays.bounds
    integer = arrays.integer
    mip_gap = None
    if integer.any():  # the fixed LP's duals bound every plan with the same integer decisions
        mip_gap = float(highs.getInfo().mip_gap)
        rounded = np.round(x[integer])
        highs = _integers_fixed(arrays, np.flatnonzero(integer), rounded)
        col_lower[integer] = rounded
        col_upper[integer] = rounded
    solution = highs.getSolution()
    if not solution.dual_valid:
        raise SolveError("HiGHS returned no duals for the plan's LP, so its optimality cannot be certified")
    lp = _Lp(matrix.start, matrix.index, matrix.value, arrays.cost, col_lower, col_upper, row_lower, row_upper)
    return _check(
        lp,
        x,
        np.asarray(solution.row_dual),
        constant,
        "integer decisions fixed" if mip_gap is not None else "as solved",
        mip_gap,
    )


def certify_duals(lp: highspy.HighsLp, x: np.ndarray, row_dual: np.ndarray, constant: float = 0.0) -> Certificate:
    """Certificate of an LP optimum another solver returned (``--solver``): its values and
    row duals (HiGHS's sign), against ``lp`` held column-wise."""
    matrix = lp.a_matrix_
    view = _Lp(
        np.asarray(matrix.start_),
        np.asarray(matrix.index_),
        np.asarray(matrix.value_),
        np.asarray(lp.col_cost_),
        np.asarray(lp.col_lower_),
        np.asarray(lp.col_upper_),
        np.asarray(lp.row_lower_),
        np.asarray(lp.row_upper_),
        offset=lp.offset_,
    )
    return _check(view, x, row_dual, constant, "as solved", None)


def _integers_fixed(arrays: LpArrays, columns: np.ndarray, rounded: np.ndarray) -> highspy.Highs:
    """A fresh HiGHS holding the LP with its integer ``columns`` fixed at their ``rounded`` values, solved."""
    fixed = new_highs()  # the same options as the solve: no matrix entry dropped there and kept here
    arrays.pass_to(fixed)
    make_continuous(fixed, columns, fixed_at=rounded)
    deadline.limit(fixed)
    fixed.run()
    if fixed.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise SolveError(
            "the plan's LP with its integer decisions fixed has no proven optimum "
            f"({fixed.modelStatusToString(fixed.getModelStatus())}): the plan is not reported"
        )
    return fixed


def _check(lp: _Lp, x: np.ndarray, y: np.ndarray, constant: float, kind: str, mip_gap: float | None) -> Certificate:
    rows, values = lp.index, lp.value
    num_col, num_row = len(lp.cost), len(lp.row_lower)
    columns = np.repeat(np.arange(num_col), np.diff(lp.start))
    cost = lp.cost
    col_lower, col_upper, row_lower, row_upper = lp.col_lower, lp.col_upper, lp.row_lower, lp.row_upper

    activity = np.bincount(rows, weights=values * x[columns], minlength=num_row)
    reduced = cost - np.bincount(columns, weights=values * y[rows], minlength=num_col)

    residual = max(_excess(activity, row_lower, row_upper), _excess(x, col_lower, col_upper))
    row_part = _dual_part(y, activity, row_lower, row_upper, 1.0 + np.abs(y))
    column_scale = 1.0 + np.abs(cost) + np.bincount(columns, weights=np.abs(values * y[rows]), minlength=num_col)
    col_part = _dual_part(reduced, x, col_lower, col_upper, column_scale)
    dual_infeasibility = max(row_part[1], col_part[1])

    primal = dot(cost, x) + lp.offset + constant
    dual = row_part[0] + col_part[0] + lp.offset + constant
    gap = primal - dual
    relative_gap = abs(gap) / (1.0 + abs(primal))
    certified = (
        residual <= TOLERANCES["primal_residual"]
        and dual_infeasibility <= TOLERANCES["dual_infeasibility"]
        and relative_gap <= TOLERANCES["gap"]
    )
    return Certificate(
        kind,
        primal,
        dual,
        gap,
        relative_gap,
        residual,
        dual_infeasibility,
        max(row_part[2], col_part[2]),
        mip_gap,
        certified,
    )


def _excess(value: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Largest violation of lower <= value <= upper, relative to 1 + |bound|."""
    if not len(value):
        return 0.0
    with np.errstate(invalid="ignore"):
        below = np.where(np.isfinite(lower), (lower - value) / (1.0 + np.abs(lower)), 0.0)
        above = np.where(np.isfinite(upper), (value - upper) / (1.0 + np.abs(upper)), 0.0)
    return float(max(0.0, below.max(), above.max()))


def _dual_part(
    dual: np.ndarray, value: np.ndarray, lower: np.ndarray, upper: np.ndarray, scale: np.ndarray
) -> tuple[float, float, float]:
    """For duals on ``lower <= value <= upper``: (their term of the dual objective, the
    largest dual with no finite bound to price it, relative to its ``scale``, the largest
    complementary product)."""
    positive = dual > 0
    bound = np.where(positive, lower, upper)
    priced = np.isfinite(bound)
    infeasible = float(np.max(np.abs(dual[~priced]) / scale[~priced], initial=0.0))
    objective = dot(dual[priced], bound[priced])
    slack = np.abs(value[priced] - bound[priced])
    products = np.abs(dual[priced]) * slack
    return objective, infeasible, float(np.max(products, initial=0.0))


def uncertified(certificate: Certificate) -> str:
    """Why a plan is not reported: the measures of its certificate against the tolerances."""
    return (
        "the solver's optimum failed its optimality certificate, so no plan is reported "
        f"(relative gap {certificate.relative_gap:.2e}, tolerance {TOLERANCES['gap']:.0e}; "
        f"primal residual {certificate.max_primal_residual:.2e}, tolerance {TOLERANCES['primal_residual']:.0e}; "
        f"dual infeasibility {certificate.max_dual_infeasibility:.2e}, tolerance "
        f"{TOLERANCES['dual_infeasibility']:.0e}). The inputs may be numerically difficult: "
        "check for prices or volumes many orders of magnitude apart."
    )
