"""The two-stage hedge on hand-solved newsvendor cases: commit now or buy on demand later.

One quarter (2027Q1), one workload served at 1,000 tokens/s per chip, so demand D
thousand tokens/s needs D chips. Two offers of the same chip: ``cm``, a 1-year commitment
at 1.0 USD/chip-hour (only its quarter inside the horizon counted: commitment_cost
in_horizon), and ``od``, on demand at 1.6. H = 2,190 hours a quarter. Committing c chips
and meeting demand D costs H x (c + 1.6 x max(D - c, 0)) (chips committed and unused are
paid).
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import pandas as pd
import pytest
from conftest import offer, workload, write_folder
from scipy import stats

from optimizer.errors import InputError
from optimizer.hedge.hedge import hedge
from optimizer.scenarios.overlays import Delay, Scenario, apply
from optimizer.scenarios.sweeps import draws_of, read_sweep

H = 2190.0
DEMAND = "workloads.tokens_per_s factor"
DELIVERY = "delivery[offer=cm] capacity_factor"


def newsvendor(tmp_path: Path, sweep_body: str) -> tuple:
    folder = write_folder(
        tmp_path / "case",
        policy="commitment_cost: in_horizon\n",
        accelerators=[{"accelerator": "a", "vendor": "v"}],
        offers=[offer("od", "p", "r", "a", 1.6, 1000), offer("cm", "p", "r", "a", 1.0, 1000, term="1yr")],
        performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 1000, "ttft_ms": 100}],
        workloads=[workload("w", "2027Q1", 100_000)],
        latency=[{"geography": "g", "region": "r", "rtt_ms": 10}],
    )
    (tmp_path / "base.yaml").write_text(f"name: base\nbase: {folder.name}\n", encoding="utf-8")
    file = tmp_path / "sweep.yaml"
    file.write_text("name: case\nscenario: base.yaml\n" + sweep_body, encoding="utf-8")
    return read_sweep(file)


DEMAND_SWEEP = """monte_carlo:
  - table: workloads
    column: tokens_per_s
    factor: {distribution: uniform, low: 0.5, high: 1.5}
"""


def figure(result, sample: str, metric: str) -> float:
    rows = result.summary[(result.summary["sample"] == sample) & (result.summary["metric"] == metric)]
    return float(rows["value_usd"].iloc[0])


def commitment(result, plan: str) -> float:
    rows = result.commitments[result.commitments["offer"] == "cm"]
    return float(rows[plan].iloc[0]) if len(rows) else 0.0


def test_the_hedged_commitment_vss_and_evpi_of_a_two_demand_newsvendor(tmp_path):
    """Demand 60 or 140 (factors 0.6, 1.4), each with probability 1/2.

    Expected cost for 60 <= c <= 140: H x (0.5 c + 0.5 (c + 1.6 (140 - c))) = H (112 + 0.2 c),
    rising in c; below 60 it is H (160 - 0.6 c), falling. So the hedge commits c = 60
    (the critical ratio 1 - 1.0/1.6 = 0.375 < 1/2 picks the low demand) at 124 H.
    The deterministic plan (demand 100) commits 100: H x (100 + 164) / 2 = 132 H.
    Hindsight commits exactly the demand: (60 + 140) / 2 = 100 H.
    VSS = 132 H - 124 H = 8 H; EVPI = 124 H - 100 H = 24 H.
    """
    sweep, base = newsvendor(tmp_path, DEMAND_SWEEP)
    result = hedge(sweep, base, inside=pd.DataFrame({DEMAND: [0.6, 1.4]}), outside=pd.DataFrame({DEMAND: []}))
    assert commitment(result, "hedged") == pytest.approx(60)
    assert commitment(result, "deterministic") == pytest.approx(100)
    assert figure(result, "in-sample", "hedged_expected_cost") == pytest.approx(124 * H)
    assert figure(result, "in-sample", "deterministic_expected_cost") == pytest.approx(132 * H)
    assert figure(result, "in-sample", "hindsight_expected_cost") == pytest.approx(100 * H)
    assert figure(result, "in-sample", "value_of_stochastic_solution") == pytest.approx(8 * H)
    assert figure(result, "in-sample", "expected_value_of_perfect_information") == pytest.approx(24 * H)
    draws = result.draws
    # Each draw's cost, solved alone with the hedged commitment fixed: 60 H and 60 + 1.6 x 80 = 188 H.
    assert list(draws["hedged_cost_usd"]) == pytest.approx([60 * H, 188 * H])
    assert list(draws["deterministic_cost_usd"]) == pytest.approx([100 * H, 164 * H])


def test_a_cvar_weight_buys_insurance_against_the_high_demand(tmp_path):
    """CVaR at 50% of two equal draws is the cost of the worse one: for c <= 140 that is
    H (224 - 0.6 c). Weight 1: H (112 + 0.2 c) + H (224 - 0.6 c), falling in c up to 140
    (slope 0.2 - 0.6 < 0), rising beyond: the hedge commits 140, 140 H in both draws."""
    sweep, base = newsvendor(tmp_path, DEMAND_SWEEP)
    result = hedge(
        sweep,
        base,
        cvar_weight=1.0,
        cvar_level=0.5,
        inside=pd.DataFrame({DEMAND: [0.6, 1.4]}),
        outside=pd.DataFrame({DEMAND: []}),
    )
    assert commitment(result, "hedged") == pytest.approx(140)
    assert figure(result, "in-sample", "hedged_expected_cost") == pytest.approx(140 * H)
    assert figure(result, "in-sample", "hedged_cost_cvar50") == pytest.approx(140 * H)
    assert figure(result, "in-sample", "deterministic_cost_cvar50") == pytest.approx(164 * H)


def test_the_out_of_sample_interval_comes_from_the_paired_differences(tmp_path):
    """Fresh draws 0.6, 1.4 and 1.0 (demand 60, 140, 100), the hedge fitted on 0.6 and 1.4
    (c = 60) against the deterministic c = 100: hedged 60, 188, 124 H; deterministic 100,
    164, 100 H; per-draw VSS 40, -24, -24 H, mean -8/3 H: out of sample the hedge fitted
    on two draws loses, and the interval (Student's t, 2 degrees of freedom) says how unsure that is."""
    sweep, base = newsvendor(tmp_path, DEMAND_SWEEP)
    result = hedge(
        sweep, base, inside=pd.DataFrame({DEMAND: [0.6, 1.4]}), outside=pd.DataFrame({DEMAND: [0.6, 1.4, 1.0]})
    )
    differences = [40 * H, -24 * H, -24 * H]
    half = stats.t.ppf(0.975, 2) * statistics.stdev(differences) / math.sqrt(3)
    rows = result.summary[
        (result.summary["sample"] == "out-of-sample") & (result.summary["metric"] == "value_of_stochastic_solution")
    ]
    assert float(rows["value_usd"].iloc[0]) == pytest.approx(-8 / 3 * H)
    assert float(rows["ci95_low_usd"].iloc[0]) == pytest.approx(-8 / 3 * H - half)
    assert float(rows["ci95_high_usd"].iloc[0]) == pytest.approx(-8 / 3 * H + half)
    assert figure(result, "out-of-sample", "expected_value_of_perfect_information") == pytest.approx(
        (0 + 48 + 24) / 3 * H
    )


DELIVERY_SWEEP = """delivery:
  - where: {offer: cm}
    capacity_factor: {distribution: uniform, low: 0.5, high: 1.0}
"""


def test_a_commitment_delivered_short_is_paid_for_what_arrives(tmp_path):
    """Demand 100; the committed offer delivers all (f = 1) or half (f = 0.5) of each signed
    chip, with probability 1/2, and only delivered chips are paid. With c signed, a draw
    costs H (f c + 1.6 max(100 - f c, 0)); expected, for c <= 100: H (160 - 0.45 c), for
    100 <= c <= 200: H (0.5 c + 0.5 (160 - 0.3 c)) = H (80 + 0.35 c). The hedge signs 100:
    100 H and 50 + 80 = 130 H, 115 H expected, as the deterministic plan (which signs 100
    too: VSS 0). Hindsight signs 200 when half arrives: 100 H in both, EVPI 15 H."""
    sweep, base = newsvendor(tmp_path, DELIVERY_SWEEP)
    result = hedge(sweep, base, inside=pd.DataFrame({DELIVERY: [1.0, 0.5]}), outside=pd.DataFrame({DELIVERY: []}))
    assert commitment(result, "hedged") == pytest.approx(100)
    assert list(result.draws["hedged_cost_usd"]) == pytest.approx([100 * H, 130 * H])
    assert figure(result, "in-sample", "value_of_stochastic_solution") == pytest.approx(0, abs=1e-6)
    assert figure(result, "in-sample", "expected_value_of_perfect_information") == pytest.approx(15 * H)


def test_the_same_file_gives_the_same_figures(tmp_path):
    """Draws come from the file's seed (fresh ones from seed + 1): two runs agree exactly."""
    sweep, base = newsvendor(tmp_path, DEMAND_SWEEP)
    first, second = (hedge(sweep, base, samples=6, test_samples=4) for _ in range(2))
    pd.testing.assert_frame_equal(first.summary, second.summary)
    pd.testing.assert_frame_equal(first.draws, second.draws)
    assert len(first.draws) == 10 and set(first.draws["sample"]) == {"in", "out"}


def test_a_delay_empties_each_offers_first_quarters(tmp_path):
    """An offer on sale from 2027Q2 in a 2027Q1-2027Q4 horizon, two quarters late: no chips
    in 2027Q2 and 2027Q3, its own max_chips again in 2027Q4."""
    folder = write_folder(
        tmp_path / "late",
        accelerators=[{"accelerator": "a", "vendor": "v"}],
        offers=[offer("late", "p", "r", "a", 1.0, 500, available_from="2027Q2"), offer("od", "p", "r", "a", 2.0, 500)],
        performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 1000, "ttft_ms": 100}],
        workloads=[workload("w", q, 1000) for q in ("2027Q1", "2027Q2", "2027Q3", "2027Q4")],
        latency=[{"geography": "g", "region": "r", "rtt_ms": 10}],
    )
    scenario = Scenario(name="late", base=folder, changes=[Delay(delay="offers", where={"offer": "late"}, quarters=2)])
    overrides = apply(scenario).offer_quarters.set_index(["offer", "quarter"])
    assert overrides.loc[("late", "2027Q2"), "max_chips"] == 0
    assert overrides.loc[("late", "2027Q3"), "max_chips"] == 0
    assert ("late", "2027Q4") not in overrides.index


def test_delays_are_drawn_with_their_probabilities(tmp_path):
    sweep, _ = newsvendor(
        tmp_path,
        "samples: 4000\ndelivery:\n  - where: {offer: cm}\n"
        "    delay_quarters: {quarters: [0, 2], probabilities: [0.75, 0.25]}\n",
    )
    delays = draws_of(sweep)["delivery[offer=cm] delay_quarters"]
    assert set(delays) == {0.0, 2.0}
    assert (delays == 2).mean() == pytest.approx(0.25, abs=0.03)


def test_bad_delivery_entries_are_named_with_their_line(tmp_path):
    body = "delivery:\n  - where: {offer: cm}\n    delay_quarters: {quarters: [0, 1], probabilities: [0.5, 0.6]}\n"
    with pytest.raises(InputError) as caught:
        newsvendor(tmp_path, body)
    problem = caught.value.problems[0]
    assert "add up to 1.1" in problem.message
    assert problem.line == 5
    with pytest.raises(InputError) as caught:
        newsvendor(
            tmp_path,
            "delivery:\n  - where: {offer: nothing}\n    delay_quarters: {quarters: [1], probabilities: [1]}\n",
        )
    assert "no offers row matches" in caught.value.problems[0].message


def test_the_command_writes_the_hedge_and_its_workbook(tmp_path):
    """End to end on the two-demand case with the fresh draws switched off: the in-sample
    VSS (8 H = 17,520 USD) is printed and every output file is written with a manifest."""
    from typer.testing import CliRunner

    from optimizer import cli

    newsvendor(tmp_path, DEMAND_SWEEP.replace("low: 0.5, high: 1.5", "low: 0.6, high: 0.6"))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli.app, ["hedge", str(tmp_path / "sweep.yaml"), "--samples", "2", "--test-samples", "0", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    for name in ("commitments.csv", "draws.csv", "summary.csv", "hedge.xlsx", "manifest.json"):
        assert (out / name).is_file(), name
    summary = pd.read_csv(out / "summary.csv")
    # Both draws are demand 60: the hedge commits 60 and pays 60 H; the deterministic plan pays 100 H.
    vss = summary[summary["metric"] == "value_of_stochastic_solution"]["value_usd"].iloc[0]
    assert vss == pytest.approx(40 * H)
    assert "value of the stochastic solution" in result.output


def test_a_grid_sweep_is_refused_with_a_reason(tmp_path):
    body = "grid:\n  - table: workloads\n    column: tokens_per_s\n    change_pct: {from: -10, to: 10, step: 10}\n"
    sweep, base = newsvendor(tmp_path, body)
    with pytest.raises(InputError, match="needs monte_carlo or delivery draws"):
        hedge(sweep, base)


def test_a_sweep_solves_each_delay_with_hindsight(tmp_path):
    """In ``optimizer sweep`` a delay is capacity that is not there: one quarter late, the
    commitment offer has no chips in the horizon's only quarter, so demand 100 is bought on
    demand at 1.6: 160 H (against 100 H when it arrives)."""
    from optimizer.scenarios.sweeps import run_sweep

    body = "samples: 3\ndelivery:\n  - where: {offer: cm}\n    delay_quarters: {quarters: [1], probabilities: [1]}\n"
    sweep, base = newsvendor(tmp_path, body)
    points, _ = run_sweep(sweep, base, workers=1)
    assert list(points["delivery[offer=cm] delay_quarters"]) == [1, 1, 1]
    assert list(points["total_cost_usd"]) == pytest.approx([160 * H] * 3)


def test_on_the_bundled_data_draws_equal_to_the_base_hedge_to_the_plan():
    """Two draws with every factor 1 and no delay are the base twice: the hedge's expected
    cost is then the plan's own optimum (``optimizer.solve``'s present value, solved
    independently of the extensive form), and VSS and EVPI are 0 within the MIP gap."""
    import optimizer
    from optimizer.tolerances import mip_gap_usd

    sweep, base = read_sweep(Path(__file__).parent.parent / "scenarios" / "sweeps" / "open-questions.yaml")
    columns = draws_of(sweep, samples=1).columns
    unchanged = pd.DataFrame([[0.0 if "delay" in c else 1.0 for c in columns]] * 2, columns=columns)
    result = hedge(sweep, base, inside=unchanged, outside=unchanged.iloc[:0])
    plan = optimizer.solve(optimizer.load(optimizer.bundled_data()))
    optimum = plan.totals["total_cost_pv_usd"]
    gap = mip_gap_usd(abs(optimum))
    assert figure(result, "in-sample", "hedged_expected_cost") == pytest.approx(optimum, abs=2 * gap)
    assert abs(figure(result, "in-sample", "value_of_stochastic_solution")) <= 2 * gap
    assert abs(figure(result, "in-sample", "expected_value_of_perfect_information")) <= 2 * gap
    # Margin: the present value of all demand's revenue less the cost, the plan's own gross margin.
    margin = result.draws["hedged_margin_usd"].to_numpy()
    assert margin == pytest.approx([plan.totals["gross_margin_pv_usd"]] * 2, abs=2 * gap)


def test_the_finance_report_takes_a_hedge_run_checked_against_its_manifest(tmp_path):
    """``optimizer report --hedge DIR`` adds the Hedge sheet (with its cost-distribution
    chart) and an HTML section quoting the run's own figures; a file edited after the run is
    refused, named, before anything is solved."""
    import openpyxl
    from typer.testing import CliRunner

    from optimizer import cli

    newsvendor(tmp_path, DEMAND_SWEEP)
    hedged, report = tmp_path / "hedged", tmp_path / "report"
    run = CliRunner().invoke
    command = ["hedge", str(tmp_path / "sweep.yaml"), "--samples", "3", "--test-samples", "3", "--out", str(hedged)]
    assert run(cli.app, command).exit_code == 0
    command = ["report", "--data", str(tmp_path / "case"), "--no-room", "--hedge", str(hedged), "--out", str(report)]
    result = run(cli.app, command)
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(report / "report.xlsx")
    assert "Hedge" in book.sheetnames and len(book["Hedge"]._charts) == 1
    vss = (
        pd.read_csv(hedged / "summary.csv")
        .set_index(["sample", "metric"])
        .loc[("out-of-sample", "value_of_stochastic_solution"), "value_usd"]
    )
    sheet = book["Hedge"]
    quoted = [row[2].value for row in sheet.iter_rows(min_row=2) if row[1].value == "value_of_stochastic_solution"]
    assert vss in quoted
    assert "the hedged plan</h2>" in (report / "report.html").read_text(encoding="utf-8")
    with (hedged / "summary.csv").open("a", encoding="utf-8") as handle:
        handle.write("in-sample,made_up,1,,,1,0\n")
    result = run(cli.app, command)
    assert result.exit_code == 2
    assert "summary.csv" in result.output and "changed since the run" in result.output
