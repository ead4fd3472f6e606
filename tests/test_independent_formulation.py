"""The tool's optimum against a separately written formulation on random small instances.

The reference builds the contract's LP literally (dense share rows over every x of the
quarter, no auxiliary variables) with plain loops over the raw rows and solves it with
scipy's ``linprog``. Two careful implementations of the contract must reach the same
optimal cost.
"""

from __future__ import annotations


import numpy as np
import pytest
from scipy.optimize import linprog

import optimizer
from conftest import write_folder

QUARTERS = ["2026Q1", "2026Q2", "2026Q3"]


def random_case(seed: int) -> tuple[dict, str]:
    rng = np.random.default_rng(seed)
    accelerators = [{"accelerator": f"a{i}", "vendor": ["nvidia", "amd", "google"][i % 3]} for i in range(4)]
    regions = [("aws", "r0"), ("aws", "r1"), ("gcp", "r2"), ("azure", "r3"), ("lambda", "r4")]
    offers = []
    for i in range(int(rng.integers(3, 7))):
        provider, region = regions[int(rng.integers(len(regions)))]
        row = {"offer": f"o{i}", "provider": provider, "region": region,
               "accelerator": f"a{int(rng.integers(4))}", "usd_per_chip_hour": round(float(rng.uniform(1, 4)), 2),
               "max_chips": round(float(rng.uniform(10, 80)), 1), "min_chips": 0.0,
               "available_from": "", "available_until": ""}
        if rng.random() < 0.3:
            row["available_from"] = "2026Q2"
        if rng.random() < 0.2:
            row["min_chips"] = round(float(rng.uniform(0, 3)), 1)
        offers.append(row)
    performance = [
        {"model": model, "accelerator": f"a{i}", "tokens_per_s_per_chip": round(float(rng.uniform(50, 300)), 1),
         "ttft_ms": round(float(rng.uniform(50, 300)), 1)}
        for model in ("m1", "m2") for i in range(4) if rng.random() < 0.8
    ]
    latency = [{"geography": g, "region": r, "rtt_ms": round(float(rng.uniform(10, 200)), 1)}
               for g in ("g1", "g2") for _, r in regions if any(o["region"] == r for o in offers)]
    workloads = [
        {"workload": f"w{k}", "model": ["m1", "m2"][k % 2], "geography": ["g1", "g2"][k // 2 % 2], "quarter": q,
         "tokens_per_s": round(float(rng.uniform(300, 2500)), 1), "latency_slo_ms": round(float(rng.uniform(150, 500)), 1)}
        for k in range(4) for q in QUARTERS
    ]
    overrides = [{"offer": offers[0]["offer"], "quarter": "2026Q3", "usd_per_chip_hour": 0.5, "max_chips": 8.0}]
    basis = "spend" if seed % 3 == 2 else "volume"
    policy = (f"share_basis: {basis}\nunmet_penalty_usd_per_mtok: {float(rng.choice([1.0, 100.0]))}\n"
              f"max_share:\n  provider: {round(float(rng.uniform(0.4, 0.9)), 2)}\n  region: 0.8\n"
              f"min_share:\n  vendor: {0.0 if basis == 'spend' else 0.05}\n")
    if basis == "spend":
        for row in offers:
            row["min_chips"] = 0.0
    tables = dict(accelerators=accelerators, offers=offers, performance=performance, latency=latency,
                  workloads=workloads, offer_quarters=overrides)
    return tables, policy


def reference_cost(tables: dict, policy: dict) -> float:
    """The contract's LP written out literally, solved by scipy (HiGHS behind linprog)."""
    hours = policy.get("hours_per_quarter", 2190)
    penalty = policy["unmet_penalty_usd_per_mtok"] * hours * 3600 / 1e6
    vendor = {a["accelerator"]: a["vendor"] for a in tables["accelerators"]}
    perf = {(p["model"], p["accelerator"]): p for p in tables["performance"]}
    rtt = {(row["geography"], row["region"]): row["rtt_ms"] for row in tables["latency"]}
    overrides = {(row["offer"], row["quarter"]): row for row in tables["offer_quarters"]}
    index = {q: i for i, q in enumerate(QUARTERS)}

    def available(offer, quarter):
        start = offer["available_from"] or QUARTERS[0]
        end = offer["available_until"] or QUARTERS[-1]
        return index[start] <= index[quarter] <= index[end]

    def term(offer, quarter, column):
        value = overrides.get((offer["offer"], quarter), {}).get(column)
        return offer[column] if value is None else value

    ys = [(o, q) for o in tables["offers"] for q in QUARTERS if available(o, q)]
    xs = []
    for w, row in enumerate(tables["workloads"]):
        for o in tables["offers"]:
            p = perf.get((row["model"], o["accelerator"]))
            if p is None or not available(o, row["quarter"]) or (row["geography"], o["region"]) not in rtt:
                continue
            if rtt[(row["geography"], o["region"])] + p["ttft_ms"] <= row["latency_slo_ms"] + 1e-9:
                xs.append((w, o, p["tokens_per_s_per_chip"]))
    n_x, n_y, n_u = len(xs), len(ys), len(tables["workloads"])
    cost = np.concatenate([np.zeros(n_x), [term(o, q, "usd_per_chip_hour") * hours for o, q in ys],
                           np.full(n_u, penalty)])
    a_eq, b_eq, a_ub, b_ub = [], [], [], []
    for w, row in enumerate(tables["workloads"]):
        line = np.zeros(n_x + n_y + n_u)
        line[[i for i, (v, _, _) in enumerate(xs) if v == w]] = 1
        line[n_x + n_y + w] = 1
        a_eq.append(line)
        b_eq.append(row["tokens_per_s"])
    for j, (o, q) in enumerate(ys):
        line = np.zeros(n_x + n_y + n_u)
        for i, (w, oo, tp) in enumerate(xs):
            if oo is o and tables["workloads"][w]["quarter"] == q:
                line[i] = 1 / tp
        line[n_x + j] = -1
        a_ub.append(line)
        b_ub.append(0.0)
    caps = {"provider": policy["max_share"]["provider"], "region": policy["max_share"]["region"]}
    floors = {"vendor": policy["min_share"]["vendor"]}
    key = {"provider": lambda o: o["provider"], "region": lambda o: o["region"],
           "vendor": lambda o: vendor[o["accelerator"]]}
    for q in QUARTERS:
        offers_q = [o for o in tables["offers"] if available(o, q)]
        for dimension, limit, sign in [(d, v, 1) for d, v in caps.items() if v < 1] + \
                                      [(d, v, -1) for d, v in floors.items() if v > 0]:
            for group in sorted({key[dimension](o) for o in offers_q}):
                line = np.zeros(n_x + n_y + n_u)
                if policy["share_basis"] == "volume":
                    for i, (w, o, _) in enumerate(xs):
                        if tables["workloads"][w]["quarter"] == q:
                            line[i] = (key[dimension](o) == group) - limit
                else:
                    for j, (o, qq) in enumerate(ys):
                        if qq == q:
                            line[n_x + j] = term(o, q, "usd_per_chip_hour") * ((key[dimension](o) == group) - limit)
                a_ub.append(sign * line)
                b_ub.append(0.0)
    bounds = [(0, None)] * n_x + [(term(o, q, "min_chips"), term(o, q, "max_chips")) for o, q in ys] + \
             [(0, None)] * n_u
    result = linprog(cost, A_ub=np.array(a_ub), b_ub=b_ub, A_eq=np.array(a_eq), b_eq=b_eq, bounds=bounds,
                     method="highs")
    assert result.status == 0, result.message
    return float(result.fun)


@pytest.mark.parametrize("seed", range(12))
def test_same_optimal_cost_as_independent_formulation(tmp_path, seed):
    import yaml

    tables, policy_text = random_case(seed)
    folder = write_folder(tmp_path / "case", policy=policy_text, **tables)
    plan = optimizer.solve(optimizer.load(folder))
    expected = reference_cost(tables, yaml.safe_load(policy_text))
    assert plan.totals["total_cost_usd"] == pytest.approx(expected, rel=1e-7)


def test_random_cases_exercise_every_family():
    """Guard against a generator that silently stops producing the interesting cases."""
    seen = set()
    for seed in range(12):
        tables, policy = random_case(seed)
        seen.add("spend" if "spend" in policy else "volume")
        if any(o["min_chips"] > 0 for o in tables["offers"]):
            seen.add("take-or-pay")
        if any(o["available_from"] for o in tables["offers"]):
            seen.add("availability")
    assert seen == {"spend", "volume", "take-or-pay", "availability"}
