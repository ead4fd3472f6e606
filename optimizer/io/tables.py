"""The validated inputs of one plan: typed tables and the policy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer import quarters
from optimizer.io.schema import Policy

TABLES = (
    "accelerators",
    "offers",
    "offer_quarters",
    "performance",
    "workloads",
    "latency",
    "contracts",
    "spend_commitments",
    "power",
)
ORIGIN_COLUMNS = ["_file", "_line"]


@dataclass(frozen=True)
class Inputs:
    """Validated input tables, one row per CSV record, in file order.

    Every table keeps two trailing columns, ``_file`` and ``_line``, naming where the
    row came from (a data file or a scenario file), so later checks can point at it.
    Blank optional cells are None/NaN: ``available_from``/``available_until`` left
    blank mean the horizon's first/last quarter.
    """

    accelerators: pd.DataFrame
    offers: pd.DataFrame
    offer_quarters: pd.DataFrame
    performance: pd.DataFrame
    workloads: pd.DataFrame
    latency: pd.DataFrame
    contracts: pd.DataFrame
    spend_commitments: pd.DataFrame
    power: pd.DataFrame
    policy: Policy
    folder: Path | None = None
    warnings: list[str] = field(default_factory=list)
    policy_origins: dict = field(default_factory=dict, repr=False)  # (file, line) of each policy key

    @property
    def horizon(self) -> list[str]:
        """Every quarter from the first to the last quarter of demand, gaps included."""
        if self.workloads.empty:
            return []
        ordinals = self.workloads["quarter"].map(quarters.ordinal)
        return quarters.quarter_range(quarters.label(int(ordinals.min())), quarters.label(int(ordinals.max())))

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def canonical(self) -> Inputs:
        """The same inputs with every table's rows in one order fixed by their content.

        The LP's columns and rows follow the tables' row order, and when several plans
        are optimal the solver's choice among them can follow that order too; planning the
        canonical order makes the plan, and every output file, independent of how the
        input files happen to be sorted.
        """
        tables: dict[str, Any] = {name: _content_sorted(self.table(name)) for name in TABLES}
        return replace(self, **tables)


def named_rows(table: pd.DataFrame) -> Iterator[Any]:
    """``table.itertuples(index=False)``, for loops that compute with the fields.

    pandas-stubs types every field as the union of all pandas scalars (text, dates,
    intervals...), which no arithmetic or typed call accepts; what a column holds is set
    where its table is read (``schema.py``) or built, not by the stubs.
    """
    return table.itertuples(index=False)


def _content_sorted(table: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by the text of every content column (origin columns left out), left to right."""
    content = [column for column in table.columns if column not in ORIGIN_COLUMNS]
    if len(table) < 2 or not content:
        return table
    keys = [np.array([str(value) for value in table[column]]) for column in reversed(content)]
    return table.iloc[np.lexsort(keys)].reset_index(drop=True)
