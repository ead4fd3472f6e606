"""Minimum-spend discounts (contract, "Extension: minimum-spend discounts"), on hand-solved cases.

One workload in 2026Q1 on a chip serving 100 tokens/s, a quarter of 2,190 hours. Offer o1
(aws) lists 2.00 USD per chip-hour, o2 (gcp) 1.95; each sells up to 100 chips. aws offers
10% off every dollar paid to it in 2026Q1 once that spend reaches F.

With n chips of need, the plan either buys them on o2 (1.95 n per hour) or reaches F on
o1, where each chip then costs 1.80 < 1.95, so every chip goes to o1 and, when n chips do
not reach F, it buys F / (2.00 x 2,190) chips, idle ones included:
cost = min(1.95 n, 1.80 max(n, F / 4,380)) x 2,190.
"""

from __future__ import annotations

import pytest
from conftest import offer, workload, write_folder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optimizer
from optimizer.analysis.negotiation import leverage
from optimizer.errors import InputError, VerificationError
from optimizer.plan.verification import verify
from optimizer.scenarios.overlays import Scale, Scenario, apply

HOURS = 2190.0
TEN_CHIPS = 10 * 2.0 * HOURS  # 43,800 USD: what 10 o1 chips cost in the quarter at list


def level(from_usd=TEN_CHIPS, discount=0.1, first="2026Q1", last="2026Q1", provider="aws"):
    return {"provider": provider, "first": first, "last": last, "from_usd": from_usd, "discount": discount}


def folder_for(tmp_path, discounts, demand=950.0, quarters=("2026Q1",), **tables):
    return write_folder(
        tmp_path / "in",
        accelerators=[{"accelerator": "a", "vendor": "nvidia"}],
        offers=[offer("o1", "aws", "r1", "a", 2.0, 100), offer("o2", "gcp", "r2", "a", 1.95, 100)],
        performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100}],
        workloads=[workload(f"w{k}", q, demand) for k, q in enumerate(quarters)],
        latency=[{"geography": "g", "region": r, "rtt_ms": 50} for r in ("r1", "r2")],
        spend_discounts=discounts,
        **tables,
    )


def plan_for(tmp_path, discounts, **kwargs):
    return optimizer.solve(optimizer.load(folder_for(tmp_path, discounts, **kwargs)), payback=False)


@pytest.mark.parametrize("chips", [5.0, 9.0, 9.2, 9.5, 10.0, 12.0, 40.0])
def test_cost_is_the_closed_form(tmp_path, chips):
    """min(1.95 n, 1.80 max(n, 10)) x 2,190 with F = 43,800 (10 chips), either side of F."""
    plan = plan_for(tmp_path, [level()], demand=chips * 100)
    expected = min(1.95 * chips, 1.8 * max(chips, 10.0)) * HOURS
    assert plan.totals["total_cost_usd"] == pytest.approx(expected, rel=1e-9)


def test_reaching_the_threshold_pays_for_idle_chips(tmp_path):
    """950 tokens/s need 9.5 chips: on o2 they cost 40,569.75; 9.5 o1 chips (41,610) miss
    F = 43,800, so the plan buys 10 o1 chips, half a chip idle, and pays 43,800 less 10%,
    39,420. The summary, the discount table and the money table say so."""
    plan = plan_for(tmp_path, [level()])
    assert plan.totals["total_cost_usd"] == pytest.approx(39_420.0, rel=1e-9)
    assert plan.totals["spend_discount_usd"] == pytest.approx(4_380.0, rel=1e-9)
    bought = plan.purchases.set_index("offer")
    assert bought.loc["o1", "chips"] == pytest.approx(10.0)
    assert bought.loc["o1", "cost_usd"] == pytest.approx(TEN_CHIPS)  # purchases are at list
    row = plan.spend_discounts.iloc[0]
    assert bool(row["reached"]) and row["spend_usd"] == pytest.approx(TEN_CHIPS)
    assert row["rebate_usd"] == pytest.approx(4_380.0) and row["to_reach_usd"] == pytest.approx(0.0)
    money = plan.money.iloc[0]
    assert money["spend_discount_usd"] == pytest.approx(4_380.0)
    assert money["cost_usd"] == pytest.approx(39_420.0)


def test_a_small_discount_does_not_move_the_volume(tmp_path):
    """2% off: o1 costs 1.96 per chip-hour once F is reached, above o2's 1.95 at any volume,
    so the plan buys 9.5 o2 chips (40,569.75) and reaches nothing; F is 43,800 away."""
    plan = plan_for(tmp_path, [level(discount=0.02)])
    assert plan.totals["total_cost_usd"] == pytest.approx(9.5 * 1.95 * HOURS, rel=1e-9)
    assert set(plan.purchases["offer"]) == {"o2"}
    row = plan.spend_discounts.iloc[0]
    assert not bool(row["reached"]) and row["rebate_usd"] == 0.0
    assert row["to_reach_usd"] == pytest.approx(TEN_CHIPS)


def test_one_level_of_a_period_applies(tmp_path):
    """Levels 5% from 40,000 and 10% from 43,800: 9.5 o1 chips reach the first, 41,610 x
    0.95 = 39,529.50; 10 chips reach the second, 39,420, the plan's choice. Stacking both
    (15% on 43,800 = 37,230) is not allowed."""
    plan = plan_for(tmp_path, [level(40_000.0, 0.05), level()])
    assert plan.totals["total_cost_usd"] == pytest.approx(39_420.0, rel=1e-9)
    reached = plan.spend_discounts.set_index("from_usd")["reached"]
    assert not bool(reached[40_000.0]) and bool(reached[TEN_CHIPS])


def test_signed_contract_spend_counts_and_is_discounted(tmp_path):
    """A signed aws contract of 6 o1 chips at 2.00 (26,280, sunk) counts towards F and is
    rebated too: with 9.5 chips of need, buying 4 o1 chips more reaches F = 43,800 and the
    whole 43,800 costs 39,420; without the discount the 3.5 chips of need beyond the
    contract would go to o2 (26,280 + 3.5 x 1.95 x 2,190 = 41,228.25)."""
    contract = [{"offer": "o1", "chips": 6, "start": "2026Q1", "end": "2026Q1", "usd_per_chip_hour": 2.0}]
    plan = plan_for(tmp_path, [level()], contracts=contract)
    assert plan.totals["total_cost_usd"] == pytest.approx(39_420.0, rel=1e-9)
    assert plan.totals["spend_discount_usd"] == pytest.approx(4_380.0, rel=1e-9)
    assert plan.purchases.set_index("offer").loc["o1", "chips"] == pytest.approx(4.0)
    without = plan_for(tmp_path / "b", [level(discount=0.02)], contracts=contract)
    assert without.totals["total_cost_usd"] == pytest.approx(26_280.0 + 3.5 * 1.95 * HOURS, rel=1e-9)


def test_a_period_beyond_the_horizon_keeps_its_threshold_pro_rata(tmp_path):
    """A 2-quarter period 2026Q1..2026Q2 with a one-quarter horizon: F = 87,600 counts
    half, 43,800, inside the horizon, so the case is the one-quarter one (39,420)."""
    plan = plan_for(tmp_path, [level(2 * TEN_CHIPS, last="2026Q2")])
    assert plan.totals["total_cost_usd"] == pytest.approx(39_420.0, rel=1e-9)
    assert plan.spend_discounts.iloc[0]["from_in_horizon_usd"] == pytest.approx(TEN_CHIPS)


def test_present_value_discounts_each_quarters_rebate(tmp_path):
    """Two quarters of 950 tokens/s, 10% a year: a 2026Q2 dollar is worth 1.1^-0.25. With a
    2026Q1..2026Q2 period and F = 87,600 (20 o1 chip-quarters) the plan needs 9.5 chips in
    each quarter and one idle chip-quarter to reach F; it holds the idle half chip-quarter
    more in 2026Q2, where a dollar is worth less: 9.5 chips, then 10.5, each at 2.00 less
    10% (3,942 per chip-quarter). PV 3,942 (9.5 + 10.5 x 1.1^-0.25), nominal 3,942 x 20."""
    folder = folder_for(tmp_path, [level(2 * TEN_CHIPS, last="2026Q2")], quarters=("2026Q1", "2026Q2"))
    (folder / "policy.yaml").write_text("discount_rate_per_year: 0.1\n")
    plan = optimizer.solve(optimizer.load(folder), payback=False)
    assert plan.totals["total_cost_pv_usd"] == pytest.approx(3_942.0 * (9.5 + 10.5 * 1.1**-0.25), rel=1e-9)
    assert plan.totals["total_cost_usd"] == pytest.approx(3_942.0 * 20, rel=1e-9)
    held = plan.purchases.set_index("quarter")["chips"]
    assert held["2026Q1"] == pytest.approx(9.5) and held["2026Q2"] == pytest.approx(10.5)


def test_the_verifier_rederives_the_discount_from_the_spend(tmp_path):
    """9.5 o1 chips (41,610) miss F = 43,800: a plan claiming the 10% on them (37,449) is
    rejected; their list cost passes."""
    plan = plan_for(tmp_path, [level()])
    purchases = plan.purchases.assign(chips=9.5)
    verify(plan.inputs, plan.allocation, purchases, 9.5 * 2.0 * HOURS)
    with pytest.raises(VerificationError):
        verify(plan.inputs, plan.allocation, purchases, 9.5 * 1.8 * HOURS)


def test_walk_away_loses_the_discount(tmp_path):
    """aws today: 10 chips, 39,420 after its discount. Walking away buys 9.5 o2 chips,
    40,569.75: the walk-away cost is 1,149.75, equal to a from-scratch solve without o1."""
    inputs = optimizer.load(folder_for(tmp_path, [level()]))
    report = leverage(inputs, optimizer.solve(inputs, payback=False), workers=1)
    aws = report.suppliers.set_index(["dimension", "supplier"]).loc[("provider", "aws")]
    assert aws["walk_away_cost_usd"] == pytest.approx(40_569.75 - 39_420.0, rel=1e-9)


def test_a_price_rise_moves_the_rebate_with_it(tmp_path):
    """o1 at factor f on its price: F = 43,800 is reached with 20 / f chips, so until
    f = 20 / 9.5 (+5.263%) the plan sheds idle chips and still pays 0.9 x 43,800 = 39,420:
    the lab's cost, and today's piece, stay flat. Beyond, 9.5 chips cost 0.9 x 9.5 x 2 f
    per hour against o2's 18.525, so the volume moves at f = 18.525 / 17.1 (+8.333%).
    The uniform-ceiling bracket straddles +5.263%, the half-volume one +8.333%; from-scratch
    solves of scenarios either side agree."""
    inputs = optimizer.load(folder_for(tmp_path, [level()]))
    report = leverage(inputs, optimizer.solve(inputs, payback=False), workers=1)
    aws = report.suppliers.set_index(["dimension", "supplier"]).loc[("provider", "aws")]
    flat, moves = 20 / 19.0, 18.525 / 17.1
    assert aws["uniform_ceiling_pct"] <= (flat - 1) * 100 < aws["uniform_ceiling_moves_pct"]
    assert aws["half_volume_above_pct"] < (moves - 1) * 100 <= aws["half_volume_pct"]
    assert aws["half_volume_pct"] == pytest.approx((moves - 1) * 100, abs=1e-3)

    def scaled(factor):
        change = Scale(scale="offers", where={"offer": "o1"}, column="usd_per_chip_hour", by=factor)
        return optimizer.solve(apply(Scenario(name="s", base=inputs.folder, changes=[change])), payback=False)

    assert scaled(flat * 0.999).totals["total_cost_usd"] == pytest.approx(39_420.0, rel=1e-9)
    assert scaled(flat * 1.001).totals["total_cost_usd"] > 39_420.0 * (1 + 1e-5)
    for factor, keeps in ((moves * 0.999, True), (moves * 1.001, False)):
        assert ("o1" in set(scaled(factor).allocation["offer"])) is keeps


@pytest.mark.parametrize(
    ("rows", "column", "message"),
    [
        ([level(provider="nope")], "provider", "no offers"),
        ([level(discount=1.5)], "discount", ""),
        ([level(from_usd=0)], "from_usd", ""),
        ([level(first="2026Q2", last="2026Q1")], "first", "after"),
        ([level(), level(first="2026Q1", last="2026Q2")], "first", "overlaps"),
    ],
)
def test_bad_discount_rows_are_named_at_their_line_and_column(tmp_path, rows, column, message):
    with pytest.raises(InputError) as caught:
        optimizer.load(folder_for(tmp_path, rows))
    problems = [p for p in caught.value.problems if p.file.endswith("spend_discounts.csv")]
    assert problems, caught.value
    assert any(p.column == column and message in p.message for p in problems), problems


def brute_force(need, prices, caps, levels):
    """The cheapest way to hold ``need`` chips on offers at ``prices`` (USD per chip-hour,
    up to ``caps``; the first two are aws's), every choice of level (none, or one of
    ``levels``: from_usd, discount on aws) enumerated, each an LP solved by scipy."""
    from scipy.optimize import linprog

    aws = [HOURS * p if k < 2 else 0.0 for k, p in enumerate(prices)]
    best = float("inf")
    for from_usd, discount in [(0.0, 0.0), *levels]:
        cost = [HOURS * p * (1 - discount) if k < 2 else HOURS * p for k, p in enumerate(prices)]
        result = linprog(
            c=cost,
            A_ub=[[-1.0] * len(prices), [-a for a in aws]],
            b_ub=[-need, -from_usd],
            bounds=[(0.0, cap) for cap in caps],
            method="highs",
        )
        if result.status == 0:
            best = min(best, result.fun)
    return best


@st.composite
def discount_cases(draw):
    prices = [draw(st.sampled_from([1.8, 2.0, 2.2])), draw(st.sampled_from([2.1, 2.4])), 1.95]
    caps = [draw(st.sampled_from([8, 20, 60])), draw(st.sampled_from([10, 40])), 100]
    count = draw(st.integers(1, 2))
    thresholds = sorted(draw(st.lists(st.integers(5, 120), min_size=count, max_size=count, unique=True)))
    rates = sorted(draw(st.lists(st.sampled_from([0.03, 0.08, 0.15, 0.25]), min_size=count, max_size=count)))
    levels = [(t * 4_000.0, r) for t, r in zip(thresholds, rates, strict=True)]
    return draw(st.integers(1, 120)) / 2, prices, caps, levels


@given(discount_cases())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_discounts_against_brute_force(tmp_path_factory, case):
    """Drawn levels on aws (two offers of its own) against gcp at 1.95: the plan's cost is
    the best of every level choice, each solved as its own small LP (an independent method)."""
    need, prices, caps, levels = case
    folder = write_folder(
        tmp_path_factory.mktemp("d"),
        accelerators=[{"accelerator": "a", "vendor": "nvidia"}],
        offers=[
            offer("o1", "aws", "r1", "a", prices[0], caps[0]),
            offer("o3", "aws", "r1", "a", prices[1], caps[1]),
            offer("o2", "gcp", "r2", "a", prices[2], caps[2]),
        ],
        performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100}],
        workloads=[workload("w", "2026Q1", need * 100)],
        latency=[{"geography": "g", "region": r, "rtt_ms": 50} for r in ("r1", "r2")],
        spend_discounts=[level(f, d) for f, d in levels],
    )
    plan = optimizer.solve(optimizer.load(folder), payback=False)
    assert plan.totals["total_cost_usd"] == pytest.approx(brute_force(need, prices, caps, levels), rel=1e-7)


def test_leverage_says_what_each_level_is_worth_and_what_reaching_one_costs(tmp_path):
    """Levels 5% from 40,000 and 10% from 43,800 (the plan reaches the second, 39,420).
    Without it the best is the first: 9.5 o1 chips, 41,610 x 0.95 = 39,529.50, so the
    level reached is worth 109.50. Reaching the first instead means giving up the second
    (one level per period): it costs the same 109.50. From-scratch solves agree: without
    the second level's row the plan costs 39,529.50."""
    inputs = optimizer.load(folder_for(tmp_path, [level(40_000.0, 0.05), level()]))
    plan = optimizer.solve(inputs, payback=False)
    table = leverage(inputs, plan, workers=1).spend_discounts.set_index("from_in_horizon_usd")
    assert table.loc[TEN_CHIPS, "value_usd"] == pytest.approx(109.5, rel=1e-9)
    assert table.loc[40_000.0, "cost_of_reaching_usd"] == pytest.approx(109.5, rel=1e-9)
    assert table.loc[40_000.0, "to_reach_usd"] == 0.0  # its threshold is met, its level not taken
    alone = plan_for(tmp_path / "b", [level(40_000.0, 0.05)])
    assert alone.totals["total_cost_usd"] - plan.totals["total_cost_usd"] == pytest.approx(109.5, rel=1e-9)
