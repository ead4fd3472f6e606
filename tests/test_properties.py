"""Metamorphic properties of the optimal cost, on the cross-check's random instances.

Each test solves a generated instance and a changed copy with the tool, and checks a
relation that holds for any LP of the contract's shape without knowing either optimum:

- loosening (more chips, a lower take-or-pay minimum, a looser cap or floor, a longer
  SLO, a faster or closer chip, a cheaper chip or unserved token) never raises the cost,
  and the reverse changes never lower it: the feasible set only grows (or the objective
  only falls) pointwise, so the minimum can only fall. An infeasible instance costs
  +infinity here;
- scaling every price, the unmet penalty and the costs of moving by k > 0 scales the cost
  by k (spend-basis share rows are homogeneous in prices, so the feasible set is unchanged);
- the order of rows and the names of ids do not change the optimal cost; the order of
  rows does not change the plan either (the planner solves the canonical order).

Moves that add a group to a quarter (a new offer, a longer availability window) are left
out: the contract adds a share row for every group with an offer in the quarter, and a
new floor row can tighten. Prices move only without share rules on spend (on volume and
power they are objective coefficients only).

Example counts are 8 % of the profile's (tests/conftest.py): 24 each in ci, 800 in long.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from instances import (
    DIMENSIONS,
    QUARTERS,
    Case,
    costs_agree,
    examples,
    instances,
    tool_cost,
)

PROPERTY_SETTINGS = settings(max_examples=examples(0.08), suppress_health_check=[HealthCheck.too_slow])
ID_PATTERN = r"[a-z0-9][a-z0-9._-]{0,11}"
# Legal ids that other readers take for something else (YAML booleans and nulls, numbers,
# pandas' missing-value markers).
AWKWARD_IDS = "nan null none true no on off 0 1.5 1e5 1e-3 0x1f inf n-a x.y 2026q1".split()  # noqa: SIM905


def _cost_or_inf(cost: float | None) -> float:
    return float("inf") if cost is None else cost


def assert_not_above(loose: Case, tight: Case, move: str) -> None:
    """cost(loose) <= cost(tight) within the tolerances, infeasible costing +infinity."""
    loose_cost, _ = tool_cost(loose)
    tight_cost, _ = tool_cost(tight)
    low, high = _cost_or_inf(loose_cost), _cost_or_inf(tight_cost)
    assert low <= high or (math.isfinite(low) and math.isfinite(high) and costs_agree(low, high)), (
        f"{move}: the looser instance costs {low!r}, the tighter {high!r}"
    )


# ---------------------------------------------------------------- moves


def _scale(value: float, factor: float, places: int) -> float:
    return round(value * factor, places)


def _effective(case: Case, offer: dict, quarter: str, column: str) -> float:
    for row in case.tables["offer_quarters"]:
        if row["offer"] == offer["offer"] and row["quarter"] == quarter and row[column] is not None:
            return row[column]
    return offer[column] or 0.0


def _overrides(case: Case, offer: dict) -> list[dict]:
    return [row for row in case.tables["offer_quarters"] if row["offer"] == offer["offer"]]


def _more_chips(case: Case, offer: dict, factor: float, loosen: bool) -> None:
    """Scale max_chips of an offer (and its per-quarter overrides); never below a minimum."""
    rows = [offer] + _overrides(case, offer)
    for row in rows:
        if row["max_chips"] is None:
            continue
        new = _scale(row["max_chips"], factor, 1) + (1.0 if loosen else 0.0)
        if not loosen:  # keep max >= min wherever this value is the quarter's maximum
            quarters = _unoverridden(case, offer, "max_chips") if row is offer else [row["quarter"]]
            need = max([_effective(case, offer, q, "min_chips") for q in quarters], default=0.0)
            new = min(row["max_chips"], max(new, need))
        row["max_chips"] = new


def _unoverridden(case: Case, offer: dict, column: str) -> list[str]:
    """Quarters in which the offer's own ``column`` applies (no override sets it)."""
    return [
        q for q in QUARTERS if not any(r["quarter"] == q and r[column] is not None for r in _overrides(case, offer))
    ]


def _take_or_pay(case: Case, offer: dict, factor: float, loosen: bool) -> None:
    """Scale min_chips down (loosen) or raise it toward max_chips (tighten)."""
    rows = [offer] + _overrides(case, offer)
    for row in rows:
        if loosen:
            if row["min_chips"] is not None:
                row["min_chips"] = _scale(row["min_chips"], factor, 1)
            continue
        if row is offer:
            quarters = _unoverridden(case, offer, "min_chips")
        elif row["min_chips"] is None:
            continue
        else:
            quarters = [row["quarter"]]
        room = min([_effective(case, offer, q, "max_chips") for q in quarters], default=0.0)
        old = row["min_chips"] or 0.0
        row["min_chips"] = max(old, min(room, _scale(room, factor, 1)))


@st.composite
def changed(draw, loosen: bool) -> tuple[Case, Case, str]:
    """(base, changed copy, description): one move in the loosening or tightening direction."""
    base = draw(instances(revenue=True))
    case = base.copy()
    tables, policy = case.tables, case.policy
    kinds = ["max_chips", "min_chips", "cap", "floor", "slo", "rtt", "speed", "penalty"]
    if "spend" not in (policy.get("share_basis", "volume"), *policy.get("extra_share_bases", {})):
        kinds.append("price")
    kind = draw(st.sampled_from(kinds))
    up = draw(st.sampled_from([1.5, 2.0, 1.1, 4.0]))  # a loosening factor
    down = draw(st.sampled_from([0.5, 0.0, 0.9, 0.25]))  # a tightening one
    if kind == "max_chips":
        offer = draw(st.sampled_from(tables["offers"]))
        _more_chips(case, offer, up if loosen else down, loosen)
        what = f"max_chips of {offer['offer']}"
    elif kind == "min_chips":
        offer = draw(st.sampled_from(tables["offers"]))
        _take_or_pay(case, offer, down if loosen else 1 - down, loosen)
        what = f"min_chips of {offer['offer']}"
    elif kind in ("cap", "floor"):
        groups = case.groups()
        dimension = draw(st.sampled_from(DIMENSIONS))
        group = draw(st.sampled_from(groups[dimension]))
        cap, floor = case.cap(dimension, group), case.floor(dimension, group)
        step = draw(st.sampled_from([0.1, 0.3, 1.0, 0.01]))
        if kind == "cap":
            new = min(1.0, round(cap + step, 2)) if loosen else max(floor, round(cap - step, 2))
            case.set_override("max_share", dimension, group, new)
        else:
            new = max(0.0, round(floor - step, 2)) if loosen else min(cap, round(floor + step, 2))
            case.set_override("min_share", dimension, group, new)
        what = f"{kind} of {dimension} {group}: {cap if kind == 'cap' else floor} -> {new}"
    elif kind == "slo":
        row = draw(st.sampled_from(tables["workloads"]))
        step = draw(st.sampled_from([0.1, 10.0, 100.0]))
        row["latency_slo_ms"] = max(0.0, round(row["latency_slo_ms"] + (step if loosen else -step), 1))
        what = f"SLO of {row['workload']} in {row['quarter']}"
    elif kind == "rtt":
        regions = sorted({o["region"] for o in tables["offers"]})
        geographies = sorted({w["geography"] for w in tables["workloads"]})
        key = (draw(st.sampled_from(geographies)), draw(st.sampled_from(regions)))
        rows = [r for r in tables["latency"] if (r["geography"], r["region"]) == key]
        if loosen and not rows:
            tables["latency"].append(
                {
                    "geography": key[0],
                    "region": key[1],
                    "rtt_ms": draw(st.sampled_from([0.0, 50.0])),
                }
            )
            what = f"latency row {key} added"
        elif not loosen and rows and len(tables["latency"]) > 1 and draw(st.booleans()):
            tables["latency"].remove(rows[0])
            what = f"latency row {key} removed"
        else:
            for row in rows:
                row["rtt_ms"] = max(0.0, round(row["rtt_ms"] * (down if loosen else up), 1))
            what = f"rtt of {key}"
    elif kind == "speed":
        row = draw(st.sampled_from(tables["performance"]))
        row["tokens_per_s_per_chip"] = round(row["tokens_per_s_per_chip"] * (up if loosen else 1 / up), 3)
        for fleet in tables.get("fleet", []):  # the fleet's chips must still serve its tokens/s
            offer = next(o for o in tables["offers"] if o["offer"] == fleet["offer"])
            if (fleet["model"], offer["accelerator"]) == (row["model"], row["accelerator"]):
                fleet["chips"] = max(
                    fleet["chips"], math.ceil(fleet["tokens_per_s"] / row["tokens_per_s_per_chip"] * 10) / 10
                )
        row["ttft_ms"] = round(row["ttft_ms"] * (down if loosen else up), 1)
        what = f"performance of {row['model']} on {row['accelerator']}"
    elif kind == "penalty":  # the prices of unserved demand: the penalty and every revenue
        old = policy["unmet_penalty_usd_per_mtok"]
        policy["unmet_penalty_usd_per_mtok"] = _scale(old, down if loosen else up, 4)
        for row in tables["workloads"]:
            if row.get("revenue_usd_per_mtok") is not None:
                row["revenue_usd_per_mtok"] = _scale(row["revenue_usd_per_mtok"], down if loosen else up, 4)
        what = "unmet penalty and revenues"
    else:
        offer = draw(st.sampled_from(tables["offers"]))
        for row in [offer] + _overrides(case, offer):
            if row["usd_per_chip_hour"] is not None:
                row["usd_per_chip_hour"] = _scale(row["usd_per_chip_hour"], down if loosen else up, 4)
        what = f"price of {offer['offer']}"
    return base, case, f"{'loosened' if loosen else 'tightened'} {what}"


# ---------------------------------------------------------------- properties


@PROPERTY_SETTINGS
@given(pair=changed(loosen=True))
def test_loosening_never_raises_cost(pair: tuple[Case, Case, str]) -> None:
    base, loose, move = pair
    assert_not_above(loose, base, move)


@PROPERTY_SETTINGS
@given(pair=changed(loosen=False))
def test_tightening_never_lowers_cost(pair: tuple[Case, Case, str]) -> None:
    base, tight, move = pair
    assert_not_above(base, tight, move)


@PROPERTY_SETTINGS
@given(case=instances(revenue=True), k=st.sampled_from([2.0, 0.5, 3.0, 10.0, 0.1, 1.7]))
def test_scaling_prices_and_penalty_scales_cost(case: Case, k: float) -> None:
    scaled = case.copy()
    for row in scaled.tables["offers"] + scaled.tables["offer_quarters"]:
        if row["usd_per_chip_hour"] is not None:
            row["usd_per_chip_hour"] = row["usd_per_chip_hour"] * k
    scaled.policy["unmet_penalty_usd_per_mtok"] = scaled.policy["unmet_penalty_usd_per_mtok"] * k
    for terms in scaled.policy.get("switching", {}).values():  # the cost of moving, a price too
        for own in (terms, *terms.get("groups", {}).values()):
            for name in ("onto_usd_per_token_s", "off_usd_per_token_s"):
                if name in own:
                    own[name] = own[name] * k
    for row in scaled.tables["workloads"]:
        if row.get("revenue_usd_per_mtok") is not None:
            row["revenue_usd_per_mtok"] = row["revenue_usd_per_mtok"] * k
    cost, _ = tool_cost(case)
    scaled_cost, _ = tool_cost(scaled)
    assert (cost is None) == (scaled_cost is None), f"feasibility changed with prices x{k}: {cost!r} vs {scaled_cost!r}"
    if cost is not None:
        assert costs_agree(scaled_cost, k * cost), f"prices x{k}: {scaled_cost!r} != {k} x {cost!r}"


@PROPERTY_SETTINGS
@given(case=instances(revenue=True), data=st.data())
def test_row_order_changes_neither_cost_nor_plan(case: Case, data: st.DataObject) -> None:
    shuffled = case.copy()
    for name, rows in shuffled.tables.items():
        shuffled.tables[name] = data.draw(st.permutations(rows), label=f"{name} order")
    cost, plan = tool_cost(case)
    shuffled_cost, shuffled_plan = tool_cost(shuffled)
    assert (cost is None) == (shuffled_cost is None)
    if cost is None:
        return
    assert costs_agree(cost, shuffled_cost)
    for table in ("allocation", "purchases"):
        pd.testing.assert_frame_equal(
            getattr(plan, table),
            getattr(shuffled_plan, table),
            check_exact=True,
            obj=f"plan.{table} after reordering rows",
        )


ID_COLUMNS = {
    "offer": [("offers", "offer"), ("offer_quarters", "offer"), ("fleet", "offer")],
    "provider": [("offers", "provider")],
    "region": [("offers", "region"), ("latency", "region")],
    "accelerator": [
        ("accelerators", "accelerator"),
        ("offers", "accelerator"),
        ("performance", "accelerator"),
    ],
    "vendor": [("accelerators", "vendor")],
    "model": [("performance", "model"), ("workloads", "model"), ("fleet", "model")],
    "workload": [("workloads", "workload")],
    "geography": [("workloads", "geography"), ("latency", "geography")],
}


@st.composite
def renamed(draw) -> tuple[Case, Case, dict]:
    """(case, the same case under a bijection of every kind of id, the bijection)."""
    case = draw(instances())
    copy = case.copy()
    names = st.one_of(st.sampled_from(AWKWARD_IDS), st.from_regex(ID_PATTERN, fullmatch=True))
    mapping = {}
    for kind, columns in ID_COLUMNS.items():
        old = sorted({row[column] for table, column in columns for row in case.tables.get(table, [])})
        new = draw(st.lists(names, min_size=len(old), max_size=len(old), unique=True), label=f"{kind} ids")
        mapping[kind] = dict(zip(old, new, strict=True))
        for table, column in columns:
            for row in copy.tables.get(table, []):
                row[column] = mapping[kind][row[column]]
    for dimension, terms in copy.policy.get("switching", {}).items():
        if "groups" in terms:
            terms["groups"] = {mapping[dimension][group]: own for group, own in terms["groups"].items()}
        if "model_factors" in terms:
            terms["model_factors"] = {mapping["model"][m]: f for m, f in terms["model_factors"].items()}
    for rules in [copy.policy, *copy.policy.get("extra_share_bases", {}).values()]:
        for kind in ("max_share", "min_share"):
            for dimension, groups in rules.get("share_overrides", {}).get(kind, {}).items():
                rules["share_overrides"][kind][dimension] = {
                    mapping[dimension][group]: value for group, value in groups.items()
                }
    for rule in copy.policy.get("workload_rules", []):
        rule["workloads"] = [mapping["workload"][name] for name in rule["workloads"]]
        for dimension, groups in rule.get("exclude", {}).items():
            rule["exclude"][dimension] = [mapping[dimension][group] for group in groups]
    return case, copy, mapping


@PROPERTY_SETTINGS
@given(pair=renamed())
def test_renaming_ids_leaves_cost_unchanged(pair: tuple[Case, Case, dict]) -> None:
    case, copy, mapping = pair
    cost, _ = tool_cost(case)
    renamed_cost, _ = tool_cost(copy)
    assert (cost is None) == (renamed_cost is None), f"feasibility changed under renaming {mapping}"
    if cost is not None:
        assert costs_agree(cost, renamed_cost), f"{cost!r} != {renamed_cost!r} under renaming {mapping}"


def _pinned(name: str) -> Case:
    """Two offers, the cheaper one's offer, provider, region and vendor all called ``name``,
    with a cap on each of them in share_overrides (ids of different kinds may coincide)."""
    caps = {"provider": 0.8, "vendor": 0.7, "region": 0.6, "offer": 0.5}
    tables = {
        "accelerators": [
            {"accelerator": "a0", "vendor": name},
            {"accelerator": "a1", "vendor": "v1"},
        ],
        "offers": [
            {
                "offer": name,
                "provider": name,
                "region": name,
                "accelerator": "a0",
                "usd_per_chip_hour": 1.0,
                "max_chips": 100.0,
            },
            {
                "offer": "o1",
                "provider": "p1",
                "region": "r1",
                "accelerator": "a1",
                "usd_per_chip_hour": 2.0,
                "max_chips": 100.0,
            },
        ],
        "offer_quarters": [],
        "performance": [
            {"model": "m0", "accelerator": a, "tokens_per_s_per_chip": 10.0, "ttft_ms": 1.0} for a in ("a0", "a1")
        ],
        "workloads": [
            {
                "workload": "w0",
                "model": "m0",
                "geography": "g0",
                "quarter": "2026Q2",
                "tokens_per_s": 10.0,
                "latency_slo_ms": 100.0,
            }
        ],
        "latency": [{"geography": "g0", "region": r, "rtt_ms": 1.0} for r in (name, "r1")],
    }
    policy = {"share_overrides": {"max_share": {d: {name: cap} for d, cap in caps.items()}}}
    return Case(tables, policy)


@pytest.mark.parametrize("name", AWKWARD_IDS)
def test_awkward_ids_leave_cost_unchanged(name: str) -> None:
    """Pinned renamings to ids that YAML or pandas could read as something else.

    Cheaper offer capped at 50 % (offer), 60 % (region): 5 tokens/s on it (0.5 chip x 1
    USD x 2190 h = 1095 USD), 5 on the other (0.5 x 2 x 2190 = 2190 USD): 3285 USD.
    """
    cost, _ = tool_cost(_pinned(name))
    assert cost is not None and costs_agree(cost, 3285.0), f"id {name!r}: cost {cost!r}"
