"""Volume price tiers (contract, "Extension: price tiers"), on hand-solved cases.

One workload in 2026Q1 on a chip serving 100 tokens/s, a quarter of 2,190 hours. Offer o1
(aws) lists 2.00 USD per chip-hour with a price break from 10 chips at 1.80; o2 (gcp)
sells the same chip at 1.95 without tiers; each sells up to 100 chips.

All-units (every chip at 1.80 once 10 are held): n chips of need cost
min(1.95 n, 1.80 max(n, 10)) per hour (o1 below 10 chips at 2.00 is beaten by o2, and
once o1 is in its 1.80 tier every chip goes there), so from n = 18 / 1.95 = 9.2308 the
plan buys 10 o1 chips, idle ones included.

Incremental (1.80 only on the chips above 10): n chips all on o1 cost 20 + 1.80 (n - 10)
for n >= 10, against 1.95 n on o2, and mixing is never better (the cost of k o1 chips plus
15 - k o2 chips falls with k only above 10), so o1 wins from n = 2 / 0.15 = 13.33.
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
from optimizer.scenarios.overlays import Scale, Scenario, Set, apply

HOURS = 2190.0


def folder_for(tmp_path, tiers, demand=950.0, quarters=("2026Q1",), o1_term="on-demand"):
    return write_folder(
        tmp_path / "in",
        accelerators=[{"accelerator": "a", "vendor": "nvidia"}],
        offers=[offer("o1", "aws", "r1", "a", 2.0, 100, term=o1_term), offer("o2", "gcp", "r2", "a", 1.95, 100)],
        performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100}],
        workloads=[workload(f"w{k}", q, demand) for k, q in enumerate(quarters)],
        latency=[{"geography": "g", "region": r, "rtt_ms": 50} for r in ("r1", "r2")],
        price_tiers=tiers,
    )


def tier(kind, from_chips=10, price=1.8, quarter="", offer_name="o1"):
    return {"offer": offer_name, "quarter": quarter, "from_chips": from_chips, "usd_per_chip_hour": price, "kind": kind}


def plan_for(tmp_path, tiers, **kwargs):
    return optimizer.solve(optimizer.load(folder_for(tmp_path, tiers, **kwargs)), payback=False)


def by_offer(plan):
    return plan.purchases.set_index("offer")


@pytest.mark.parametrize("chips", [5.0, 9.0, 9.2, 9.5, 10.0, 12.0, 40.0])
def test_all_units_cost_is_the_closed_form(tmp_path, chips):
    """min(1.95 n, 1.80 max(n, 10)) x 2,190 for n chips of need, at every side of the break."""
    plan = plan_for(tmp_path, [tier("all_units")], demand=chips * 100)
    expected = min(1.95 * chips, 1.8 * max(chips, 10.0)) * HOURS
    assert plan.totals["total_cost_usd"] == pytest.approx(expected, rel=1e-9)


def test_an_all_units_tier_makes_buying_idle_chips_cheaper(tmp_path):
    """950 tokens/s need 9.5 chips: 9.5 on o2 cost 9.5 x 1.95 x 2,190 = 40,569.75; 10 on o1
    in its 1.80 tier cost 10 x 1.80 x 2,190 = 39,420, half a chip idle. The plan buys 10."""
    plan = plan_for(tmp_path, [tier("all_units")])
    assert plan.totals["total_cost_usd"] == pytest.approx(39_420.0, rel=1e-9)
    o1 = by_offer(plan).loc["o1"]
    assert o1["chips"] == pytest.approx(10.0)
    assert o1["tier"] == 1
    assert o1["usd_per_chip_hour"] == pytest.approx(1.8)
    assert o1["cost_usd"] == pytest.approx(39_420.0)
    assert "o2" not in by_offer(plan).index


def test_the_incremental_variant_does_not_pay_for_idle_chips(tmp_path):
    """Incremental at 950 tokens/s: 10 o1 chips cost 20 x 2,190 = 43,800 (the break lowers
    only chips above 10), more than 9.5 o2 chips, 40,569.75. The plan buys o2."""
    plan = plan_for(tmp_path, [tier("incremental")])
    assert plan.totals["total_cost_usd"] == pytest.approx(9.5 * 1.95 * HOURS, rel=1e-9)
    assert set(plan.purchases["offer"]) == {"o2"}


def test_incremental_tiers_fill_in_order(tmp_path):
    """1,500 tokens/s (15 chips): on o1, 10 x 2.00 + 5 x 1.80 = 29.00 per hour, 63,510 USD,
    below o2's 15 x 1.95 = 29.25. Filling the 1.80 segment first (an LP without the tier
    binaries) would claim 15 x 1.80 x 2,190 = 59,130; the plan pays 63,510, average 29/15."""
    plan = plan_for(tmp_path, [tier("incremental")], demand=1500)
    assert plan.totals["total_cost_usd"] == pytest.approx(63_510.0, rel=1e-9)
    o1 = by_offer(plan).loc["o1"]
    assert o1["chips"] == pytest.approx(15.0) and o1["tier"] == 1
    assert o1["usd_per_chip_hour"] == pytest.approx(29.0 / 15.0)


def test_a_tier_row_for_one_quarter_applies_only_there(tmp_path):
    """The break only in 2026Q2: 2026Q1 buys 9.5 o2 chips (40,569.75), 2026Q2 10 o1 chips
    at 1.80 (39,420)."""
    plan = plan_for(tmp_path, [tier("all_units", quarter="2026Q2")], quarters=("2026Q1", "2026Q2"))
    assert plan.totals["total_cost_usd"] == pytest.approx(40_569.75 + 39_420.0, rel=1e-9)
    bought = plan.purchases.set_index(["offer", "quarter"])["chips"]
    assert bought[("o2", "2026Q1")] == pytest.approx(9.5)
    assert bought[("o1", "2026Q2")] == pytest.approx(10.0)


def test_the_verifier_rederives_the_tier_from_the_chips(tmp_path):
    """9.5 o1 chips do not reach the 10-chip break: they cost 2.00, 41,610 USD. A plan
    claiming the tier's 1.80 on them (37,449) is rejected; the true cost passes."""
    plan = plan_for(tmp_path, [tier("all_units")])
    purchases = plan.purchases.assign(chips=9.5)
    verify(plan.inputs, plan.allocation, purchases, 9.5 * 2.0 * HOURS, integer=True)
    with pytest.raises(VerificationError):
        verify(plan.inputs, plan.allocation, purchases, 9.5 * 1.8 * HOURS, integer=True)


def test_scaling_an_offers_price_scales_its_tiers(tmp_path):
    """A scenario raising o1's price by 10% raises its tier to 1.98: 10 o1 chips then cost
    19.8 per hour, more than 9.5 o2 chips at 18.525, so the plan buys o2 (40,569.75)."""
    folder = folder_for(tmp_path, [tier("all_units")])
    rise = Scale(scale="offers", where={"offer": "o1"}, column="usd_per_chip_hour", by=1.1)
    scenario = Scenario(name="rise", base=folder, changes=[rise])
    inputs = apply(scenario)
    assert inputs.price_tiers["usd_per_chip_hour"].tolist() == pytest.approx([1.98])
    assert optimizer.solve(inputs, payback=False).totals["total_cost_usd"] == pytest.approx(40_569.75, rel=1e-9)


def test_leverage_prices_every_tier_in_proportion(tmp_path):
    """o1's tiers all move with its price p (list 2.00): its 10 chips cost 9 p per hour
    against o2's 18.525, so o1 keeps the volume up to p = 18.525 / 9 = 2.058333 (+2.9167%).
    Checked by from-scratch solves of scenarios 0.1% either side."""
    inputs = optimizer.load(folder_for(tmp_path, [tier("all_units")]))
    plan = optimizer.solve(inputs, payback=False)
    report = leverage(inputs, plan, workers=1)
    o1 = report.offer_prices.set_index("offer").loc["o1"]
    ceiling = 18.525 / 9.0
    assert o1["price_ceiling_usd_per_chip_hour"] == pytest.approx(ceiling, rel=1e-5)
    aws = report.suppliers.set_index(["dimension", "supplier"]).loc[("provider", "aws")]
    assert aws["uniform_ceiling_pct"] == pytest.approx((ceiling / 2 - 1) * 100, rel=1e-4)
    for factor, keeps in ((0.999, True), (1.001, False)):
        change = Scale(scale="offers", where={"offer": "o1"}, column="usd_per_chip_hour", by=ceiling / 2 * factor)
        resolved = optimizer.solve(apply(Scenario(name="s", base=inputs.folder, changes=[change])), payback=False)
        assert ("o1" in set(resolved.allocation["offer"])) is keeps


def test_walk_away_counts_what_the_tier_pays(tmp_path):
    """aws's spend today is its tier's 39,420; walking away buys 9.5 o2 chips, 40,569.75,
    so walking away costs 1,149.75."""
    inputs = optimizer.load(folder_for(tmp_path, [tier("all_units")]))
    report = leverage(inputs, optimizer.solve(inputs, payback=False), workers=1)
    aws = report.suppliers.set_index(["dimension", "supplier"]).loc[("provider", "aws")]
    assert aws["spend_usd"] == pytest.approx(39_420.0)
    assert aws["walk_away_cost_usd"] == pytest.approx(40_569.75 - 39_420.0, rel=1e-9)


@pytest.mark.parametrize(
    ("rows", "o1_term", "column", "message"),
    [
        ([tier("all_units", offer_name="nope")], "on-demand", "offer", "nope"),
        ([tier("all_units")], "1yr", "offer", "on-demand offers only"),
        ([tier("all_units"), tier("incremental", from_chips=20, price=1.7)], "on-demand", "kind", "one kind"),
        ([tier("all_units", price=2.1)], "on-demand", "usd_per_chip_hour", "lowers the price"),
        ([tier("all_units"), tier("all_units", quarter="2026Q1", price=1.7)], "on-demand", "from_chips", "one tier"),
    ],
)
def test_bad_tier_rows_are_named_at_their_line_and_column(tmp_path, rows, o1_term, column, message):
    with pytest.raises(InputError) as caught:
        optimizer.load(folder_for(tmp_path, rows, o1_term=o1_term))
    problems = [p for p in caught.value.problems if p.file.endswith("price_tiers.csv")]
    assert problems, caught.value
    assert any(p.column == column and message in p.message and p.line for p in problems), problems


def capacity_case(tmp_path, kind, price):
    """2,000 tokens/s (20 chips) with o1 capped at 12 chips."""
    folder = folder_for(tmp_path, [tier(kind, price=price)], demand=2000)
    offers = (folder / "offers.csv").read_text().replace("o1,aws,r1,a,2.0,100", "o1,aws,r1,a,2.0,12")
    (folder / "offers.csv").write_text(offers)
    inputs = optimizer.load(folder)
    return inputs, optimizer.solve(inputs, payback=False)


@pytest.mark.parametrize(("kind", "price", "value"), [("all_units", 1.8, 0.15), ("incremental", 1.5, 0.45)])
def test_capacity_of_a_tiered_offer_is_worth_its_last_tiers_saving(tmp_path, kind, price, value):
    """o1 full at 12 chips (all_units: 12 x 1.80 + 8 x 1.95 = 37.2 per hour; incremental at
    1.50: 20 + 2 x 1.50 + 8 x 1.95 = 38.6, below 20 x 1.95 = 39): one more o1 chip-hour
    replaces one o2 chip-hour, worth 1.95 - the last tier's price."""
    inputs, plan = capacity_case(tmp_path, kind, price)
    expected = (12 * 1.8 + 8 * 1.95) if kind == "all_units" else (20 + 2 * 1.5 + 8 * 1.95)
    assert plan.totals["total_cost_usd"] == pytest.approx(expected * HOURS, rel=1e-9)
    capacity = leverage(inputs, plan, workers=1).capacity.set_index("offer")
    assert capacity.loc["o1", "value_usd_per_chip_hour"] == pytest.approx(value, rel=1e-6)


def test_the_tier_table_says_what_the_next_tier_needs_and_saves(tmp_path):
    """Incremental, 950 tokens/s: the plan buys o2 and o1 sits in tier 0 with no chips. Its
    next tier starts at 10 chips and lowers the price by 0.20 on chips above it (saving
    nothing at the break itself); holding 10 o1 chips costs 20 x 2,190 = 43,800 against
    today's 40,569.75, so reaching it costs 3,230.25 - checked by a from-scratch solve with
    o1's min_chips at 10."""
    inputs = optimizer.load(folder_for(tmp_path, [tier("incremental")]))
    plan = optimizer.solve(inputs, payback=False)
    row = leverage(inputs, plan, workers=1).tiers.set_index("offer").loc["o1"]
    assert row["tier"] == 0 and row["chips"] == 0.0 and row["next_tier"] == 1
    assert row["next_from_chips"] == 10.0 and row["chips_to_next_tier"] == 10.0
    assert row["saving_usd_per_chip_hour"] == pytest.approx(0.2) and row["saving_at_next_tier_usd"] == 0.0
    assert row["cost_of_reaching_usd"] == pytest.approx(43_800.0 - 40_569.75, rel=1e-9)
    held = Set(set="offers", where={"offer": "o1"}, column="min_chips", value=10)
    resolved = optimizer.solve(apply(Scenario(name="held", base=inputs.folder, changes=[held])), payback=False)
    assert resolved.totals["total_cost_usd"] - plan.totals["total_cost_usd"] == pytest.approx(
        row["cost_of_reaching_usd"], rel=1e-9
    )


def test_the_tier_table_of_an_all_units_tier_in_reach(tmp_path):
    """All-units, two breaks (10 chips at 1.80, 30 at 1.70), 950 tokens/s: the plan sits in
    tier 1 on 10 chips; tier 2 needs 20 more and would save 0.10 on all 30, 6,570 USD at
    the break; holding 30 chips costs 30 x 1.70 x 2,190 = 111,690 against 39,420 today."""
    inputs = optimizer.load(folder_for(tmp_path, [tier("all_units"), tier("all_units", from_chips=30, price=1.7)]))
    plan = optimizer.solve(inputs, payback=False)
    row = leverage(inputs, plan, workers=1).tiers.set_index("offer").loc["o1"]
    assert row["tier"] == 1 and row["chips"] == pytest.approx(10.0)
    assert row["usd_per_chip_hour"] == pytest.approx(1.8)
    assert row["chips_to_next_tier"] == pytest.approx(20.0)
    assert row["saving_at_next_tier_usd"] == pytest.approx(0.1 * 30 * HOURS)
    assert row["cost_of_reaching_usd"] == pytest.approx(111_690.0 - 39_420.0, rel=1e-9)


def _segments(list_price, breaks, max_chips, kind):
    """Each tier choice as (lowest chips, highest chips, fixed USD/h, USD/chip-hour): the
    cost is linear within a choice (all_units: one price on every chip; incremental: the
    full lower segments plus this one's price above its start)."""
    starts = [0.0] + [start for start, _ in breaks]
    prices = [list_price] + [price for _, price in breaks]
    ends = [*starts[1:], max_chips]
    choices, fixed = [], 0.0
    for start, end, price in zip(starts, ends, prices, strict=True):
        if start > max_chips:
            break
        end = min(end, max_chips)
        if kind == "all_units":
            choices.append((start, end, 0.0, price))
        else:
            choices.append((start, end, fixed - price * start, price))
            fixed += price * (end - start)
    return choices


def brute_force(need, offers):
    """The cheapest way to hold ``need`` chips over ``offers`` (list price, breaks, max
    chips, kind), every tier choice enumerated, each a two-column LP solved by scipy."""
    import itertools

    from scipy.optimize import linprog

    best = float("inf")
    for picked in itertools.product(*(_segments(*offer_) for offer_ in offers)):
        result = linprog(
            c=[price for _, _, _, price in picked],
            A_ub=[[-1.0] * len(picked)],
            b_ub=[-need],
            bounds=[(low, high) for low, high, _, _ in picked],
            method="highs",
        )
        if result.status == 0:
            best = min(best, result.fun + sum(fixed for _, _, fixed, _ in picked))
    return best * HOURS


@st.composite
def tiered_cases(draw):
    kind = draw(st.sampled_from(["all_units", "incremental"]))
    count = draw(st.integers(1, 3))
    starts = sorted(draw(st.lists(st.integers(2, 60), min_size=count, max_size=count, unique=True)))
    prices = draw(st.lists(st.sampled_from([1.5, 1.6, 1.7, 1.8, 1.9, 2.1, 2.3]), min_size=count, max_size=count))
    if kind == "all_units":
        prices = sorted(prices, reverse=True)
        prices = [p for p in prices if p <= 2.0] or [1.9]
        starts = starts[: len(prices)]
    need = draw(st.integers(1, 120)) / 2
    o1_max = draw(st.sampled_from([15, 40, 100]))
    return kind, list(zip(starts, prices, strict=True)), need, o1_max


@given(tiered_cases())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_tiers_against_brute_force(tmp_path_factory, case):
    """Drawn tiers on o1 (against o2 at 1.95 up to 100 chips): the plan's cost is the best
    of every tier choice, each solved as its own small LP (an independent method)."""
    kind, breaks, need, o1_max = case
    folder = folder_for(tmp_path_factory.mktemp("t"), [tier(kind, s, p) for s, p in breaks], demand=need * 100)
    offers = (folder / "offers.csv").read_text().replace("o1,aws,r1,a,2.0,100", f"o1,aws,r1,a,2.0,{o1_max}")
    (folder / "offers.csv").write_text(offers)
    plan = optimizer.solve(optimizer.load(folder), payback=False)
    expected = brute_force(need, [(2.0, breaks, o1_max, kind), (1.95, [], 100, "all_units")])
    assert plan.totals["total_cost_usd"] == pytest.approx(expected, rel=1e-7)
