"""Warm re-solves of a solved plan: change costs, bounds or rule limits, re-run, restore.

A :class:`WhatIf` holds a private copy of the plan's HiGHS model, started from the
plan's optimal basis, so each experiment costs a few simplex iterations instead of a
rebuild (solver notes, "Re-solves"). Every change is undone after its solve; the basis
is kept, so consecutive experiments also start warm.

Extra columns and rows can be added once, inactive, and switched on by later changes:
*price handles* (one column per group of offers carrying the group's whole cost, so that
the group's price is a single cost coefficient that HiGHS can range) and *volume limits*
(one row per group and quarter holding the group's served tokens/s).

:class:`MipWhatIf` re-solves a mixed-integer plan with warm LPs first; both are a
:class:`ReSolver`, the interface the analyses are written against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import highspy
import numpy as np

from optimizer import deadline
from optimizer.errors import OptionError, SolveError, TimeLimitReached
from optimizer.model.arrays import dot
from optimizer.model.builder import LpModel
from optimizer.solver.highs import integer_columns, make_continuous, new_highs, set_mip_gap
from optimizer.solver.lp import Solution
from optimizer.tolerances import INTEGRALITY, mip_gap_usd, objectives_agree

INF = highspy.kHighsInf
_SETTLED = (
    highspy.HighsModelStatus.kOptimal,
    highspy.HighsModelStatus.kInfeasible,
    highspy.HighsModelStatus.kUnboundedOrInfeasible,
)
_TINY = 1e-9  # a value this close (relative) to its bound sits at the bound
_PIVOT = 1e-9  # tableau entries below this are numerical noise, not pivots
SIMPLEX_STRATEGY = 1  # dual simplex (4: primal), see WhatIf; benchmarks/warm_start.py compares them


def _ratio(slack: np.ndarray, rate: np.ndarray, mask: np.ndarray) -> float:
    """min over mask of slack / rate (rate > 0 there): how far t can go before a sign change."""
    if not mask.any():
        return INF
    return float(np.min(slack[mask] / rate[mask]))


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
    cost_range: tuple[float, float] | None = None


class Solved(Protocol):
    """What a re-solver copies: a model and its proven optimum (a plan is one)."""

    @property
    def model(self) -> LpModel: ...

    @property
    def solution(self) -> Solution: ...


class ReSolver(Protocol):
    """What the analyses ask of a re-solver: warm re-solves of the full problem, with rows
    added once. :class:`WhatIf` (one HiGHS copy) and :class:`MipWhatIf` (a mixed-integer
    plan's two warm LPs, then branch and bound) both are one."""

    @property
    def solves(self) -> int: ...

    def add_rows(
        self, lower: np.ndarray, upper: np.ndarray, entries: list[tuple[np.ndarray, np.ndarray]]
    ) -> np.ndarray: ...

    def baseline(self) -> Outcome: ...

    def solve(self, change: Change) -> Outcome: ...


class WhatIf:
    """A private, warm copy of a plan's LP for re-solves (see module docstring)."""

    def __init__(self, plan: Solved, fix_integers: bool = False, relax_integers: bool = False):
        """Every re-solve runs dual simplex from the last basis: on the bundled data it
        needed fewer iterations than primal simplex for cost changes too, where primal
        would resume directly (port break-evens 2.4x faster without moving costs and 4x
        with them, price curves about as fast and 1.4x faster; benchmarks/warm_start.py).
        ``fix_integers``: integer decisions (whole
        instances, ports) are held at the plan's optimum and the copy is an LP, whose duals
        and ranging are meaningful; ``relax_integers``: they become continuous (the LP
        relaxation, a lower bound); otherwise every re-solve solves the full MIP."""
        source = plan.solution.highs
        if source is None:
            raise OptionError(
                f"this plan was solved by {plan.solution.solver} (--solver): warm re-solves and "
                "ranging (the leverage report, port payback) need the plan's HiGHS model; "
                "solve it without --solver"
            )
        self.highs = new_highs()
        self.highs.setOptionValue("solver", "simplex")
        self.highs.setOptionValue("simplex_strategy", SIMPLEX_STRATEGY)
        set_mip_gap(self.highs, plan.solution.objective)
        self.highs.passModel(source.getLp())
        self.fixed = (fix_integers or relax_integers) and self._fix_integers(
            np.asarray(source.getSolution().col_value), fix=not relax_integers
        )
        basis = source.getBasis()
        if basis.valid:
            self.highs.setBasis(basis)
        self.constant = plan.model.objective_constant
        self.columns = plan.solution.columns
        self.solves = 0
        self._refresh()

    def _fix_integers(self, values: np.ndarray, fix: bool = True) -> bool:
        """Make integer columns continuous and, with ``fix``, fixed at their (rounded) optimal values."""
        columns = integer_columns(self.highs)
        make_continuous(self.highs, columns, fixed_at=np.round(values[columns]) if fix else None)
        return bool(len(columns))

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
        starts: list[int] = []
        index: list[int] = []
        value: list[float] = []
        for rows, values in entries:
            starts.append(len(index))
            index += rows
            value += values
        count = len(entries)
        self.highs.addCols(
            count,
            np.asarray(cost, dtype=float),
            np.zeros(count),
            np.full(count, INF),
            len(index),
            np.array(starts, dtype=np.int32),
            np.array(index, dtype=np.int32),
            np.array(value, dtype=float),
        )
        self._refresh()
        return np.arange(first, first + count)

    def add_rows(
        self, lower: np.ndarray, upper: np.ndarray, entries: list[tuple[np.ndarray, np.ndarray]]
    ) -> np.ndarray:
        """Add rows lower <= sum(values x cols) <= upper; ``entries`` per row: (cols, values)."""
        first = self.highs.getNumRow()
        starts: list[int] = []
        index: list[int] = []
        value: list[float] = []
        for cols, values in entries:
            starts.append(len(index))
            index += list(cols)
            value += list(values)
        count = len(entries)
        self.highs.addRows(
            count,
            np.asarray(lower, dtype=float),
            np.asarray(upper, dtype=float),
            len(index),
            np.array(starts, dtype=np.int32),
            np.array(index, dtype=np.int32),
            np.array(value, dtype=float),
        )
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

    def solve(self, change: Change, range_column: int | None = None, start: np.ndarray | None = None) -> Outcome:
        """Apply ``change``, re-solve warm, undo it; optionally range one column's cost.

        ``start``: a feasible solution of the changed problem, handed to a MIP as its first
        incumbent (branch and bound then only has to prove or improve it)."""
        self._apply(change.cost, change.col_bounds, change.row_bounds, change.coefficients)
        try:
            status = self._run(start)
            if status == highspy.HighsModelStatus.kOptimal:
                values = np.asarray(self.highs.getSolution().col_value)
                objective = self._objective(change, values)
                if (
                    not objectives_agree(
                        float(self.highs.getInfo().objective_function_value) + self.constant, objective
                    )
                    and start is not None
                ):
                    # HiGHS can report the objective of its MIP start, not of the solution it
                    # returns: solve again without the start, from scratch.
                    status = self._run(None, cold=True)
                    values = np.asarray(self.highs.getSolution().col_value)
                    objective = self._objective(change, values)
                if status == highspy.HighsModelStatus.kOptimal:
                    reported = float(self.highs.getInfo().objective_function_value) + self.constant
                    if not objectives_agree(reported, objective):
                        raise SolveError(
                            f"a what-if re-solve reported {reported:,.2f} USD for a solution "
                            f"costing {objective:,.2f} USD"
                        )
                    ranges = None
                    if range_column is not None:
                        ranges = self.cost_range(range_column, change.cost.get(range_column, self.cost[range_column]))
                    return Outcome(True, objective, values, ranges)
            if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
                return Outcome(False, float("nan"), np.empty(0))
            raise SolveError(f"a what-if re-solve ended with status {self.highs.modelStatusToString(status)}")
        finally:
            self._restore(change)

    def _run(self, start: np.ndarray | None, cold: bool = False) -> highspy.HighsModelStatus:
        """Run HiGHS (from ``start`` if given); a run that stalls is retried once from scratch."""
        if cold:
            self.highs.clearSolver()
        if start is not None:
            incumbent = highspy.HighsSolution()
            incumbent.col_value = list(start)
            incumbent.value_valid = True
            self.highs.setSolution(incumbent)
        status = self._attempt()
        if status not in _SETTLED:  # a warm start can stall numerically: retry from scratch once
            self.highs.clearSolver()
            status = self._attempt()
        if status not in _SETTLED:
            # Presolve can leave a reduced MIP whose solutions break the original rows by more
            # than HiGHS's tolerance ("Solve error"); without it the same problem solves.
            self.highs.setOptionValue("presolve", "off")
            try:
                self.highs.clearSolver()
                status = self._attempt()
            finally:
                self.highs.setOptionValue("presolve", "choose")
        return status

    def _attempt(self) -> highspy.HighsModelStatus:
        """One run within the command's time budget."""
        deadline.limit(self.highs)
        self.highs.run()
        self.solves += 1
        status = self.highs.getModelStatus()
        if status == highspy.HighsModelStatus.kTimeLimit:
            raise TimeLimitReached(deadline.exhausted())
        return status

    def _objective(self, change: Change, values: np.ndarray) -> float:
        """The cost of ``values`` under the changed costs: costs times values plus constants."""
        cost = self.cost
        if change.cost:
            cost = cost.copy()
            cost[np.fromiter(change.cost, dtype=np.int64)] = np.fromiter(change.cost.values(), dtype=float)
        return dot(cost[: len(values)], values) + self.constant

    def cost_range(self, column: int, cost: float) -> tuple[float, float]:
        """Interval of ``column``'s cost (now ``cost``) over which the current basis stays optimal.

        HiGHS's ``getRanging`` ranges every column and row (about 7 ms on the bundled data
        and it holds the GIL); only one column is needed here, so its range is computed
        from one row of B^-1 A and of B^-1 (about 0.7 ms). With HiGHS's convention
        col_dual = c - A^T row_dual, raising the cost of the basic column at basis
        position p by t moves every nonbasic reduced cost d_k to d_k - t * alpha_k and
        every row dual pi_i to pi_i + t * rho_i; the range ends where the first of them
        changes sign. tests/test_whatif.py checks it against ``getRanging``.
        """
        highs = self.highs  # getBasicVariables, getReducedRow, getBasisInverseRow: missing from highspy's stubs
        basic = np.asarray(highs.getBasicVariables()[1])  # type: ignore[attr-defined]
        solution = highs.getSolution()
        x, d = np.asarray(solution.col_value), np.asarray(solution.col_dual)
        activity, pi = np.asarray(solution.row_value), np.asarray(solution.row_dual)
        position = np.flatnonzero(basic == column)
        if len(position) == 0:  # nonbasic: it enters once its cost falls by its reduced cost
            at_lower = x[column] <= self.col_lower[column] + _TINY * max(1.0, abs(self.col_lower[column]))
            return (cost - d[column], INF) if at_lower else (-INF, cost - d[column])
        alpha = np.asarray(highs.getReducedRow(int(position[0]))[1])  # type: ignore[attr-defined]
        rho = np.asarray(highs.getBasisInverseRow(int(position[0]))[1])  # type: ignore[attr-defined]
        basic_col = np.zeros(len(x), bool)
        basic_col[basic[basic >= 0]] = True
        basic_row = np.zeros(len(activity), bool)
        basic_row[-basic[basic < 0] - 1] = True
        col_free = ~basic_col & (self.col_lower < self.col_upper)
        col_low = col_free & (x <= self.col_lower + _TINY * np.maximum(1.0, np.abs(self.col_lower)))
        col_up = col_free & ~col_low
        row_free = ~basic_row & (self.row_lower < self.row_upper)
        with np.errstate(invalid="ignore"):
            row_low = row_free & (activity <= self.row_lower + _TINY * np.maximum(1.0, np.abs(self.row_lower)))
        row_up = row_free & ~row_low
        d_low, d_up = np.maximum(d, 0.0), np.minimum(d, 0.0)
        pi_low, pi_up = np.maximum(pi, 0.0), np.minimum(pi, 0.0)
        up = min(
            _ratio(d_low, alpha, col_low & (alpha > _PIVOT)),  # d - t alpha >= 0
            _ratio(-d_up, -alpha, col_up & (alpha < -_PIVOT)),  # d - t alpha <= 0
            _ratio(pi_low, -rho, row_low & (rho < -_PIVOT)),  # pi + t rho >= 0
            _ratio(-pi_up, rho, row_up & (rho > _PIVOT)),  # pi + t rho <= 0
        )
        down = min(
            _ratio(d_low, -alpha, col_low & (alpha < -_PIVOT)),
            _ratio(-d_up, alpha, col_up & (alpha > _PIVOT)),
            _ratio(pi_low, rho, row_low & (rho > _PIVOT)),
            _ratio(-pi_up, -rho, row_up & (rho < -_PIVOT)),
        )
        return cost - down, cost + up

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
            # changeRowsBounds is missing from highspy's stubs
            self.highs.changeRowsBounds(len(idx), idx, bounds[:, 0], bounds[:, 1])  # type: ignore[attr-defined]
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
            # changeRowsBounds is missing from highspy's stubs
            self.highs.changeRowsBounds(len(idx), idx, self.row_lower[idx], self.row_upper[idx])  # type: ignore[attr-defined]
        for (row, col), (_, original) in change.coefficients.items():
            self.highs.changeCoeff(row, col, original)


class MipWhatIf:
    """Re-solves of a mixed-integer plan by branch and bound on warm LPs.

    The LP with the integer decisions held at today's values gives a feasible plan (an
    upper bound on the full problem's optimum); the LP relaxation gives a lower bound.
    When the two meet within the MIP gap, the held plan is optimal for the full problem.
    Otherwise branch and bound runs on the warm relaxation: each node tightens one
    fractional integer's bounds and re-solves the relaxation from the last basis (a few
    milliseconds), an integral node is priced exactly by the held LP, and a node is
    dropped once its bound is within the MIP gap of the best plan, the same proof of
    optimality as HiGHS's branch and bound. HiGHS's MIP solver cannot start from a basis:
    each of its runs presolves and solves the root LP from scratch (0.7 s on the bundled
    data, against 4 ms for a warm node), so it only takes over, started from the best plan
    found, when the tree grows past ``MAX_NODES``. Branchings are chosen by pseudocosts learnt
    over the copy's life (its experiments are alike: the same plan, one change at a time),
    which on the bundled data cut the nodes of the offer-price confirmations by a quarter.
    Same interface as :class:`WhatIf`.
    """

    MAX_NODES = 200

    def __init__(self, plan: Solved):
        self.gap = mip_gap_usd(plan.solution.objective)
        self.held = WhatIf(plan, fix_integers=True)
        self.relaxed = WhatIf(plan, relax_integers=True)
        self.full = WhatIf(plan)
        self.copies = (self.held, self.relaxed, self.full)
        self.columns = plan.solution.columns
        self.integers = integer_columns(self.full.highs).astype(int)
        self.fallbacks = 0  # re-solves handed to HiGHS's branch and bound
        self.today = self.held.col_lower[self.integers].copy()  # the integer choice the held LP fixes
        self.pseudocosts: dict[int, tuple[float | None, float | None]] = {}  # (down, up) rise per unit

    @property
    def solves(self) -> int:
        return sum(copy.solves for copy in self.copies)

    def add_rows(self, lower, upper, entries) -> np.ndarray:
        rows = [copy.add_rows(lower, upper, entries) for copy in self.copies]
        return rows[0]

    def baseline(self) -> Outcome:
        return self.solve(Change())

    def solve(self, change: Change, range_column: int | None = None) -> Outcome:
        low = self.relaxed.solve(change)
        if not low.optimal:
            return low
        best = self._held_at(change, None)
        rounded = np.ceil(low.values[self.integers] - 1e-9)
        same_as_held = np.array_equal(rounded, self.today) and not any(
            int(c) in change.col_bounds for c in self.integers
        )
        if not self._closes(best, low) and not same_as_held:
            # Second candidate: the relaxation's integer decisions rounded up, held.
            candidate = self._held_at(change, rounded)
            if candidate.optimal and (not best.optimal or candidate.objective < best.objective):
                best = candidate
        if self._closes(best, low):
            return best
        settled = self._branch_and_bound(change, low, best)
        if settled is not None:
            return settled
        self.fallbacks += 1
        return self.full.solve(change, start=best.values if best.optimal else None)

    def _held_at(self, change: Change, integers: np.ndarray | None) -> Outcome:
        """The held LP (integer decisions at ``integers``, today's values if None) under ``change``."""
        if integers is None:
            return self.held.solve(change)
        fixed = {int(c): (float(v), float(v)) for c, v in zip(self.integers, integers, strict=True)}
        return self.held.solve(
            Change(change.cost, {**change.col_bounds, **fixed}, change.row_bounds, change.coefficients)
        )

    def _branch_and_bound(self, change: Change, root: Outcome, best: Outcome) -> Outcome | None:
        """The optimum under ``change`` within the MIP gap, depth first on the warm relaxation
        from its ``root`` optimum and the incumbent ``best``; None past MAX_NODES."""
        open_nodes: list[tuple[dict[int, tuple[float, float]], Outcome]] = [({}, root)]
        nodes = 0
        while open_nodes:
            branched, node = open_nodes.pop()
            if best.optimal and node.objective >= best.objective - self.gap:
                continue  # nothing below this node beats the best plan by more than the gap
            values = node.values[self.integers]
            fraction = np.abs(values - np.round(values))
            if fraction.max() <= INTEGRALITY:
                candidate = self._held_at(change, np.round(values))
                if candidate.optimal and (not best.optimal or candidate.objective < best.objective):
                    best = candidate
                continue
            column = self._branching_column(values, fraction)
            value = float(node.values[column])
            lower, upper = branched.get(
                column, change.col_bounds.get(column, (self.relaxed.col_lower[column], self.relaxed.col_upper[column]))
            )
            down, up = (lower, math.floor(value)), (math.ceil(value), upper)
            nearer_last = ((1, up), (0, down)) if value - math.floor(value) < 0.5 else ((0, down), (1, up))
            for side, bounds in nearer_last:  # the nearer side is pushed last, so explored first
                nodes += 1
                if nodes > self.MAX_NODES:
                    return None
                child = {**branched, column: bounds}
                try:
                    outcome = self.relaxed.solve(
                        Change(change.cost, {**change.col_bounds, **child}, change.row_bounds, change.coefficients)
                    )
                except SolveError:
                    return None
                self._learn(column, side, value, node, outcome)
                if outcome.optimal and (not best.optimal or outcome.objective < best.objective - self.gap):
                    open_nodes.append((child, outcome))
        return best if best.optimal else Outcome(False, float("nan"), np.empty(0))

    def _branching_column(self, values: np.ndarray, fraction: np.ndarray) -> int:
        """The fractional integer whose two branches are expected to raise the bound most
        (product of the estimates, HiGHS's rule): each side's rise per unit is learnt from
        earlier branchings on this copy (pseudocosts), the mean of the known ones where a
        column has none yet. The choice only orders the search; every branch is still proven."""
        candidates = np.flatnonzero(fraction > INTEGRALITY)
        known = [rise for rises in self.pseudocosts.values() for rise in rises if rise is not None]
        default = float(np.mean(known)) if known else 1.0
        down_share = values[candidates] - np.floor(values[candidates])
        scores = []
        for k, share in zip(candidates, down_share, strict=True):
            down, up = self.pseudocosts.get(int(self.integers[k]), (None, None))
            scores.append(
                max(share * (default if down is None else down), 1e-6)
                * max((1 - share) * (default if up is None else up), 1e-6)
            )
        return int(self.integers[candidates[int(np.argmax(scores))]])

    def _learn(self, column: int, side: int, value: float, parent: Outcome, child: Outcome) -> None:
        """Record the bound's rise per unit moved by one branching, averaged with the column's
        last figure for that side (an infeasible branch counts as the largest rise seen)."""
        moved = (value - math.floor(value)) if side == 0 else (math.ceil(value) - value)
        if child.optimal:
            rise = max(0.0, child.objective - parent.objective) / max(moved, INTEGRALITY)
        else:
            rise = max((r for rises in self.pseudocosts.values() for r in rises if r is not None), default=1.0)
        rises = list(self.pseudocosts.get(column, (None, None)))
        last = rises[side]
        rises[side] = rise if last is None else (last + rise) / 2
        self.pseudocosts[column] = (rises[0], rises[1])

    def _closes(self, upper: Outcome, lower: Outcome) -> bool:
        return upper.optimal and upper.objective - lower.objective <= self.gap
