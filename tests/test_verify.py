"""The verifier catches every kind of broken plan (tampered copies of a correct one)."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import offer, workload

from optimizer.errors import VerificationError
from optimizer.plan.verification import verify

ACCELERATORS = [{"accelerator": "a", "vendor": "nvidia"}, {"accelerator": "b", "vendor": "google"}]
PERFORMANCE = [
    {"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100},
    {"model": "m", "accelerator": "b", "tokens_per_s_per_chip": 200, "ttft_ms": 100},
]
LATENCY = [{"geography": "g", "region": "r1", "rtt_ms": 50}, {"geography": "g", "region": "r2", "rtt_ms": 50}]


@pytest.fixture
def plan(solve_case):
    """Provider cap 0.7 (hand-solved in test_planner): o2 700 tok/s on 3.5 chips, o1 300 on 3."""
    return solve_case(
        policy="max_share:\n  provider: 0.7\n",
        accelerators=ACCELERATORS,
        performance=PERFORMANCE,
        latency=LATENCY,
        offers=[offer("o1", "aws", "r1", "a", 2.0, 10), offer("o2", "gcp", "r2", "b", 3.0, 10)],
        workloads=[workload("w", "2026Q1", 1000)],
    )


def check(plan, allocation=None, purchases=None, objective=None):
    verify(
        plan.inputs,
        plan.allocation if allocation is None else allocation,
        plan.purchases if purchases is None else purchases,
        plan.totals["total_cost_usd"] if objective is None else objective,
    )


def test_correct_plan_passes(plan):
    check(plan)


def test_capacity_shortfall(plan):
    purchases = plan.purchases.copy()
    purchases.loc[purchases["offer"] == "o1", "chips"] = 2.0
    with pytest.raises(VerificationError, match="needs 3 chips"):
        check(plan, purchases=purchases, objective=plan.totals["total_cost_usd"] - 4380)


def test_above_max_chips(plan):
    purchases = plan.purchases.copy()
    purchases.loc[purchases["offer"] == "o1", "chips"] = 11.0
    with pytest.raises(VerificationError, match="above max_chips"):
        check(plan, purchases=purchases, objective=plan.totals["total_cost_usd"] + 8 * 4380)


def test_cap_broken(plan):
    allocation = plan.allocation.copy()
    allocation.loc[allocation["offer"] == "o2", "tokens_per_s"] = 800.0
    allocation.loc[allocation["offer"] == "o1", "tokens_per_s"] = 200.0
    purchases = plan.purchases.copy()
    purchases.loc[purchases["offer"] == "o2", "chips"] = 4.0
    purchases.loc[purchases["offer"] == "o1", "chips"] = 2.0
    with pytest.raises(VerificationError, match="above cap 0.7"):
        check(plan, allocation, purchases, objective=4 * 3 * 2190 + 2 * 2 * 2190)


def test_pair_not_allowed(plan):
    extra = pd.DataFrame([{"workload": "w", "quarter": "2026Q1", "offer": "nope", "tokens_per_s": 1.0}])
    with pytest.raises(VerificationError, match="not available"):
        check(plan, allocation=pd.concat([plan.allocation, extra], ignore_index=True))


def test_over_served_demand(plan):
    allocation = plan.allocation.copy()
    allocation["tokens_per_s"] *= 1.01
    with pytest.raises(VerificationError, match="served"):
        check(plan, allocation=allocation)


def test_cost_mismatch(plan):
    with pytest.raises(VerificationError, match="differs from the solver's objective"):
        check(plan, objective=plan.totals["total_cost_usd"] + 10)


def test_cap_broken_by_a_group_with_nothing_on_sale(solve_case):
    """o1 (aws) is on sale in Q1 only, 10 chips of it are signed for Q2. A plan serving all
    of Q2 on those chips breaks aws's cap of 0.5 in Q2: the verifier names it.

    Tampered plan: Q1 as optimal (o1 5 chips, o2 2.5 chips), Q2 1000 tok/s on the signed
    chips. Cost 21,900 + 16,425 + 43,800 (sunk) = 82,125.
    """
    plan = solve_case(
        policy="max_share:\n  provider: 0.5\n",
        accelerators=ACCELERATORS,
        performance=PERFORMANCE,
        latency=LATENCY,
        workloads=[workload("w", q, 1000) for q in ("2026Q1", "2026Q2")],
        offers=[
            offer("o1", "aws", "r1", "a", 2.0, 1000, available_until="2026Q1"),
            offer("o2", "gcp", "r2", "b", 3.0, 1000),
        ],
        contracts=[{"offer": "o1", "chips": 10, "start": "2026Q2", "end": "2026Q2"}],
    )
    allocation = plan.allocation[plan.allocation["quarter"] == "2026Q1"]
    allocation = pd.concat(
        [allocation, pd.DataFrame([{"workload": "w", "quarter": "2026Q2", "offer": "o1", "tokens_per_s": 1000.0}])],
        ignore_index=True,
    )
    purchases = plan.purchases[plan.purchases["quarter"] == "2026Q1"]
    with pytest.raises(VerificationError, match="aws in 2026Q2: share 1.000000 above cap 0.5"):
        check(plan, allocation, purchases, objective=82_125)
