"""One scenario's LP as a block of the extensive form: its first-stage columns named, its
delivery applied.

First stage (chosen now, shared by every scenario): commitment starts ``c`` (1yr/3yr
terms), price tiers reached ``tier_b``, ports started ``z`` and spend-discount levels
signed ``discount_z``; everything else (on-demand chips, allocation, unmet demand,
shortfalls) is recourse, one copy per scenario. Every integer column is first stage, so
with the first stage fixed a scenario is an LP.

Delivery (docs/data-contract.md, "Two-stage plans"): in a scenario where offer o delivers
a fraction f[o,q] of what was planned in quarter q (0 while it is late), a signed chip
delivers f[o,q] chips and only delivered chip-quarters are paid. The scenario's inputs
already hold max_chips and min_chips x f; here the commitment rows become
y[o,q] = f[o,q] x sum of the c running in q, and each c's cost loses
price x H x d(q) x (1 - f[o,q]) for every quarter q of the horizon it runs undelivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from optimizer.io.allowed import offer_terms
from optimizer.io.tables import Inputs
from optimizer.model.builder import LpModel, build

if TYPE_CHECKING:
    import scipy.sparse as sp

FIRST_STAGE = ("c", "tier_b", "z", "discount_z")


@dataclass
class Block:
    """A scenario's LP (minimise cost @ x + constant over the bounds), delivery applied."""

    model: LpModel
    matrix: sp.csc_matrix
    cost: np.ndarray
    constant: float
    column_lower: np.ndarray
    column_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    integer: np.ndarray
    first: np.ndarray  # positions of the first-stage columns, in FIRST_STAGE order
    delivered: np.ndarray  # f per term (model.terms order)

    @property
    def revenue(self) -> float | None:
        """Present value of the revenue of all demand, served: margin = revenue - cost (None
        when a workload row has no revenue, as the plan's margin is then blank)."""
        inputs = self.model.inputs
        if np.isnan(inputs.revenue_per_mtok()).any() or not len(inputs.revenue_per_mtok()):
            return None
        demand = self.model.workloads["tokens_per_s"].to_numpy(dtype=float)
        worth = inputs.unserved_usd_per_token_s() * inputs.discount_of(self.model.workloads["quarter"])
        return float((worth * demand).sum())


def first_stage_columns(model: LpModel) -> np.ndarray:
    return np.concatenate([np.asarray(getattr(model, name), dtype=np.int64) for name in FIRST_STAGE])


def first_stage_keys(model: LpModel) -> pd.DataFrame:
    """What each first-stage column is, in ``first_stage_columns`` order: decision, offer
    (the port's model and accelerator for a port), quarter, and the tier or level."""
    starts = model.starts
    commitments = pd.DataFrame(
        {"decision": "commitment", "offer": starts["offer"], "quarter": starts["quarter"], "detail": ""}
    )
    tiers = model.tiers
    tier_rows = pd.DataFrame(
        {
            "decision": "price tier",
            "offer": model.terms["offer"].to_numpy()[tiers["t"].to_numpy(dtype=np.int64)] if len(tiers) else [],
            "quarter": model.terms["quarter"].to_numpy()[tiers["t"].to_numpy(dtype=np.int64)] if len(tiers) else [],
            "detail": [
                f"tier {k} (from {c:,.0f} chips)" for k, c in zip(tiers["tier"], tiers["from_chips"], strict=True)
            ],
        }
    )
    ports = model.ports
    port_rows = pd.DataFrame(
        {
            "decision": "port",
            "offer": [
                f"{ports['model'].iat[p]} to {ports['accelerator'].iat[p]}" for p in model.port_starts.get("port", [])
            ],
            "quarter": list(model.port_starts.get("quarter", [])),
            "detail": "",
        }
    )
    levels = model.discounts
    level_rows = pd.DataFrame(
        {
            "decision": "spend discount",
            "offer": list(levels.get("provider", [])),
            "quarter": [f"{a}-{b}" for a, b in zip(levels.get("first", []), levels.get("last", []), strict=True)],
            "detail": [
                f"{d:.0%} from {usd:,.0f} USD"
                for d, usd in zip(levels.get("discount", []), levels.get("from_usd", []), strict=True)
            ],
        }
    )
    return pd.concat([commitments, tier_rows, port_rows, level_rows], ignore_index=True)


def delivered_fraction(model: LpModel, signed: Inputs) -> np.ndarray:
    """f per term: the scenario's max_chips over the signed inputs' (1 where the latter is 0)."""
    planned = offer_terms(signed)["max_chips"].to_numpy(dtype=float)
    arrived = model.terms["max_chips"].to_numpy(dtype=float)
    if len(planned) != len(arrived):
        raise ValueError("a delivery entry changed which offers are on sale: only chip counts may change")
    return np.where(planned > 0, arrived / np.where(planned > 0, planned, 1.0), 1.0)


def scenario_block(inputs: Inputs, signed: Inputs | None = None) -> Block:
    """The block of a scenario whose ``inputs`` hold its delivery; ``signed`` the same
    scenario before delivery (None: everything arrives as planned)."""
    import scipy.sparse as sp  # here, not at start-up (optimizer.model.arrays says why)

    model = build(inputs.canonical())  # as the planner builds it: the same columns in the same order
    lp = model.lp
    csc = lp.csc
    matrix = sp.csc_matrix((csc.value.copy(), csc.index, csc.start), shape=(lp.num_row, lp.num_col))
    cost = lp.cost.copy()
    delivered = np.ones(len(model.terms)) if signed is None else delivered_fraction(model, signed.canonical())
    short = delivered < 1.0
    if short.any() and "commitment" in model.rows and len(model.c):
        _deliver(model, matrix, cost, delivered)
    column_lower, column_upper, row_lower, row_upper = lp.bounds
    return Block(
        model,
        matrix,
        cost,
        model.objective_constant,
        column_lower,
        column_upper,
        row_lower,
        row_upper,
        lp.integer,
        first_stage_columns(model),
        delivered,
    )


def _deliver(model: LpModel, matrix: sp.csc_matrix, cost: np.ndarray, delivered: np.ndarray) -> None:
    """Commitment rows y = f x sum c; each c's cost less its undelivered chip-quarters'."""
    rows = model.rows["commitment"]
    row_f = pd.Series(delivered[rows["t"].to_numpy(dtype=np.int64)], index=rows["row"].to_numpy())
    for column in model.c:
        lo, hi = matrix.indptr[column], matrix.indptr[column + 1]
        entries = matrix.indices[lo:hi]
        inside = np.isin(entries, row_f.index)
        matrix.data[lo:hi][inside] *= row_f.reindex(entries[inside]).to_numpy()
    inputs = model.inputs
    hours = inputs.policy.hours_per_quarter
    price = model.starts["usd_per_chip_hour"].to_numpy(dtype=float)
    worth = inputs.discount_of(model.terms["quarter"])
    for t, running in model.running.items():
        if delivered[t] < 1.0:
            for s in running:
                cost[model.c[s]] -= price[s] * hours * worth[t] * (1.0 - delivered[t])
