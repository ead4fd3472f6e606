"""PuLP 3.3 and 4.x through the API both lines share, and the model handed to HiGHS as arrays.

The tool builds its model with ``prob.add_variable``, ``lpSum`` and ``prob += row``, and reads
it back with ``prob.variables()``, ``prob.constraints()``, ``row.items()``, ``row.getLb()`` and
``row.getUb()``: methods PuLP 3.3.2 and 4.x both have. Nothing here touches PuLP's solver
classes or private attributes; the solve itself runs on a ``highspy.Highs`` the tool owns.
"""

from __future__ import annotations

from collections.abc import Sequence

import highspy
import numpy as np
import pulp

PULP_MAJOR = int(pulp.__version__.split(".")[0])
LEGACY = PULP_MAJOR < 4


def weighted_sum(variables: Sequence[pulp.LpVariable], weights: Sequence[float]) -> pulp.LpAffineExpression:
    """sum_i weights[i] * variables[i]; on 3.x built from one dict, not one expression per term."""
    if LEGACY:
        return pulp.LpAffineExpression(dict(zip(variables, map(float, weights), strict=True)))
    return pulp.lpSum(w * v for v, w in zip(variables, weights, strict=True))


def _bound(value: float | None, missing: float) -> float:
    return missing if value is None else float(value)


def to_highs_lp(prob: pulp.LpProblem, mip: bool) -> tuple[highspy.HighsLp, dict[str, int]]:
    """``prob`` as one row-wise sparse ``HighsLp``, with each variable's column by name.

    Columns follow ``prob.variables()``; rows follow ``prob.constraints()`` (the order they
    were added in, which the model's row tables record). The objective's constant is left
    out: HiGHS's objective is the variable part only.
    """
    variables = prob.variables()
    column = {variable.name: i for i, variable in enumerate(variables)}
    cost = np.zeros(len(variables))
    if prob.objective is not None:
        for variable, coefficient in prob.objective.items():
            cost[column[variable.name]] = coefficient
    lower = np.array([_bound(v.lowBound, -np.inf) for v in variables], dtype=float)
    upper = np.array([_bound(v.upBound, np.inf) for v in variables], dtype=float)
    starts, indices, values, row_lower, row_upper = [0], [], [], [], []
    for constraint in prob.constraints():
        for variable, coefficient in constraint.items():
            indices.append(column[variable.name])
            values.append(coefficient)
        starts.append(len(indices))
        row_lower.append(_bound(constraint.getLb(), -np.inf))
        row_upper.append(_bound(constraint.getUb(), np.inf))
    lp = highspy.HighsLp()
    lp.num_col_ = len(variables)
    lp.num_row_ = len(row_lower)
    lp.col_cost_ = cost
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = np.array(row_lower, dtype=float)
    lp.row_upper_ = np.array(row_upper, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(indices, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(values, dtype=float)
    integer = [column[v.name] for v in variables if v.cat in (pulp.LpInteger, pulp.LpBinary)]
    if mip and integer:
        kinds = [highspy.HighsVarType.kContinuous] * len(variables)
        for i in integer:
            kinds[i] = highspy.HighsVarType.kInteger
        lp.integrality_ = kinds
    return lp, column
