"""What can be bought in each quarter, and which (workload row, offer) pairs may serve.

These are the index sets of the LP (contract, "Formulation"): ``offer_terms`` gives one
row per (offer, horizon quarter) in which the offer is available, with its effective
price and bounds; ``allowed_pairs`` gives one row per allowed pair (w, o).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import quarters
from .inputs import Inputs

LATENCY_TOLERANCE_MS = 1e-9


def offer_terms(inputs: Inputs) -> pd.DataFrame:
    """One row per (offer, quarter) in the horizon where the offer is available.

    Columns: offer, quarter, provider, region, accelerator, vendor, usd_per_chip_hour,
    max_chips, min_chips, assumed; ``offer_quarters.csv`` values replace the offer's.
    """
    horizon = inputs.horizon
    columns = [
        "offer", "quarter", "provider", "region", "accelerator", "vendor",
        "usd_per_chip_hour", "max_chips", "min_chips", "assumed",
    ]
    if not horizon or inputs.offers.empty:
        return pd.DataFrame(columns=columns)
    offers = inputs.offers.merge(
        inputs.accelerators[["accelerator", "vendor"]], on="accelerator", how="left"
    )
    first, last = quarters.ordinal(horizon[0]), quarters.ordinal(horizon[-1])
    start = offers["available_from"].map(lambda q: first if pd.isna(q) else quarters.ordinal(q))
    end = offers["available_until"].map(lambda q: last if pd.isna(q) else quarters.ordinal(q))
    grid = pd.DataFrame({"quarter": horizon, "_q": range(first, last + 1)})
    terms = offers.assign(_start=start, _end=end).merge(grid, how="cross")
    terms = terms[(terms["_q"] >= terms["_start"]) & (terms["_q"] <= terms["_end"])]
    overrides = inputs.offer_quarters
    if not overrides.empty:
        terms = terms.merge(
            overrides[["offer", "quarter", "usd_per_chip_hour", "max_chips", "min_chips"]],
            on=["offer", "quarter"], how="left", suffixes=("", "_override"),
        )
        for column in ("usd_per_chip_hour", "max_chips", "min_chips"):
            override = terms.pop(f"{column}_override")
            terms[column] = override.where(override.notna(), terms[column]).astype(float)
    terms = terms.sort_values(["offer", "_q"], kind="stable")
    return terms[columns].reset_index(drop=True)


def allowed_pairs(inputs: Inputs, terms: pd.DataFrame) -> pd.DataFrame:
    """One row per allowed (workload row, offer) pair.

    ``w`` is the workload row's position in ``inputs.workloads``. A pair is allowed when
    the model runs on the offer's accelerator, the offer is available in the row's
    quarter, latency has a row for (geography, region), and rtt + ttft <= SLO.
    """
    workloads = inputs.workloads.reset_index(drop=True)
    demand = pd.DataFrame({
        "w": np.arange(len(workloads)),
        "model": workloads["model"],
        "geography": workloads["geography"],
        "quarter": workloads["quarter"],
        "latency_slo_ms": workloads["latency_slo_ms"],
    })
    performance = inputs.performance[["model", "accelerator", "tokens_per_s_per_chip", "ttft_ms"]]
    pairs = demand.merge(performance, on="model")
    pairs = pairs.merge(terms[["offer", "quarter", "accelerator", "region"]], on=["quarter", "accelerator"])
    pairs = pairs.merge(inputs.latency[["geography", "region", "rtt_ms"]], on=["geography", "region"])
    within = pairs["rtt_ms"] + pairs["ttft_ms"] <= pairs["latency_slo_ms"] + LATENCY_TOLERANCE_MS
    pairs = pairs[within].sort_values(["w", "offer"], kind="stable").reset_index(drop=True)
    return pairs[["w", "offer", "quarter", "tokens_per_s_per_chip"]]
