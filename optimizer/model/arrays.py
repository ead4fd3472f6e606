"""The LP as arrays: the model's families add blocks of columns and rows, HiGHS gets one matrix.

Creating one solver object per column and row (PuLP) cost more than HiGHS's own solve on
large instances (issue 14); here a family adds a whole block at once as numpy arrays:

- a column block: its name (``x``), count, bounds, objective costs and integrality; it
  returns the block's column positions;
- a row block: its family, a table of domain keys (one row per constraint), coefficient
  triplets (row offset in the block, column, value) and row bounds; the key table is
  kept in ``rows[family]`` with each row's position in a ``row`` column; entries marked
  as prices are kept as ``price_links`` (row, column, coefficient), so a what-if on a
  price can move them too.

``pass_to`` hands HiGHS the whole LP column-wise (CSC) in one call, and ``highs_lp``
emits it as one ``HighsLp``, with the columns in the order the blocks were added; entries
repeated on one (row, column) are summed, as the maths of a row says. The summed matrix
is kept (``csc``) in place of the blocks' triplets, so later readers (the certificate,
``price_links``) use the builder's arrays without a second copy. Positions are the only
identity of a column or row: ``named_lp`` gives simple position names (``x0``,
``demand5``) for writing the model as an MPS or LP file.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import pandas as pd

INF = highspy.kHighsInf


@dataclass(frozen=True)
class ColumnBlock:
    """Columns ``first`` .. ``first + count - 1``, named ``name`` + their offset in the block."""

    name: str
    first: int
    count: int


@dataclass(frozen=True)
class RowBlock:
    """Rows ``first`` .. ``first + count - 1`` of one family (a family may have several blocks)."""

    family: str
    first: int
    count: int


@dataclass(frozen=True)
class Csc:
    """The constraint matrix column-wise: column j's entries are ``start[j]:start[j + 1]``
    of ``index`` (rows) and ``value``; ``priced`` marks the entries that are prices."""

    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    priced: np.ndarray


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """sum(a * b) by numpy's pairwise summation, not BLAS. OpenBLAS splits a dot product of
    more than about 8,000 terms over threads; beside HiGHS's worker threads on two cores one
    such call took 8 ms instead of 30 us, more than the warm re-solve whose cost it priced
    (10,732 columns, measured in ``WhatIf``)."""
    return float(np.multiply(a, b).sum())


def _spread(value, count: int) -> np.ndarray:
    """A scalar or an array as a float array of ``count`` values."""
    array = np.asarray(value, dtype=float)
    return np.broadcast_to(array, (count,)).copy() if array.ndim == 0 else array.reshape(count).copy()


class LpArrays:
    """Blocks of columns and rows, and the key tables mapping rows to domain keys."""

    def __init__(self) -> None:
        self.column_blocks: list[ColumnBlock] = []
        self.row_blocks: list[RowBlock] = []
        self.rows: dict[str, pd.DataFrame] = {}
        self.num_col = 0
        self.num_row = 0
        self._col_lower: list[np.ndarray] = []
        self._col_upper: list[np.ndarray] = []
        self._col_cost: list[np.ndarray] = []
        self._col_integer: list[np.ndarray] = []
        self._row_lower: list[np.ndarray] = []
        self._row_upper: list[np.ndarray] = []
        self._entry_row: list[np.ndarray] = []  # triplets added since the matrix was last summed
        self._entry_column: list[np.ndarray] = []
        self._entry_value: list[np.ndarray] = []
        self._entry_price: list[np.ndarray] = []
        self._csc = Csc(np.zeros(1, np.int32), np.empty(0, np.int32), np.empty(0), np.empty(0, bool))

    def add_columns(self, name: str, count: int, lower=0.0, upper=INF, cost=0.0, integer: bool = False) -> np.ndarray:
        """A block of ``count`` columns; ``lower``, ``upper`` and ``cost`` are scalars or arrays."""
        if any(block.name == name for block in self.column_blocks):
            raise ValueError(f"column block {name!r} added twice")
        first = self.num_col
        self.column_blocks.append(ColumnBlock(name, first, count))
        self._col_lower.append(_spread(lower, count))
        self._col_upper.append(_spread(upper, count))
        self._col_cost.append(_spread(cost, count))
        self._col_integer.append(np.full(count, integer, dtype=bool))
        self.num_col += count
        return np.arange(first, first + count, dtype=np.int64)

    def add_rows(
        self,
        family: str,
        keys: pd.DataFrame,
        row: np.ndarray,
        column: np.ndarray,
        value: np.ndarray,
        lower,
        upper,
        price: np.ndarray | None = None,
    ) -> np.ndarray:
        """A block of ``len(keys)`` rows ``lower <= sum value * column <= upper``; returns their positions.

        ``row`` is each entry's offset in the block (0 .. len(keys) - 1); ``price`` marks
        the entries that are prices (spend rows).
        """
        count = len(keys)
        row = np.asarray(row, dtype=np.int64)
        column = np.asarray(column, dtype=np.int64)
        value = np.asarray(value, dtype=float)
        price = np.zeros(len(row), dtype=bool) if price is None else np.asarray(price, dtype=bool)
        if not len(row) == len(column) == len(value) == len(price):
            raise ValueError(f"{family}: triplets of different lengths")
        if len(row) and (row.min() < 0 or row.max() >= count or column.min() < 0 or column.max() >= self.num_col):
            raise ValueError(f"{family}: an entry outside the block's rows or the columns added so far")
        first = self.num_row
        self.row_blocks.append(RowBlock(family, first, count))
        self._row_lower.append(_spread(lower, count))
        self._row_upper.append(_spread(upper, count))
        self._entry_row.append(row + first)
        self._entry_column.append(column)
        self._entry_value.append(value)
        self._entry_price.append(price)
        self.num_row += count
        positions = np.arange(first, first + count, dtype=np.int64)
        keys = keys.reset_index(drop=True).assign(row=positions)
        self.rows[family] = pd.concat([self.rows[family], keys], ignore_index=True) if family in self.rows else keys
        return positions

    @property
    def csc(self) -> Csc:
        """The summed matrix, column-wise, over every block added so far.

        The triplets of new blocks are folded into it on first use and then dropped, so
        the builder holds one copy of the matrix, with one entry per (row, column).
        """
        if self._entry_row or len(self._csc.start) != self.num_col + 1:
            import scipy.sparse as sp  # here, not at start-up: importing it costs every command 75 ms

            summed = self._csc
            column = np.concatenate(
                [np.repeat(np.arange(len(summed.start) - 1), np.diff(summed.start)), *self._entry_column]
            )
            row = np.concatenate([summed.index, *self._entry_row])
            shape = (self.num_row, self.num_col)
            values = sp.csc_matrix((np.concatenate([summed.value, *self._entry_value]), (row, column)), shape=shape)
            values.sum_duplicates()  # canonical: rows sorted within each column, one entry per (row, column)
            price = np.concatenate([summed.priced, *self._entry_price])
            priced = np.zeros(values.nnz, dtype=bool)
            if price.any():  # the same pattern, so the same canonical order of entries
                flags = sp.csc_matrix((price.astype(float), (row, column)), shape=shape)
                flags.sum_duplicates()
                priced = flags.data > 0
            self._csc = Csc(values.indptr.astype(np.int32), values.indices.astype(np.int32), values.data, priced)
            self._entry_row, self._entry_column, self._entry_value, self._entry_price = [], [], [], []
        return self._csc

    @property
    def cost(self) -> np.ndarray:
        return np.concatenate([np.empty(0), *self._col_cost])

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Column lower and upper bounds, then row lower and upper bounds."""
        return tuple(
            np.concatenate([np.empty(0), *parts])  # type: ignore[return-value]
            for parts in (self._col_lower, self._col_upper, self._row_lower, self._row_upper)
        )

    @property
    def price_links(self) -> list[tuple[int, int, float]]:
        """(row, column, coefficient) of every price entry, repeated entries summed."""
        matrix = self.csc
        column = np.repeat(np.arange(self.num_col), np.diff(matrix.start))[matrix.priced]
        return [
            (int(r), int(c), float(v))
            for r, c, v in zip(matrix.index[matrix.priced], column, matrix.value[matrix.priced], strict=True)
        ]

    def highs_lp(self) -> highspy.HighsLp:
        """The whole LP, column-wise, with integrality only when some column is integer."""
        matrix = self.csc
        lp = highspy.HighsLp()
        lp.num_col_ = self.num_col
        lp.num_row_ = self.num_row
        lp.col_cost_ = self.cost
        lp.col_lower_, lp.col_upper_, lp.row_lower_, lp.row_upper_ = self.bounds
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.start
        lp.a_matrix_.index_ = matrix.index
        lp.a_matrix_.value_ = matrix.value
        integer = self.integer
        if integer.any():
            kinds = [highspy.HighsVarType.kContinuous] * self.num_col
            for i in np.flatnonzero(integer):
                kinds[i] = highspy.HighsVarType.kInteger
            lp.integrality_ = kinds
        return lp

    def pass_to(self, highs: highspy.Highs) -> None:
        """Hand the whole LP to ``highs`` in one call, straight from the arrays.

        ``passModel`` with the arrays themselves; building a ``HighsLp`` first copies each
        array into it element by element (60 ms against 7 ms at 1e5 pairs).
        """
        matrix = self.csc
        column_lower, column_upper, row_lower, row_upper = self.bounds
        kinds = np.where(self.integer, int(highspy.HighsVarType.kInteger), int(highspy.HighsVarType.kContinuous))
        status = highs.passModel(
            self.num_col,
            self.num_row,
            len(matrix.value),
            int(highspy.MatrixFormat.kColwise),
            int(highspy.ObjSense.kMinimize),
            0.0,
            self.cost,
            column_lower,
            column_upper,
            row_lower,
            row_upper,
            matrix.start,
            matrix.index,
            matrix.value,
            kinds.astype(np.int32),
        )
        if status != highspy.HighsStatus.kOk:
            raise ValueError(f"HiGHS refused the model's arrays ({status})")

    @property
    def integer(self) -> np.ndarray:
        return np.concatenate([np.empty(0, bool), *self._col_integer])

    def names(self) -> tuple[list[str], list[str]]:
        """Position names of the columns (block name + offset) and rows (family + position)."""
        columns = [f"{block.name}{k}" for block in self.column_blocks for k in range(block.count)]
        rows = [f"{block.family}{block.first + k}" for block in self.row_blocks for k in range(block.count)]
        return columns, rows

    def named_lp(self) -> tuple[highspy.HighsLp, list[str], list[str]]:
        """``highs_lp`` with position names set, for writing the model as an MPS or LP file."""
        lp = self.highs_lp()
        columns, rows = self.names()
        lp.col_names_ = columns
        lp.row_names_ = rows
        return lp, columns, rows
