"""A starting fleet and the cost of moving (contract, "Extension: starting fleet and the cost
of moving"), on hand-solved cases.

Two clouds sell the same chip serving 100 tokens/s: aws at 2.00 USD/chip-hour (o1), gcp at
1.90 (o2). One workload asks 1,000 tokens/s in 2026Q1 and 2026Q2 (10 chips); a quarter is
2,190 hours. Today the lab runs it on 10 aws chips (the starting fleet). Staying costs
10 x 2.00 x 2,190 x 2 = 87,600 USD; moving to gcp at once costs 10 x 1.90 x 2,190 x 2 =
83,220 plus the move, so moving pays when 1,000 tokens/s off aws cost less than 4,380,
i.e. below 4.38 USD per token/s. Moving only in 2026Q2 saves half as much (2,190), so
when moving pays it happens in 2026Q1.
"""

from __future__ import annotations

import pytest
from conftest import offer, workload, write_folder

import optimizer
from optimizer.errors import InputError, VerificationError
from optimizer.io.consistency import check
from optimizer.model.builder import build
from optimizer.plan.verification import verify

STAY_USD = 87_600.0
MOVE_USD = 83_220.0
FLEET = [{"offer": "o1", "model": "m", "chips": 10, "tokens_per_s": 1000}]


def folder_for(tmp_path, policy: str, fleet=FLEET, demand=(1000, 1000)):
    return write_folder(
        tmp_path / "in",
        policy=policy,
        accelerators=[{"accelerator": "a", "vendor": "nvidia"}],
        offers=[offer("o1", "aws", "r1", "a", 2.0, 100), offer("o2", "gcp", "r2", "a", 1.9, 100)],
        performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100}],
        workloads=[workload("w", q, d) for q, d in zip(("2026Q1", "2026Q2"), demand, strict=True)],
        latency=[{"geography": "g", "region": r, "rtt_ms": 50} for r in ("r1", "r2")],
        **({"fleet": fleet} if fleet else {}),
    )


def plan_for(tmp_path, policy: str, **kwargs):
    return optimizer.solve(optimizer.load(folder_for(tmp_path, policy, **kwargs)), payback=False)


def off_cost(usd: float, extra: str = "") -> str:
    return f"switching:\n  provider:\n    off_usd_per_token_s: {usd}\n{extra}"


def test_a_switching_cost_above_the_saving_keeps_the_fleet_where_it_is(tmp_path):
    """5 USD per token/s off aws: moving costs 5,000 > the 4,380 it saves; nothing moves and
    the plan costs what staying does, 87,600."""
    plan = plan_for(tmp_path, off_cost(5))
    assert plan.totals["total_cost_usd"] == pytest.approx(STAY_USD, rel=1e-9)
    assert plan.totals["moving_cost_usd"] == 0.0
    assert plan.moves.empty
    assert set(plan.allocation["offer"]) == {"o1"}


def test_a_smaller_switching_cost_makes_moving_pay_in_the_first_quarter(tmp_path):
    """4 USD per token/s: moving costs 4,000 < 4,380; all 1,000 tokens/s move off aws (and
    onto gcp, free) in 2026Q1: 83,220 + 4,000 = 87,220, the move paid in 2026Q1."""
    plan = plan_for(tmp_path, off_cost(4))
    assert plan.totals["total_cost_usd"] == pytest.approx(MOVE_USD + 4_000.0, rel=1e-9)
    assert plan.totals["compute_cost_usd"] == pytest.approx(MOVE_USD + 4_000.0, rel=1e-9)
    assert plan.totals["moving_cost_usd"] == pytest.approx(4_000.0, rel=1e-9)
    off = plan.moves.set_index("group").loc["aws"]
    assert off["quarter"] == "2026Q1"
    assert off["moved_off_tokens_per_s"] == pytest.approx(1000.0)
    assert off["cost_usd"] == pytest.approx(4_000.0)
    onto = plan.moves.set_index("group").loc["gcp"]
    assert onto["moved_onto_tokens_per_s"] == pytest.approx(1000.0) and onto["cost_usd"] == 0.0
    money = plan.money.set_index("quarter")
    assert money.loc["2026Q1", "moving_usd"] == pytest.approx(4_000.0)
    assert money.loc["2026Q2", "moving_usd"] == 0.0
    assert money["cost_usd"].sum() == pytest.approx(plan.totals["compute_cost_usd"], rel=1e-12)


def test_a_model_factor_scales_the_cost_of_moving_that_model(tmp_path):
    """5 USD per token/s keeps the fleet in place (above); with model m's factor 0.5 the move
    costs 2,500 < 4,380 and pays: 83,220 + 2,500 = 85,720."""
    plan = plan_for(tmp_path, off_cost(5, "    model_factors: {m: 0.5}\n"))
    assert plan.totals["total_cost_usd"] == pytest.approx(MOVE_USD + 2_500.0, rel=1e-9)
    assert plan.moves.set_index("group").loc["aws", "cost_usd"] == pytest.approx(2_500.0)


def test_without_a_starting_fleet_the_first_quarter_is_free_to_place(tmp_path):
    """No fleet: nothing is measured into 2026Q1, so even 100 USD per token/s off aws leaves
    the cheapest plan, gcp in both quarters (83,220), with nothing moving after."""
    plan = plan_for(tmp_path, off_cost(100), fleet=None)
    assert plan.totals["total_cost_usd"] == pytest.approx(MOVE_USD, rel=1e-9)
    assert plan.moves.empty


def test_a_continuity_limit_spreads_the_move_over_quarters(tmp_path):
    """1 USD per token/s (moving pays) but at most 25% of aws's volume may leave per quarter:
    2026Q1 keeps 750 on aws (250 move, 250 USD), 2026Q2 keeps 562.5 (187.5 move, 187.5 USD).
    Cost: 2026Q1 7.5 x 2 x 2,190 + 2.5 x 1.9 x 2,190 = 43,252.5; 2026Q2 5.625 x 2 x 2,190 +
    4.375 x 1.9 x 2,190 = 42,841.875; with the moves 86,531.875."""
    plan = plan_for(tmp_path, off_cost(1, "    max_off_share: 0.25\n"))
    assert plan.totals["total_cost_usd"] == pytest.approx(43_252.5 + 42_841.875 + 437.5, rel=1e-9)
    aws = plan.moves[plan.moves["group"] == "aws"].set_index("quarter")
    assert aws["moved_off_tokens_per_s"].to_dict() == pytest.approx({"2026Q1": 250.0, "2026Q2": 187.5})


def test_an_onto_limit_with_an_allowance_caps_what_arrives(tmp_path):
    """Free moves, but at most 10% of gcp's previous volume plus 300 tokens/s may arrive
    on gcp per quarter: 2026Q1 from 0 takes 300; 2026Q2 takes 0.1 x 300 + 300 = 330 more,
    630 in all. Cost: 2026Q1 7 x 2 x 2,190 + 3 x 1.9 x 2,190 = 43,143; 2026Q2 3.7 x 2 x 2,190
    + 6.3 x 1.9 x 2,190 = 42,420.3."""
    policy = "switching:\n  provider:\n    groups:\n      gcp: {max_onto_share: 0.1, allowance_tokens_per_s: 300}\n"
    plan = plan_for(tmp_path, policy)
    assert plan.totals["total_cost_usd"] == pytest.approx(43_143.0 + 42_420.3, rel=1e-9)
    assert plan.totals["moving_cost_usd"] == 0.0
    gcp = plan.moves[plan.moves["group"] == "gcp"].set_index("quarter")
    assert gcp["moved_onto_tokens_per_s"].to_dict() == pytest.approx({"2026Q1": 300.0, "2026Q2": 330.0})


def test_moving_costs_are_discounted_from_the_quarter_they_are_paid_in(tmp_path):
    """At 10% a year a dollar paid at the start of 2026Q2 is worth d2 = 1.1 ** -0.25. Demand
    ends after 2026Q1 and leaving any provider costs 5 USD per token/s: staying on aws costs
    43,800 in 2026Q1 and 1,000 x 5 = 5,000 in 2026Q2 as the volume leaves, 43,800 + 5,000 d2
    in present value (moving to gcp first would cost 5,000 + 41,610 + 5,000 d2, more)."""
    d2 = 1.1**-0.25
    plan = plan_for(tmp_path, "discount_rate_per_year: 0.1\n" + off_cost(5), demand=(1000, 0))
    assert plan.totals["moving_cost_usd"] == pytest.approx(5_000.0, rel=1e-9)
    assert plan.totals["total_cost_usd"] == pytest.approx(48_800.0, rel=1e-9)
    assert plan.totals["total_cost_pv_usd"] == pytest.approx(43_800.0 + 5_000.0 * d2, rel=1e-9)
    money = plan.money.set_index("quarter")
    assert money.loc["2026Q2", "moving_usd"] == pytest.approx(5_000.0)
    assert money.loc["2026Q2", "paid_pv_usd"] == pytest.approx(5_000.0 * d2, rel=1e-12)


def test_without_switching_the_lp_is_unchanged_by_a_fleet(tmp_path):
    """The fleet alone adds no column and no row: moving is measured only under ``switching``."""
    with_fleet = build(optimizer.load(folder_for(tmp_path, "{}\n")))
    without = build(optimizer.load(folder_for(tmp_path / "b", "{}\n", fleet=None)))
    assert (with_fleet.lp.num_col, with_fleet.lp.num_row) == (without.lp.num_col, without.lp.num_row)


def test_fleet_rows_are_checked_against_offers_workloads_and_throughput(tmp_path):
    """One message per bad row: an unknown offer, a model without workloads, and more
    tokens/s than the chips serve (10 chips x 100 = 1,000 < 1,500)."""
    fleet = [
        {"offer": "nope", "model": "m", "chips": 1, "tokens_per_s": 10},
        {"offer": "o1", "model": "other", "chips": 1, "tokens_per_s": 10},
        {"offer": "o2", "model": "m", "chips": 10, "tokens_per_s": 1500},
    ]
    with pytest.raises(InputError) as error:
        optimizer.load(folder_for(tmp_path, "{}\n", fleet=fleet))
    found = sorted((p.line, p.column) for p in error.value.problems)
    assert found == [(2, "offer"), (3, "model"), (4, "tokens_per_s")]
    assert "more than 10 chips serve" in str(error.value)


def test_switching_groups_must_have_offers(tmp_path):
    """A group override naming a provider without offers is an input error at its key."""
    inputs = optimizer.load(folder_for(tmp_path, "{}\n"))
    azure = {"groups": {"azure": {"off_usd_per_token_s": 1}}}
    policy = inputs.policy.model_validate({"switching": {"provider": azure}})
    problems, _ = check(inputs.__class__(**{**inputs.__dict__, "policy": policy}), {})
    assert [p.column for p in problems] == ["switching.provider.groups.azure"]


def test_an_impossible_continuity_limit_is_named(tmp_path):
    """Demand falls to 0 in 2026Q2 but at most 10% of aws's volume may leave per quarter, and
    the fleet is on aws: no plan exists, and the planner names the switching rule."""
    policy = "switching:\n  provider:\n    max_off_share: 0.1\n"
    with pytest.raises(Exception, match="may move off it into 2026Q2"):
        plan_for(tmp_path, policy, demand=(1000, 0))


def test_ramp_limits_start_from_the_fleet(tmp_path):
    """gcp may grow by at most 300 tokens/s a quarter (factor 1, allowance 300), and the
    fleet runs nothing there: 2026Q1 puts 300 on gcp and 700 on aws, (3 x 1.90 + 7 x 2.00)
    x 2,190 = 43,143; 2026Q2 600 and 400, (6 x 1.90 + 4 x 2.00) x 2,190 = 42,486; 85,629 in
    all. Without a fleet the first quarter is free: 1,000 on gcp in both, 83,220."""
    policy = "ramp_limits:\n  provider:\n    gcp: {factor: 1.0, allowance_tokens_per_s: 300}\n"
    plan = plan_for(tmp_path / "fleet", policy)
    assert plan.totals["total_cost_usd"] == pytest.approx(43_143.0 + 42_486.0, rel=1e-9)
    served = plan.allocation.groupby(["provider", "quarter"])["tokens_per_s"].sum()
    assert served[("gcp", "2026Q1")] == pytest.approx(300.0) and served[("gcp", "2026Q2")] == pytest.approx(600.0)
    assert plan_for(tmp_path / "free", policy, fleet=None).totals["total_cost_usd"] == pytest.approx(MOVE_USD, rel=1e-9)


def test_the_verifier_holds_the_first_quarter_to_the_fleets_ramp(tmp_path):
    """The plan made without a fleet (1,000 tokens/s on gcp in 2026Q1) breaks the ramp from
    a fleet with nothing on gcp (at most 300)."""
    policy = "ramp_limits:\n  provider:\n    gcp: {factor: 1.0, allowance_tokens_per_s: 300}\n"
    free = plan_for(tmp_path / "free", policy, fleet=None)
    inputs = optimizer.load(folder_for(tmp_path / "fleet", policy))
    with pytest.raises(VerificationError, match="ramp of provider gcp into 2026Q1"):
        verify(inputs, free.allocation, free.purchases, free.totals["total_cost_usd"])


def test_the_finance_report_reconciles_with_a_move(tmp_path):
    """The 4 USD case: the report's compute lines are 83,220 of compute spend and the
    4,000 move, reconciling with the compute cost of 87,220 (the bundled report once left
    the move out and missed by its 38.6M USD of moving costs)."""
    from optimizer.reporting.report import make_report

    data = make_report(folder_for(tmp_path, off_cost(4)), room=False)
    lines = dict(data.reconciliation)
    assert lines["Compute spend in the horizon (the Spend sheet, by provider)"] == pytest.approx(MOVE_USD)
    assert lines["Moving workloads between suppliers (switching costs)"] == pytest.approx(4_000.0)
    assert lines["Compute cost (sum of the lines above)"] == pytest.approx(MOVE_USD + 4_000.0)
    assert data.reconciles
