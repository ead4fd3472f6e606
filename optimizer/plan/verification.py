"""Independent re-check of a plan against every constraint of the data contract.

Deliberately written apart from :mod:`optimizer.model.builder` and :mod:`optimizer.io.allowed`: it
recomputes availability, overrides, commitment terms, contracts, allowed pairs, shares,
spend and the cost from the input tables with pandas, and reads only the plan's own
tables (allocation, purchases, commitments), never the LP. A plan that fails here is a
bug, so it is never shown or written.

Tolerance: a constraint holds when its violation is at most ``VERIFY_RELATIVE`` times
the magnitude of the quantities it compares (at least 1), e.g. 1e-6 x demand for a
demand row; the cost must match the solver's objective to the same relative tolerance.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from optimizer.errors import VerificationError
from optimizer.io.schema import DIMENSIONS
from optimizer.io.tables import Inputs, named_rows
from optimizer.quarters import label, mtok_per_quarter, ordinal, period_length, quarter_range, within
from optimizer.tolerances import INTEGRALITY, LATENCY_SLACK_MS, VERIFY_RELATIVE

TERM_LENGTH = {"on-demand": 1, "1yr": 4, "3yr": 12}


def _slack_ok(excess: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return excess <= VERIFY_RELATIVE * np.maximum(1.0, np.abs(scale))


def verify(
    inputs: Inputs,
    allocation: pd.DataFrame,
    purchases: pd.DataFrame,
    objective: float,
    commitments: pd.DataFrame | None = None,
    ports: pd.DataFrame | None = None,
    recourse: pd.DataFrame | None = None,
    integer: bool = False,
) -> None:
    """Raise :class:`VerificationError` listing every violated constraint, or return None.

    ``allocation``: workload, quarter, offer, tokens_per_s; ``purchases``: offer, quarter,
    chips held (a missing (offer, quarter) means zero chips); ``commitments``: offer,
    start_quarter, chips; ``ports``: model, accelerator, port_quarter (ports started);
    ``recourse``: outage, workload, quarter, offer, tokens_per_s (the re-allocation held
    ready for each outage); ``integer``: chips come in whole instances.
    """
    violations: list[str] = []
    policy = inputs.policy
    hours = policy.hours_per_quarter
    demand = inputs.workloads.set_index(["workload", "quarter"])
    horizon = quarter_range(*_first_last(inputs.workloads["quarter"]))
    held = _held_terms(inputs, horizon)
    commitments = (
        commitments if commitments is not None else pd.DataFrame(columns=["offer", "start_quarter", "chips"])
    )[["offer", "start_quarter", "chips"]]
    ports = (ports if ports is not None else pd.DataFrame(columns=["model", "accelerator", "port_quarter"]))[
        ["model", "accelerator", "port_quarter"]
    ]
    ready = _port_checks(inputs, ports, violations)

    alloc = _allowed(inputs, held, allocation[["workload", "quarter", "offer", "tokens_per_s"]], ready, violations, "")
    served = alloc.groupby(["workload", "quarter"])["tokens_per_s"].sum().reindex(demand.index, fill_value=0.0)
    over = served - demand["tokens_per_s"]
    for key in over.index[~_slack_ok(over.to_numpy(), demand["tokens_per_s"].to_numpy())]:
        violations.append(
            f"demand of {key[0]} in {key[1]}: served {served[key]:.6g} > demand {demand.loc[key, 'tokens_per_s']:.6g}"
        )
    unmet = (demand["tokens_per_s"] - served).clip(lower=0.0)
    _workload_rule_checks(inputs, alloc, violations)

    # Chips held: bounds, commitments behind committed chips, capacity, pools, instances, power.
    chips = held.merge(purchases[["offer", "quarter", "chips"]], on=["offer", "quarter"], how="left")
    chips["chips"] = chips["chips"].fillna(0.0)
    stray = purchases.merge(held[["offer", "quarter"]], on=["offer", "quarter"], how="left", indicator="_a")
    for r in stray[(stray["_a"] != "both") & (stray["chips"] > 0)].itertuples():
        violations.append(f"chips held on {r.offer} in {r.quarter}, where it can hold none")
    for r in chips[~_slack_ok((chips["min"] - chips["chips"]).to_numpy(), chips["min"].to_numpy())].itertuples():
        violations.append(f"{r.offer} in {r.quarter}: {r.chips:.6g} chips below min_chips {r.min:g}")
    for r in chips[~_slack_ok((chips["chips"] - chips["max"]).to_numpy(), chips["max"].to_numpy())].itertuples():
        violations.append(f"{r.offer} in {r.quarter}: {r.chips:.6g} chips above max_chips {r.max:g}")
    worth = _worth(policy.discount_rate_per_year, ordinal(horizon[0]))
    chips, payments, starts_cost = _commitment_checks(inputs, chips, commitments, horizon, worth, violations)
    _capacity_checks(chips, alloc, violations, "")
    _pool_checks(inputs, chips, violations)
    if integer:
        _instance_checks(inputs, chips, commitments, violations)
    _power_checks(inputs, chips, violations)

    # Spend in each (offer, quarter): on demand, running commitments, signed contracts.
    chips["spend"] = payments + chips["contract_usd"] * hours
    volume = alloc.groupby(["offer", "quarter"])["tokens_per_s"].sum().rename("volume").reset_index()
    chips = chips.merge(volume, on=["offer", "quarter"], how="left").fillna({"volume": 0.0})
    chips["power"] = (chips["chips"] + chips["contract"]) * _kw(inputs, chips)
    for basis in policy.share_bases():
        _share_checks(policy, basis, chips, hours, violations)
    _ramp_checks(inputs, chips, horizon, violations)
    moving = _moving_checks(inputs, alloc, horizon, worth, violations)
    shortfall = _spend_commitment_checks(inputs, chips, horizon, worth)
    rebate = _spend_discount_value(inputs, chips, horizon, worth)
    for quarter in horizon:
        budget = policy.budget(quarter)
        paid = float(chips.loc[chips["quarter"] == quarter, "spend"].sum())
        if budget is not None and not _slack_ok(np.array([paid - budget]), np.array([budget]))[0]:
            violations.append(f"{quarter}: spend {paid:,.2f} USD above the budget {budget:,.2f}")
    _resilience_checks(inputs, held, chips, recourse, ready, violations)

    # Cost: what the objective counts equals the solver's objective, each payment valued at
    # the start of the quarter it is paid in (worth is 1 without a discount rate).
    at = chips["quarter"].map(lambda q: worth(ordinal(q))).to_numpy(dtype=float)
    on_demand = float((payments * at)[(chips["term"] == "on-demand").to_numpy()].sum())
    ported = ports.merge(inputs.performance, on=["model", "accelerator"])
    port_cost = sum(row.port_usd * worth(ordinal(row.port_quarter)) for row in named_rows(ported))
    contracts = float((chips["contract_usd"] * hours * at).sum())
    cost = on_demand + starts_cost + contracts + shortfall + port_cost + moving - rebate
    # Unserved capacity is charged the revenue its delivered tokens (x utilization) would earn,
    # or the penalty where no revenue is given.
    revenue = demand["revenue_usd_per_mtok"].astype(float)
    per_mtok = revenue.mul(demand["utilization"]).fillna(policy.unmet_penalty_usd_per_mtok)
    unmet_at = [worth(ordinal(q)) for q in unmet.index.get_level_values("quarter")]
    cost += float((per_mtok * mtok_per_quarter(unmet, hours) * unmet_at).sum())
    if abs(cost - objective) > VERIFY_RELATIVE * max(1.0, abs(objective)):
        violations.append(f"recomputed cost {cost:.2f} USD differs from the solver's objective {objective:.2f} USD")
    if violations:
        raise VerificationError(violations)


def _allowed(
    inputs: Inputs, held: pd.DataFrame, allocation: pd.DataFrame, ready: dict, violations: list[str], label: str
) -> pd.DataFrame:
    """Rows of an allocation on allowed pairs only, with their throughput; violations named.

    Allowed: the model runs on the chip, the offer holds chips that quarter, a latency row
    exists and rtt + ttft <= SLO, and a pair that needs porting is ported by then.
    """
    alloc = allocation.merge(
        inputs.workloads[["workload", "quarter", "model", "geography", "latency_slo_ms"]].assign(
            _demand=inputs.workloads["tokens_per_s"]
        ),
        on=["workload", "quarter"],
        how="left",
        indicator="_w",
    )
    for _, row in alloc[alloc["_w"] != "both"].iterrows():
        violations.append(f"{label}allocation to unknown workload row ({row['workload']}, {row['quarter']})")
    alloc = alloc[alloc["_w"] == "both"].drop(columns="_w")
    negative = alloc[alloc["tokens_per_s"] < -VERIFY_RELATIVE]
    violations += [
        f"{label}negative allocation {r.tokens_per_s} on ({r.workload}, {r.quarter}, {r.offer})"
        for r in negative.itertuples()
    ]
    alloc = alloc.merge(
        held[["offer", "quarter", "accelerator", "region"]], on=["offer", "quarter"], how="left", indicator="_o"
    )
    for r in alloc[alloc["_o"] != "both"].itertuples():
        violations.append(
            f"{label}offer {r.offer} is not available in {r.quarter} (no chips can be held) but serves {r.workload}"
        )
    alloc = alloc[alloc["_o"] == "both"].drop(columns="_o")
    alloc = alloc.merge(
        inputs.performance[["model", "accelerator", "tokens_per_s_per_chip", "ttft_ms"]],
        on=["model", "accelerator"],
        how="left",
    )
    alloc = alloc.merge(inputs.latency[["geography", "region", "rtt_ms"]], on=["geography", "region"], how="left")
    for r in alloc[alloc["tokens_per_s_per_chip"].isna()].itertuples():
        violations.append(
            f"{label}{r.workload} ({r.quarter}) served on {r.offer}: model {r.model} does not run on {r.accelerator}"
        )
    for r in alloc[alloc["rtt_ms"].isna()].itertuples():
        violations.append(
            f"{label}{r.workload} ({r.quarter}) served on {r.offer}: no latency from {r.geography} to {r.region}"
        )
    late = alloc["rtt_ms"] + alloc["ttft_ms"] > alloc["latency_slo_ms"] + LATENCY_SLACK_MS
    for r in named_rows(alloc[late]):
        violations.append(
            f"{label}{r.workload} ({r.quarter}) served on {r.offer}: "
            f"{r.rtt_ms + r.ttft_ms:g} ms > SLO {r.latency_slo_ms:g} ms"
        )
    # Served on a pair not yet ported: beyond the tolerance of the other rows (relative to
    # the workload's demand), not any positive amount. HiGHS's readiness row x <= D z holds to
    # its feasibility tolerance, which let 8e-7 of 174 tok/s through with z = 0 (a plan
    # serving only millionths of its demand under floors it cannot meet).
    beyond = alloc["tokens_per_s"] > VERIFY_RELATIVE * np.maximum(1.0, alloc["_demand"].astype(float))
    for r in named_rows(alloc[beyond]):
        start = ready.get((r.model, r.accelerator))
        if start is not None and (start is False or ordinal(r.quarter) < start):
            violations.append(
                f"{label}{r.workload} ({r.quarter}) served on {r.accelerator}: {r.model} is not ported to it by then"
            )
    return alloc[alloc["tokens_per_s_per_chip"].notna() & alloc["rtt_ms"].notna()]


def _port_checks(inputs: Inputs, ports: pd.DataFrame, violations: list[str]) -> dict:
    """(model, accelerator) -> first quarter (ordinal) it may serve, or False: never in this plan."""
    performance = inputs.performance
    needs = performance[(performance["port_usd"] > 0) | (performance["port_quarters"] > 0)]
    ready: dict = {(m, a): False for m, a in zip(needs["model"], needs["accelerator"], strict=True)}
    lead = {
        (m, a): int(q) for m, a, q in zip(needs["model"], needs["accelerator"], needs["port_quarters"], strict=True)
    }
    for item in named_rows(ports):
        key = (item.model, item.accelerator)
        if key not in ready:
            violations.append(f"port of {item.model} to {item.accelerator}: the pair needs no port")
            continue
        if ready[key] is not False:
            violations.append(f"{item.model} is ported to {item.accelerator} twice")
        ready[key] = ordinal(item.port_quarter) + lead[key]
    return ready


def _capacity_checks(chips: pd.DataFrame, alloc: pd.DataFrame, violations: list[str], label: str) -> None:
    needed = (alloc["tokens_per_s"] / alloc["tokens_per_s_per_chip"]).groupby([alloc["offer"], alloc["quarter"]]).sum()
    table = chips.merge(needed.rename("needed").reset_index(), on=["offer", "quarter"], how="left")
    table["needed"] = table["needed"].fillna(0.0)
    short = (table["needed"] - table["chips"] - table["contract"]).to_numpy()
    for r in table[~_slack_ok(short, table["needed"].to_numpy())].itertuples():
        violations.append(
            f"{label}{r.offer} in {r.quarter}: allocation needs {r.needed:.6g} chips, only "
            f"{r.chips:.6g} held and {r.contract:.6g} signed"
        )


def _instance_checks(inputs: Inputs, chips: pd.DataFrame, commitments: pd.DataFrame, violations: list[str]) -> None:
    size = inputs.offers.set_index("offer")["chips_per_instance"]
    bought = chips[(chips["term"] == "on-demand") & chips["buyable"]][["offer", "quarter", "chips"]]
    bought = pd.concat([bought, commitments.rename(columns={"start_quarter": "quarter"})], ignore_index=True)
    for r in bought.itertuples(index=False):
        k = size.get(r.offer)
        if k is None or pd.isna(k):
            continue
        instances = r.chips / k
        if abs(instances - round(instances)) > INTEGRALITY * max(1.0, abs(instances)):
            violations.append(f"{r.offer} in {r.quarter}: {r.chips:.6g} chips are not whole instances of {k:g}")


def _kw(inputs: Inputs, chips: pd.DataFrame) -> pd.Series:
    """power_kw per chip of each row's accelerator (NaN where accelerators.csv has none)."""
    return chips["accelerator"].map(inputs.accelerators.set_index("accelerator")["power_kw"])


def _power_checks(inputs: Inputs, chips: pd.DataFrame, violations: list[str]) -> None:
    draw = (chips["chips"] + chips["contract"]) * _kw(inputs, chips).fillna(0.0)
    for cap in named_rows(inputs.power):
        mask = np.ones(len(chips), dtype=bool)
        for column in ("provider", "region"):
            if not pd.isna(getattr(cap, column)):
                mask &= (chips[column] == getattr(cap, column)).to_numpy()
        for quarter in sorted(set(chips.loc[mask, "quarter"])):
            if not pd.isna(cap.quarter) and quarter != cap.quarter:
                continue
            kilowatts = float(draw[mask & (chips["quarter"] == quarter).to_numpy()].sum())
            if not _slack_ok(np.array([kilowatts - cap.megawatts * 1000]), np.array([cap.megawatts * 1000]))[0]:
                violations.append(f"power cap {cap.megawatts:g} MW in {quarter}: chips draw {kilowatts / 1000:.6g} MW")


def _offer_groups(inputs: Inputs) -> pd.DataFrame:
    """Each offer's provider, vendor, region and accelerator, indexed by offer (the offer column kept)."""
    offers = inputs.offers.merge(inputs.accelerators[["accelerator", "vendor"]], on="accelerator", how="left")
    return offers.drop_duplicates("offer").set_index("offer", drop=False)


def _steps(inputs: Inputs, horizon: list[str]) -> list[tuple[str | None, str]]:
    """Consecutive quarters (before, after); with a starting fleet, (None, first quarter) first."""
    steps: list[tuple[str | None, str]] = list(zip(horizon, horizon[1:], strict=False))
    if not inputs.fleet.empty:
        steps.insert(0, (None, horizon[0]))
    return steps


def _workload_rule_checks(inputs: Inputs, alloc: pd.DataFrame, violations: list[str]) -> None:
    """No named workload on an excluded group; on any one group of a capped dimension at
    most max_share of each of its rows' served tokens/s."""
    offers = _offer_groups(inputs)
    for rule in inputs.policy.workload_rules:
        mine = alloc[alloc["workload"].isin(rule.workloads) & (alloc["tokens_per_s"] > 0)]
        for dimension, names in rule.exclude.items():
            for r in mine[mine["offer"].map(offers[dimension]).isin(names)].itertuples():
                violations.append(f"{r.workload} in {r.quarter} on {r.offer}: {dimension} excluded for it")
        for dimension, cap in rule.max_share.items():
            keyed = mine.assign(group=mine["offer"].map(offers[dimension]))
            keyed = keyed.assign(whole=keyed.groupby(["workload", "quarter"])["tokens_per_s"].transform("sum"))
            by_group = keyed.groupby(["workload", "quarter", "group"], as_index=False).agg(
                volume=("tokens_per_s", "sum"), whole=("whole", "first")
            )
            volume, whole = by_group["volume"].to_numpy(), by_group["whole"].to_numpy()
            for r in by_group[~_slack_ok(volume - cap * whole, whole)].itertuples():
                violations.append(
                    f"{r.workload} in {r.quarter}: {r.volume:.6g} tok/s on {dimension} {r.group}, "
                    f"above {cap:g} of its {r.whole:.6g}"
                )


def _ramp_checks(inputs: Inputs, chips: pd.DataFrame, horizon: list[str], violations: list[str]) -> None:
    """Each ramp limit between consecutive quarters, and from the starting fleet (if any) into the first."""
    offers, steps = _offer_groups(inputs), _steps(inputs, horizon)
    for dimension, limits in inputs.policy.ramp_limits.items():
        volume = chips.groupby([dimension, "quarter"])["volume"].sum()
        group_of = inputs.fleet["offer"].map(offers[dimension])
        fleet = inputs.fleet["tokens_per_s"].groupby(group_of).sum()
        for group, limit in limits.items():
            for before, after in steps:
                now = float(fleet.get(group, 0.0)) if before is None else volume.get((group, before), 0.0)
                later = volume.get((group, after), 0.0)
                bound = limit.factor * now + limit.allowance_tokens_per_s
                if not _slack_ok(np.array([later - bound]), np.array([bound]))[0]:
                    violations.append(
                        f"ramp of {dimension} {group} into {after}: {later:.6g} tok/s above "
                        f"{limit.factor:g} x {now:.6g} + {limit.allowance_tokens_per_s:g}"
                    )


def _moving_checks(
    inputs: Inputs, alloc: pd.DataFrame, horizon: list[str], worth: Callable[[int], float], violations: list[str]
) -> float:
    """Present value of moving, with the continuity limits checked: per dimension with
    ``switching``, model and group, the rise (moved onto) and fall (moved off) of its tokens/s
    from each horizon quarter to the next, and from the starting fleet into the first."""
    offers = _offer_groups(inputs)
    cost = 0.0
    for dimension, switching in inputs.policy.switching.items():
        group_of = offers[dimension]
        served = alloc.assign(group=alloc["offer"].map(group_of)).groupby(["model", "group", "quarter"])
        volume = served["tokens_per_s"].sum()
        fleet = inputs.fleet.assign(group=inputs.fleet["offer"].map(group_of))
        start = fleet.groupby(["model", "group"])["tokens_per_s"].sum()
        pairs = set(zip(volume.index.get_level_values(0), volume.index.get_level_values(1), strict=True))
        pairs |= set(start.index)
        for before, after in _steps(inputs, horizon):
            onto: dict[str, float] = {}
            off: dict[str, float] = {}
            earlier: dict[str, float] = {}
            for model, group in sorted(pairs):
                was = start.get((model, group), 0.0) if before is None else volume.get((model, group, before), 0.0)
                rise = volume.get((model, group, after), 0.0) - was
                terms = switching.terms_of(group)
                onto[group] = onto.get(group, 0.0) + max(rise, 0.0)
                off[group] = off.get(group, 0.0) + max(-rise, 0.0)
                earlier[group] = earlier.get(group, 0.0) + was
                paid = max(rise, 0.0) * (terms.onto_usd_per_token_s or 0.0)
                paid += max(-rise, 0.0) * (terms.off_usd_per_token_s or 0.0)
                cost += paid * switching.model_factors.get(model, 1.0) * worth(ordinal(after))
            for group in sorted(earlier):
                terms = switching.terms_of(group)
                limits = (("onto", onto, terms.max_onto_share), ("off", off, terms.max_off_share))
                for direction, moved, share in limits:
                    if share is None:
                        continue
                    bound = share * earlier[group] + (terms.allowance_tokens_per_s or 0.0)
                    if not _slack_ok(np.array([moved[group] - bound]), np.array([bound]))[0]:
                        violations.append(
                            f"{moved[group]:.6g} tok/s moved {direction} {dimension} {group} into {after}, above "
                            f"{share:g} x {earlier[group]:.6g} + {terms.allowance_tokens_per_s or 0.0:g}"
                        )
    return cost


def _resilience_checks(
    inputs: Inputs,
    held: pd.DataFrame,
    chips: pd.DataFrame,
    recourse: pd.DataFrame | None,
    ready: dict,
    violations: list[str],
) -> None:
    """For each single outage: the plan's re-allocation uses only the rest, within chips held,
    and strands at most the allowed share of each quarter's demand."""
    resilience = inputs.policy.resilience
    if resilience is None:
        return
    recourse = (
        recourse
        if recourse is not None
        else pd.DataFrame(columns=["outage", "workload", "quarter", "offer", "tokens_per_s"])
    )
    demand = inputs.workloads.set_index(["workload", "quarter"])["tokens_per_s"]
    per_quarter = inputs.workloads.groupby("quarter")["tokens_per_s"].sum().to_dict()
    dimension = resilience.dimension
    for group in resilience.outages(held[dimension]):
        label = f"outage of {dimension} {group}: "
        plan = recourse[recourse["outage"] == group][["workload", "quarter", "offer", "tokens_per_s"]]
        lost = set(held.loc[held[dimension] == group, "offer"])
        for r in plan[plan["offer"].isin(lost) & (plan["tokens_per_s"] > 0)].itertuples():
            violations.append(f"{label}{r.workload} still served on {r.offer}, which is lost")
        alloc = _allowed(inputs, held, plan, ready, violations, label)
        _capacity_checks(chips[~chips["offer"].isin(lost)], alloc, violations, label)
        served = alloc.groupby(["workload", "quarter"])["tokens_per_s"].sum().reindex(demand.index, fill_value=0.0)
        over = served - demand
        for key in over.index[~_slack_ok(over.to_numpy(), demand.to_numpy())]:
            violations.append(f"{label}demand of {key[0]} in {key[1]} over-served")
        stranded = (demand - served).clip(lower=0.0).groupby(level="quarter").sum()
        for quarter, amount in stranded.items():
            allowed = resilience.max_stranded_share * per_quarter[quarter]
            if not _slack_ok(np.array([amount - allowed]), np.array([per_quarter[quarter]]))[0]:
                violations.append(
                    f"{label}{amount:,.6g} tok/s stranded in {quarter}, above "
                    f"{resilience.max_stranded_share:.0%} of its demand"
                )


def _first_last(labels: pd.Series) -> tuple[str, str]:
    ordered = sorted(labels, key=ordinal)
    return ordered[0], ordered[-1]


def _held_terms(inputs: Inputs, horizon: list[str]) -> pd.DataFrame:
    """(offer, quarter) rows where chips can be held: bought, still committed, or signed.

    Columns: offer, quarter, provider, region, accelerator, vendor, pool, term, buyable,
    price (the offer's price that quarter), max, min (0 unless buyable; max 0 for
    on-demand offers not buyable), contract (signed chips), contract_usd (their USD/h).
    """
    rows = []
    vendor = inputs.accelerators.set_index("accelerator")["vendor"]
    overrides = {(r.offer, r.quarter): r for r in named_rows(inputs.offer_quarters)}
    signed: dict[tuple[str, str], list[tuple[float, float]]] = {}  # (chips, USD/h; NaN: the offer's price)
    for contract in named_rows(inputs.contracts):
        for quarter in within(contract.start, contract.end, horizon):
            signed.setdefault((contract.offer, quarter), []).append((contract.chips, contract.usd_per_chip_hour))
    for offer in named_rows(inputs.offers):
        start = ordinal(horizon[0] if pd.isna(offer.available_from) else offer.available_from)
        end = ordinal(horizon[-1] if pd.isna(offer.available_until) else offer.available_until)
        length = TERM_LENGTH[offer.term]
        for quarter in horizon:
            q = ordinal(quarter)
            buyable = start <= q <= end
            committed = start <= q <= end + length - 1
            contracts = signed.get((offer.offer, quarter), [])
            if not (buyable or committed or contracts):
                continue
            price, high, low = offer.usd_per_chip_hour, offer.max_chips, offer.min_chips
            override = overrides.get((offer.offer, quarter))
            if override is not None:
                price = price if pd.isna(override.usd_per_chip_hour) else override.usd_per_chip_hour
                high = high if pd.isna(override.max_chips) else override.max_chips
                low = low if pd.isna(override.min_chips) else override.min_chips
            if not buyable:
                low = 0.0
                if offer.term == "on-demand":
                    high = 0.0
            signed_chips = sum(n for n, _ in contracts)
            signed_usd = sum(n * (price if pd.isna(rate) else rate) for n, rate in contracts)
            rows.append(
                (
                    offer.offer,
                    quarter,
                    offer.provider,
                    offer.region,
                    offer.accelerator,
                    vendor[offer.accelerator],
                    offer.pool,
                    offer.term,
                    buyable,
                    price,
                    high,
                    low,
                    signed_chips,
                    signed_usd,
                )
            )
    return pd.DataFrame(
        rows,
        columns=[
            "offer",
            "quarter",
            "provider",
            "region",
            "accelerator",
            "vendor",
            "pool",
            "term",
            "buyable",
            "price",
            "max",
            "min",
            "contract",
            "contract_usd",
        ],
    )


def _commitment_checks(
    inputs: Inputs,
    chips: pd.DataFrame,
    commitments: pd.DataFrame,
    horizon: list[str],
    worth: Callable[[int], float],
    violations: list[str],
) -> tuple[pd.DataFrame, np.ndarray, float]:
    """Committed chips equal the running commitments; payments per (offer, quarter); their cost.

    Returns the chips table, each row's payment (USD) and what the objective counts for the
    commitments (whole terms, or their quarters inside the horizon, valued with ``worth``).
    """
    hours = inputs.policy.hours_per_quarter
    whole = inputs.policy.commitment_cost == "whole"
    offers = inputs.offers.set_index("offer")
    price = chips.set_index(["offer", "quarter"])["price"].to_dict()
    buyable = chips.set_index(["offer", "quarter"])["buyable"].to_dict()
    last = ordinal(horizon[-1])
    running: dict[tuple[str, str], list[tuple[float, float]]] = {}  # (chips, USD/h)
    counted = 0.0
    for item in named_rows(commitments):
        if item.chips < -VERIFY_RELATIVE:
            violations.append(f"negative commitment {item.chips} on {item.offer} from {item.start_quarter}")
        term = offers["term"].get(item.offer)
        if term is None or term == "on-demand" or not buyable.get((item.offer, item.start_quarter), False):
            violations.append(f"{item.offer} cannot start a commitment in {item.start_quarter}")
            continue
        rate = price[(item.offer, item.start_quarter)]
        length = TERM_LENGTH[term]
        inside = min(length, last - ordinal(item.start_quarter) + 1)
        start = ordinal(item.start_quarter)
        if offers["payment"].get(item.offer) == "upfront":  # all at the start, less what is left after the horizon
            quarters_paid = length * worth(start) - (0.0 if whole else (length - inside) * worth(last + 1))
        else:
            quarters_paid = sum(worth(start + k) for k in range(length if whole else inside))
        counted += rate * hours * item.chips * quarters_paid
        for k in range(inside):
            running.setdefault((item.offer, label(ordinal(item.start_quarter) + k)), []).append((item.chips, rate))
    payments = np.zeros(len(chips))
    breaks = _price_breaks(inputs)
    for i, row in enumerate(named_rows(chips)):
        if row.term == "on-demand":
            tiers = breaks.get(row.offer, []) if row.buyable else []
            payments[i] = _tier_cost(row.price, row.quarter, tiers, row.chips) * hours
            continue
        active = running.get((row.offer, row.quarter), [])
        total = sum(n for n, _ in active)
        if not _slack_ok(np.array([abs(total - row.chips)]), np.array([total]))[0]:
            violations.append(
                f"{row.offer} in {row.quarter}: {row.chips:.6g} chips held but commitments "
                f"running then hold {total:.6g}"
            )
        payments[i] = sum(n * rate for n, rate in active) * hours
    return chips, payments, counted


def _price_breaks(inputs: Inputs) -> dict[str, list[tuple[object, float, float, str]]]:
    """The rows of ``price_tiers.csv`` by offer: (quarter or None, from_chips, price, kind)."""
    breaks: dict[str, list[tuple[object, float, float, str]]] = {}
    for row in named_rows(inputs.price_tiers):
        quarter = None if pd.isna(row.quarter) else row.quarter
        breaks.setdefault(row.offer, []).append((quarter, row.from_chips, row.usd_per_chip_hour, row.kind))
    return breaks


def _tier_cost(price: float, quarter: str, breaks: list[tuple[object, float, float, str]], chips: float) -> float:
    """USD per hour of ``chips`` held on demand, read from the price breaks that apply in
    ``quarter`` (contract, "Extension: price tiers"): all_units, every chip at the price of
    the highest tier whose from_chips the chips reach; incremental, each tier's price on the
    chips between its from_chips and the next one's. Without breaks: price x chips."""
    tiers = sorted((start, rate, kind) for q, start, rate, kind in breaks if q is None or q == quarter)
    if not tiers:
        return price * chips
    starts = [0.0] + [start for start, _, _ in tiers]
    rates = [price] + [rate for _, rate, _ in tiers]
    if tiers[0][2] == "all_units":  # reached within the tolerance the solver holds its rows to
        reached = [k for k, start in enumerate(starts) if start <= chips + VERIFY_RELATIVE * max(1.0, start)]
        return rates[reached[-1]] * chips
    ends = starts[1:] + [np.inf]
    return sum(
        rate * min(max(chips - start, 0.0), end - start) for start, end, rate in zip(starts, ends, rates, strict=True)
    )


def _pool_checks(inputs: Inputs, chips: pd.DataFrame, violations: list[str]) -> None:
    pooled = chips[chips["pool"].notna()]
    for (pool, quarter), block in pooled.groupby(["pool", "quarter"]):
        if block["offer"].nunique() < 2:
            continue
        capacity = block["max"].max()
        if not _slack_ok(np.array([block["chips"].sum() - capacity]), np.array([capacity]))[0]:
            violations.append(f"pool {pool} in {quarter}: {block['chips'].sum():.6g} chips above {capacity:g}")


def _share_checks(policy, basis: str, chips: pd.DataFrame, hours: float, violations: list[str]) -> None:
    """Caps and floors on one basis of every group that can hold chips in the quarter (every
    row of ``chips``: on sale, a commitment running or a contract signed), not only groups
    with something on sale. In the contract's units: tokens/s (volume), USD per hour (spend:
    ``S_g = sum usd_per_chip_hour * y`` plus contracts) or kW (power: chips held and signed
    x power_kw), so the slack's floor of 1 is one USD per hour or one kW."""
    if chips.empty:  # no offer can hold chips in the horizon: no share to check
        return
    rules = policy.share_rules(basis)
    chips = chips.assign(offer_group=chips["offer"], spend=chips["spend"] / hours)
    quarter_total = chips.groupby("quarter")[basis].sum()
    for dimension in DIMENSIONS:
        column = "offer_group" if dimension == "offer" else dimension
        groups = chips[["quarter", column]].drop_duplicates()
        grouped = chips.groupby(["quarter", column])[basis].sum()
        for quarter, group in groups.itertuples(index=False):
            amount, total = grouped.get((quarter, group), 0.0), quarter_total[quarter]
            cap, floor = rules.cap(dimension, group), rules.floor(dimension, group)
            if cap < 1 and not _slack_ok(np.array([amount - cap * total]), np.array([total]))[0]:
                violations.append(
                    f"{dimension} {group} in {quarter}: share {amount / total:.6f} above cap {cap:g} on {basis}"
                )
            if floor > 0 and not _slack_ok(np.array([floor * total - amount]), np.array([total]))[0]:
                share = amount / total if total else 0.0
                violations.append(
                    f"{dimension} {group} in {quarter}: share {share:.6f} below floor {floor:g} on {basis}"
                )


def _worth(rate: float | None, first: int) -> Callable[[int], float]:
    """A dollar paid at the start of quarter ``ordinal`` valued at the horizon's start."""
    if rate is None:
        return lambda _: 1.0
    return lambda quarter: (1.0 + rate) ** (-(quarter - first) / 4.0)


def _spend_discount_value(
    inputs: Inputs, chips: pd.DataFrame, horizon: list[str], worth: Callable[[int], float]
) -> float:
    """The minimum-spend discounts the purchases earn: per provider and period, the largest
    discount among the levels whose threshold (pro rata inside the horizon) the period's
    spend reaches, on every dollar of that spend, valued in the quarter it is paid."""
    total = 0.0
    for key, levels in inputs.spend_discounts.groupby(["provider", "first", "last"], sort=False):
        provider, first, last = (str(part) for part in key)
        inside = within(first, last, horizon)
        if not inside:
            continue
        paid = chips[(chips["provider"] == provider) & chips["quarter"].isin(inside)]
        spend = float(paid["spend"].sum())
        share = len(inside) / period_length(first, last)
        reached = [
            row.discount
            for row in named_rows(levels)
            if spend >= row.from_usd * share - VERIFY_RELATIVE * max(1.0, row.from_usd * share)
        ]
        if reached:
            at = [worth(ordinal(q)) for q in paid["quarter"]]
            total += max(reached) * float((paid["spend"].to_numpy(dtype=float) * np.array(at, dtype=float)).sum())
    return total


def _spend_commitment_checks(
    inputs: Inputs, chips: pd.DataFrame, horizon: list[str], worth: Callable[[int], float]
) -> float:
    """The shortfall owed on all spend commitments: what the spend in their period misses,
    paid (and valued) in the last quarter of the period inside the horizon."""
    total = 0.0
    for item in named_rows(inputs.spend_commitments):
        inside = within(item.first, item.last, horizon)
        due = item.usd * len(inside) / period_length(item.first, item.last)
        consumed = chips.loc[(chips["provider"] == item.provider) & chips["quarter"].isin(inside), "spend"].sum()
        paid_in = ordinal(inside[-1]) if inside else ordinal(horizon[0])
        total += max(0.0, due - float(consumed)) * worth(paid_in)
    return total
