"""``--solver`` (a solver PuLP drives, through the model written as MPS) and ``--write-model``.

Hand case: one quarter (2190 h), demand 1000 tokens/s, 100 tokens/s per chip on either
offer, so 10 chips. ``cheap`` ($2/chip-h) sells at most 4 chips (400 tokens/s); ``dear``
($3/chip-h) serves the other 600 tokens/s with 6 chips, far below the unmet-demand penalty
(788.4 USD per token/s against 3 x 2190 / 100 = 65.7). Optimal cost
(4 x 2 + 6 x 3) x 2190 = 56,940 USD; the optimum is unique (every other split moves volume
from ``cheap`` to ``dear`` at 21.9 USD per token/s more).

With ``--integer`` and ``dear`` sold in instances of 4 chips, its 6 chips round up to 8
(two instances), which serve 800 tokens/s, so ``cheap`` serves only 200 with 2 chips:
(2 x 2 + 8 x 3) x 2190 = 61,320 USD. One instance would leave 200 tokens/s unmet at
788.4 USD each; three would cost 12 x 3 x 2190 = 78,840 alone.
"""

from __future__ import annotations

import json
import os
import stat

import highspy
import numpy as np
import pandas as pd
import pulp
import pytest
from conftest import offer, workload, write_folder
from typer.testing import CliRunner

import optimizer
from optimizer import cli
from optimizer.errors import OptionError
from optimizer.solver import external as external_solver
from optimizer.solver.highs import new_highs

COST = 56_940.0
INTEGER_COST = 61_320.0
HAND = dict(
    accelerators=[{"accelerator": "a", "vendor": "v"}],
    offers=[offer("cheap", "p1", "r1", "a", 2.0, 4), offer("dear", "p2", "r2", "a", 3.0, 100, chips_per_instance=4)],
    performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100}],
    workloads=[workload("w", "2026Q1", 1000)],
    latency=[{"geography": "g", "region": "r1", "rtt_ms": 10}, {"geography": "g", "region": "r2", "rtt_ms": 10}],
)
CBC = "PULP_CBC_CMD"  # bundled with PuLP 3.x; PuLP 4 has no bundled CBC
runner = CliRunner()


@pytest.fixture
def folder(tmp_path):
    return write_folder(tmp_path / "data", **HAND)


def _cbc_or_skip() -> None:
    if CBC not in external_solver.available():
        pytest.skip(f"PuLP {pulp.__version__} has no bundled CBC ({CBC}): PuLP 4 leaves CBC out")


def _same_plan(plan, reference) -> None:
    for table in ("allocation", "purchases"):
        pd.testing.assert_frame_equal(getattr(plan, table), getattr(reference, table), check_exact=False, rtol=1e-9)


@pytest.mark.parametrize("solver", ["HiGHS", CBC])
def test_lp_through_pulp_gives_the_hand_cost_the_same_plan_and_a_certificate(folder, solver):
    if solver == CBC:
        _cbc_or_skip()
    inputs = optimizer.load(folder)
    plan = optimizer.solve(inputs, solver=solver)
    assert plan.totals["total_cost_usd"] == pytest.approx(COST, rel=1e-9)
    _same_plan(plan, optimizer.solve(inputs))
    assert plan.solution.solver == solver and plan.solution.highs is None
    assert plan.certificate is not None and plan.certificate.certified, plan.notes
    assert plan.certificate.dual_objective_usd == pytest.approx(COST, rel=1e-9)
    assert plan.notes == []


@pytest.mark.parametrize("solver", ["HiGHS", CBC])
def test_mip_through_pulp_is_verified_and_said_not_certified(folder, solver):
    if solver == CBC:
        _cbc_or_skip()
    plan = optimizer.solve(optimizer.load(folder), integer=True, solver=solver)
    assert plan.totals["total_cost_usd"] == pytest.approx(INTEGER_COST, rel=1e-9)
    assert plan.purchases.set_index("offer")["chips"].to_dict() == pytest.approx({"cheap": 2, "dear": 8})
    assert plan.certificate is None
    assert any(note.startswith("not certified: a MIP has no duals") for note in plan.notes)


def test_the_time_limit_reaches_the_solver(folder, monkeypatch):
    given = []
    real = external_solver._instance
    monkeypatch.setattr(
        external_solver, "_instance", lambda solver, **options: given.append(options) or real(solver, **options)
    )
    optimizer.solve(optimizer.load(folder), time_limit=30, solver="HiGHS")
    limits = [options["timeLimit"] for options in given if "timeLimit" in options]
    assert len(limits) == 1 and 0 < limits[0] <= 30  # what is left of the budget


def test_warm_re_solves_refuse_a_plan_from_another_solver(folder):
    from optimizer.analysis.negotiation import leverage

    inputs = optimizer.load(folder)
    with pytest.raises(OptionError, match="need the plan's HiGHS model"):
        leverage(inputs, optimizer.solve(inputs, solver="HiGHS"))


def test_cli_solver_and_write_model_mps(folder, tmp_path):
    out, model = tmp_path / "out", tmp_path / "audit" / "model.mps"
    result = runner.invoke(
        cli.app,
        [
            "plan",
            "--data",
            str(folder),
            "--out",
            str(out),
            "--solver",
            "highs",
            "--write-model",
            str(model),
            "--time-limit",
            "60",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "HiGHS (through PuLP)" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["total_cost_usd"] == pytest.approx(COST, rel=1e-9)
    assert summary["solver"] == "HiGHS" and summary["certificate"]["certified"] and summary["notes"] == []
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["solver"] == "highs" and manifest["result"]["certified"] is True
    # The audit file's optimum is the plan's cost, read back by PuLP and by HiGHS.
    names, prob = pulp.LpProblem.fromMPS(str(model))
    assert any(name.startswith("x") for name in names)  # the model's own column names
    prob.solve(pulp.getSolver("HiGHS", msg=False))
    assert pulp.value(prob.objective) == pytest.approx(COST, rel=1e-9)
    assert _highs_optimum(model) == pytest.approx(COST, rel=1e-9)
    assert not list(model.parent.glob(".writing-*"))
    assert stat.S_IMODE(model.stat().st_mode) == stat.S_IMODE((out / "summary.json").stat().st_mode)


def test_cli_write_model_lp_integer(folder, tmp_path):
    model = tmp_path / "model.LP"
    result = runner.invoke(
        cli.app,
        ["plan", "--data", str(folder), "--out", str(tmp_path / "out"), "--integer", "--write-model", str(model)],
    )
    assert result.exit_code == 0, result.output
    assert model.read_text().lstrip().lower().startswith(("\\", "min"))  # CPLEX LP format
    assert _highs_optimum(model) == pytest.approx(INTEGER_COST, rel=1e-9)


def test_cli_mip_from_another_solver_says_it_is_not_certified(folder, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(
        cli.app, ["plan", "--data", str(folder), "--out", str(out), "--integer", "--solver", "HiGHS"]
    )
    assert result.exit_code == 0, result.output
    assert "not certified: a MIP has no duals" in " ".join(result.output.split())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["certificate"] is None and summary["notes"][0].startswith("not certified")
    assert json.loads((out / "manifest.json").read_text())["result"]["certified"] is None


def test_python_api_writes_the_model(folder, tmp_path):
    optimizer.write_model(optimizer.load(folder), tmp_path / "model.mps")
    assert _highs_optimum(tmp_path / "model.mps") == pytest.approx(COST, rel=1e-9)


def test_unknown_or_unavailable_solver_lists_the_available_ones(folder, tmp_path):
    for name in ("no-such-solver", "GLPK_CMD"):
        if name == "GLPK_CMD" and "GLPK_CMD" in external_solver.available():
            continue
        result = runner.invoke(
            cli.app, ["plan", "--data", str(folder), "--out", str(tmp_path / "out"), "--solver", name]
        )
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert f"--solver {name}" in text and "Available here:" in text and "HiGHS" in text
        assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["XPRESS", "xpress_cmd"])
def test_xpress_never_runs_a_script_named_optimizer(folder, tmp_path, monkeypatch, name):
    """PuLP runs Xpress as ``optimizer`` from PATH: a script there (this tool's command, a shim) is refused."""
    bin_dir, ran = tmp_path / "bin", tmp_path / "ran"
    bin_dir.mkdir()
    fake = bin_dir / "optimizer"
    fake.write_text(f"#!/bin/sh\ntouch {ran}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(OptionError, match="not FICO Xpress"):
        external_solver.resolve(name)
    assert "XPRESS" not in external_solver.available()
    result = runner.invoke(cli.app, ["plan", "--data", str(folder), "--out", str(tmp_path / "out"), "--solver", name])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "XPRESS_PY" in " ".join(result.output.split())
    assert not ran.exists()


def test_write_model_refuses_a_bad_extension_and_the_input_folder(folder, tmp_path):
    for target, message in (
        (tmp_path / "model.txt", "written as .mps or .lp"),
        (tmp_path / "model", "written as .mps or .lp"),
        (folder / "model.mps", "inside the input folder"),
    ):
        result = runner.invoke(
            cli.app, ["plan", "--data", str(folder), "--out", str(tmp_path / "out"), "--write-model", str(target)]
        )
        assert result.exit_code == 2, result.output
        assert message in " ".join(result.output.split()) and "Traceback" not in result.output
        assert not target.exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{name}.csv" for name in HAND] + ["policy.yaml"])


def test_a_ranged_row_and_an_objective_constant_survive_the_round_trip():
    """min x0 + 2 x1 + 5 over r0: 2 <= x0 + x1 <= 3 (ranged), r1: x1 >= 0.25, 0 <= x0 <= 1.5, x1 >= 0.

    Optimum x0 = 1.5, x1 = 0.5, cost 1.5 + 1 + 5 = 7.5; duals r0 = 2 (at its lower side), r1 = 0.
    """
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 2, 2
    lp.col_cost_, lp.offset_ = np.array([1.0, 2.0]), 5.0
    lp.col_lower_, lp.col_upper_ = np.zeros(2), np.array([1.5, highspy.kHighsInf])
    lp.row_lower_, lp.row_upper_ = np.array([2.0, 0.25]), np.array([3.0, highspy.kHighsInf])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array([0, 2, 3], dtype=np.int32)
    lp.a_matrix_.index_ = np.array([0, 1, 1], dtype=np.int32)
    lp.a_matrix_.value_ = np.array([1.0, 1.0, 1.0])
    found = external_solver.solve(lp, external_solver.resolve("HiGHS"), time_limit=10, scale=10.0)
    assert found.objective == pytest.approx(7.5, rel=1e-12)
    assert found.values == pytest.approx([1.5, 0.5])
    assert found.row_dual == pytest.approx([2.0, 0.0])
    assert found.certificate.certified and found.uncertified is None


def _highs_optimum(path) -> float:
    highs = new_highs()
    assert highs.readModel(str(path)) == highspy.HighsStatus.kOk
    highs.run()
    assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(highs.getInfo().objective_function_value)
