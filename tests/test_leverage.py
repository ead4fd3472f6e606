"""The leverage report on small instances solved by hand, checked by independent re-solves.

Sign convention (pinned here): every USD amount is what we would lose, so a walk-away
cost is today's optimum subtracted from the optimum after walking away; a rule's cost is
what lifting it would save; a capacity value is what one more chip-hour would save.

Instance "three suppliers" (H = 2190 h, one quarter, 1000 tok/s, every chip 100 tok/s, so
one token/s for a quarter costs 21.9 x price): o1 aws at 1 USD/chip-h (21.9 per token/s),
o2 gcp at 2 (43.8), o3 oci at 3 (65.7); provider cap 0.5. Optimum: o1 500 (capped), o2 500:
10,950 + 21,900 = 32,850 USD.
"""

from __future__ import annotations

import pytest
from conftest import offer, workload, write_folder

import optimizer
from optimizer.analysis.negotiation import leverage

H = 2190.0
ACCELERATORS = [
    {"accelerator": a, "vendor": v}
    for a, v in [("a", "nvidia"), ("b", "google"), ("c", "amd"), ("d", "aws"), ("e", "microsoft")]
]
PERFORMANCE = [
    {"model": "m", "accelerator": a["accelerator"], "tokens_per_s_per_chip": 100, "ttft_ms": 100} for a in ACCELERATORS
]
THREE = [
    offer("o1", "aws", "r1", "a", 1.0, 1000),
    offer("o2", "gcp", "r2", "b", 2.0, 1000),
    offer("o3", "oci", "r3", "c", 3.0, 1000),
]
CAP = "max_share:\n  provider: 0.5\n"


def solve(tmp_path, offers, policy=CAP, name="case"):
    latency = [{"geography": "g", "region": r, "rtt_ms": 10} for r in sorted({o["region"] for o in offers})]
    folder = write_folder(
        tmp_path / name,
        policy=policy,
        accelerators=ACCELERATORS,
        performance=PERFORMANCE,
        latency=latency,
        offers=offers,
        workloads=[workload("w", "2026Q1", 1000)],
    )
    inputs = optimizer.load(folder)
    return inputs, optimizer.solve(inputs)


def cost(tmp_path, offers, policy=CAP, **change):
    """Independent full re-solve (new files, cold) with one offer's fields changed."""
    name, fields = change.popitem() if change else (None, {})
    changed = [dict(o, **fields) if o["offer"] == name else o for o in offers]
    return solve(tmp_path, changed, policy, name=f"v{abs(hash(repr(changed)))}")[1].totals["total_cost_usd"]


def by(table, **keys):
    rows = table
    for column, value in keys.items():
        rows = rows[rows[column] == value]
    assert len(rows) == 1, rows
    return rows.iloc[0]


@pytest.fixture
def three(tmp_path):
    inputs, plan = solve(tmp_path, THREE)
    return inputs, plan, leverage(inputs, plan)


def test_baseline(three):
    assert three[1].totals["total_cost_usd"] == pytest.approx(32_850)


def test_price_ceilings(three, tmp_path):
    """o1 keeps its 500 tok/s (5 chips = 10,950 chip-hours) until it costs more than o3: 3.0.

    o2 keeps its 500 until 3.0 too. V(p) = 21,900 + 10,950 p on o1's piece.
    """
    _, _, report = three
    o1 = by(report.offer_prices, offer="o1")
    assert o1["price_ceiling_usd_per_chip_hour"] == pytest.approx(3.0, rel=0.005)
    assert o1["chip_hours"] == pytest.approx(10_950)
    assert o1["chip_hours_at_risk"] == pytest.approx(0, abs=1e-6)
    assert by(report.offer_prices, offer="o2")["price_ceiling_usd_per_chip_hour"] == pytest.approx(3.0, rel=0.005)
    ceiling = o1["price_ceiling_usd_per_chip_hour"]
    inside = cost(tmp_path, THREE, o1={"usd_per_chip_hour": ceiling * 0.995})
    outside = cost(tmp_path, THREE, o1={"usd_per_chip_hour": ceiling * 1.005})
    assert inside == pytest.approx(21_900 + 10_950 * ceiling * 0.995)
    assert outside < 21_900 + 10_950 * ceiling * 1.005 - 1


def test_price_to_win_of_an_unused_offer(three, tmp_path):
    """o3 wins volume once it undercuts o2 (o1 is capped): price to win 2.0 = -33.3%."""
    _, _, report = three
    o3 = by(report.offer_prices, offer="o3")
    assert o3["chip_hours"] == 0
    assert o3["price_to_win_usd_per_chip_hour"] == pytest.approx(2.0, rel=0.005)
    assert o3["price_to_win_pct"] == pytest.approx(-100 / 3, rel=0.01)
    win = o3["price_to_win_usd_per_chip_hour"]
    assert cost(tmp_path, THREE, o3={"usd_per_chip_hour": win * 1.005}) == pytest.approx(32_850)
    assert cost(tmp_path, THREE, o3={"usd_per_chip_hour": win * 0.995}) < 32_850 - 1


def test_walk_away_costs(three, tmp_path):
    """Without aws: o2 500 + o3 500 = 21,900 + 32,850 = 54,750, so walking away costs 21,900.

    With every rule lifted too: all on o2, 43,800, so 10,950 more than today. Without gcp:
    o1 500 + o3 500 = 43,800 (10,950); rules lifted: all on o1, 21,900 (-10,950, cheaper
    than today's diversified plan). oci sells nothing today: walking away costs 0.
    """
    _, _, report = three
    aws = by(report.suppliers, dimension="provider", supplier="aws")
    assert aws["walk_away_cost_usd"] == pytest.approx(21_900)
    assert aws["walk_away_cost_no_rules_usd"] == pytest.approx(10_950)
    assert aws["unserved_if_removed_tokens_per_s"] == pytest.approx(0, abs=1e-6)
    gcp = by(report.suppliers, dimension="provider", supplier="gcp")
    assert gcp["walk_away_cost_usd"] == pytest.approx(10_950)
    assert gcp["walk_away_cost_no_rules_usd"] == pytest.approx(-10_950)
    assert "oci" not in set(report.suppliers["supplier"])  # not in use today
    independent = cost(tmp_path, THREE, o1={"max_chips": 0}) - 32_850
    assert aws["walk_away_cost_usd"] == pytest.approx(independent)


def test_uniform_ceiling_half_volume_and_curve(three):
    """aws keeps o1's volume until its price triples (+200%), then loses all of it.

    Held to 50% of today (250 tok/s): o1 250, o2 500, o3 250 = 5,475 + 21,900 + 16,425 = 43,800.
    """
    _, _, report = three
    aws = by(report.suppliers, dimension="provider", supplier="aws")
    assert aws["uniform_ceiling_pct"] == pytest.approx(200, rel=0.005)
    assert aws["half_volume_pct"] == pytest.approx(200, rel=0.005)
    assert by(report.suppliers, dimension="provider", supplier="gcp")["uniform_ceiling_pct"] == pytest.approx(
        50, rel=0.005
    )
    curve = by(report.walk_away_curve, dimension="provider", supplier="aws", volume_pct=50.0)
    assert curve["total_cost_usd"] == pytest.approx(43_800)


def test_price_response(three):
    """aws at -50%: o1 at 0.5 keeps its capped 500 tok/s: revenue 0.5 x 2190 x 5 = 5,475, total 27,375.

    At +100% (2.0, tied with o2, below o3) aws still sells 500: revenue 21,900, total 43,800.
    """
    _, _, report = three
    low = by(report.price_response, dimension="provider", supplier="aws", price_change_pct=-50.0)
    assert low["volume_tokens_per_s"] == pytest.approx(500)
    assert low["supplier_revenue_usd"] == pytest.approx(5_475)
    assert low["total_cost_usd"] == pytest.approx(27_375)
    high = by(report.price_response, dimension="provider", supplier="aws", price_change_pct=100.0)
    assert high["supplier_revenue_usd"] == pytest.approx(21_900)
    assert high["total_cost_usd"] == pytest.approx(43_800)


def test_rule_costs_and_premium(three):
    """Lifting aws's cap alone puts all on o1: 21,900, so the rule costs 10,950. gcp's cap is at
    its limit too but costs nothing alone (aws stays capped). One more point for aws moves
    10 tok/s from o2 to o1: 10 x (43.8 - 21.9) = 219 USD. All rules lifted: premium 10,950."""
    _, _, report = three
    aws = by(report.rules, dimension="provider", group="aws")
    assert aws["cost_of_rule_usd"] == pytest.approx(10_950)
    assert aws["usd_per_share_point"] == pytest.approx(219)
    assert by(report.rules, dimension="provider", group="gcp")["cost_of_rule_usd"] == pytest.approx(0, abs=1e-6)
    assert report.summary["diversification_premium_usd"] == pytest.approx(10_950)


def test_outage_drill(three):
    """Today's chips fixed (o1 5, o2 5, o3 0): losing aws strands o1's 500 of 1000 tok/s.
    For the default one day that is 500 x 86,400 = 43.2 Mtok left unserved, at the default
    penalty of 100 USD per Mtok 4,320 USD; no row has a revenue, so no margin is at risk."""
    _, _, report = three
    aws = by(report.outage, dimension="provider", supplier="aws", quarter="2026Q1")
    assert aws["stranded_tokens_per_s"] == pytest.approx(500)
    assert aws["stranded_share"] == pytest.approx(0.5)
    assert aws["outage_days"] == 1.0
    assert aws["penalty_at_risk_usd"] == pytest.approx(4_320)
    assert aws["margin_at_risk_usd"] == 0.0


def test_value_of_binding_capacity(tmp_path):
    """o1 (1 USD) capped at 3 chips, o2 (2 USD) takes the rest: one more o1 chip-hour replaces
    one o2 chip-hour, saving 1 USD. Checked by a full re-solve with one more chip."""
    offers = [offer("o1", "aws", "r1", "a", 1.0, 3), offer("o2", "gcp", "r2", "b", 2.0, 1000)]
    inputs, plan = solve(tmp_path, offers, policy="{}\n")
    assert plan.totals["total_cost_usd"] == pytest.approx(3 * H + 7 * 2 * H)
    row = by(leverage(inputs, plan).capacity, offer="o1", quarter="2026Q1")
    assert row["value_usd_per_chip_hour"] == pytest.approx(1.0)
    more = cost(tmp_path, offers, policy="{}\n", o1={"max_chips": 4})
    assert (plan.totals["total_cost_usd"] - more) / H == pytest.approx(row["value_usd_per_chip_hour"])


def test_twin_offers_at_one_price(tmp_path):
    """o2 (gcp) and o4 (lambda) both at 2.0 share the 500 tok/s o1 cannot take: any split is
    optimal. On any price rise o2 loses it all, on any cut it takes it all: 10,950 chip-hours
    at risk, and its price to win is today's price."""
    offers = THREE[:2] + [offer("o4", "lambda", "r4", "d", 2.0, 1000)]
    inputs, plan = solve(tmp_path, offers)
    report = leverage(inputs, plan)
    o2 = by(report.offer_prices, offer="o2")
    assert o2["chip_hours_at_risk"] == pytest.approx(10_950)
    assert (
        o2["price_ceiling_usd_per_chip_hour"] is None
        or o2["price_ceiling_usd_per_chip_hour"] != o2["price_ceiling_usd_per_chip_hour"]
    )
    assert o2["price_to_win_usd_per_chip_hour"] == pytest.approx(2.0, rel=0.005)


def test_take_or_pay_offer(tmp_path):
    """o5 (azure, 4 USD) must buy 2 chips: their 200 tok/s are used, o1 serves 800. It holds
    nothing beyond take-or-pay, so no ceiling (method take-or-pay); it wins more volume below
    o1's price, 1.0. Walking away from azure keeps the signed 2 chips: it costs nothing."""
    offers = [offer("o1", "aws", "r1", "a", 1.0, 1000), offer("o5", "azure", "r5", "e", 4.0, 10, min_chips=2)]
    inputs, plan = solve(tmp_path, offers, policy="{}\n")
    assert plan.totals["total_cost_usd"] == pytest.approx(2 * 4 * H + 8 * H)
    report = leverage(inputs, plan)
    o5 = by(report.offer_prices, offer="o5")
    assert o5["price_ceiling_usd_per_chip_hour"] != o5["price_ceiling_usd_per_chip_hour"]  # NaN: none
    assert "take-or-pay" in o5["method"]
    assert o5["price_to_win_usd_per_chip_hour"] == pytest.approx(1.0, rel=0.005)
    assert by(report.suppliers, dimension="provider", supplier="azure")["walk_away_cost_usd"] == pytest.approx(
        0, abs=1e-6
    )


def test_report_does_not_depend_on_workers(three):
    inputs, plan, report = three
    again = leverage(inputs, plan, workers=1)
    assert again.offer_prices.equals(report.offer_prices)
    assert again.suppliers.equals(report.suppliers)
    # Where the time went: every analysis timed, within the report's own time on one worker.
    assert set(again.task_seconds) == {
        "ports-0",
        "offers",
        "walk",
        "provider",
        "vendor",
        "rules",
        "settings",
        "terminal",
        "tiers",
        "discounts",
        "renewal",
    }
    assert 0 < sum(again.task_seconds.values()) <= again.seconds


def test_take_or_pay_under_spend_shares_where_no_rise_is_feasible(solve_case):
    """Spend basis, provider cap 0.5; o1 must take its one chip (take-or-pay), o2 sells at most
    one, demand needs both. At equal prices each provider has exactly half the spend; any rise
    of o1's price gives p1 more than half (p / (p + 1) > 0.5), which no plan can avoid."""
    plan = solve_case(
        policy="share_basis: spend\nmax_share:\n  provider: 0.5\n",
        accelerators=[{"accelerator": "a", "vendor": "v"}],
        offers=[offer("o1", "p1", "r1", "a", 1.0, 1, min_chips=1), offer("o2", "p2", "r2", "a", 1.0, 1)],
        performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 10, "ttft_ms": 10}],
        workloads=[workload("w", "2026Q1", 20)],
        latency=[{"geography": "g", "region": "r1", "rtt_ms": 1}, {"geography": "g", "region": "r2", "rtt_ms": 1}],
    )
    assert plan.totals["total_cost_usd"] == pytest.approx(2 * 1.0 * 2190)
    report = leverage(plan.inputs, plan, workers=1)
    o1 = report.offer_prices.set_index("offer").loc["o1"]
    assert o1["price_ceiling_usd_per_chip_hour"] == 1.0 and o1["method"] == "any price rise breaks a hard rule"
    p1 = report.suppliers.set_index(["dimension", "supplier"]).loc[("provider", "p1")]
    assert p1["uniform_ceiling_pct"] == 0.0


def solve_quarters(tmp_path, policy, name, quarters=("2026Q1", "2026Q2")):
    """The three suppliers over several quarters, 1000 tok/s in each."""
    latency = [{"geography": "g", "region": r, "rtt_ms": 10} for r in ("r1", "r2", "r3")]
    folder = write_folder(
        tmp_path / name,
        policy=policy,
        accelerators=ACCELERATORS,
        performance=PERFORMANCE,
        latency=latency,
        offers=THREE,
        workloads=[workload("w", q, 1000) for q in quarters],
    )
    inputs = optimizer.load(folder)
    return inputs, optimizer.solve(inputs)


# ------------------------------------------------------------- mixed-integer plans, ties

YEAR = ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
PORT_ACCELERATORS = [{"accelerator": "a", "vendor": "nvidia"}, {"accelerator": "b", "vendor": "amd"}]
NV = offer("o1", "aws", "r1", "a", 2.0, 1000)
AMD = offer("o2", "oci", "r2", "b", 1.0, 1000)


def port_case(tmp_path, offers, name="port"):
    """1000 tok/s in each quarter of 2026; chip b needs a port of m (80,000 USD, one quarter)."""
    performance = [
        {"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100},
        {
            "model": "m",
            "accelerator": "b",
            "tokens_per_s_per_chip": 100,
            "ttft_ms": 100,
            "port_usd": 80_000,
            "port_quarters": 1,
        },
    ]
    latency = [{"geography": "g", "region": r, "rtt_ms": 10} for r in sorted({o["region"] for o in offers})]
    folder = write_folder(
        tmp_path / name,
        accelerators=PORT_ACCELERATORS,
        performance=performance,
        latency=latency,
        offers=offers,
        workloads=[workload("w", q, 1000) for q in YEAR],
    )
    inputs = optimizer.load(folder)
    return inputs, optimizer.solve(inputs)


def test_cost_of_each_policy_line(tmp_path):
    """Provider cap 0.5 with an aws override of 0.3, two quarters. Per quarter: aws 300 (6,570),
    gcp 500 (21,900), oci 200 (13,140): 41,610; both quarters 83,220.
    - ``share_overrides.max_share.provider.aws`` removed: aws back to 0.5, 32,850 a quarter:
      the line costs 2 x 8,760 = 17,520.
    - ``max_share.provider`` removed: aws stays at 0.3, gcp takes 700 (30,660): 37,230 a
      quarter, so the line costs 2 x 4,380 = 8,760, lifted in both quarters at once, where
      each (rule, quarter) row of ``rules`` prices one quarter only.
    Each figure is also the difference of two from-scratch solves of edited policy files."""
    policy = CAP + "share_overrides:\n  max_share:\n    provider: {aws: 0.3}\n"
    inputs, plan = solve_quarters(tmp_path, policy, "today")
    assert plan.totals["total_cost_usd"] == pytest.approx(83_220)
    table = leverage(inputs, plan).policy_rules
    assert list(table["setting"]) == ["max_share.provider", "share_overrides.max_share.provider.aws"]
    default = by(table, setting="max_share.provider")
    override = by(table, setting="share_overrides.max_share.provider.aws")
    assert (default["group"], default["limit"], default["limit_without"]) == ("*", 0.5, 1.0)
    assert (override["group"], override["limit"], override["limit_without"]) == ("aws", 0.3, 0.5)
    assert default["cost_of_setting_usd"] == pytest.approx(8_760)
    assert override["cost_of_setting_usd"] == pytest.approx(17_520)
    for setting, edited in (
        ("max_share.provider", "share_overrides:\n  max_share:\n    provider: {aws: 0.3}\n"),
        ("share_overrides.max_share.provider.aws", CAP),
    ):
        resolved = solve_quarters(tmp_path, edited, f"without-{setting}")[1].totals["total_cost_usd"]
        expected = plan.totals["total_cost_usd"] - resolved
        assert by(table, setting=setting)["cost_of_setting_usd"] == pytest.approx(expected, rel=1e-9)


def test_removing_an_override_can_add_rules(tmp_path):
    """An override of 1.0 exempts aws from the 0.5 cap (one quarter: o1 1000 tok/s, 21,900).
    Removing that line brings the cap back (32,850): the line saves 10,950, a cost of -10,950."""
    policy = CAP + "share_overrides:\n  max_share:\n    provider: {aws: 1.0}\n"
    inputs, plan = solve_quarters(tmp_path, policy, "today", quarters=("2026Q1",))
    assert plan.totals["total_cost_usd"] == pytest.approx(21_900)
    override = by(leverage(inputs, plan).policy_rules, setting="share_overrides.max_share.provider.aws")
    assert override["cost_of_setting_usd"] == pytest.approx(-10_950)


def test_value_of_capacity_of_a_commitment_offer(tmp_path):
    """o1 sells 1yr commitments (aws, 1 USD/chip-h, at most 5 chips), o2 gcp on demand at 3
    USD/chip-h (200 tok/s per chip here: 3/200 x 2190 = 32.85 per tok/s-quarter); 1000 tok/s
    in each of four quarters, no caps. A chip committed in Q1 costs 1 x 2190 x 4 = 8,760 and
    replaces 100 tok/s on o2 in four quarters (13,140): o1 holds 5 chips in every quarter.
    One more chip of max_chips in one quarter saves nothing (a commitment needs it in four);
    in every quarter it saves 13,140 - 8,760 = 4,380, per chip-hour added 4,380 / (2190 x 4)
    = 0.50 USD. Checked against a from-scratch solve with max_chips 6."""
    performance = [dict(p, tokens_per_s_per_chip=200) if p["accelerator"] == "b" else p for p in PERFORMANCE]
    latency = [{"geography": "g", "region": r, "rtt_ms": 10} for r in ("r1", "r2")]
    quarters = ("2026Q1", "2026Q2", "2026Q3", "2026Q4")

    def solved(max_chips, name):
        offers = [offer("o1", "aws", "r1", "a", 1.0, max_chips, term="1yr"), offer("o2", "gcp", "r2", "b", 3.0, 1e4)]
        folder = write_folder(
            tmp_path / name,
            accelerators=ACCELERATORS,
            performance=performance,
            latency=latency,
            offers=offers,
            workloads=[workload("w", q, 1000) for q in quarters],
        )
        inputs = optimizer.load(folder)
        return inputs, optimizer.solve(inputs)

    inputs, plan = solved(5, "today")
    row = by(leverage(inputs, plan).capacity, offer="o1")
    assert row["quarter"] == "2026Q1-2026Q4" and row["method"] == "re-solve, every quarter"
    assert row["value_usd_per_chip_hour"] == pytest.approx(0.5)
    saving = plan.totals["total_cost_usd"] - solved(6, "more")[1].totals["total_cost_usd"]
    assert row["value_usd_per_chip_hour"] == pytest.approx(saving / (1 * H * 4), rel=1e-9)


def port_cost(tmp_path, name, price):
    """From scratch, with offer ``name`` priced ``price`` in offers.csv: (total cost, ported)."""
    offers = [dict(o, usd_per_chip_hour=price) if o["offer"] == name else o for o in (NV, AMD)]
    plan = port_case(tmp_path, offers, name=f"{name}-{price!r}")[1]
    return plan.totals["total_cost_usd"], not plan.ports.empty


@pytest.fixture(scope="module")
def switching(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("switching")
    inputs, plan = port_case(tmp_path, [NV, AMD])
    return tmp_path, plan, leverage(inputs, plan, workers=1)


def test_a_port_that_switches_when_a_price_moves(switching):
    """A port that switches when a price moves (worked by hand, H = 2190 h).

    One token/s for a quarter costs 21.9 x price. Today o1 (a, 2 USD) serves all 4 x 1000:
    4 x 43,800 = 175,200, and porting to b (o2, 1 USD) does not pay: Q1 on o1 43,800 + 80,000
    + 3 x 21,900 = 189,500. With the port held off, o2 sells nothing at any price and o1
    keeps its volume up to 36 USD (where the unmet penalty, 100 USD/Mtok = 788.4 USD per
    token/s-quarter, is cheaper than 21.9 p): the LP with integers fixed finds no price to
    win and a ceiling of +1700%. With the port free:
    - o2 at price p: ported costs 43,800 + 80,000 + 65,700 p, below 175,200 once
      p < 51,400 / 65,700 = 0.78234: o2's price to win (-21.77%).
    - o1 at price p: not ported 87,600 p, ported 21,900 p + 145,700: o1's ceiling is
      145,700 / 65,700 = 2.21766 (+10.88%); above it aws keeps only Q1, 1000 of 4000 tok/s,
      so that is also aws's uniform ceiling and its half-volume rise.
    - cut of b's prices to port: 1 - 0.78234 = 21.766%.
    Each figure is checked by from-scratch solves with the price edited, 0.5% either side.
    """
    tmp_path, plan, report = switching
    assert plan.totals["total_cost_usd"] == pytest.approx(175_200) and plan.ports.empty
    o1, o2 = by(report.offer_prices, offer="o1"), by(report.offer_prices, offer="o2")
    win, ceiling = 51_400 / 65_700, 145_700 / 65_700
    assert o2["price_to_win_usd_per_chip_hour"] == pytest.approx(win, rel=1e-5)
    assert o2["proven_move_usd_per_chip_hour"] < win < o2["proven_keep_usd_per_chip_hour"] <= win * (1 + 1e-5)
    assert "integer decisions switch" in o2["method"] and "MIP" in o2["method"]
    assert o1["price_ceiling_usd_per_chip_hour"] == pytest.approx(ceiling, rel=1e-5)
    assert o1["proven_keep_usd_per_chip_hour"] < ceiling < o1["proven_move_usd_per_chip_hour"]
    aws, rise = by(report.suppliers, dimension="provider", supplier="aws"), (ceiling / 2 - 1) * 100
    assert aws["uniform_ceiling_pct"] == pytest.approx(rise, rel=1e-4)
    assert aws["uniform_ceiling_pct"] < rise < aws["uniform_ceiling_moves_pct"]
    assert aws["half_volume_above_pct"] < rise < aws["half_volume_pct"]
    assert aws["half_volume_pct"] == pytest.approx(rise, rel=1e-4)
    port = report.ports.set_index("accelerator").loc["b"]
    assert port["price_cut_not_ported_pct"] < (1 - win) * 100 < port["price_cut_to_port_pct"]
    assert port["price_cut_to_port_pct"] - port["price_cut_not_ported_pct"] <= 0.01
    # From scratch, prices edited in offers.csv.
    assert port_cost(tmp_path, "o2", win * 1.005) == (pytest.approx(175_200), False)
    below, ported = port_cost(tmp_path, "o2", win * 0.995)
    assert ported and below == pytest.approx(123_800 + 65_700 * win * 0.995)
    assert port_cost(tmp_path, "o1", ceiling * 0.995) == (pytest.approx(87_600 * ceiling * 0.995), False)
    above, ported = port_cost(tmp_path, "o1", ceiling * 1.005)
    assert ported and above == pytest.approx(21_900 * ceiling * 1.005 + 145_700)


def test_price_response_and_walk_away_curve_free_the_port(switching):
    """aws at +50% (o1 at 3 USD): ported, 21,900 x 3 + 145,700 = 211,400 (held off: 262,800),
    aws sells 1000 tok/s. Held to 50% of today in each quarter (500 tok/s): Q1 500 on o1 and
    500 unserved at 788.4 = 416,100; ported, Q2-Q4 all on o2: 80,000 + 65,700, so 561,800
    (with the port held off every quarter is like Q1: 1,664,400)."""
    _, _, report = switching
    high = by(report.price_response, dimension="provider", supplier="aws", price_change_pct=50.0)
    assert high["total_cost_usd"] == pytest.approx(211_400)
    assert high["volume_tokens_per_s"] == pytest.approx(1000)
    assert high["method"] == "MIP re-solve"
    half = by(report.walk_away_curve, dimension="provider", supplier="aws", volume_pct=50.0)
    assert half["total_cost_usd"] == pytest.approx(561_800)
    assert half["method"] == "MIP re-solve"


def test_a_tie_at_the_starting_point(tmp_path):
    """A tie at the starting point: o2 (gcp) and o4 (lambda) both at 2.0 share the 500 tok/s
    o1 cannot take (its provider cap is 0.5), split any way. Whichever of them sells anything
    today loses it all on any rise of its price (the other has room for all 500 within its
    own cap): its half-volume rise is today's price, proven just beside it, not a later
    piece end (the search used to start one piece on and report +50%, where o3 takes over).
    Checked from scratch with the price 0.5% up: it sells nothing."""
    offers = THREE[:2] + [offer("o4", "lambda", "r4", "d", 2.0, 1000)]
    inputs, plan = solve(tmp_path, offers)
    report = leverage(inputs, plan)
    in_use = report.suppliers[
        report.suppliers["supplier"].isin(["gcp", "lambda"]) & (report.suppliers["dimension"] == "provider")
    ]
    assert len(in_use) >= 1
    for row in in_use.itertuples():
        assert 0 < row.half_volume_pct <= 1e-3 and row.half_volume_above_pct == 0.0
        assert row.half_volume_method == "tie at today's price"
        name = "o2" if row.supplier == "gcp" else "o4"
        changed = [dict(o, usd_per_chip_hour=2.0 * 1.005) if o["offer"] == name else o for o in offers]
        again = solve(tmp_path, changed, name=f"tie-{name}")[1]
        assert again.allocation.loc[again.allocation["offer"] == name, "tokens_per_s"].sum() == pytest.approx(
            0, abs=1e-6
        )


def test_capacity_sensitivity_solves_the_walk_away_again_at_other_capacities(tmp_path):
    """o1 (aws, 2.00, 10 chips) and o2 (gcp, 3.00, 12 chips), 1,000 tokens/s (10 chips): the
    plan buys 10 o1 chips (43,800); walking away from aws buys 10 o2 chips (65,700): 21,900.
    Capacities -20%: 8 o1 + 2 o2 chips (35,040 + 13,140 = 48,180); walking away, o2's 9.6
    chips serve 960 (63,072) and 40 tokens/s go unserved at 100 USD/Mtok x 7.884 Mtok
    (31,536): 94,608, a walk-away of 46,428 (+112%). Capacities +20% change nothing (21,900)."""
    offers = [offer("o1", "aws", "r1", "a", 2.0, 10), offer("o2", "gcp", "r2", "b", 3.0, 12)]
    inputs, plan = solve(tmp_path, offers, policy="{}\n")
    table = leverage(inputs, plan, sensitivity=True).capacity_sensitivity
    aws = by(table, dimension="provider", supplier="aws")
    assert aws["walk_away_cost_usd"] == pytest.approx(21_900)
    assert aws["walk_away_cost_capacity_low_usd"] == pytest.approx(46_428)
    assert aws["walk_away_cost_capacity_high_usd"] == pytest.approx(21_900)
    assert aws["change_low_pct"] == pytest.approx((46_428 / 21_900 - 1) * 100)
    assert aws["change_high_pct"] == pytest.approx(0.0, abs=1e-9)
    assert bool(aws["holds"])
    assert "gcp" not in set(table["supplier"])  # not used today: nothing to walk away from
