"""What can be bought in each quarter, and which (workload row, offer) pairs may serve.

These are the index sets of the LP (contract, "Formulation"): ``offer_terms`` gives one
row per (offer, horizon quarter) in which the offer is available, with its effective
price and bounds; ``allowed_pairs`` gives one row per allowed pair (w, o).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer import quarters
from optimizer.io.schema import TERM_QUARTERS
from optimizer.io.tables import Inputs, named_rows
from optimizer.tolerances import LATENCY_SLACK_MS


def offer_terms(inputs: Inputs) -> pd.DataFrame:
    """One row per (offer, quarter) of the horizon in which the offer's chips can be held.

    That is every quarter in which the offer is available (``buyable``: bought on demand,
    or a commitment can start), the later quarters a commitment started then still runs
    (1yr: 4 quarters, 3yr: 12), and quarters covered by a signed contract. Columns:
    offer, quarter, provider, region, accelerator, vendor, usd_per_chip_hour, max_chips,
    min_chips (0 where not buyable; max 0 where an on-demand offer is not buyable),
    assumed, term, term_quarters, buyable, pool, contract_chips, contract_usd_per_hour;
    ``offer_quarters.csv`` values replace the offer's.
    """
    horizon = inputs.horizon
    columns = [
        "offer",
        "quarter",
        "provider",
        "region",
        "accelerator",
        "vendor",
        "usd_per_chip_hour",
        "max_chips",
        "min_chips",
        "assumed",
        "term",
        "term_quarters",
        "buyable",
        "pool",
        "contract_chips",
        "contract_usd_per_hour",
    ]
    if not horizon or inputs.offers.empty:  # typed, so boolean masks on it stay masks
        return pd.DataFrame(columns=columns).astype(
            {
                "usd_per_chip_hour": float,
                "max_chips": float,
                "min_chips": float,
                "assumed": bool,
                "term_quarters": int,
                "buyable": bool,
                "contract_chips": float,
                "contract_usd_per_hour": float,
            }
        )
    offers = inputs.offers.merge(inputs.accelerators[["accelerator", "vendor"]], on="accelerator", how="left")
    first, last = quarters.ordinal(horizon[0]), quarters.ordinal(horizon[-1])
    offers["term_quarters"] = offers["term"].map(TERM_QUARTERS)
    start = offers["available_from"].map(lambda q: first if pd.isna(q) else quarters.ordinal(q))
    end = offers["available_until"].map(lambda q: last if pd.isna(q) else quarters.ordinal(q))
    grid = pd.DataFrame({"quarter": horizon, "_q": range(first, last + 1)})
    terms = offers.assign(_start=start, _end=end).merge(grid, how="cross")
    terms["buyable"] = (terms["_q"] >= terms["_start"]) & (terms["_q"] <= terms["_end"])
    held = (terms["_q"] >= terms["_start"]) & (terms["_q"] <= terms["_end"] + terms["term_quarters"] - 1)
    contracts = _contract_terms(inputs, terms)
    terms = terms.merge(contracts, on=["offer", "quarter"], how="left")
    terms[["contract_chips", "contract_usd_per_hour"]] = terms[["contract_chips", "contract_usd_per_hour"]].fillna(0.0)
    terms = terms[held | (terms["contract_chips"] > 0)]
    overrides = inputs.offer_quarters
    if not overrides.empty:
        terms = terms.merge(
            overrides[["offer", "quarter", "usd_per_chip_hour", "max_chips", "min_chips"]],
            on=["offer", "quarter"],
            how="left",
            suffixes=("", "_override"),
        )
        for column in ("usd_per_chip_hour", "max_chips", "min_chips"):
            override = terms.pop(f"{column}_override")
            terms[column] = override.where(override.notna(), terms[column]).astype(float)
    terms["min_chips"] = terms["min_chips"].where(terms["buyable"], 0.0)
    on_demand = terms["term"] == "on-demand"
    terms["max_chips"] = terms["max_chips"].where(terms["buyable"] | ~on_demand, 0.0)
    terms = terms.sort_values(["offer", "_q"], kind="stable")
    return terms[columns].reset_index(drop=True)


def _contract_terms(inputs: Inputs, terms: pd.DataFrame) -> pd.DataFrame:
    """Signed chips per (offer, quarter) of the horizon, and what they cost per hour."""
    empty = pd.DataFrame(columns=["offer", "quarter", "contract_chips", "contract_usd_per_hour"])
    if inputs.contracts.empty:
        return empty
    price = inputs.offers.set_index("offer")["usd_per_chip_hour"]
    overrides = {
        (r.offer, r.quarter): r.usd_per_chip_hour
        for r in named_rows(inputs.offer_quarters)
        if not pd.isna(r.usd_per_chip_hour)
    }
    horizon = set(terms["quarter"])
    rows = []
    for contract in named_rows(inputs.contracts):
        for quarter in quarters.within(contract.start, contract.end, inputs.horizon):
            if quarter not in horizon:
                continue
            rate = contract.usd_per_chip_hour
            if pd.isna(rate):
                rate = overrides.get((contract.offer, quarter), price[contract.offer])
            rows.append((contract.offer, quarter, contract.chips, contract.chips * rate))
    if not rows:
        return empty
    table = pd.DataFrame(rows, columns=empty.columns)
    return table.groupby(["offer", "quarter"], as_index=False).sum()


def commitment_starts(terms: pd.DataFrame, horizon: list[str]) -> pd.DataFrame:
    """One row per (commitment offer, quarter it can start): its price and term length.

    ``inside`` counts the term's quarters within the horizon (the rest fall after it).
    """
    starts = terms[(terms["term"] != "on-demand") & terms["buyable"]]
    last = quarters.ordinal(horizon[-1]) if horizon else 0
    ordinal = np.array([quarters.ordinal(q) for q in starts["quarter"]], dtype=np.int64)
    inside = np.minimum(starts["term_quarters"].to_numpy(dtype=np.int64), last - ordinal + 1)
    return pd.DataFrame(
        {
            "offer": starts["offer"].to_numpy(),
            "quarter": starts["quarter"].to_numpy(),
            "usd_per_chip_hour": starts["usd_per_chip_hour"].to_numpy(),
            "term_quarters": starts["term_quarters"].to_numpy(),
            "inside": inside,
        }
    )


def allowed_pairs(inputs: Inputs, terms: pd.DataFrame) -> pd.DataFrame:
    """One row per allowed (workload row, offer) pair.

    ``w`` is the workload row's position in ``inputs.workloads``. A pair is allowed when
    the model runs on the offer's accelerator, the offer is available in the row's
    quarter, latency has a row for (geography, region), and rtt + ttft <= SLO.
    """
    workloads = inputs.workloads.reset_index(drop=True)
    demand = pd.DataFrame(
        {
            "w": np.arange(len(workloads)),
            "model": workloads["model"],
            "geography": workloads["geography"],
            "quarter": workloads["quarter"],
            "latency_slo_ms": workloads["latency_slo_ms"],
        }
    )
    performance = inputs.performance[["model", "accelerator", "tokens_per_s_per_chip", "ttft_ms"]]
    pairs = demand.merge(performance, on="model")
    pairs = pairs.merge(terms[["offer", "quarter", "accelerator", "region"]], on=["quarter", "accelerator"])
    pairs = pairs.merge(inputs.latency[["geography", "region", "rtt_ms"]], on=["geography", "region"])
    within = pairs["rtt_ms"] + pairs["ttft_ms"] <= pairs["latency_slo_ms"] + LATENCY_SLACK_MS
    pairs = pairs[within & ~excluded(inputs, workloads, pairs, terms)]
    pairs = pairs.sort_values(["w", "offer"], kind="stable").reset_index(drop=True)
    return pairs[["w", "offer", "quarter", "tokens_per_s_per_chip"]]


def excluded(inputs: Inputs, workloads: pd.DataFrame, pairs: pd.DataFrame, terms: pd.DataFrame) -> np.ndarray:
    """Pairs a ``workload_rules`` exclusion forbids: the workload is named by a rule that
    excludes the offer's provider, vendor, region, offer or accelerator."""
    banned = np.zeros(len(pairs), dtype=bool)
    if not inputs.policy.workload_rules:
        return banned
    name = workloads["workload"].to_numpy()[pairs["w"].to_numpy()]
    groups = terms.drop_duplicates("offer").set_index("offer", drop=False)
    for rule in inputs.policy.workload_rules:
        named = np.isin(name, rule.workloads)
        for dimension, names in rule.exclude.items():
            banned |= named & np.isin(pairs["offer"].map(groups[dimension]).to_numpy(), names)
    return banned


def tier_terms(inputs: Inputs, terms: pd.DataFrame) -> pd.DataFrame:
    """One row per price tier of every on-demand term (of ``offer_terms``) on sale with
    price breaks in ``price_tiers.csv``: t (the term's position), tier (0 = the term's own
    price from 0 chips, then by from_chips), from_chips, next_chips (the next tier's
    from_chips; the term's max_chips for the last), usd_per_chip_hour and kind. Rows with a
    blank quarter apply in every quarter, and those naming a quarter add to them there."""
    columns = ["t", "tier", "from_chips", "next_chips", "usd_per_chip_hour", "kind"]
    tiers = inputs.price_tiers
    sold = terms[(terms["term"] == "on-demand") & terms["buyable"]].assign(t=lambda frame: frame.index.to_numpy())
    if tiers.empty or sold.empty:
        return pd.DataFrame(columns=columns).astype({"t": np.int64, "tier": np.int64})
    breaks = pd.concat(
        [
            sold[["t", "offer", "quarter"]].merge(tiers[tiers["quarter"].isna()].drop(columns="quarter"), on="offer"),
            sold[["t", "offer", "quarter"]].merge(tiers[tiers["quarter"].notna()], on=["offer", "quarter"]),
        ]
    )
    own = sold[sold["t"].isin(breaks["t"])]
    own = own[["t", "usd_per_chip_hour"]].assign(
        from_chips=0.0, kind=own["offer"].map(tiers.drop_duplicates("offer").set_index("offer")["kind"])
    )
    table = pd.concat([own, breaks[["t", "from_chips", "usd_per_chip_hour", "kind"]]], ignore_index=True)
    table = table.sort_values(["t", "from_chips"], kind="stable").reset_index(drop=True)
    table["tier"] = table.groupby("t").cumcount().astype(np.int64)
    following = table.groupby("t")["from_chips"].shift(-1)
    table["next_chips"] = following.fillna(table["t"].map(terms["max_chips"])).astype(float)
    table["t"] = table["t"].astype(np.int64)
    table["usd_per_chip_hour"] = table["usd_per_chip_hour"].astype(float)
    return table[columns]
