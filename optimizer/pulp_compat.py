"""The few places where PuLP 3.3 and 4.x need different code for speed.

Everything else in the tool uses the API both versions share (``prob.add_variable``,
``lpSum``, ``prob.constraints()``, ``pulp.HiGHS``). PuLP 3.x builds expressions and
passes models to HiGHS term by term in Python; at 1e5 allowed pairs that costs more
than the solve itself, so on 3.x these helpers take the fast routes 3.x offers.
"""

from __future__ import annotations

from collections.abc import Sequence

import highspy
import numpy as np
import pulp

PULP_MAJOR = int(pulp.__version__.split(".")[0])
LEGACY = PULP_MAJOR < 4


def weighted_sum(variables: Sequence[pulp.LpVariable], weights: Sequence[float]) -> pulp.LpAffineExpression:
    """sum_i weights[i] * variables[i], built without one temporary expression per term on 3.x."""
    if LEGACY:
        return pulp.LpAffineExpression(dict(zip(variables, map(float, weights), strict=True)))
    return pulp.lpSum(w * v for v, w in zip(variables, weights, strict=True))


def pass_model_3x(lp: pulp.LpProblem, highs: highspy.Highs, mip: bool) -> None:
    """Pass a PuLP 3.x problem to ``highs`` as one row-wise sparse matrix (one call)."""
    variables = lp.variables()
    for i, variable in enumerate(variables):
        variable.index = i
    cost = np.zeros(len(variables))
    if lp.objective is not None:
        for variable, coefficient in lp.objective.items():
            cost[variable.index] = coefficient
    lower = np.array([-np.inf if v.lowBound is None else v.lowBound for v in variables], dtype=float)
    upper = np.array([np.inf if v.upBound is None else v.upBound for v in variables], dtype=float)
    starts, indices, values, row_lower, row_upper = [0], [], [], [], []
    for constraint in lp._constraints.values():
        for variable, coefficient in constraint.items():
            indices.append(variable.index)
            values.append(coefficient)
        starts.append(len(indices))
        low, high = constraint.getLb(), constraint.getUb()
        row_lower.append(-np.inf if low is None else low)
        row_upper.append(np.inf if high is None else high)
    model = highspy.HighsLp()
    model.num_col_ = len(variables)
    model.num_row_ = len(row_lower)
    model.col_cost_ = cost
    model.col_lower_ = lower
    model.col_upper_ = upper
    model.row_lower_ = np.array(row_lower, dtype=float)
    model.row_upper_ = np.array(row_upper, dtype=float)
    model.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    model.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    model.a_matrix_.index_ = np.array(indices, dtype=np.int32)
    model.a_matrix_.value_ = np.array(values, dtype=float)
    integer = [v.index for v in variables if v.cat == pulp.LpInteger]
    if mip and integer:
        kinds = [highspy.HighsVarType.kContinuous] * len(variables)
        for i in integer:
            kinds[i] = highspy.HighsVarType.kInteger
        model.integrality_ = kinds
    highs.passModel(model)
