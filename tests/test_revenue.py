"""The value of serving demand: a workload's revenue prices its unserved demand.

One offer o1 (aws) sells chips serving 100 tokens/s at 2 USD/chip-hour; one workload asks
1,000 tokens/s in 2026Q1; a quarter is 2,190 hours. Serving a token/s for the quarter costs
2 x 2,190 / 100 = 43.8 USD. A token/s serves 2,190 x 3,600 / 1e6 = 7.884 Mtok a quarter, of
which the share ``utilization`` is delivered, so leaving it unserved loses
revenue x utilization x 7.884 USD. Serving pays when that is above 43.8: at utilization 1,
above 43.8 / 7.884 = 5.5556 USD/Mtok.
"""

from __future__ import annotations

import pytest
from conftest import offer, workload, write_folder

import optimizer

SERVE_COST_USD = 43_800.0  # 10 chips x 2 USD x 2,190 h


def plan_for(tmp_path, revenue, utilization=1.0, **tables):
    folder = write_folder(
        tmp_path / "in",
        accelerators=[{"accelerator": "a", "vendor": "nvidia"}],
        offers=[offer("o1", "aws", "r1", "a", 2.0, 100)],
        performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100}],
        workloads=tables.get(
            "workloads",
            [workload("w", "2026Q1", 1000, revenue_usd_per_mtok=revenue, utilization=utilization)],
        ),
        latency=[{"geography": "g", "region": "r1", "rtt_ms": 50}],
    )
    return optimizer.solve(optimizer.load(folder), payback=False)


def test_revenue_below_serving_cost_leaves_demand_unserved_on_purpose(tmp_path):
    """5 USD/Mtok: a token/s earns 5 x 7.884 = 39.42 USD < 43.8, so nothing is served; the
    objective is the revenue given up, 1,000 x 39.42 = 39,420 USD, and the margin is 0."""
    totals = plan_for(tmp_path, revenue=5.0).totals
    assert totals["unmet_tokens_per_s"] == pytest.approx(1000.0)
    assert totals["compute_cost_usd"] == pytest.approx(0.0, abs=1e-6)
    assert totals["lost_revenue_usd"] == pytest.approx(39_420.0, rel=1e-12)
    assert totals["unmet_penalty_usd"] == 0.0
    assert totals["total_cost_usd"] == pytest.approx(39_420.0, rel=1e-12)
    assert totals["revenue_usd"] == pytest.approx(0.0, abs=1e-6)
    assert totals["gross_margin_usd"] == pytest.approx(0.0, abs=1e-6)


def test_revenue_above_serving_cost_serves_everything_at_its_margin(tmp_path):
    """10 USD/Mtok: 78.84 USD a token/s > 43.8: all is served. Revenue 1,000 x 78.84 =
    78,840 USD, cost 43,800, margin 35,040; tokens per dollar 7,884 Mtok / 43,800 USD."""
    totals = plan_for(tmp_path, revenue=10.0).totals
    assert totals["unmet_tokens_per_s"] == pytest.approx(0.0, abs=1e-9)
    assert totals["total_cost_usd"] == pytest.approx(SERVE_COST_USD, rel=1e-12)
    assert totals["revenue_usd"] == pytest.approx(78_840.0, rel=1e-12)
    assert totals["gross_margin_usd"] == pytest.approx(35_040.0, rel=1e-12)
    assert totals["lost_revenue_usd"] == pytest.approx(0.0, abs=1e-6)
    assert totals["tokens_per_usd"] == pytest.approx(7_884e6 / 43_800.0, rel=1e-12)


def test_revenue_counts_only_the_delivered_tokens(tmp_path):
    """At utilization 0.5 the same 10 USD/Mtok earns 39.42 USD a token/s of capacity, below
    43.8: the capacity is not worth buying and nothing is served."""
    totals = plan_for(tmp_path, revenue=10.0, utilization=0.5).totals
    assert totals["unmet_tokens_per_s"] == pytest.approx(1000.0)
    assert totals["total_cost_usd"] == pytest.approx(39_420.0, rel=1e-12)


def test_a_workload_without_revenue_keeps_the_penalty_and_no_margin_is_claimed(tmp_path):
    """w earns 5 USD/Mtok (unserved, as above); v has no revenue: its 100 tokens/s are priced
    at the default penalty, 100 USD/Mtok (788.4 USD a token/s), so v is served (4,380 USD).
    Part of the cost then earns nothing known: gross margin is not stated."""
    rows = [
        workload("w", "2026Q1", 1000, revenue_usd_per_mtok=5.0),
        workload("v", "2026Q1", 100, revenue_usd_per_mtok=""),
    ]
    totals = plan_for(tmp_path, revenue=None, workloads=rows).totals
    assert totals["unmet_tokens_per_s"] == pytest.approx(1000.0)
    assert totals["compute_cost_usd"] == pytest.approx(4_380.0, rel=1e-12)
    assert totals["total_cost_usd"] == pytest.approx(4_380.0 + 39_420.0, rel=1e-12)
    assert totals["revenue_usd"] == pytest.approx(0.0, abs=1e-6)
    assert totals["gross_margin_usd"] is None


def test_walking_away_costs_the_margin_lost(tmp_path):
    """At 10 USD/Mtok, walking away from aws (the only provider) strands all 1,000 tokens/s:
    the objective rises from 43,800 to the revenue given up, 78,840, so walking away costs
    35,040 USD, exactly the margin lost; none of it is the policy penalty."""
    plan = plan_for(tmp_path, revenue=10.0)
    suppliers = optimizer.leverage(plan.inputs, plan).suppliers.set_index(["dimension", "supplier"])
    aws = suppliers.loc[("provider", "aws")]
    assert aws["walk_away_cost_usd"] == pytest.approx(35_040.0, rel=1e-9)
    assert aws["walk_away_penalty_usd"] == pytest.approx(0.0, abs=1e-6)
    assert aws["walk_away_lost_revenue_usd"] == pytest.approx(78_840.0, rel=1e-9)
    assert aws["walk_away_lost_margin_usd"] == pytest.approx(35_040.0, rel=1e-9)
    assert aws["unserved_if_removed_tokens_per_s"] == pytest.approx(1000.0, rel=1e-9)


def test_walking_away_splits_penalty_from_margin_when_some_rows_have_no_revenue(tmp_path):
    """w earns 10 USD/Mtok on 1,000 tokens/s, v (100 tokens/s) has none: both are served on
    11 chips, 48,180 USD. Walking away from aws strands both: w's revenue 78,840 and v's
    penalty 100 x 7.884 x 100 = 78,840, an objective of 157,680, so the walk-away costs
    109,500. The margin today is 78,840 - 48,180 = 30,660 and 0 after: 30,660 is margin
    lost, the other 78,840 is the penalty's."""
    rows = [
        workload("w", "2026Q1", 1000, revenue_usd_per_mtok=10.0),
        workload("v", "2026Q1", 100, revenue_usd_per_mtok=""),
    ]
    plan = plan_for(tmp_path, revenue=None, workloads=rows)
    aws = optimizer.leverage(plan.inputs, plan).suppliers.set_index(["dimension", "supplier"]).loc[("provider", "aws")]
    assert aws["walk_away_cost_usd"] == pytest.approx(109_500.0, rel=1e-9)
    assert aws["walk_away_penalty_usd"] == pytest.approx(78_840.0, rel=1e-9)
    assert aws["walk_away_lost_revenue_usd"] == pytest.approx(78_840.0, rel=1e-9)
    assert aws["walk_away_lost_margin_usd"] == pytest.approx(30_660.0, rel=1e-9)


def test_margin_per_quarter_adds_up_to_the_horizon(tmp_path):
    """2026Q1 earns 10 USD/Mtok (served: margin 35,040), 2026Q2 earns 5 (left unserved:
    revenue, cost and margin 0, lost revenue 39,420). The quarters' margins add up to the
    horizon's 35,040."""
    rows = [
        workload("w", "2026Q1", 1000, revenue_usd_per_mtok=10.0),
        workload("w", "2026Q2", 1000, revenue_usd_per_mtok=5.0),
    ]
    plan = plan_for(tmp_path, revenue=None, workloads=rows)
    money = plan.money.set_index("quarter")
    assert money.loc["2026Q1", "gross_margin_usd"] == pytest.approx(35_040.0, rel=1e-12)
    assert money.loc["2026Q1", "cost_usd"] == pytest.approx(SERVE_COST_USD, rel=1e-12)
    assert money.loc["2026Q2", "gross_margin_usd"] == pytest.approx(0.0, abs=1e-6)
    assert money.loc["2026Q2", "lost_revenue_usd"] == pytest.approx(39_420.0, rel=1e-12)
    assert plan.totals["gross_margin_usd"] == pytest.approx(35_040.0, rel=1e-12)


def test_the_outage_drill_prices_a_weeks_outage_in_margin_and_penalty(tmp_path):
    """The rows of the walk-away case, ``outage_days: 7``: losing aws (the only provider)
    strands all 1,100 tokens/s for 7 x 86,400 s. w's 1,000 tokens/s are 604.8 Mtok at
    10 USD, 6,048 USD of margin (the chips are paid anyway); v's 100 are 60.48 Mtok at
    the 100 USD penalty, 6,048 USD more, reported apart."""
    folder = write_folder(
        tmp_path / "in",
        policy="outage_days: 7\n",
        accelerators=[{"accelerator": "a", "vendor": "nvidia"}],
        offers=[offer("o1", "aws", "r1", "a", 2.0, 100)],
        performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100}],
        workloads=[
            workload("w", "2026Q1", 1000, revenue_usd_per_mtok=10.0),
            workload("v", "2026Q1", 100, revenue_usd_per_mtok=""),
        ],
        latency=[{"geography": "g", "region": "r1", "rtt_ms": 50}],
    )
    plan = optimizer.solve(optimizer.load(folder), payback=False)
    outage = optimizer.leverage(plan.inputs, plan).outage.set_index(["dimension", "supplier"]).loc[("provider", "aws")]
    assert outage["stranded_tokens_per_s"] == pytest.approx(1_100.0)
    assert outage["outage_days"] == 7.0
    assert outage["margin_at_risk_usd"] == pytest.approx(6_048.0, rel=1e-9)
    assert outage["penalty_at_risk_usd"] == pytest.approx(6_048.0, rel=1e-9)
