"""Present value and payment timing: hand-solved cases.

One workload asks 1,000 tokens/s in every quarter of the horizon; every offer's chip
serves 100 tokens/s, so 10 chips are needed; a quarter is 2,190 hours, so a chip at p
USD/chip-hour costs 2,190 p a quarter and the 10 chips 21,900 p. At 10% a year, a
dollar paid k quarters after the horizon's start is worth 1.1 ** (-k / 4) today.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import offer, workload, write_folder

import optimizer

RATE = 0.10
QUARTER_USD = 21_900.0  # 10 chips x 2,190 h at 1 USD/chip-hour


def worth(k: int) -> float:
    return (1 + RATE) ** (-k / 4)


def plan_for(tmp_path, offers, quarters, policy="{}\n"):
    folder = write_folder(
        tmp_path / "in",
        policy=policy,
        accelerators=[{"accelerator": "a", "vendor": "nvidia"}],
        offers=offers,
        performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100}],
        workloads=[workload("w", q, 1000) for q in quarters],
        latency=[{"geography": "g", "region": "r1", "rtt_ms": 50}],
    )
    return optimizer.solve(optimizer.load(folder), payback=False)


YEAR = ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]


def test_an_upfront_payment_is_not_discounted_and_quarterly_payments_are(tmp_path):
    """A 1yr term at 1 USD/chip-hour: paid upfront, all 4 quarters (87,600) fall at the
    start, worth 87,600; paid per quarter, 21,900 x (1 + 1.1^-0.25 + 1.1^-0.5 + 1.1^-0.75).
    Undiscounted both cost 87,600. Cash paid lands in 2026Q1 for the upfront term, while
    the cost of each quarter (the chips used in it) is 21,900 either way."""
    policy = f"discount_rate_per_year: {RATE}\n"
    upfront = plan_for(
        tmp_path / "u", [offer("c", "aws", "r1", "a", 1.0, 100, term="1yr", payment="upfront")], YEAR, policy
    )
    assert upfront.totals["total_cost_pv_usd"] == pytest.approx(4 * QUARTER_USD, rel=1e-12)
    assert upfront.totals["total_cost_usd"] == pytest.approx(4 * QUARTER_USD, rel=1e-12)
    money = upfront.money.set_index("quarter")
    assert money["paid_usd"].tolist() == pytest.approx([4 * QUARTER_USD, 0.0, 0.0, 0.0], abs=1e-6)
    assert money["cost_usd"].tolist() == pytest.approx([QUARTER_USD] * 4, rel=1e-12)

    quarterly = plan_for(tmp_path / "q", [offer("c", "aws", "r1", "a", 1.0, 100, term="1yr")], YEAR, policy)
    expected = QUARTER_USD * sum(worth(k) for k in range(4))
    assert quarterly.totals["total_cost_pv_usd"] == pytest.approx(expected, rel=1e-12)
    assert quarterly.solution.objective == pytest.approx(expected, rel=1e-12)
    assert quarterly.money["paid_pv_usd"].sum() == pytest.approx(expected, rel=1e-12)


def test_discounting_moves_the_plan_to_paying_later(tmp_path):
    """Two 1yr terms on the same chips: upfront at 0.97 USD/chip-hour, per quarter at 1.00.
    Undiscounted, upfront is cheaper (0.97 x 4 = 3.88 < 4 quarter-payments). At 10% a year a
    quarterly dollar stream is worth 1 + 0.97645 + 0.95346 + 0.93101 = 3.86092 < 3.88: the
    plan pays per quarter, and the objective is 21,900 x 3.86092."""
    offers = [
        offer("up", "aws", "r1", "a", 0.97, 100, term="1yr", payment="upfront"),
        offer("pq", "aws", "r1", "a", 1.00, 100, term="1yr"),
    ]
    nominal = plan_for(tmp_path / "n", offers, YEAR)
    assert nominal.commitments.set_index("offer")["chips"].to_dict() == pytest.approx({"up": 10.0})
    assert nominal.totals["total_cost_usd"] == pytest.approx(0.97 * 4 * QUARTER_USD, rel=1e-12)
    discounted = plan_for(tmp_path / "d", offers, YEAR, f"discount_rate_per_year: {RATE}\n")
    assert discounted.commitments.set_index("offer")["chips"].to_dict() == pytest.approx({"pq": 10.0})
    assert discounted.totals["total_cost_pv_usd"] == pytest.approx(
        QUARTER_USD * sum(worth(k) for k in range(4)), rel=1e-12
    )


def test_an_upfront_term_past_the_horizon_keeps_its_terminal_value_in_horizon(tmp_path):
    """Demand in 2026Q1-Q2 only; the one offer is a 1yr upfront term, so 10 chips are
    committed from 2026Q1, paying 87,600 at the start. ``whole`` counts all of it;
    ``in_horizon`` credits the 2 quarters after the horizon at their cost, valued at its
    end (2 quarters in): 87,600 - 43,800 x 1.1^-0.5. Without a rate that is 43,800."""
    offers = [offer("c", "aws", "r1", "a", 1.0, 100, term="1yr", payment="upfront")]
    half = ["2026Q1", "2026Q2"]
    rate = f"discount_rate_per_year: {RATE}\n"
    whole = plan_for(tmp_path / "w", offers, half, rate)
    assert whole.solution.objective == pytest.approx(4 * QUARTER_USD, rel=1e-12)
    inside = plan_for(tmp_path / "i", offers, half, rate + "commitment_cost: in_horizon\n")
    assert inside.solution.objective == pytest.approx(4 * QUARTER_USD - 2 * QUARTER_USD * worth(2), rel=1e-12)
    nominal = plan_for(tmp_path / "n", offers, half, "commitment_cost: in_horizon\n")
    assert nominal.solution.objective == pytest.approx(2 * QUARTER_USD, rel=1e-12)
    assert nominal.totals["total_cost_pv_usd"] is None


def test_unserved_demand_and_shortfalls_are_discounted_from_their_quarter(tmp_path):
    """No offer can serve 2026Q2 (the offer is on sale in 2026Q1 only): its 1,000 tokens/s
    go unserved at the default penalty, 1,000 x 100 x 7.884 = 788,400 USD, paid in 2026Q2
    and worth 788,400 x 1.1^-0.25; 2026Q1 is served on demand at 2 USD (43,800)."""
    offers = [offer("o", "aws", "r1", "a", 2.0, 100, available_until="2026Q1")]
    plan = plan_for(tmp_path, offers, ["2026Q1", "2026Q2"], f"discount_rate_per_year: {RATE}\n")
    assert plan.totals["unmet_penalty_pv_usd"] == pytest.approx(788_400.0 * worth(1), rel=1e-12)
    assert plan.totals["compute_cost_pv_usd"] == pytest.approx(2 * QUARTER_USD, rel=1e-9)
    assert plan.totals["total_cost_usd"] == pytest.approx(788_400.0 + 2 * QUARTER_USD, rel=1e-12)


def test_the_leverage_report_flags_a_term_bought_only_when_its_after_horizon_part_is_free(tmp_path):
    """Demand in 2026Q1-Q2; on demand costs 1.5 USD/chip-hour (2 x 1.5 = 3 quarter-units for
    the 10 chips), a 1yr term 1.0 per quarter. Counting the whole term (4 x 1.0 = 4 > 3) the
    plan buys on demand; counting its 2 quarters inside the horizon (2 < 3) it commits. The
    report marks the term as a decision that flips with the terminal-value rule."""
    offers = [
        offer("od", "aws", "r1", "a", 1.5, 100),
        offer("c", "aws", "r1", "a", 1.0, 100, term="1yr"),
    ]
    plan = plan_for(tmp_path, offers, ["2026Q1", "2026Q2"])
    assert plan.commitments.empty
    assert plan.totals["total_cost_usd"] == pytest.approx(2 * 1.5 * QUARTER_USD, rel=1e-12)
    report = optimizer.leverage(plan.inputs, plan)
    flags = report.offer_prices.set_index("offer")["flips_with_commitment_cost"]
    assert flags["c"] is True and pd.isna(flags["od"])
    assert report.summary["flips_with_commitment_cost"] == ["c"]


def test_a_scenario_sets_the_discount_rate_and_the_payment(tmp_path):
    """The first case of this file as a scenario over a per-quarter base: paying the 1yr
    term upfront under a 10% rate costs 87,600 at the start, against 21,900 x (sum of four
    discount factors) paid per quarter."""
    base = plan_for(tmp_path / "b", [offer("c", "aws", "r1", "a", 1.0, 100, term="1yr")], YEAR)
    scenario = optimizer.Scenario(
        name="upfront-at-10pct",
        base=base.inputs.folder,
        changes=[
            optimizer.PolicyChange(policy={"discount_rate_per_year": RATE}),
            optimizer.Set(set="offers", where={"offer": "c"}, column="payment", value="upfront"),
        ],
    )
    table = optimizer.compare([optimizer.Scenario(name="base", base=base.inputs.folder), scenario], walk_away=False)
    rows = table.set_index("scenario")
    assert pd.isna(rows.loc["base", "total_cost_pv_usd"])
    assert rows.loc["upfront-at-10pct", "total_cost_pv_usd"] == pytest.approx(4 * QUARTER_USD, rel=1e-12)
