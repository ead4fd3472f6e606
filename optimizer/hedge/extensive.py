"""The extensive form of a two-stage program, built as one sparse matrix, and its solves.

Columns: the first stage once (shared), then each scenario's recourse columns; rows:
each scenario's rows, its first-stage entries pointing at the shared columns (scenarios
as blocks of a block-angular matrix). Objective: sum_s p_s (cost_s . x_s + constant_s),
plus, with a CVaR weight lambda at level alpha, lambda x (eta + sum_s p_s xi_s / (1 - alpha))
with xi_s >= cost_s - eta, xi_s >= 0 (Rockafellar and Uryasev): at the optimum eta is the
alpha-quantile of cost (the value at risk) and the bracket the CVaR, the mean of the worst
1 - alpha of the cost distribution.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import highspy
import numpy as np

from optimizer import deadline
from optimizer.errors import SolveError, TimeLimitReached
from optimizer.hedge.blocks import Block, first_stage_keys
from optimizer.model.arrays import INF
from optimizer.solver.highs import new_highs, set_mip_gap
from optimizer.solver.lp import cost_scale

if TYPE_CHECKING:
    import scipy.sparse as sp


@dataclass(frozen=True)
class Extensive:
    """The solved extensive form: the first stage, and each scenario's cost and columns."""

    first: np.ndarray  # first-stage values, in FIRST_STAGE order
    costs: np.ndarray  # each scenario's cost at the optimum
    seconds: dict[str, float]
    columns: int
    rows: int


def check_aligned(blocks: list[Block]) -> None:
    """Every block has the same first stage (the same commitments, tiers, ports, levels on
    offer), or no decision could be shared."""
    reference = first_stage_keys(blocks[0].model)
    for k, block in enumerate(blocks[1:], start=1):
        keys = first_stage_keys(block.model)
        if len(keys) != len(reference) or not keys.equals(reference):
            raise SolveError(
                f"draw {k} offers other first-stage decisions than draw 0 (commitments, tiers, ports "
                "or spend levels): a sweep may change numbers, not which offers or terms exist"
            )


def _shared_bounds(blocks: list[Block]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lower = np.max([b.column_lower[b.first] for b in blocks], axis=0)
    upper = np.min([b.column_upper[b.first] for b in blocks], axis=0)
    integer = blocks[0].integer[blocks[0].first]
    return lower, upper, integer


@dataclass(frozen=True)
class Loaded:
    """The extensive form handed to HiGHS: where each block's columns went, and the CVaR's eta."""

    highs: highspy.Highs
    positions: list[np.ndarray]
    shared: int
    eta: int | None
    columns: int
    rows: int


def load_extensive(
    blocks: list[Block],
    probability: np.ndarray,
    cvar_weight: float = 0.0,
    cvar_level: float = 0.95,
) -> Loaded:
    """Build the extensive form over ``blocks`` (scenario ``probability``) as one sparse
    matrix and hand it to a new HiGHS in one call."""
    import scipy.sparse as sp  # here, not at start-up (optimizer.model.arrays says why)

    check_aligned(blocks)
    shared = len(blocks[0].first)
    lower, upper, integer = _shared_bounds(blocks)
    cost_parts, lower_parts, upper_parts, integer_parts = [np.zeros(shared)], [lower], [upper], [integer]
    row_lower, row_upper, matrices, positions = [], [], [], []
    offset = shared
    for block, p in zip(blocks, probability, strict=True):
        count = block.matrix.shape[1]
        private = np.ones(count, dtype=bool)
        private[block.first] = False
        if block.integer[private].any():
            raise SolveError("a scenario's recourse has integer columns: the hedge needs them in the first stage")
        position = np.empty(count, dtype=np.int64)
        position[block.first] = np.arange(shared)
        position[private] = offset + np.arange(private.sum())
        offset += int(private.sum())
        cost_parts[0] += p * block.cost[block.first]
        cost_parts.append(p * block.cost[private])
        lower_parts.append(block.column_lower[private])
        upper_parts.append(block.column_upper[private])
        integer_parts.append(np.zeros(int(private.sum()), dtype=bool))
        row_lower.append(block.row_lower)
        row_upper.append(block.row_upper)
        matrices.append(block.matrix)
        positions.append(position)
    blocks_matrix = sp.block_diag(matrices, format="coo")
    column_map = np.concatenate(positions)
    row, column, value = blocks_matrix.row, column_map[blocks_matrix.col], blocks_matrix.data
    cost = np.concatenate(cost_parts)
    column_lower, column_upper = np.concatenate(lower_parts), np.concatenate(upper_parts)
    kinds = np.concatenate(integer_parts)
    row_low, row_up = np.concatenate(row_lower), np.concatenate(row_upper)
    num_row = len(row_low)
    eta = None
    if cvar_weight > 0:
        # Columns eta (free) and xi_s >= 0; rows xi_s + eta - cost_s . x_s >= constant_s.
        eta = offset
        xi = offset + 1 + np.arange(len(blocks))
        cost = np.concatenate([cost, [cvar_weight], cvar_weight * probability / (1 - cvar_level)])
        column_lower = np.concatenate([column_lower, [-INF], np.zeros(len(blocks))])
        column_upper = np.concatenate([column_upper, [INF], np.full(len(blocks), INF)])
        kinds = np.concatenate([kinds, np.zeros(len(blocks) + 1, dtype=bool)])
        extra_row, extra_column, extra_value = [], [], []
        for s, (block, position) in enumerate(zip(blocks, positions, strict=True)):
            used = np.flatnonzero(block.cost)
            extra_row.append(np.full(len(used) + 2, num_row + s))
            extra_column.append(np.concatenate([position[used], [eta, xi[s]]]))
            extra_value.append(np.concatenate([-block.cost[used], [1.0, 1.0]]))
        row = np.concatenate([row, *extra_row])
        column = np.concatenate([column, *extra_column])
        value = np.concatenate([value, *extra_value])
        row_low = np.concatenate([row_low, [b.constant for b in blocks]])
        row_up = np.concatenate([row_up, np.full(len(blocks), INF)])
        num_row += len(blocks)
    num_col = len(cost)
    matrix = sp.csc_matrix((value, (row, column)), shape=(num_row, num_col))
    matrix.sum_duplicates()
    scale = float(np.dot(probability, [cost_scale(b.model) for b in blocks]))
    highs = _loaded(matrix, cost, column_lower, column_upper, row_low, row_up, kinds, scale)
    return Loaded(highs, positions, shared, eta, num_col, num_row)


def solve_extensive(
    blocks: list[Block],
    probability: np.ndarray,
    cvar_weight: float = 0.0,
    cvar_level: float = 0.95,
) -> Extensive:
    """Build and solve the extensive form; each draw's cost read from its own columns."""
    started = time.perf_counter()
    loaded = load_extensive(blocks, probability, cvar_weight, cvar_level)
    built = time.perf_counter() - started
    _run(loaded.highs, "the extensive form")
    values = np.asarray(loaded.highs.getSolution().col_value)
    costs = np.array(
        [
            float(block.cost @ values[position]) + block.constant
            for block, position in zip(blocks, loaded.positions, strict=True)
        ]
    )
    return Extensive(
        first=values[: loaded.shared],
        costs=costs,
        seconds={"build": built, "solve": float(loaded.highs.getRunTime())},
        columns=loaded.columns,
        rows=loaded.rows,
    )


def cvar(costs: np.ndarray, probability: np.ndarray, level: float) -> float:
    """CVaR at ``level`` of a discrete distribution: min_eta eta + E[(cost - eta)+] / (1 - level),
    whose minimum is at an atom (the level-quantile), so the atoms are enough to search."""
    return float(min(eta + np.dot(probability, np.maximum(costs - eta, 0.0)) / (1 - level) for eta in costs))


def _loaded(
    matrix: sp.csc_matrix,
    cost: np.ndarray,
    column_lower: np.ndarray,
    column_upper: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    integer: np.ndarray,
    scale: float,
) -> highspy.Highs:
    """A HiGHS holding the problem, handed over in one call, with the tool's MIP gap."""
    highs = new_highs()
    set_mip_gap(highs, scale)
    kinds = np.where(integer, int(highspy.HighsVarType.kInteger), int(highspy.HighsVarType.kContinuous))
    status = highs.passModel(
        matrix.shape[1],
        matrix.shape[0],
        matrix.nnz,
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        cost,
        column_lower,
        column_upper,
        row_lower,
        row_upper,
        matrix.indptr.astype(np.int32),
        matrix.indices.astype(np.int32),
        matrix.data,
        kinds.astype(np.int32),
    )
    if status != highspy.HighsStatus.kOk:
        raise SolveError(f"HiGHS refused the model's arrays ({status})")
    return highs


def _run(highs: highspy.Highs, what: str, infeasible_ok: bool = False) -> bool:
    """Solve; False when infeasible and that is an answer (``infeasible_ok``), else a proven optimum or an error."""
    deadline.limit(highs)
    highs.run()
    status = highs.getModelStatus()
    infeasible = (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible)
    if status in infeasible and infeasible_ok:
        return False
    if status == highspy.HighsModelStatus.kTimeLimit:
        raise TimeLimitReached(deadline.exhausted())
    if status != highspy.HighsModelStatus.kOptimal:
        raise SolveError(
            f"HiGHS did not prove an optimum of {what} (model status: {highs.modelStatusToString(status)})"
        )
    return True


def solve_scenario(block: Block, first: np.ndarray | None = None) -> tuple[float, np.ndarray] | None:
    """A scenario's optimal cost and columns with the first stage fixed at ``first`` (an
    LP), or free (None: its hindsight optimum, a MIP when it has integer columns); None when
    the fixed first stage leaves the scenario infeasible."""
    lower, upper, integer = block.column_lower.copy(), block.column_upper.copy(), block.integer.copy()
    if first is not None:
        fixed = np.where(integer[block.first], np.round(first), first)
        lower[block.first] = fixed
        upper[block.first] = fixed
        integer[:] = False
    highs = _loaded(
        block.matrix, block.cost, lower, upper, block.row_lower, block.row_upper, integer, cost_scale(block.model)
    )
    if not _run(highs, "a scenario", infeasible_ok=first is not None):
        return None
    values = np.asarray(highs.getSolution().col_value)
    return float(block.cost @ values) + block.constant, values
