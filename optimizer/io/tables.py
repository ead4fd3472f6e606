"""The validated inputs of one plan: typed tables and the policy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import AfterValidator, BaseModel

from optimizer import quarters
from optimizer.errors import Problem
from optimizer.io.schema import (
    AcceleratorRow,
    ContractRow,
    FleetRow,
    LatencyRow,
    OfferQuarterRow,
    OfferRow,
    PerformanceRow,
    Policy,
    PowerRow,
    PriceTierRow,
    SpendCommitmentRow,
    SpendDiscountRow,
    WorkloadRow,
)


@dataclass(frozen=True)
class TableSpec:
    """One input table: its CSV file, the model of its rows and the key no two rows may share."""

    name: str
    row: type[BaseModel]
    key: tuple[str, ...]  # empty: rows may repeat
    optional: bool = False  # the file may be absent: the table is then empty

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    @property
    def columns(self) -> list[str]:
        return list(self.row.model_fields)

    @property
    def required_columns(self) -> list[str]:
        return [name for name, f in self.row.model_fields.items() if f.is_required()]


# The one list of input tables: the loader reads these files, Inputs holds these tables,
# scenarios and sweeps may change any of them.
TABLES = (
    TableSpec("accelerators", AcceleratorRow, ("accelerator",)),
    TableSpec("offers", OfferRow, ("offer",)),
    TableSpec("offer_quarters", OfferQuarterRow, ("offer", "quarter"), optional=True),
    TableSpec("performance", PerformanceRow, ("model", "accelerator")),
    TableSpec("workloads", WorkloadRow, ("workload", "quarter")),
    TableSpec("latency", LatencyRow, ("geography", "region")),
    TableSpec("contracts", ContractRow, (), optional=True),
    TableSpec("spend_commitments", SpendCommitmentRow, (), optional=True),
    TableSpec("power", PowerRow, (), optional=True),
    TableSpec("fleet", FleetRow, ("offer", "model"), optional=True),
    TableSpec("price_tiers", PriceTierRow, ("offer", "quarter", "from_chips"), optional=True),
    TableSpec("spend_discounts", SpendDiscountRow, ("provider", "first", "last", "from_usd"), optional=True),
)
SPECS = {spec.name: spec for spec in TABLES}
ORIGIN_COLUMNS = ["_file", "_line"]


def _input_table(name: str) -> str:
    if name not in SPECS:
        raise ValueError(f"expected an input table: {', '.join(SPECS)}")
    return name


# A table name in a scenario change or sweep parameter, checked against TABLES.
TableName = Annotated[str, AfterValidator(_input_table)]


@dataclass(frozen=True)
class Inputs:
    """Validated input tables, one row per CSV record, in file order.

    One DataFrame per entry of :data:`TABLES`, in its order (typed fields, so the rest of
    the code reads ``inputs.offers``; ``tests/test_loading.py`` keeps them in step). Every
    table keeps two trailing columns, ``_file`` and ``_line``, naming where the row came
    from (a data file or a scenario file), so later checks can point at it.
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
    fleet: pd.DataFrame
    price_tiers: pd.DataFrame
    spend_discounts: pd.DataFrame
    policy: Policy
    folder: Path | None = None
    warnings: list[Problem] = field(default_factory=list)
    policy_origins: dict = field(default_factory=dict, repr=False)  # (file, line) of each policy key

    def unserved_usd_per_token_s(self) -> np.ndarray:
        """What one token/s of each workload row left unserved for its quarter costs, in the
        row order of ``workloads``: the revenue it would have earned (revenue_usd_per_mtok
        x utilization x the Mtok a token/s serves in a quarter) where a revenue is given,
        else the policy's penalty P. Minimising cost plus lost revenue is maximising margin."""
        revenue = self.revenue_per_mtok()
        if not len(revenue):
            return np.zeros(0)
        utilization = self.workloads["utilization"].to_numpy(dtype=float)
        lost = revenue * quarters.mtok_per_quarter(utilization, self.policy.hours_per_quarter)
        return np.where(np.isnan(revenue), self.policy.penalty_usd_per_token_s, lost)

    def revenue_per_mtok(self) -> np.ndarray:
        """Each workload row's revenue per million tokens (NaN: the row gives none)."""
        if "revenue_usd_per_mtok" not in self.workloads:
            return np.full(len(self.workloads), np.nan)
        return self.workloads["revenue_usd_per_mtok"].to_numpy(dtype=float)

    def discount(self, ordinals: np.ndarray) -> np.ndarray:
        """What one dollar paid at the start of each quarter (``quarters.ordinal``) is worth at
        the start of the horizon: (1 + r) ** (-k / 4), k quarters after its first quarter, r the
        policy's ``discount_rate_per_year``. Quarters after the horizon (commitments running
        on) are discounted the same way. Ones without a rate: every figure stays nominal."""
        ordinals = np.asarray(ordinals, dtype=float)
        rate = self.policy.discount_rate_per_year
        if rate is None or not self.horizon:
            return np.ones(len(ordinals))
        first = quarters.ordinal(self.horizon[0])
        return (1.0 + rate) ** (-(ordinals - first) / 4.0)

    def discount_of(self, labels) -> np.ndarray:
        """``discount`` for quarter labels."""
        labels = pd.Series(np.asarray(labels, dtype=object))
        known = {q: quarters.ordinal(q) for q in labels.unique()}
        return self.discount(labels.map(known).to_numpy(dtype=float))

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
        tables: dict[str, Any] = {spec.name: _content_sorted(self.table(spec.name)) for spec in TABLES}
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
