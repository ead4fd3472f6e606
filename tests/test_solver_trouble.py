"""Solver trouble: time limits, numerically wide inputs, a failing solver.

Each ends in a right plan or in a clear message and exit code 3, never in a wrong plan.
The wide-range cases are checked against a closed form: with no share rules and every
offer able to serve a single workload per quarter, the optimum buys offers in merit order
of cost per token/s (price x hours / tokens per chip), up to each offer's capacity, and
leaves unserved whatever costs more per token/s than the unmet-demand penalty.
"""

from __future__ import annotations

import highspy
import numpy as np
import pytest
from conftest import offer, workload, write_folder
from typer.testing import CliRunner

import optimizer
from optimizer import cli
from optimizer.io.loading import bundled_data

runner = CliRunner()
HOURS = 2190


def merit_order_cost(offers: list[dict], tokens_per_chip: dict[str, float], demand: float, penalty: float) -> float:
    """Closed-form optimum of one quarter: cheapest cost per token/s first."""
    options = sorted(
        (
            o["usd_per_chip_hour"] * HOURS / tokens_per_chip[o["accelerator"]],
            o["max_chips"] * tokens_per_chip[o["accelerator"]],
        )
        for o in offers
    )
    cost, left = 0.0, demand
    for unit_cost, capacity in options:
        if unit_cost >= penalty or left <= 0:
            break
        served = min(left, capacity)
        cost, left = cost + served * unit_cost, left - served
    return cost + left * penalty


def wide_case(seed: int) -> tuple[dict, float]:
    """Prices log-uniform over 1e-4 .. 1e6 USD/chip-hour, throughputs 1 .. 1e4 tokens/s/chip."""
    rng = np.random.default_rng(seed)
    count = 8
    accelerators = [{"accelerator": f"a{i}", "vendor": f"v{i % 3}"} for i in range(count)]
    tokens = {f"a{i}": float(10 ** rng.uniform(0, 4)) for i in range(count)}
    prices = 10 ** rng.uniform(-4, 6, count)
    prices[0], prices[1] = 1e-4, 1e6  # both ends of the range, always
    offers = [
        offer(f"o{i}", f"p{i % 4}", f"r{i % 4}", f"a{i}", float(prices[i]), float(10 ** rng.uniform(0, 3)))
        for i in range(count)
    ]
    performance = [
        {"model": "m", "accelerator": a, "tokens_per_s_per_chip": t, "ttft_ms": 100} for a, t in tokens.items()
    ]
    latency = [{"geography": "g", "region": f"r{i}", "rtt_ms": 10} for i in range(4)]
    capacity = sum(o["max_chips"] * tokens[o["accelerator"]] for o in offers)
    demand = float(capacity * rng.uniform(0.3, 1.2))
    tables = dict(
        accelerators=accelerators,
        offers=offers,
        performance=performance,
        latency=latency,
        workloads=[workload("w", "2026Q1", demand)],
    )
    penalty = 100 * HOURS * 3600 / 1e6  # the default unmet penalty, per token/s per quarter
    return tables, merit_order_cost(offers, tokens, demand, penalty)


@pytest.mark.parametrize("seed", range(8))
def test_prices_spanning_ten_orders_of_magnitude_solve_right(tmp_path, seed):
    tables, expected = wide_case(seed)
    plan = optimizer.solve(optimizer.load(write_folder(tmp_path / "case", **tables)))
    assert plan.certificate.certified
    assert plan.totals["total_cost_usd"] == pytest.approx(expected, rel=1e-9)


def test_failing_solver_gives_a_clear_message_and_exit_3(tmp_path, monkeypatch):
    def crash(self):
        raise RuntimeError("simulated HiGHS crash")

    monkeypatch.setattr(highspy.Highs, "run", crash)
    tables, _ = wide_case(0)
    folder = write_folder(tmp_path / "case", **tables)
    result = runner.invoke(cli.app, ["plan", "--data", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 3, result.output
    assert "HiGHS failed while solving (RuntimeError: simulated HiGHS crash)" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_solver_that_returns_without_an_optimum_is_not_trusted(tmp_path, monkeypatch):
    monkeypatch.setattr(highspy.Highs, "run", lambda self: None)  # HiGHS never runs
    tables, _ = wide_case(1)
    folder = write_folder(tmp_path / "case", **tables)
    result = runner.invoke(cli.app, ["plan", "--data", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 3, result.output
    assert "HiGHS did not prove an optimum" in result.output
    assert not (tmp_path / "out").exists()


def test_time_limit_on_the_bundled_mip_is_not_reported_as_optimal(tmp_path):
    result = runner.invoke(
        cli.app, ["plan", "--data", str(bundled_data()), "--out", str(tmp_path / "out"), "--time-limit", "0.001"]
    )
    assert result.exit_code == 3, result.output
    assert "time limit" in result.output
    assert not (tmp_path / "out").exists()


def test_time_limit_is_the_budget_of_the_whole_leverage_command(tmp_path):
    """The bundled plan solves well within 5 s, its leverage report (hundreds of re-solves)
    does not: the budget runs out in the re-solves, and nothing is written."""
    out = tmp_path / "out"
    result = runner.invoke(cli.app, ["leverage", "--out", str(out), "--time-limit", "5"])
    assert result.exit_code == 3, result.output
    assert "time limit of 5 s ran out" in result.output
    assert not out.exists()


def test_each_run_gets_what_is_left_on_top_of_highs_own_clock():
    """HiGHS compares time_limit with a run clock that adds up over every run of one
    instance, so after 100 s of warm re-solves a budget of 10 s must read 100 + 10."""
    from optimizer import deadline

    class Recorder:
        options: dict = {}

        def getRunTime(self):  # noqa: N802 (HiGHS's name)
            return 100.0

        def setOptionValue(self, name, value):  # noqa: N802
            self.options[name] = value

    highs = Recorder()
    with deadline.budget(10.0):
        deadline.limit(highs)
    assert 109.0 < highs.options["time_limit"] <= 110.0
    with deadline.budget(0.0), pytest.raises(optimizer.errors.SolveError, match="time limit of 0 s ran out"):
        deadline.limit(highs)


@pytest.mark.parametrize("integer", [False, True])
def test_presolve_point_outside_tolerance_is_solved_again(tmp_path, integer):
    """A drawn case where HiGHS's presolve returned an "optimal" point breaking a spend cap
    by 7.3e-7 USD/h (o1 at a 0.6 share of tiny spend against a 0.4 cap), cheaper than the
    optimum by 0.0146 USD; the verifier refused it. Solved again without presolve, the plan is
    the true optimum, worked out by hand: every offer is capped at 0.4 of each quarter's
    spend, and the caps of a quarter sum to at most 0.8 < 1, so nothing can be bought. All
    18.9 tok/s go unserved at P = 100 USD/Mtok x 730 h x 3600 / 1e6 = 262.8 USD each, and the
    1,000 USD spend commitment is paid as shortfall: 1000 + 18.9 x 262.8 = 5,966.92 USD."""

    def perf(model, accelerator, tokens, ttft):
        return {
            "model": model,
            "accelerator": accelerator,
            "tokens_per_s_per_chip": tokens,
            "ttft_ms": ttft,
            "port_usd": 0,
            "port_quarters": 1,
        }

    def demand(name, quarter, tokens, model):
        return workload(name, quarter, tokens, model=model, geography="g0", slo=0)

    folder = write_folder(
        tmp_path / "case",
        policy="share_basis: spend\nmax_share: {offer: 0.4}\nunmet_penalty_usd_per_mtok: 100\nhours_per_quarter: 730\n",
        accelerators=[
            {"accelerator": "a0", "vendor": "nvidia"},
            {"accelerator": "a1", "vendor": "amd"},
            {"accelerator": "a2", "vendor": "nvidia"},
        ],
        offers=[
            offer("o0", "p1", "p1-r0", "a2", 1.88, 9.3),
            offer("o1", "p1", "p1-r0", "a0", 0.79, 1.2, available_from="2026Q2"),
        ],
        offer_quarters=[{"offer": "o0", "quarter": "2025Q4", "max_chips": 0, "min_chips": 0}],
        performance=[
            perf("m0", "a0", 20, 0),
            perf("m0", "a1", 20, 0),
            perf("m0", "a2", 20, 22.8),
            perf("m1", "a0", 20, 0),
            perf("m1", "a1", 1298, 0),
        ],
        workloads=[
            demand("w0", "2026Q1", 0, "m1"),
            demand("w0", "2026Q2", 0.1, "m1"),
            demand("w0", "2026Q3", 18.8, "m1"),
            demand("w1", "2026Q1", 0, "m0"),
            demand("w2", "2026Q1", 0, "m0"),
        ],
        latency=[{"geography": "g0", "region": "p1-r0", "rtt_ms": 0}],
        spend_commitments=[{"provider": "p1", "first": "2026Q1", "last": "2026Q3", "usd": 1000}],
    )
    plan = optimizer.solve(optimizer.load(folder), integer=integer, payback=False)
    assert plan.totals["total_cost_usd"] == pytest.approx(1000 + 18.9 * 262.8, abs=1e-6)
    assert plan.totals["unmet_tokens_per_s"] == pytest.approx(18.9, abs=1e-9)
