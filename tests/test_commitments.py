"""Terms, pools, signed contracts, spend commitments and budgets on hand-solved cases.

H = 2190 h per quarter. Chip a serves 100 tok/s, chip b 200 tok/s. 1000 tok/s on
on-demand o1 (aws, chip a, 2 USD/chip-h) need 10 chips: 43,800 USD a quarter.
"""

from __future__ import annotations

import pytest
from conftest import offer, workload

H = 2190.0
ACCELERATORS = [{"accelerator": "a", "vendor": "nvidia"}, {"accelerator": "b", "vendor": "google"}]
PERFORMANCE = [
    {"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100},
    {"model": "m", "accelerator": "b", "tokens_per_s_per_chip": 200, "ttft_ms": 100},
]
LATENCY = [{"geography": "g", "region": r, "rtt_ms": 50} for r in ("r1", "r2")]
ON_DEMAND = offer("o1", "aws", "r1", "a", 2.0, 1000)
YEAR = ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]


def case(solve_case, offers, quarters_=YEAR, policy="{}\n", tokens=1000, **extra):
    regions = {o["region"] for o in offers}
    return solve_case(
        policy=policy,
        accelerators=ACCELERATORS,
        performance=PERFORMANCE,
        latency=[r for r in LATENCY if r["region"] in regions],
        offers=offers,
        workloads=[workload("w", q, tokens) for q in quarters_],
        **extra,
    )


@pytest.mark.parametrize(
    "price,expected,committed",
    [
        (1.5, 10 * 1.5 * H * 4, 10.0),  # 131,400 < 175,200: commit
        (2.5, 10 * 2.0 * H * 4, 0.0),  # a commitment dearer than on demand is never bought
    ],
)
def test_one_year_commitment_against_on_demand(solve_case, price, expected, committed):
    """Four quarters of 1000 tok/s: on demand 10 chips x 2 x 2190 x 4 = 175,200; a 1yr commitment
    of 10 chips at p costs 10 x p x 2190 x 4, so it pays below the break-even price of 2.0."""
    plan = case(solve_case, [ON_DEMAND, offer("o1y", "aws", "r1", "a", price, 1000, term="1yr")])
    assert plan.totals["total_cost_usd"] == pytest.approx(expected)
    assert plan.commitments["chips"].sum() == pytest.approx(committed)


def test_break_even_is_where_both_cost_the_same(solve_case):
    """At exactly 2.0 both plans cost 175,200."""
    plan = case(solve_case, [ON_DEMAND, offer("o1y", "aws", "r1", "a", 2.0, 1000, term="1yr")])
    assert plan.totals["total_cost_usd"] == pytest.approx(175_200)


@pytest.mark.parametrize(
    "setting,expected,commits",
    [
        ("whole", 10 * 2.0 * H * 3, False),  # 4 paid quarters at 1.8 (157,680) > 3 on demand (131,400)
        ("in_horizon", 10 * 1.8 * H * 3, True),  # only the 3 quarters inside count: 118,260
    ],
)
def test_commitment_running_past_the_horizon(solve_case, setting, expected, commits):
    """Demand in 2026Q1-Q3 only; a 1yr commitment at 1.8 started in Q1 runs until Q4, past the
    horizon. Counting its whole cost, it is dearer than on demand; counting only the horizon,
    cheaper. Either way the after-horizon part (10 x 1.8 x 2190 = 39,420) is reported."""
    plan = case(
        solve_case,
        [ON_DEMAND, offer("o1y", "aws", "r1", "a", 1.8, 1000, term="1yr")],
        quarters_=YEAR[:3],
        policy=f"commitment_cost: {setting}\n",
    )
    assert plan.totals["total_cost_usd"] == pytest.approx(expected)
    if commits:
        assert plan.commitments["chips"].tolist() == pytest.approx([10.0])
        assert plan.totals["commitment_cost_after_horizon_usd"] == pytest.approx(39_420)
        assert plan.commitments["end_quarter"].tolist() == ["2026Q4"]


def test_pool_shared_by_two_terms(solve_case):
    """1500 tok/s for a year. o1y (1yr, 1.5) and o1 (on demand, 2.0) both max 10 chips, o2 (gcp,
    chip b, 5.0 = 0.025 per token/s-h) the fallback. Separate supplies: 10 committed + 5 on
    demand = 32,850 + 21,900 a quarter. Sharing one pool of 10 chips: 10 committed, and the
    other 500 tok/s on o2 (2.5 chips, 27,375): 60,225 a quarter, 240,900 for the year."""
    offers = [
        offer("o1", "aws", "r1", "a", 2.0, 10, pool="aws-a"),
        offer("o1y", "aws", "r1", "a", 1.5, 10, term="1yr", pool="aws-a"),
        offer("o2", "gcp", "r2", "b", 5.0, 1000),
    ]
    pooled = case(solve_case, offers, tokens=1500)
    assert pooled.totals["total_cost_usd"] == pytest.approx(240_900)
    separate = case(solve_case, [dict(o, pool="") for o in offers], tokens=1500)
    assert separate.totals["total_cost_usd"] == pytest.approx(4 * (32_850 + 21_900))


def test_sunk_contract_is_used_before_new_purchases(solve_case):
    """2 signed chips of o2 at 4 USD (17,520 sunk) carry 400 tok/s for free; o1 buys 6 chips for
    the other 600 (26,280). Total 43,800; without using the contract it would be 61,320."""
    contracts = [{"offer": "o2", "chips": 2, "start": "2026Q1", "end": "2026Q1", "usd_per_chip_hour": 4.0}]
    plan = case(
        solve_case, [ON_DEMAND, offer("o2", "gcp", "r2", "b", 5.0, 1000)], quarters_=YEAR[:1], contracts=contracts
    )
    assert plan.totals["total_cost_usd"] == pytest.approx(43_800)
    assert plan.totals["sunk_contract_cost_usd"] == pytest.approx(17_520)
    assert plan.contracts["used_chips"].tolist() == pytest.approx([2.0])
    assert plan.purchases.set_index("offer")["chips"].to_dict() == pytest.approx({"o1": 6.0})


def test_spend_commitment_that_binds(solve_case):
    """gcp is owed 10,950 USD in Q1. Paying it idle would cost 43,800 + 10,950 = 54,750; spending
    it on o2 (0.025 per token/s-h) moves 200 tok/s off o1 and saves 8,760 there: 45,990."""
    commitments = [{"provider": "gcp", "first": "2026Q1", "last": "2026Q1", "usd": 10_950}]
    plan = case(
        solve_case,
        [ON_DEMAND, offer("o2", "gcp", "r2", "b", 5.0, 1000)],
        quarters_=YEAR[:1],
        spend_commitments=commitments,
    )
    assert plan.totals["total_cost_usd"] == pytest.approx(45_990)
    row = plan.spend_commitments.iloc[0]
    assert row["consumed_usd"] == pytest.approx(10_950) and row["shortfall_usd"] == pytest.approx(0, abs=1e-6)


def test_spend_commitment_with_a_shortfall(solve_case):
    """gcp is owed 300,000 USD; o2 can take all 1000 tok/s on its 5 chips (54,750) and no more:
    the other 245,250 is paid anyway. Total 300,000."""
    commitments = [{"provider": "gcp", "first": "2026Q1", "last": "2026Q1", "usd": 300_000}]
    plan = case(
        solve_case,
        [ON_DEMAND, offer("o2", "gcp", "r2", "b", 5.0, 5)],
        quarters_=YEAR[:1],
        spend_commitments=commitments,
    )
    assert plan.totals["total_cost_usd"] == pytest.approx(300_000)
    row = plan.spend_commitments.iloc[0]
    assert row["consumed_usd"] == pytest.approx(54_750)
    assert row["shortfall_usd"] == pytest.approx(245_250)
    assert plan.totals["spend_shortfall_usd"] == pytest.approx(245_250)


def test_a_commitment_consumes_a_spend_commitment_in_every_quarter_it_runs(solve_case):
    """10 chips of o1y (1yr, 1.5) committed in Q1 pay 10 x 1.5 x H = 32,850 in each of Q1 and
    Q2: the 65,700 owed to aws over Q1-Q2 is consumed, no shortfall: total 131,400. Counting
    the commitment's payment once in the period (its two entries in the row replacing each
    other, as PuLP 3.3 expressions built from a dict did) charged a 32,850 shortfall."""
    commitments = [{"provider": "aws", "first": "2026Q1", "last": "2026Q2", "usd": 2 * 10 * 1.5 * H}]
    plan = case(
        solve_case,
        [offer("o1y", "aws", "r1", "a", 1.5, 1000, term="1yr")],
        quarters_=YEAR[:2],
        spend_commitments=commitments,
    )
    assert plan.totals["total_cost_usd"] == pytest.approx(10 * 1.5 * H * 4)
    row = plan.spend_commitments.iloc[0]
    assert row["consumed_usd"] == pytest.approx(65_700) and row["shortfall_usd"] == pytest.approx(0, abs=1e-6)


def test_budget_that_binds(solve_case):
    """A 30,000 USD budget buys 30,000 / 43.8 = 684.93 tok/s on o1; the other 315.07 go unserved
    at 788.4 USD each: 788.4 / 43.8 x (43,800 - 30,000) = 248,400. Total 278,400."""
    plan = case(solve_case, [ON_DEMAND], quarters_=YEAR[:1], policy="budget_usd_per_quarter: 30000\n")
    assert plan.totals["total_cost_usd"] == pytest.approx(278_400)
    assert plan.budgets["binding"].tolist() == [True]
    assert plan.unmet["reason"].iloc[0].startswith("the budget held it back")


def test_budget_per_quarter_mapping(solve_case):
    """A budget in Q2 only: Q1 is served in full (43,800), Q2 as above (278,400)."""
    plan = case(solve_case, [ON_DEMAND], quarters_=YEAR[:2], policy="budget_usd_per_quarter: {2026Q2: 30000}\n")
    assert plan.totals["total_cost_usd"] == pytest.approx(43_800 + 278_400)


def _leverage(plan):
    from optimizer.analysis.negotiation import leverage

    return leverage(plan.inputs, plan)


def _row(table, **keys):
    for column, value in keys.items():
        table = table[table[column] == value]
    assert len(table) == 1, table
    return table.iloc[0]


def test_walking_away_keeps_signed_contracts(solve_case):
    """With 2 signed o2 chips (test above): walking away from gcp changes nothing (the contract
    stays usable), walking away from aws puts the other 600 tok/s on o2 on demand: 3 chips at
    5 USD = 32,850 instead of 26,280 on o1, so 6,570."""
    contracts = [{"offer": "o2", "chips": 2, "start": "2026Q1", "end": "2026Q1", "usd_per_chip_hour": 4.0}]
    plan = case(
        solve_case, [ON_DEMAND, offer("o2", "gcp", "r2", "b", 5.0, 1000)], quarters_=YEAR[:1], contracts=contracts
    )
    suppliers = _leverage(plan).suppliers
    assert _row(suppliers, dimension="provider", supplier="gcp")["walk_away_cost_usd"] == pytest.approx(0, abs=1e-6)
    assert _row(suppliers, dimension="provider", supplier="aws")["walk_away_cost_usd"] == pytest.approx(6_570)


def test_spend_commitment_is_money_already_owed(solve_case):
    """The binding gcp commitment (45,990): walking away from gcp pays the 10,950 anyway and all
    1000 tok/s go to o1 (43,800): 54,750, so 8,760. Lifting the commitment alone saves
    45,990 - 43,800 = 2,190: its cost among the rules."""
    commitments = [{"provider": "gcp", "first": "2026Q1", "last": "2026Q1", "usd": 10_950}]
    plan = case(
        solve_case,
        [ON_DEMAND, offer("o2", "gcp", "r2", "b", 5.0, 1000)],
        quarters_=YEAR[:1],
        spend_commitments=commitments,
    )
    report = _leverage(plan)
    assert _row(report.suppliers, dimension="provider", supplier="gcp")["walk_away_cost_usd"] == pytest.approx(8_760)
    assert _row(report.rules, dimension="spend_commitment", group="gcp")["cost_of_rule_usd"] == pytest.approx(2_190)


def test_budget_cost_among_the_rules(solve_case):
    """Lifting the 30,000 budget serves everything for 43,800 instead of 278,400: 234,600."""
    plan = case(solve_case, [ON_DEMAND], quarters_=YEAR[:1], policy="budget_usd_per_quarter: 30000\n")
    rule = _row(_leverage(plan).rules, dimension="budget", quarter="2026Q1")
    assert rule["cost_of_rule_usd"] == pytest.approx(234_600)


def test_ceiling_of_a_commitment_offer(solve_case):
    """The 1yr offer at 1.5 holds all 10 chips for the year until it costs as much as on demand:
    its ceiling is 2.0 (V = 87,600 p on that piece), checked 0.5% either side."""
    offers = [ON_DEMAND, offer("o1y", "aws", "r1", "a", 1.5, 1000, term="1yr")]
    plan = case(solve_case, offers)
    row = _row(_leverage(plan).offer_prices, offer="o1y")
    ceiling = row["price_ceiling_usd_per_chip_hour"]
    assert ceiling == pytest.approx(2.0, rel=0.005)
    inside = case(solve_case, [ON_DEMAND, dict(offers[1], usd_per_chip_hour=ceiling * 0.995)])
    outside = case(solve_case, [ON_DEMAND, dict(offers[1], usd_per_chip_hour=ceiling * 1.005)])
    assert inside.totals["total_cost_usd"] == pytest.approx(87_600 * ceiling * 0.995)
    assert outside.totals["total_cost_usd"] < 87_600 * ceiling * 1.005 - 1


def test_walking_away_from_a_provider_owed_ten_billion(solve_case):
    """aws is owed $10B in Q1. The plan spends 43,800 on o1 and pays the rest as shortfall:
    1e10 in all. Walking away from aws moves the 1000 tok/s to o2 (gcp, chip b, 5 USD/chip-h,
    5 chips: 5 x 5 x 2190 = 54,750) and pays the whole $10B as shortfall: walk-away cost
    54,750, the same from the report and from a re-solve (shortfall shown in USD)."""
    from optimizer.analysis.walk_away import walk_away_costs

    commitments = [{"provider": "aws", "first": "2026Q1", "last": "2026Q1", "usd": 1e10}]
    plan = case(
        solve_case,
        [ON_DEMAND, offer("o2", "gcp", "r2", "b", 5.0, 1000)],
        quarters_=YEAR[:1],
        spend_commitments=commitments,
    )
    assert plan.totals["total_cost_usd"] == pytest.approx(1e10, rel=1e-12)
    assert plan.spend_commitments.iloc[0]["shortfall_usd"] == pytest.approx(1e10 - 43_800, rel=1e-12)
    walked = walk_away_costs(plan).set_index(["dimension", "supplier"]).loc[("provider", "aws")]
    assert walked["walk_away_cost_usd"] == pytest.approx(54_750, abs=1e-3)
