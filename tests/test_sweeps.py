"""Sweeps: grids, seeded Monte Carlo with a closed-form check, same results on every executor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_scenarios import base  # noqa: F401  (fixture)

from optimizer.scenarios.sweeps import jobs_of, read_sweep, run_sweep

C0 = 43_800.0  # one quarter of 1000 tok/s on o1 alone: 10 chips x 2 USD x 2190 h (test_planner)


def write(tmp_path, text):
    path = tmp_path / "sweep.yaml"
    path.write_text(text, encoding="utf-8")
    return read_sweep(path)


def single_offer_base(tmp_path):
    from conftest import offer, workload, write_folder

    return write_folder(
        tmp_path / "single",
        accelerators=[{"accelerator": "a", "vendor": "nvidia"}],
        performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100}],
        latency=[{"geography": "g", "region": "r1", "rtt_ms": 50}],
        offers=[offer("o1", "aws", "r1", "a", 2.0, 1_000_000)],
        workloads=[workload("w", "2026Q1", 1000)],
    )


def base_scenario(tmp_path, folder):
    path = tmp_path / "b.yaml"
    path.write_text(f"name: b\nbase: {folder}\nchanges: []\n")
    return path.name


def test_grid_points_are_hand_computable(tmp_path):
    """Price of o1 from -50% to +50% in 25% steps: cost = 43,800 x (1 + pct/100)."""
    folder = single_offer_base(tmp_path)
    spec, base_ = write(
        tmp_path,
        f"name: g\nscenario: {base_scenario(tmp_path, folder)}\ngrid:\n"
        "  - table: offers\n    column: usd_per_chip_hour\n"
        "    change_pct: {from: -50, to: 50, step: 25}\n",
    )
    points, _ = run_sweep(spec, base_, workers=1)
    pct = points["offers.usd_per_chip_hour change_pct"].to_numpy()
    assert pct.tolist() == [-50, -25, 0, 25, 50]
    assert points["total_cost_usd"].to_numpy() == pytest.approx(C0 * (1 + pct / 100))


def test_monte_carlo_matches_the_closed_form(tmp_path):
    """Demand x U(0.5, 1.5) on a single offer: cost = 43,800 x factor exactly, so the cost's
    percentiles are 43,800 x the uniform's quantiles (0.5 + p), up to sampling error
    (200 draws: the 5th and 95th percentiles are within +-0.04 of 0.55 and 1.45)."""
    folder = single_offer_base(tmp_path)
    spec, base_ = write(
        tmp_path,
        f"name: mc\nscenario: {base_scenario(tmp_path, folder)}\nsamples: 200\nseed: 7\n"
        "monte_carlo:\n  - table: workloads\n    column: tokens_per_s\n"
        "    factor: {distribution: uniform, low: 0.5, high: 1.5}\n",
    )
    points, summary = run_sweep(spec, base_, workers=1)
    factor = points["workloads.tokens_per_s factor"].to_numpy()
    assert points["total_cost_usd"].to_numpy() == pytest.approx(C0 * factor)
    cost = summary.set_index("metric").loc["total_cost_usd"]
    for q in (5, 25, 50, 75, 95):
        assert cost[f"p{q}"] == pytest.approx(C0 * np.percentile(factor, q))
        assert cost[f"p{q}"] / C0 == pytest.approx(0.5 + q / 100, abs=0.04)
    assert summary.set_index("metric").loc["share_provider_aws", "used_fraction"] == 1.0


def test_same_seed_same_numbers(tmp_path, base):  # noqa: F811
    text = (
        f"name: mc\nscenario: {base_scenario(tmp_path, base)}\nsamples: 6\nseed: 11\nmonte_carlo:\n"
        "  - table: offers\n    where: {vendor: nvidia}\n    column: usd_per_chip_hour\n"
        "    factor: {distribution: lognormal, mu: 0.0, sigma: 0.3}\n"
        "  - table: workloads\n    column: tokens_per_s\n    from: 2026Q2\n"
        "    factor: {distribution: triangular, low: 0.8, mode: 1.0, high: 1.5}\n"
    )
    spec, base_ = write(tmp_path, text)
    one, _ = run_sweep(spec, base_, workers=1)
    two, _ = run_sweep(spec, base_, workers=2)
    assert one.equals(two)
    other, _ = run_sweep(spec.model_copy(update={"seed": 12}), base_, workers=1)
    assert not one["total_cost_usd"].equals(other["total_cost_usd"])


def test_dask_cluster_gives_the_same_results(tmp_path, base):  # noqa: F811
    distributed = pytest.importorskip("distributed")
    text = (
        f"name: g\nscenario: {base_scenario(tmp_path, base)}\ngrid:\n"
        "  - table: offers\n    where: {offer: o2}\n    column: usd_per_chip_hour\n"
        "    change_pct: {from: -20, to: 20, step: 20}\n"
        "  - table: workloads\n    column: tokens_per_s\n    change_pct: {from: 0, to: 50, step: 50}\n"
    )
    spec, base_ = write(tmp_path, text)
    local, _ = run_sweep(spec, base_, workers=1)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote, _ = run_sweep(spec, base_, client=client)
    assert len(local) == 6
    assert local.equals(remote)


@pytest.mark.parametrize(
    "text,message",
    [
        ("name: x\n", "either grid or monte_carlo"),
        (
            "name: x\ngrid:\n  - table: offers\n    column: max_chips\n"
            "    factor: {distribution: uniform, low: 0, high: 1}\n",
            "give change_pct",
        ),
        (
            "name: x\nmonte_carlo:\n  - table: offers\n    column: max_chips\n"
            "    factor: {distribution: poisson, lam: 1}\n",
            "poisson",
        ),
    ],
)
def test_invalid_sweep_files(tmp_path, text, message):
    import optimizer

    with pytest.raises(optimizer.InputError) as caught:
        write(tmp_path, text)
    assert message in str(caught.value)


def budget_base(tmp_path):
    """One offer o1 (2 USD/chip-h, 100 tok/s per chip) holding at least 10 chips, a budget of
    50,000 USD a quarter, 1000 tok/s for one quarter."""
    from conftest import offer, workload, write_folder

    return write_folder(
        tmp_path / "budget",
        policy="budget_usd_per_quarter: 50000\n",
        accelerators=[{"accelerator": "a", "vendor": "nvidia"}],
        performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100}],
        latency=[{"geography": "g", "region": "r1", "rtt_ms": 50}],
        offers=[offer("o1", "aws", "r1", "a", 2.0, 1_000, min_chips=10)],
        workloads=[workload("w", "2026Q1", 1000)],
    )


MIN_CHIPS_GRID = "grid:\n  - table: offers\n    column: min_chips\n    change_pct: {from: 0, to: 50, step: 25}\n"


def test_points_that_cannot_solve_are_blank_and_counted(tmp_path):
    """min_chips 10, 12.5, 15: holding them costs 43,800, 54,750 and 65,700 USD (chips x 2 x
    2190 h); only the first fits the 50,000 budget, so the other two have no plan at all.
    They keep their parameters and a reason, with blank figures (never 0), and the summary
    counts 1 run and 2 failures: its percentiles are the first point's 43,800."""
    spec, base_ = write(
        tmp_path, f"name: g\nscenario: {base_scenario(tmp_path, budget_base(tmp_path))}\n" + MIN_CHIPS_GRID
    )
    points, summary = run_sweep(spec, base_, workers=1)
    assert points["offers.min_chips change_pct"].tolist() == [0, 25, 50]
    assert points["total_cost_usd"].iloc[0] == pytest.approx(43_800)
    assert points["share_provider_aws"].iloc[0] == 1.0
    assert points["error"].iloc[0] is None
    for row in (1, 2):
        assert "hard rules cannot all hold" in points["error"].iloc[row]
        assert points[["total_cost_usd", "cost_per_mtok_usd", "share_provider_aws"]].iloc[row].isna().all()
    cost = summary.set_index("metric").loc["total_cost_usd"]
    assert (cost["runs"], cost["failed"]) == (1, 2)
    assert cost["p5"] == cost["p95"] == pytest.approx(43_800)


def test_sweep_with_failed_points_exits_6_unless_allowed(tmp_path):
    """The same grid from the command line: outputs written either way, blank cells in the
    CSV, exit 6 and the reasons on stderr; --allow-failed-draws exits 0."""
    import pandas as pd
    from typer.testing import CliRunner

    from optimizer import cli

    path = tmp_path / "sweep.yaml"
    path.write_text(f"name: g\nscenario: {base_scenario(tmp_path, budget_base(tmp_path))}\n" + MIN_CHIPS_GRID)
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(cli.app, ["sweep", str(path), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 6, result.output
    assert "2 of 3 points failed" in result.output and "Traceback" not in result.output
    text = (out / "points.csv").read_text().splitlines()
    header = text[0].split(",")
    cost = header.index("total_cost_usd")
    assert [line.split(",")[cost] for line in text[1:]][1:] == ["", ""]
    summary = pd.read_csv(out / "summary.csv").set_index("metric")
    assert summary.loc["total_cost_usd", "failed"] == 2
    allowed = runner.invoke(cli.app, ["sweep", str(path), "--out", str(out), "--workers", "1", "--allow-failed-draws"])
    assert allowed.exit_code == 0, allowed.output


def test_a_sweep_whose_base_does_not_apply_is_bad_input(tmp_path):
    """A selector that matches nothing fails every point the same way: exit 2, not 6."""
    from typer.testing import CliRunner

    from optimizer import cli

    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"name: g\nscenario: {base_scenario(tmp_path, single_offer_base(tmp_path))}\ngrid:\n"
        "  - table: offers\n    where: {offer: nope}\n    column: usd_per_chip_hour\n"
        "    change_pct: {from: 0, to: 10, step: 10}\n"
    )
    result = CliRunner().invoke(cli.app, ["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1"])
    assert result.exit_code == 2, result.output
    assert "nope" in result.output and not (tmp_path / "o").exists()


BUNDLED = Path(__file__).parents[1] / "scenarios" / "sweeps"


def independent_cost(inputs) -> float:
    """The plan's optimum by scipy's own HiGHS with presolve off (the failing draws broke in
    HiGHS's presolve and postsolve), on the same rows and columns."""
    import highspy
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csc_array

    from optimizer.model import builder as lp_model

    model = lp_model.build(inputs.canonical())
    lp = model.lp.highs_lp()
    matrix = csc_array(
        (np.asarray(lp.a_matrix_.value_), np.asarray(lp.a_matrix_.index_), np.asarray(lp.a_matrix_.start_)),
        shape=(lp.num_row_, lp.num_col_),
    )
    integer = [int(kind == highspy.HighsVarType.kInteger) for kind in lp.integrality_]
    result = milp(
        np.asarray(lp.col_cost_),
        integrality=integer,
        constraints=LinearConstraint(matrix, np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)),
        bounds=Bounds(np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)),
        options={"presolve": False, "mip_rel_gap": 1e-12},
    )
    assert result.status == 0, result.message
    return float(result.fun) + model.objective_constant


@pytest.mark.parametrize("draw", [56, 133])
def test_the_bundled_draws_that_failed_solve_to_the_independent_optimum(draw):
    """Draws 56 (Nvidia x0.971, Google x1.113, demand x0.825) and 133 (x0.864, x1.009,
    x1.099) of the bundled Monte Carlo failed: "Solve error", and a $392.6B "optimum"
    leaving all demand unmet. Their $10B spend-commitment row, in dollars, could not meet
    HiGHS's absolute feasibility tolerance after presolve (model.per_amount)."""
    from optimizer.scenarios.comparison import evaluate
    from optimizer.scenarios.overlays import apply

    spec, base_ = read_sweep(BUNDLED / "price-and-demand-risk.yaml")
    jobs, _ = jobs_of(spec, base_)
    row = evaluate(jobs[draw])
    assert "error" not in row, row.get("error")
    objective = row["total_cost_usd"] if pd.isna(row["total_cost_pv_usd"]) else row["total_cost_pv_usd"]
    assert objective == pytest.approx(independent_cost(apply(jobs[draw].scenario)), rel=1e-9)


@pytest.mark.once
@pytest.mark.parametrize("name", ["maia-price.yaml", "price-and-demand-risk.yaml"])
def test_every_point_of_the_bundled_sweeps_solves(name):
    """Property: every grid point and every Monte Carlo draw of the bundled sweeps solves
    (211 plans: 5.3 CPU-minutes, 9 minutes on two busy cores)."""
    spec, base_ = read_sweep(BUNDLED / name)
    points, summary = run_sweep(spec, base_, workers=2)
    assert points["error"].isna().all(), points.loc[points["error"].notna(), ["scenario", "error"]]
    assert (summary["failed"] == 0).all() and (summary["runs"] == len(points)).all()
