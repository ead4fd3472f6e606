"""Independent re-check of a plan against every constraint of the data contract.

Deliberately written apart from :mod:`optimizer.model` and :mod:`optimizer.allowed`: it
recomputes availability, overrides, allowed pairs, shares and the cost from the input
tables with pandas, and reads only the plan's own tables (allocation and purchases),
never the LP. A plan that fails here is a bug, so it is never shown or written.

Tolerance: a constraint holds when its violation is at most ``RELATIVE_TOLERANCE`` times
the magnitude of the quantities it compares (at least 1), e.g. 1e-6 x demand for a
demand row; the cost must match the solver's objective to the same relative tolerance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import VerificationError
from .inputs import Inputs
from .quarters import ordinal, quarter_range
from .schema import DIMENSIONS

RELATIVE_TOLERANCE = 1e-6


def _slack_ok(excess: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return excess <= RELATIVE_TOLERANCE * np.maximum(1.0, np.abs(scale))


def verify(inputs: Inputs, allocation: pd.DataFrame, purchases: pd.DataFrame, objective: float) -> None:
    """Raise :class:`VerificationError` listing every violated constraint, or return None.

    ``allocation``: workload, quarter, offer, tokens_per_s; ``purchases``: offer, quarter,
    chips (a missing (offer, quarter) means zero chips).
    """
    violations: list[str] = []
    policy = inputs.policy
    demand = inputs.workloads.set_index(["workload", "quarter"])
    horizon = quarter_range(*_first_last(inputs.workloads["quarter"]))
    available = _available_terms(inputs, horizon)

    allocation = allocation[["workload", "quarter", "offer", "tokens_per_s"]]
    purchases = purchases[["offer", "quarter", "chips"]]
    alloc = allocation.merge(
        inputs.workloads[["workload", "quarter", "model", "geography", "latency_slo_ms"]],
        on=["workload", "quarter"], how="left", indicator="_w",
    )
    for _, row in alloc[alloc["_w"] != "both"].iterrows():
        violations.append(f"allocation to unknown workload row ({row['workload']}, {row['quarter']})")
    alloc = alloc[alloc["_w"] == "both"].drop(columns="_w")
    negative = alloc[alloc["tokens_per_s"] < -RELATIVE_TOLERANCE]
    violations += [f"negative allocation {r.tokens_per_s} on ({r.workload}, {r.quarter}, {r.offer})"
                   for r in negative.itertuples()]

    # Only allowed pairs: performance row, availability, latency row, rtt + ttft <= SLO.
    alloc = alloc.merge(available[["offer", "quarter", "accelerator", "region", "price", "max", "min"]],
                        on=["offer", "quarter"], how="left", indicator="_o")
    for r in alloc[alloc["_o"] != "both"].itertuples():
        violations.append(f"offer {r.offer} is not available in {r.quarter} but serves {r.workload}")
    alloc = alloc[alloc["_o"] == "both"].drop(columns="_o")
    alloc = alloc.merge(inputs.performance[["model", "accelerator", "tokens_per_s_per_chip", "ttft_ms"]],
                        on=["model", "accelerator"], how="left")
    alloc = alloc.merge(inputs.latency[["geography", "region", "rtt_ms"]], on=["geography", "region"], how="left")
    for r in alloc[alloc["tokens_per_s_per_chip"].isna()].itertuples():
        violations.append(f"{r.workload} ({r.quarter}) served on {r.offer}: model {r.model} does not run on {r.accelerator}")
    for r in alloc[alloc["rtt_ms"].isna()].itertuples():
        violations.append(f"{r.workload} ({r.quarter}) served on {r.offer}: no latency from {r.geography} to {r.region}")
    late = alloc["rtt_ms"] + alloc["ttft_ms"] > alloc["latency_slo_ms"] + 1e-9
    for r in alloc[late].itertuples():
        violations.append(f"{r.workload} ({r.quarter}) served on {r.offer}: {r.rtt_ms + r.ttft_ms:g} ms > SLO {r.latency_slo_ms:g} ms")
    alloc = alloc[alloc["tokens_per_s_per_chip"].notna() & alloc["rtt_ms"].notna()]

    # Demand: served <= demand, so that u = demand - served >= 0.
    served = alloc.groupby(["workload", "quarter"])["tokens_per_s"].sum()
    served = served.reindex(demand.index, fill_value=0.0)
    over = served - demand["tokens_per_s"]
    for key in over.index[~_slack_ok(over.to_numpy(), demand["tokens_per_s"].to_numpy())]:
        violations.append(f"demand of {key[0]} in {key[1]}: served {served[key]:.6g} > demand {demand.loc[key, 'tokens_per_s']:.6g}")
    unmet = (demand["tokens_per_s"] - served).clip(lower=0.0)

    # Chips: bounds, and capacity covers the chips the allocation needs.
    chips = available.merge(purchases[["offer", "quarter", "chips"]], on=["offer", "quarter"], how="left")
    chips["chips"] = chips["chips"].fillna(0.0)
    stray = purchases.merge(available[["offer", "quarter"]], on=["offer", "quarter"], how="left", indicator="_a")
    for r in stray[(stray["_a"] != "both") & (stray["chips"] > 0)].itertuples():
        violations.append(f"chips bought on {r.offer} in {r.quarter}, where it is not available")
    for r in chips[~_slack_ok((chips["min"] - chips["chips"]).to_numpy(), chips["min"].to_numpy())].itertuples():
        violations.append(f"{r.offer} in {r.quarter}: {r.chips:.6g} chips below min_chips {r.min:g}")
    for r in chips[~_slack_ok((chips["chips"] - chips["max"]).to_numpy(), chips["max"].to_numpy())].itertuples():
        violations.append(f"{r.offer} in {r.quarter}: {r.chips:.6g} chips above max_chips {r.max:g}")
    needed = (alloc["tokens_per_s"] / alloc["tokens_per_s_per_chip"]).groupby([alloc["offer"], alloc["quarter"]]).sum()
    chips = chips.merge(needed.rename("needed").reset_index(), on=["offer", "quarter"], how="left").fillna({"needed": 0.0})
    for r in chips[~_slack_ok((chips["needed"] - chips["chips"]).to_numpy(), chips["needed"].to_numpy())].itertuples():
        violations.append(f"{r.offer} in {r.quarter}: allocation needs {r.needed:.6g} chips, only {r.chips:.6g} bought")

    # Shares per dimension, group with an available offer, and quarter.
    volume = alloc.groupby(["offer", "quarter"])["tokens_per_s"].sum().rename("volume").reset_index()
    chips = chips.merge(volume, on=["offer", "quarter"], how="left").fillna({"volume": 0.0})
    chips["spend"] = chips["price"] * chips["chips"]
    basis = "volume" if policy.share_basis == "volume" else "spend"
    chips["offer_group"] = chips["offer"]
    quarter_total = chips.groupby("quarter")[basis].sum()
    for dimension in DIMENSIONS:
        column = "offer_group" if dimension == "offer" else dimension
        grouped = chips.groupby(["quarter", column])[basis].sum()
        for (quarter, group), amount in grouped.items():
            total = quarter_total[quarter]
            cap, floor = policy.cap(dimension, group), policy.floor(dimension, group)
            if cap < 1 and not _slack_ok(np.array([amount - cap * total]), np.array([total]))[0]:
                violations.append(f"{dimension} {group} in {quarter}: share {amount / total:.6f} above cap {cap:g}")
            if floor > 0 and not _slack_ok(np.array([floor * total - amount]), np.array([total]))[0]:
                share = amount / total if total else 0.0
                violations.append(f"{dimension} {group} in {quarter}: share {share:.6f} below floor {floor:g}")

    # Cost: compute spend plus the penalty on unserved demand equals the objective.
    cost = float((chips["price"] * chips["chips"]).sum() * policy.hours_per_quarter)
    cost += float(unmet.sum() * policy.unmet_penalty_usd_per_mtok * policy.hours_per_quarter * 3600 / 1e6)
    if abs(cost - objective) > RELATIVE_TOLERANCE * max(1.0, abs(objective)):
        violations.append(f"recomputed cost {cost:.2f} USD differs from the solver's objective {objective:.2f} USD")
    if violations:
        raise VerificationError(violations)


def _first_last(labels: pd.Series) -> tuple[str, str]:
    ordered = sorted(labels, key=ordinal)
    return ordered[0], ordered[-1]


def _available_terms(inputs: Inputs, horizon: list[str]) -> pd.DataFrame:
    """Offer x quarter rows where the offer is available, with effective price and bounds."""
    rows = []
    vendor = inputs.accelerators.set_index("accelerator")["vendor"]
    overrides = {
        (r.offer, r.quarter): r for r in inputs.offer_quarters.itertuples(index=False)
    }
    for offer in inputs.offers.itertuples(index=False):
        start = horizon[0] if pd.isna(offer.available_from) else offer.available_from
        end = horizon[-1] if pd.isna(offer.available_until) else offer.available_until
        for quarter in horizon:
            if not ordinal(start) <= ordinal(quarter) <= ordinal(end):
                continue
            price, high, low = offer.usd_per_chip_hour, offer.max_chips, offer.min_chips
            override = overrides.get((offer.offer, quarter))
            if override is not None:
                price = price if pd.isna(override.usd_per_chip_hour) else override.usd_per_chip_hour
                high = high if pd.isna(override.max_chips) else override.max_chips
                low = low if pd.isna(override.min_chips) else override.min_chips
            rows.append((offer.offer, quarter, offer.provider, offer.region, offer.accelerator,
                         vendor[offer.accelerator], price, high, low))
    return pd.DataFrame(rows, columns=["offer", "quarter", "provider", "region", "accelerator",
                                       "vendor", "price", "max", "min"])
