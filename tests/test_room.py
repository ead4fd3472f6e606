"""Negotiating room around the optimum (``optimizer room``), on hand-solved cases.

Three offers of chips serving 100 tokens/s, H = 2,190 h, one quarter: o1 aws (nvidia) at
2.00 USD per chip-hour, o2 azure (nvidia) at 1.90, o3 oci (amd) at 2.50. critical and
bulk ask 1,000 tokens/s each; critical never on azure. Optimum: critical on aws (10 chips,
43,800), bulk on azure (41,610): V = 85,410. Moving a token/s for a quarter costs the
price difference x H / 100: bulk azure -> aws 0.10 x 21.9 = 2.19, critical aws -> oci
0.50 x 21.9 = 10.95, bulk azure -> oci 0.60 x 21.9 = 13.14.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import offer, workload, write_folder
from hypothesis import HealthCheck, given, settings
from instances import examples, instances, tool_cost
from rich.console import Console
from typer.testing import CliRunner

import optimizer
from optimizer.analysis.room import negotiating_room
from optimizer.cli import app
from optimizer.reporting.console import show_room

V = 85_410.0
# Each figure is a HiGHS optimum held to the budget row within its feasibility tolerance
# (1e-7, scaled): within a few parts in 1e8 of the hand figure.
REL = 1e-7
EXCLUSION = "workload_rules:\n  - workloads: [critical]\n    exclude: {provider: [azure]}\n"


def folder_for(tmp_path, policy=EXCLUSION, fleet=None, **offer_extra):
    return write_folder(
        tmp_path / "in",
        policy=policy,
        **({"fleet": fleet} if fleet else {}),
        accelerators=[{"accelerator": "a", "vendor": "nvidia"}, {"accelerator": "b", "vendor": "amd"}],
        offers=[
            offer("o1", "aws", "r1", "a", 2.0, 100, **offer_extra),
            offer("o2", "azure", "r2", "a", 1.9, 100, **offer_extra),
            offer("o3", "oci", "r3", "b", 2.5, 100, **offer_extra),
        ],
        performance=[{"model": "m", "accelerator": a, "tokens_per_s_per_chip": 100, "ttft_ms": 100} for a in "ab"],
        workloads=[workload("critical", "2026Q1", 1000), workload("bulk", "2026Q1", 1000)],
        latency=[{"geography": "g", "region": r, "rtt_ms": 50} for r in ("r1", "r2", "r3")],
    )


@pytest.fixture
def room(tmp_path):
    plan = optimizer.solve(optimizer.load(folder_for(tmp_path)), payback=False)
    assert plan.totals["total_cost_usd"] == pytest.approx(V, rel=1e-12)
    return negotiating_room(plan, slack=0.005)


def point(room, supplier, slack_pct):
    table = room.movable
    return table[(table["supplier"] == supplier) & np.isclose(table["slack_pct"], slack_pct)].iloc[0]


def test_volume_movable_off_azure_at_each_slack(room):
    """Within 0.5% (427.05 USD) bulk moves to aws at 2.19 per token/s: 195 tokens/s, 19.5%.
    Within 5% (4,270.50) all of it moves, for 1,000 x 2.19 = 2,190: the extra cost is what
    the move needs, not the whole slack. At 0% nothing moves (the optimum is unique)."""
    half = point(room, "azure", 0.5)
    assert half["movable_tokens_per_s"] == pytest.approx(427.05 / 2.19, rel=REL)
    assert half["movable_share"] == pytest.approx(0.195, rel=REL)
    assert half["extra_cost_usd"] == pytest.approx(427.05, rel=REL)
    five = point(room, "azure", 5.0)
    assert five["movable_tokens_per_s"] == pytest.approx(1000.0, rel=REL)
    assert five["extra_cost_usd"] == pytest.approx(2190.0, rel=REL)
    # At 0% the budget is V plus the solver's cost tolerance, 1e-9 V = 8.5e-5 USD: room for
    # 8.5e-5 / 2.19 = 3.9e-5 tokens/s at most.
    assert point(room, "azure", 0.0)["movable_tokens_per_s"] == pytest.approx(0.0, abs=4e-5)


def test_volume_movable_off_aws_and_off_nvidia(room):
    """critical cannot go to azure: off aws only to oci, 427.05 / 10.95 = 39 tokens/s
    within 0.5%. Off nvidia (aws and azure) the cheapest move is the same: 39 of 2,000."""
    assert point(room, "aws", 0.5)["movable_tokens_per_s"] == pytest.approx(39.0, rel=REL)
    nvidia = point(room, "nvidia", 0.5)
    assert nvidia["movable_tokens_per_s"] == pytest.approx(39.0, rel=REL)
    assert nvidia["movable_share"] == pytest.approx(39.0 / 2000.0, rel=REL)
    assert set(room.movable["supplier"]) == {"aws", "azure", "nvidia"}  # oci and amd hold nothing today


def test_most_diversified_provider_plan(room):
    """aws and azure hold 50% each. Lowering both by d (to oci) costs 10.95 d + 13.14 d =
    24.09 d <= 427.05: d = 17.727..., largest share (1,000 - d) / 2,000 = 49.11%."""
    provider = room.diversified.set_index("dimension").loc["provider"]
    d = 427.05 / 24.09
    assert provider["largest_share_today"] == pytest.approx(0.5)
    assert provider["largest_group_today"] == "aws, azure"  # a tie names both
    assert provider["largest_group"] == "aws, azure"
    assert provider["largest_share"] == pytest.approx((1000 - d) / 2000, rel=REL)
    assert provider["extra_cost_usd"] == pytest.approx(427.05, rel=REL)


def test_each_extra_cost_equals_a_from_scratch_solve_with_that_volume_capped(room, tmp_path):
    """The second stage's figure, independently: cap azure at the volume left on it
    (share_overrides on provider, one quarter), solve from scratch; the cost rises by the
    reported extra cost."""
    for slack_pct in (0.1, 0.5, 2.0):
        row = point(room, "azure", slack_pct)
        cap = float(row["volume_tokens_per_s"]) / 2000
        policy = EXCLUSION + f"share_overrides:\n  max_share:\n    provider:\n      azure: {cap!r}\n"
        capped = optimizer.solve(optimizer.load(folder_for(tmp_path / str(slack_pct), policy)), payback=False)
        assert capped.totals["total_cost_usd"] - V == pytest.approx(row["extra_cost_usd"], rel=REL)


def test_the_same_demand_is_served(tmp_path):
    """A penalty of 5.4 USD per Mtok costs 5.4 x 7.884 = 42.5736 per token/s a quarter:
    critical (43.80 on aws) is left unserved today, bulk (41.61 on azure) served; V =
    42,573.6 + 41,610 = 84,183.6. Dropping bulk would shed azure's volume at 0.9636 per
    token/s, cheaper than moving it to aws (2.19), but the room holds service at today's:
    within 0.5% (420.918) 420.918 / 2.19 = 192.2 tokens/s move, and critical stays unserved."""
    policy = EXCLUSION + "unmet_penalty_usd_per_mtok: 5.4\n"
    plan = optimizer.solve(optimizer.load(folder_for(tmp_path, policy)), payback=False)
    assert plan.totals["total_cost_usd"] == pytest.approx(84_183.6, rel=REL)
    found = negotiating_room(plan, slack=0.005)
    azure = point(found, "azure", 0.5)
    assert azure["movable_tokens_per_s"] == pytest.approx(0.005 * 84_183.6 / 2.19, rel=REL)
    assert set(found.movable["supplier"]) == {"azure", "nvidia"}


def test_cli_writes_the_room_and_refuses_a_negative_slack(tmp_path):
    runner = CliRunner()
    data, out = folder_for(tmp_path), tmp_path / "room"
    result = runner.invoke(app, ["room", "--data", str(data), "--out", str(out), "--slack", "1"])
    assert result.exit_code == 0, result.output
    assert "Share of each supplier's volume movable" in result.output
    movable = pd.read_csv(out / "movable.csv")
    azure = movable[(movable["supplier"] == "azure") & (movable["slack_pct"] == 1.0)].iloc[0]
    assert azure["movable_tokens_per_s"] == pytest.approx(854.1 / 2.19, rel=REL)
    assert pd.read_csv(out / "diversified.csv")["slack_pct"].tolist() == [1.0, 1.0]
    assert pd.read_csv(out / "fleet_kept.csv").empty  # no starting fleet: the header only
    refused = runner.invoke(app, ["room", "--data", str(data), "--out", str(tmp_path / "r2"), "--slack", "-1"])
    assert refused.exit_code != 0 and not (tmp_path / "r2").exists()


def test_whole_instances_held_or_reopened(tmp_path):
    """Chips in whole instances of one, solved with --integer: each alternative by default
    keeps today's chips: bulk cannot leave azure's 10 chips for aws, which has none spare, so nothing
    moves within 0.5%. Reopened, a whole aws chip replaces an azure one for 2.00 x 2,190 -
    1.90 x 2,190 = 219 USD <= 427.05, moving 100 tokens/s (a second chip would take 438)."""
    inputs = optimizer.load(folder_for(tmp_path, chips_per_instance=1))
    plan = optimizer.solve(inputs, payback=False, integer=True)
    assert plan.totals["total_cost_usd"] == pytest.approx(V, rel=1e-12)
    held = point(negotiating_room(plan, slack=0.005, slacks=(0.005,)), "azure", 0.5)
    assert held["movable_tokens_per_s"] == pytest.approx(0.0, abs=1e-6)
    reopened = point(negotiating_room(plan, slack=0.005, slacks=(0.005,), hold_integers=False), "azure", 0.5)
    assert reopened["movable_tokens_per_s"] == pytest.approx(100.0, rel=REL)
    assert reopened["extra_cost_usd"] == pytest.approx(219.0, rel=REL)


@settings(max_examples=examples(0.05), suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(case=instances())
def test_room_figures_do_not_depend_on_the_solves_before_them(case):
    """On generated instances: each figure is an LP optimum, so the curve's point at a slack
    equals the room solved at that slack alone (a solve that stops short of the optimum
    from a warm start shows up here: the most diversified share once did, 38.4% against
    14.3% on the bundled data); more slack never moves less; no alternative costs more
    than its budget."""
    _, plan = tool_cost(case)
    if plan is None or plan.solution.highs is None:
        return
    slacks = (0.0, 0.01, 0.05)
    curve = negotiating_room(plan, slack=0.01, slacks=slacks)
    value = plan.solution.objective
    scale = max(1.0, float(plan.solution.x.sum()))
    for _, block in curve.movable.groupby(["dimension", "supplier"]):
        moved = block.sort_values("slack_pct")["movable_tokens_per_s"].to_numpy()
        assert np.all(np.diff(moved) >= -1e-7 * scale)
    for row in curve.movable.itertuples():
        assert row.extra_cost_usd <= row.slack_pct / 100 * value + 1e-9 * max(1.0, value) + 1e-6
    alone = negotiating_room(plan, slack=0.01, slacks=(0.01,))
    at = curve.movable[np.isclose(curve.movable["slack_pct"], 1.0)].reset_index(drop=True)
    assert list(at["supplier"]) == list(alone.movable["supplier"])
    moved = [table["movable_tokens_per_s"].astype(float) for table in (at, alone.movable)]
    assert np.allclose(*moved, rtol=0, atol=1e-7 * scale)
    shares = [room.diversified["largest_share"].astype(float) for room in (curve, alone)]
    assert np.allclose(*shares, rtol=0, atol=1e-7, equal_nan=True)


def test_the_plan_that_changes_least_from_the_starting_fleet(tmp_path):
    """A starting fleet of 5 oci chips serving 500 tokens/s of m (no switching costs, so
    the optimum is unchanged and keeps none of it). Within 0.5% (427.05 USD) the cheapest
    way to keep fleet volume on oci is critical's aws -> oci at 10.95 a token/s: 39
    tokens/s, 7.8% of the fleet's, for the whole 427.05."""
    fleet = [{"offer": "o3", "model": "m", "chips": 5, "tokens_per_s": 500}]
    plan = optimizer.solve(optimizer.load(folder_for(tmp_path, fleet=fleet)), payback=False)
    assert plan.totals["total_cost_usd"] == pytest.approx(V, rel=1e-12)
    found = negotiating_room(plan, slack=0.005)
    kept = found.fleet.iloc[0]
    assert kept["fleet_tokens_per_s"] == 500.0 and kept["kept_today_tokens_per_s"] == pytest.approx(0.0, abs=1e-9)
    assert kept["kept_tokens_per_s"] == pytest.approx(39.0, rel=REL)
    assert kept["kept_share"] == pytest.approx(0.078, rel=REL)
    assert kept["extra_cost_usd"] == pytest.approx(427.05, rel=REL)
    console = Console(record=True, width=200)
    show_room(found, console)
    assert "changes least from the starting fleet" in " ".join(console.export_text().split())
