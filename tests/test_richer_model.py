"""Ports, ramp limits, whole instances, power caps, resilience and infeasible rules, solved by hand.

H = 2190 h per quarter. Chips a (nvidia) and b (amd) serve 100 tok/s each. o1 sells a at
2 USD/chip-h on aws: one token/s for a quarter costs 2 x 2190 / 100 = 43.8 USD; o2 sells b
at 1 USD on oci: 21.9 USD; o3 sells a at 3 USD on gcp: 65.7 USD.
"""

from __future__ import annotations

import pytest
from conftest import offer, workload, write_folder

import optimizer
from optimizer.analysis.negotiation import leverage

H = 2190.0
YEAR = ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
O1 = offer("o1", "aws", "r1", "a", 2.0, 1000)
O2 = offer("o2", "oci", "r2", "b", 1.0, 1000)
O3 = offer("o3", "gcp", "r3", "a", 3.0, 1000)


def solve(
    tmp_path, offers, quarters_=YEAR[:1], tokens=1000, policy="{}\n", port=None, integer=False, name="case", **extra
):
    performance = [
        {"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100},
        {"model": "m", "accelerator": "b", "tokens_per_s_per_chip": 100, "ttft_ms": 100, **(port or {})},
    ]
    regions = sorted({o["region"] for o in offers})
    amounts = tokens if isinstance(tokens, list) else [tokens] * len(quarters_)
    folder = write_folder(
        tmp_path / name,
        policy=policy,
        accelerators=[
            {"accelerator": "a", "vendor": "nvidia", "power_kw": 1.0},
            {"accelerator": "b", "vendor": "amd", "power_kw": 1.0},
        ],
        performance=performance,
        latency=[{"geography": "g", "region": r, "rtt_ms": 10} for r in regions],
        offers=offers,
        workloads=[workload("w", q, n) for q, n in zip(quarters_, amounts, strict=True)],
        **extra,
    )
    inputs = optimizer.load(folder)
    return optimizer.solve(inputs, integer=integer)


def test_a_port_that_pays(tmp_path):
    """Porting m to b costs 20,000 and takes a quarter: started in Q1, o2 serves from Q2 and
    saves 21.9 x 1000 = 21,900 a quarter. Q1 43,800 + 3 x 21,900 + 20,000 = 129,500 against
    175,200 without: net saving 45,700, repaid within Q2 (21,900 >= 20,000)."""
    plan = solve(tmp_path, [O1, O2], YEAR, port={"port_usd": 20_000, "port_quarters": 1})
    assert plan.totals["total_cost_usd"] == pytest.approx(129_500)
    port = plan.ports.iloc[0]
    assert (port["port_quarter"], port["serves_from"]) == ("2026Q1", "2026Q2")
    assert port["net_saving_usd"] == pytest.approx(45_700)
    assert port["payback_quarter"] == "2026Q2"
    assert plan.allocation[plan.allocation["quarter"] == "2026Q1"]["offer"].tolist() == ["o1"]


def test_payback_does_not_depend_on_which_equally_cheap_plan_is_returned(tmp_path):
    """The port of test_a_port_that_pays, plus a spend commitment of 87,600 on aws over the
    year (two quarters of o1). With the port: Q1 on o1 (43,800), one more quarter on o1 to
    consume the commitment (43,800), two on o2 (2 x 21,900), port 20,000: 151,400. Without:
    4 x 43,800 = 175,200, so the net saving is 23,800. Which quarter the second o1 quarter
    falls in is a tie (Q2, Q3 or Q4 cost the same), and comparing the two plans quarter by
    quarter would repay the port in Q2 or Q3 depending on the solver's choice. Cut at Q2,
    the commitment counts pro rata (43,800, consumed by Q1): made 43,800 + 21,900 + 20,000 =
    85,700 <= forbidden 87,600, so the port pays back in Q2, whatever plan is returned."""
    commitments = [{"provider": "aws", "first": "2026Q1", "last": "2026Q4", "usd": 87_600}]
    plan = solve(
        tmp_path, [O1, O2, O3], YEAR, port={"port_usd": 20_000, "port_quarters": 1}, spend_commitments=commitments
    )
    assert plan.totals["total_cost_usd"] == pytest.approx(151_400)
    port = plan.ports.iloc[0]
    assert port["net_saving_usd"] == pytest.approx(23_800)
    assert port["payback_quarter"] == "2026Q2"


def test_payback_never_falls_before_the_port_serves(tmp_path):
    """A two-quarter port (20,000, started Q1, serves from Q3) saving 21,900 a quarter: 43,800
    over Q3-Q4 against its 20,000, so it is made. Cut at Q3: made 2 x 43,800 + 21,900 + 20,000
    = 129,500 <= 3 x 43,800 = 131,400: payback Q3, the quarter it first serves."""
    plan = solve(tmp_path, [O1, O2], YEAR, port={"port_usd": 20_000, "port_quarters": 2})
    port = plan.ports.iloc[0]
    assert (port["port_quarter"], port["serves_from"]) == ("2026Q1", "2026Q3")
    assert port["net_saving_usd"] == pytest.approx(2 * 21_900 - 20_000)
    assert port["payback_quarter"] == "2026Q3"


def test_a_port_that_does_not_pay_and_its_break_even(tmp_path):
    """At 80,000 the port costs more than the 3 x 21,900 = 65,700 it saves: not ported (175,200).
    Break-even: 65,700, checked by re-solving just below and above it. A price cut c on b pays
    for the port when 3 x 1000 x (43.8 - 21.9 (1 - c)) >= 80,000: c >= 21.77%."""
    plan = solve(tmp_path, [O1, O2], YEAR, port={"port_usd": 80_000, "port_quarters": 1})
    assert plan.totals["total_cost_usd"] == pytest.approx(175_200)
    assert plan.ports.empty
    row = leverage(plan.inputs, plan).ports.iloc[0]
    assert not row["ported"]
    assert row["break_even_port_usd"] == pytest.approx(65_700)
    assert row["price_cut_to_port_pct"] == pytest.approx(21.77, abs=0.5)
    below = solve(tmp_path, [O1, O2], YEAR, port={"port_usd": 65_700 * 0.99, "port_quarters": 1}, name="below")
    above = solve(tmp_path, [O1, O2], YEAR, port={"port_usd": 65_700 * 1.01, "port_quarters": 1}, name="above")
    assert not below.ports.empty and above.ports.empty


def test_ramp_limit_binds(tmp_path):
    """amd may grow by at most 100 tok/s a quarter: Q1 all 1000 on o2 (21,900); Q2 (2000) only
    1100 on o2 and 900 on o1: 24,090 + 39,420. Total 85,410."""
    policy = "ramp_limits:\n  vendor:\n    amd: {factor: 1.0, allowance_tokens_per_s: 100}\n"
    plan = solve(tmp_path, [O1, O2], YEAR[:2], tokens=[1000, 2000], policy=policy)
    assert plan.totals["total_cost_usd"] == pytest.approx(85_410)


def test_whole_instances(tmp_path):
    """1000 tok/s need 10 chips of o1; sold in instances of 8, that is 2 instances = 16 chips:
    16 x 2 x 2190 = 70,080 (leaving 200 tok/s unserved would cost 157,680 more)."""
    plan = solve(tmp_path, [dict(O1, chips_per_instance=8)], integer=True)
    assert plan.totals["total_cost_usd"] == pytest.approx(70_080)
    assert plan.purchases["chips"].tolist() == pytest.approx([16.0])
    relaxed = solve(tmp_path, [dict(O1, chips_per_instance=8)], name="relaxed")
    assert relaxed.totals["total_cost_usd"] == pytest.approx(43_800)


def test_leverage_on_a_mixed_integer_plan_says_where_prices_come_from(tmp_path):
    plan = solve(tmp_path, [dict(O1, chips_per_instance=8), O3], integer=True)
    report = leverage(plan.inputs, plan)
    assert "fixed at their optimum" in report.summary["prices_and_duals_from"]
    assert set(report.suppliers["supplier"]) >= {"aws"}


def test_power_cap_binds(tmp_path):
    """aws has 8 kW: 8 chips of 1 kW on o1 (800 tok/s, 35,040); the other 200 on o3 (13,140)."""
    power = [{"provider": "aws", "megawatts": 0.008}]
    plan = solve(tmp_path, [O1, O3], power=power)
    assert plan.totals["total_cost_usd"] == pytest.approx(48_180)


@pytest.mark.parametrize(
    "share,expected,cost",
    [
        (0.0, 109_500, 65_700),  # 10 chips on each cloud: losing either strands nothing
        (0.5, 54_750, 10_950),  # 5 + 5 chips serving 500 each: an outage strands 500 = 50%
    ],
)
def test_resilience_buys_spare_capacity(tmp_path, share, expected, cost):
    """Without the rule all 1000 tok/s go to o1: 43,800. With 'losing any one provider strands
    at most X of demand', X = 0 needs 10 chips on o1 and 10 idle-ready on o3 (43,800 + 65,700);
    X = 0.5 is met by 5 chips on each, serving 500 each: 21,900 + 32,850 = 54,750."""
    policy = f"resilience: {{dimension: provider, max_stranded_share: {share}}}\n"
    plan = solve(tmp_path, [O1, O3], policy=policy)
    assert plan.totals["total_cost_usd"] == pytest.approx(expected)
    assert plan.totals["resilience_cost_usd"] == pytest.approx(cost)
    assert plan.resilience["stranded_share"].max() <= share + 1e-9


@pytest.mark.parametrize(("named", "expected"), [("gcp", 43_800), ("aws", 65_700), ("aws, gcp", 109_500)])
def test_resilience_for_named_suppliers(tmp_path, named, expected):
    """N-1 for named providers only, stranding nothing. gcp named: the plan serves all
    1,000 tok/s on aws (43,800) and losing gcp strands nothing. aws named: nothing may rest
    on aws alone, and the cheapest plan moves everything to gcp (10 chips, 65,700) rather
    than keep 10 aws chips with 10 gcp chips ready (109,500), which both named need."""
    policy = f"resilience: {{dimension: provider, max_stranded_share: 0, suppliers: [{named}]}}\n"
    plan = solve(tmp_path, [O1, O3], policy=policy)
    assert plan.totals["total_cost_usd"] == pytest.approx(expected)
    assert set(plan.resilience["outage"]) == {name.strip() for name in named.split(",")}


def test_a_named_resilience_supplier_without_offers_is_an_error(tmp_path):
    with pytest.raises(optimizer.InputError) as caught:
        solve(tmp_path, [O1, O3], policy="resilience: {max_stranded_share: 0, suppliers: [oracle]}\n")
    assert any("'oracle' has no offers" in p.message and p.line == 1 for p in caught.value.problems)


def test_conflicting_rules_are_named(tmp_path):
    """On a spend basis aws must stay under 40%, but o1 must buy 10 chips (20 USD/h) while gcp
    can sell at most 1 chip (3 USD/h): aws's share is at least 20/23. The three rows are named."""
    offers = [dict(O1, min_chips=10), dict(O3, max_chips=1)]
    with pytest.raises(optimizer.SolveError) as caught:
        solve(tmp_path, offers, policy="share_basis: spend\nmax_share:\n  provider: 0.4\n")
    message = str(caught.value)
    assert "cannot all hold" in message
    assert "policy.yaml, line 3: max_share 0.4 for provider aws in 2026Q1" in message
    assert "offers.csv, line 2: min_chips 10" in message and "of o1" in message
    assert "offers.csv, line 3: min_chips 0 / max_chips 1 of o3" in message


def test_payback_stops_when_the_time_budget_runs_out(tmp_path):
    """A cut horizon with no plan gives no payback quarter; a spent time budget is not
    that: it stops the command instead of leaving the figure blank."""
    from optimizer.errors import SolveError, TimeLimitReached
    from optimizer.plan import ports

    plan = solve(tmp_path, [O1, O2], YEAR, port={"port_usd": 20_000, "port_quarters": 1})

    def no_plan(*args, **kwargs):
        raise SolveError("the hard rules cannot all hold")

    def spent(*args, **kwargs):
        raise TimeLimitReached("the time limit of 1 s ran out")

    assert ports._cut_plan(plan, "2026Q2", no_plan) is None
    with pytest.raises(TimeLimitReached):
        ports._cut_plan(plan, "2026Q2", spent)
