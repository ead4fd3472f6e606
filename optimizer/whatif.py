"""Warm re-solves of a solved plan: change costs, bounds or rule limits, re-run, restore.

A :class:`WhatIf` holds a private copy of the plan's HiGHS model, started from the
plan's optimal basis, so each experiment costs a few simplex iterations instead of a
rebuild (solver notes, "Re-solves"). Every change is undone after its solve; the basis
is kept, so consecutive experiments also start warm.

Extra columns and rows can be added once, inactive, and switched on by later changes:
*price handles* (one column per group of offers carrying the group's whole cost, so that
the group's price is a single cost coefficient that HiGHS can range) and *volume limits*
(one row per group and quarter holding the group's served tokens/s).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np

from .errors import SolveError
from .plan import Plan
from .solve import _stdout_silenced

INF = highspy.kHighsInf


@dataclass
class Change:
    """Edits for one experiment, applied then undone.

    ``coefficients`` maps (row, column) to (new value, original value): the matrix is not
    mirrored here, so the caller states what to restore.
    """

    cost: dict[int, float] = field(default_factory=dict)
    col_bounds: dict[int, tuple[float, float]] = field(default_factory=dict)
    row_bounds: dict[int, tuple[float, float]] = field(default_factory=dict)
    coefficients: dict[tuple[int, int], tuple[float, float]] = field(default_factory=dict)


@dataclass
class Outcome:
    """The optimum of one experiment (``optimal`` False when HiGHS proved none)."""

    optimal: bool
    objective: float
    values: np.ndarray
    ranging: highspy.HighsRanging | None = None


class WhatIf:
    """A private, warm copy of a plan's LP for re-solves (see module docstring)."""

    def __init__(self, plan: Plan):
        source = plan.solution.highs
        with _stdout_silenced():
            self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("solver", "simplex")
        self.highs.passModel(source.getLp())
        self.highs.setBasis(source.getBasis())
        self.plan = plan
        self.columns = plan.solution.columns
        self.solves = 0
        self._refresh()

    def _refresh(self) -> None:
        lp = self.highs.getLp()
        self.cost = np.array(lp.col_cost_)
        self.col_lower = np.array(lp.col_lower_)
        self.col_upper = np.array(lp.col_upper_)
        self.row_lower = np.array(lp.row_lower_)
        self.row_upper = np.array(lp.row_upper_)

    def add_columns(self, cost: np.ndarray, entries: list[tuple[list[int], list[float]]]) -> np.ndarray:
        """Add free-standing columns (>= 0) with ``cost``; ``entries`` per column: (rows, values)."""
        first = self.highs.getNumCol()
        starts, index, value = [], [], []
        for rows, values in entries:
            starts.append(len(index))
            index += rows
            value += values
        count = len(entries)
        self.highs.addCols(count, np.asarray(cost, dtype=float), np.zeros(count), np.full(count, INF),
                           len(index), np.array(starts, dtype=np.int32), np.array(index, dtype=np.int32),
                           np.array(value, dtype=float))
        self._refresh()
        return np.arange(first, first + count)

    def add_rows(self, lower: np.ndarray, upper: np.ndarray,
                 entries: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Add rows lower <= sum(values x cols) <= upper; ``entries`` per row: (cols, values)."""
        first = self.highs.getNumRow()
        starts, index, value = [], [], []
        for cols, values in entries:
            starts.append(len(index))
            index += list(cols)
            value += list(values)
        count = len(entries)
        self.highs.addRows(count, np.asarray(lower, dtype=float), np.asarray(upper, dtype=float), len(index),
                           np.array(starts, dtype=np.int32), np.array(index, dtype=np.int32),
                           np.array(value, dtype=float))
        self._refresh()
        return np.arange(first, first + count)

    def set_base_costs(self, columns: np.ndarray, costs: np.ndarray) -> None:
        """Permanently change costs of this copy (used when moving costs onto price handles)."""
        columns = np.asarray(columns, dtype=np.int32)
        self.highs.changeColsCost(len(columns), columns, np.asarray(costs, dtype=float))
        self.cost[columns] = costs

    def baseline(self) -> Outcome:
        """Re-solve the unchanged copy (after adding handles or rows)."""
        return self.solve(Change())

    def solve(self, change: Change, ranging: bool = False) -> Outcome:
        """Apply ``change``, re-solve warm, undo it; with ``ranging``, also range the optimum."""
        self._apply(change.cost, change.col_bounds, change.row_bounds, change.coefficients)
        try:
            self.highs.run()
            self.solves += 1
            status = self.highs.getModelStatus()
            if status == highspy.HighsModelStatus.kOptimal:
                values = np.asarray(self.highs.getSolution().col_value)
                ranges = self._ranging() if ranging else None
                return Outcome(True, float(self.highs.getInfo().objective_function_value), values, ranges)
            if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
                return Outcome(False, float("nan"), np.empty(0))
            raise SolveError(f"a what-if re-solve ended with status {self.highs.modelStatusToString(status)}")
        finally:
            self._restore(change)

    def _ranging(self) -> highspy.HighsRanging:
        """HiGHS cost and bound ranging at the optimum just found."""
        status, ranging = self.highs.getRanging()
        if status != highspy.HighsStatus.kOk:
            raise SolveError("HiGHS could not range the last optimum")
        return ranging

    def _apply(self, cost, col_bounds, row_bounds, coefficients) -> None:
        if cost:
            idx = np.fromiter(cost, dtype=np.int32)
            self.highs.changeColsCost(len(idx), idx, np.fromiter(cost.values(), dtype=float))
        if col_bounds:
            idx = np.fromiter(col_bounds, dtype=np.int32)
            bounds = np.array(list(col_bounds.values()), dtype=float)
            self.highs.changeColsBounds(len(idx), idx, bounds[:, 0], bounds[:, 1])
        if row_bounds:
            idx = np.fromiter(row_bounds, dtype=np.int32)
            bounds = np.array(list(row_bounds.values()), dtype=float)
            self.highs.changeRowsBounds(len(idx), idx, bounds[:, 0], bounds[:, 1])
        for (row, col), (value, _) in coefficients.items():
            self.highs.changeCoeff(row, col, value)

    def _restore(self, change: Change) -> None:
        if change.cost:
            idx = np.fromiter(change.cost, dtype=np.int32)
            self.highs.changeColsCost(len(idx), idx, self.cost[idx])
        if change.col_bounds:
            idx = np.fromiter(change.col_bounds, dtype=np.int32)
            self.highs.changeColsBounds(len(idx), idx, self.col_lower[idx], self.col_upper[idx])
        if change.row_bounds:
            idx = np.fromiter(change.row_bounds, dtype=np.int32)
            self.highs.changeRowsBounds(len(idx), idx, self.row_lower[idx], self.row_upper[idx])
        for (row, col), (_, original) in change.coefficients.items():
            self.highs.changeCoeff(row, col, original)
