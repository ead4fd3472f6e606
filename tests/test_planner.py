"""Hand-solved cases for each constraint family of the contract's LP.

Common setup (numbers used in every docstring): H = 2190 h per quarter, penalty
P = 100 USD/Mtok x 2190 x 3600 / 1e6 = 788.4 USD per unserved token/s per quarter.
Chip a runs model m at 100 tok/s per chip, chip b at 200 tok/s, chip c at 10 tok/s.
Offer o1 sells a at 2 USD/chip-h, o2 sells b at 3 USD/chip-h, so one token/s costs
2/100 = 0.020 USD/h on o1 and 3/200 = 0.015 USD/h on o2: o2 is cheaper per token
although its chips cost more.
"""

from __future__ import annotations

import logging

import pytest
from conftest import offer, workload

H = 2190.0
P = 788.4

ACCELERATORS = [
    {"accelerator": "a", "vendor": "nvidia"},
    {"accelerator": "b", "vendor": "google"},
    {"accelerator": "c", "vendor": "amd"},
]
PERFORMANCE = [
    {"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100},
    {"model": "m", "accelerator": "b", "tokens_per_s_per_chip": 200, "ttft_ms": 100},
    {"model": "m", "accelerator": "c", "tokens_per_s_per_chip": 10, "ttft_ms": 100},
]
LATENCY = [
    {"geography": "g", "region": "r1", "rtt_ms": 50},
    {"geography": "g", "region": "r2", "rtt_ms": 50},
    {"geography": "g", "region": "r3", "rtt_ms": 50},
]
O1 = offer("o1", "aws", "r1", "a", 2.0, 1000)
O2 = offer("o2", "gcp", "r2", "b", 3.0, 1000)


def case(solve_case, offers, workloads, policy="{}\n", latency=LATENCY, **extra):
    """Solve a case; latency rows are kept for the regions the offers use."""
    regions = {o["region"] for o in offers}
    latency = [row for row in latency if row["region"] in regions]
    return solve_case(
        policy=policy,
        accelerators=ACCELERATORS,
        performance=PERFORMANCE,
        latency=latency,
        offers=offers,
        workloads=workloads,
        **extra,
    )


def chips_of(plan, name, quarter="2026Q1"):
    rows = plan.purchases[(plan.purchases["offer"] == name) & (plan.purchases["quarter"] == quarter)]
    return float(rows["chips"].sum())


def test_single_offer(solve_case):
    """1000 tok/s on o1 needs 1000/100 = 10 chips: 10 x 2 x 2190 = 43,800 USD.

    Served tokens: 1000 x 2190 x 3600 = 7,884 Mtok, so 43,800 / 7,884 = 5.5556 USD/Mtok.
    """
    plan = case(solve_case, [O1], [workload("w", "2026Q1", 1000)])
    assert plan.totals["total_cost_usd"] == pytest.approx(43_800)
    assert plan.totals["cost_per_mtok_usd"] == pytest.approx(43_800 / 7_884)
    assert chips_of(plan, "o1") == pytest.approx(10)
    assert plan.allocation["tokens_per_s"].sum() == pytest.approx(1000)
    assert plan.unmet.empty


def test_library_users_get_the_plan_on_the_optimizer_logger(solve_case, caplog):
    """The 43,800 USD plan of ``test_single_offer`` is logged at INFO on ``optimizer.*``, and
    nothing reaches stderr through Python's last-resort handler (the package adds a NullHandler)."""
    with caplog.at_level(logging.INFO, logger="optimizer"):
        case(solve_case, [O1], [workload("w", "2026Q1", 1000)])
    records = [r for r in caplog.records if r.name == "optimizer.plan.pipeline"]
    assert len(records) == 1 and records[0].levelno == logging.INFO
    assert "total cost 43800.00 USD" in records[0].getMessage()
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("optimizer").handlers)


def test_cheapest_per_token_first(solve_case):
    """o2 is cheaper per token (0.015 vs 0.020 USD/h): 5 chips x 3 x 2190 = 32,850 USD."""
    plan = case(solve_case, [O1, O2], [workload("w", "2026Q1", 1000)])
    assert plan.totals["total_cost_usd"] == pytest.approx(32_850)
    assert chips_of(plan, "o2") == pytest.approx(5)
    assert chips_of(plan, "o1") == 0


def test_capacity_spills_over(solve_case):
    """o2 capped at 3 chips serves 600 tok/s; the other 400 need 4 chips of o1.

    3 x 3 x 2190 + 4 x 2 x 2190 = 19,710 + 17,520 = 37,230 USD.
    """
    plan = case(solve_case, [O1, offer("o2", "gcp", "r2", "b", 3.0, 3)], [workload("w", "2026Q1", 1000)])
    assert plan.totals["total_cost_usd"] == pytest.approx(37_230)
    assert chips_of(plan, "o2") == pytest.approx(3)
    assert chips_of(plan, "o1") == pytest.approx(4)


def test_binding_provider_cap(solve_case):
    """Provider cap 0.7: gcp serves 700 tok/s (3.5 chips), aws 300 (3 chips).

    3.5 x 3 x 2190 + 3 x 2 x 2190 = 22,995 + 13,140 = 36,135 USD. Relaxing the cap by
    one point moves 10 tok/s to the cheaper offer: 10 x (0.020 - 0.015) x 2190 = 109.5 USD.
    """
    plan = case(solve_case, [O1, O2], [workload("w", "2026Q1", 1000)], policy="max_share:\n  provider: 0.7\n")
    assert plan.totals["total_cost_usd"] == pytest.approx(36_135)
    rule = plan.binding_rules.set_index(["dimension", "group"]).loc[("provider", "gcp")]
    assert rule["share"] == pytest.approx(0.7)
    assert rule["usd_per_share_point"] == pytest.approx(109.5)


def test_share_override_replaces_default(solve_case):
    """Default provider cap 1.0 but gcp overridden to 0.7: same plan as the cap above."""
    policy = "share_overrides:\n  max_share:\n    provider: {gcp: 0.7}\n"
    plan = case(solve_case, [O1, O2], [workload("w", "2026Q1", 1000)], policy=policy)
    assert plan.totals["total_cost_usd"] == pytest.approx(36_135)


def test_vendor_floor(solve_case):
    """nvidia floor 0.2 forces 200 tok/s onto o1: 200 x 0.020 x 2190 + 800 x 0.015 x 2190 = 35,040."""
    policy = "min_share:\n  vendor: 0.0\nshare_overrides:\n  min_share:\n    vendor: {nvidia: 0.2}\n"
    plan = case(solve_case, [O1, O2], [workload("w", "2026Q1", 1000)], policy=policy)
    assert plan.totals["total_cost_usd"] == pytest.approx(35_040)


def test_spend_basis_cap(solve_case):
    """Cap 0.6 on spend: 0.015 v2 <= 0.6 (0.015 v2 + 0.020 v1) gives v2 <= 2 v1, so v2 = 666.67.

    Spend per hour 0.015 x 666.67 + 0.020 x 333.33 = 16.6667 USD, x 2190 = 36,500 USD.
    """
    policy = "share_basis: spend\nmax_share:\n  provider: 0.6\n"
    plan = case(solve_case, [O1, O2], [workload("w", "2026Q1", 1000)], policy=policy)
    assert plan.totals["total_cost_usd"] == pytest.approx(36_500)
    spend = plan.shares[(plan.shares["dimension"] == "provider") & (plan.shares["group"] == "gcp")]
    assert float(spend["spend_share"].iloc[0]) == pytest.approx(0.6)


def test_latency_filters_pairs(solve_case):
    """o2's region is 450 ms away: 450 + 100 ttft = 550 > 500 SLO, so all goes to o1 (43,800).

    A pair exactly at the SLO (400 + 100 = 500) is allowed.
    """
    far = [{"geography": "g", "region": "r1", "rtt_ms": 50}, {"geography": "g", "region": "r2", "rtt_ms": 450}]
    plan = case(solve_case, [O1, O2], [workload("w", "2026Q1", 1000, slo=500)], latency=far)
    assert plan.totals["total_cost_usd"] == pytest.approx(43_800)
    assert set(plan.allocation["offer"]) == {"o1"}

    edge = [{"geography": "g", "region": "r1", "rtt_ms": 50}, {"geography": "g", "region": "r2", "rtt_ms": 400}]
    plan = case(solve_case, [O1, O2], [workload("w", "2026Q1", 1000, slo=500)], latency=edge)
    assert plan.totals["total_cost_usd"] == pytest.approx(32_850)


def test_take_or_pay_minimum(solve_case):
    """o3 (chip c, 1 USD/chip-h, 10 tok/s) must buy 5 chips: 5 x 1 x 2190 = 10,950 USD, sunk.

    Its 50 tok/s are then free to use, so o2 serves only 950: 4.75 x 3 x 2190 = 31,207.5.
    Total 42,157.5 USD.
    """
    o3 = offer("o3", "oci", "r3", "c", 1.0, 100, min_chips=5)
    plan = case(solve_case, [O1, O2, o3], [workload("w", "2026Q1", 1000)])
    assert plan.totals["total_cost_usd"] == pytest.approx(42_157.5)
    assert chips_of(plan, "o3") == pytest.approx(5)
    o3_volume = plan.allocation.loc[plan.allocation["offer"] == "o3", "tokens_per_s"].sum()
    assert o3_volume == pytest.approx(50)


def test_unmet_demand_when_capacity_runs_out(solve_case):
    """o1 capped at 5 chips serves 500 of 1000 tok/s: 21,900 USD + 500 x 788.4 = 416,100 USD."""
    plan = case(solve_case, [offer("o1", "aws", "r1", "a", 2.0, 5)], [workload("w", "2026Q1", 1000)])
    assert plan.totals["total_cost_usd"] == pytest.approx(416_100)
    assert plan.totals["compute_cost_usd"] == pytest.approx(21_900)
    assert plan.totals["unmet_tokens_per_s"] == pytest.approx(500)
    assert plan.unmet["reason"].iloc[0].startswith("capacity ran out")


def test_unmet_when_cheaper_than_serving(solve_case):
    """Penalty 1 USD/Mtok: P = 7.884 USD per token/s-quarter < 0.020 x 2190 = 43.8 on o1.

    Serving costs more than the penalty, so all 1000 tok/s go unserved: 7,884 USD.
    """
    plan = case(solve_case, [O1], [workload("w", "2026Q1", 1000)], policy="unmet_penalty_usd_per_mtok: 1\n")
    assert plan.totals["total_cost_usd"] == pytest.approx(7_884)
    assert "penalty" in plan.unmet["reason"].iloc[0]


def test_cap_on_a_lone_provider_leaves_demand_unserved(solve_case):
    """One provider with cap 0.5: S_aws <= 0.5 S and S_aws = S force S = 0: 1000 x 788.4."""
    plan = case(solve_case, [O1], [workload("w", "2026Q1", 1000)], policy="max_share:\n  provider: 0.5\n")
    assert plan.totals["total_cost_usd"] == pytest.approx(788_400)
    assert plan.unmet["reason"].iloc[0].startswith("a share rule held it back")
    assert any("caps" in w for w in map(str, plan.inputs.warnings))


def test_availability_window(solve_case):
    """o2 only in 2026Q2: Q1 and Q3 on o1 (43,800 each), Q2 on o2 (32,850). Total 120,450."""
    o2 = offer("o2", "gcp", "r2", "b", 3.0, 1000, available_from="2026Q2", available_until="2026Q2")
    workloads = [workload("w", q, 1000) for q in ("2026Q1", "2026Q2", "2026Q3")]
    plan = case(solve_case, [O1, o2], workloads)
    assert plan.totals["total_cost_usd"] == pytest.approx(120_450)
    assert chips_of(plan, "o2", "2026Q2") == pytest.approx(5)
    assert chips_of(plan, "o1", "2026Q2") == 0


def test_take_or_pay_in_a_gap_quarter(solve_case):
    """Demand in Q1 and Q3 only; the horizon includes Q2, where o1's 2 take-or-pay chips are paid.

    (10 + 2 + 10) chips x 2 x 2190 = 96,360 USD.
    """
    o1 = offer("o1", "aws", "r1", "a", 2.0, 1000, min_chips=2)
    plan = case(solve_case, [o1], [workload("w", "2026Q1", 1000), workload("w", "2026Q3", 1000)])
    assert plan.totals["total_cost_usd"] == pytest.approx(96_360)
    assert chips_of(plan, "o1", "2026Q2") == pytest.approx(2)


def test_offer_quarter_override(solve_case):
    """o1 costs 6 USD/chip-h in Q2 (0.060 per token/s-h), so Q2 moves to o2 at 5 USD (0.025).

    Q1: 10 chips x 2 x 2190 = 43,800; Q2: 5 chips x 5 x 2190 = 54,750. Total 98,550.
    """
    o2 = offer("o2", "gcp", "r2", "b", 5.0, 1000)
    overrides = [{"offer": "o1", "quarter": "2026Q2", "usd_per_chip_hour": 6.0}]
    workloads = [workload("w", q, 1000) for q in ("2026Q1", "2026Q2")]
    plan = case(solve_case, [O1, o2], workloads, offer_quarters=overrides)
    assert plan.totals["total_cost_usd"] == pytest.approx(98_550)


def test_utilization_only_scales_cost_per_token(solve_case):
    """Utilization 0.5 halves served tokens: 43,800 / 3,942 Mtok = 11.111 USD/Mtok, cost unchanged."""
    plan = case(solve_case, [O1], [workload("w", "2026Q1", 1000, utilization=0.5)])
    assert plan.totals["total_cost_usd"] == pytest.approx(43_800)
    assert plan.totals["cost_per_mtok_usd"] == pytest.approx(43_800 / 3_942)


def test_offer_cap_splits_twin_offers(solve_case):
    """Offer cap 0.5 with two equal offers: 500 tok/s each, 5 chips each, 43,800 USD."""
    twin = offer("o1b", "aws", "r1", "a", 2.0, 1000)
    plan = case(solve_case, [O1, twin], [workload("w", "2026Q1", 1000)], policy="max_share:\n  offer: 0.5\n")
    assert plan.totals["total_cost_usd"] == pytest.approx(43_800)
    assert chips_of(plan, "o1") == pytest.approx(5)
    assert chips_of(plan, "o1b") == pytest.approx(5)


def test_hhi_of_shares(solve_case):
    """Cap 0.7 plan: shares 0.7 / 0.3 give HHI 70^2 + 30^2 = 5,800 (0-10,000 scale)."""
    plan = case(solve_case, [O1, O2], [workload("w", "2026Q1", 1000)], policy="max_share:\n  provider: 0.7\n")
    assert plan.totals["hhi_provider"] == pytest.approx(5_800)


# Contract v5: caps and floors hold for every group that can hold chips in a quarter.
O1_1YR = offer("o1", "aws", "r1", "a", 0.2, 1000, term="1yr", available_until="2026Q1")
CAP_HALF = "max_share:\n  provider: 0.5\n"


def test_commitment_escaping_a_cap(solve_case):
    """A 1yr commitment of o1 (aws, only on sale in Q1) still runs in Q2: the aws cap of 0.5
    holds there too, although aws sells nothing in Q2.

    1000 tok/s in Q1 and Q2. A committed chip costs 0.2 x 2190 x 4 = 1,752 USD (whole term)
    and carries 100 tok/s in both quarters (17.52 USD per tok/s), against 2 x 32.85 = 65.7
    on o2 (3/200 x 2190 per quarter): aws takes its cap, 500 tok/s, in both quarters.
    c = 5 chips: 8,760; o2 500 tok/s in each quarter: 2 x 16,425. Total 41,610.
    Were Q2 uncapped for aws (nothing on sale), 10 chips (17,520) would serve all of Q2 and
    half of Q1 (o2 16,425): 33,945, with aws at 100% of Q2.
    """
    workloads = [workload("w", q, 1000) for q in ("2026Q1", "2026Q2")]
    plan = case(solve_case, [O1_1YR, O2], workloads, policy=CAP_HALF)
    assert plan.totals["total_cost_usd"] == pytest.approx(41_610)
    assert plan.share_table("provider").loc["2026Q2", "aws"] == pytest.approx(0.5)


def test_signed_contract_escaping_a_cap(solve_case):
    """10 signed chips of o1 in Q2, when o1 is no longer on sale (until Q1): aws is capped at
    0.5 of Q2 all the same.

    Q1: aws 500 tok/s on 5 chips (21,900) + o2 500 (16,425). Q2: aws 500 on the signed
    chips, sunk 10 x 2 x 2190 = 43,800, + o2 500 (16,425). Total 98,550 (without the cap
    in Q2, 82,125: the signed chips would carry all of Q2).
    """
    o1 = offer("o1", "aws", "r1", "a", 2.0, 1000, available_until="2026Q1")
    contracts = [{"offer": "o1", "chips": 10, "start": "2026Q2", "end": "2026Q2"}]
    workloads = [workload("w", q, 1000) for q in ("2026Q1", "2026Q2")]
    plan = case(solve_case, [o1, O2], workloads, policy=CAP_HALF, contracts=contracts)
    assert plan.totals["total_cost_usd"] == pytest.approx(98_550)
    assert plan.share_table("provider").loc["2026Q2", "aws"] == pytest.approx(0.5)


def test_floor_that_cannot_be_met(solve_case):
    """amd (o3, chip c in r3) has a floor of 0.1 but no latency row reaches r3: it can hold
    chips and serve nothing. S_amd = 0 >= 0.1 x S forces S = 0: all 1000 tok/s unserved,
    1000 x 788.4 = 788,400 USD. The warning, the binding rules and the unmet reason name the
    rule (share_overrides.min_share.vendor.amd)."""
    o3 = offer("o3", "oci", "r3", "c", 1.0, 1000)
    plan = case(
        solve_case,
        [O1, O2, o3],
        [workload("w", "2026Q1", 1000)],
        latency=LATENCY[:2],
        policy="share_overrides:\n  min_share:\n    vendor: {amd: 0.1}\n",
    )
    assert plan.totals["total_cost_usd"] == pytest.approx(788_400)
    assert any(
        "vendor amd has a floor of 0.1 (share_overrides.min_share.vendor.amd)" in w and "100%" in w
        for w in map(str, plan.inputs.warnings)
    ), plan.inputs.warnings
    rules = plan.binding_rules
    assert list(zip(rules["dimension"], rules["group"], rules["kind"], strict=True)) == [("vendor", "amd", "min")]
    assert rules["share"].isna().all()
    assert plan.unmet["reason"].iloc[0] == "a share rule held it back (vendor amd min 0.1 of volume)"


def test_caps_summing_below_one_leave_everything_unserved(solve_case):
    """Three providers capped at 0.3: S = sum_g S_g <= 0.9 S forces S = 0, so 100% of the
    demand goes unserved (not "at least 10%"): 788,400 USD."""
    o3 = offer("o3", "oci", "r3", "a", 2.0, 1000)
    plan = case(solve_case, [O1, O2, o3], [workload("w", "2026Q1", 1000)], policy="max_share:\n  provider: 0.3\n")
    assert plan.totals["total_cost_usd"] == pytest.approx(788_400)
    warning = next(w for w in map(str, plan.inputs.warnings) if "provider caps" in w)
    assert "aws 0.3 (max_share.provider)" in warning and "sum to 0.9" in warning and "100%" in warning
    assert set(plan.binding_rules["group"]) <= {"aws", "gcp", "oci"} and not plan.binding_rules.empty
    assert plan.unmet["reason"].iloc[0].startswith("a share rule held it back (provider ")
