"""The ``optimizer`` command end to end: outputs, exit codes, messages, atomic writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import offer, workload, write_folder
from typer.testing import CliRunner

from optimizer import cli
from optimizer.errors import VerificationError

runner = CliRunner()

TABLES = dict(
    accelerators=[{"accelerator": "a", "vendor": "nvidia"}, {"accelerator": "b", "vendor": "google"}],
    performance=[
        {"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100},
        {"model": "m", "accelerator": "b", "tokens_per_s_per_chip": 200, "ttft_ms": 100},
    ],
    latency=[{"geography": "g", "region": "r1", "rtt_ms": 50}, {"geography": "g", "region": "r2", "rtt_ms": 50}],
    offers=[offer("o1", "aws", "r1", "a", 2.0, 10), offer("o2", "gcp", "r2", "b", 3.0, 10)],
    workloads=[workload("w", "2026Q1", 1000)],
)


@pytest.fixture
def folder(tmp_path):
    return write_folder(tmp_path / "data", policy="max_share:\n  provider: 0.7\n", **TABLES)


def test_plan_writes_contract_outputs(folder, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(cli.app, ["plan", "--data", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Binding share rules" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert summary["total_cost_usd"] == pytest.approx(36_135)  # hand-solved in test_planner
    assert summary["shares"]["provider"]["2026Q1"] == pytest.approx({"aws": 0.3, "gcp": 0.7})
    allocation = pd.read_csv(out / "allocation.csv")
    assert list(allocation.columns) == [
        "workload",
        "quarter",
        "offer",
        "provider",
        "region",
        "accelerator",
        "tokens_per_s",
        "chips",
    ]
    purchases = pd.read_csv(out / "purchases.csv")
    assert list(purchases.columns) == ["offer", "quarter", "provider", "region", "accelerator", "chips", "cost_usd"]
    assert purchases["cost_usd"].sum() == pytest.approx(36_135)
    assert not list(out.glob(".writing-*"))


def test_same_inputs_give_identical_files(folder, tmp_path):
    for name in ("one", "two"):
        assert runner.invoke(cli.app, ["plan", "--data", str(folder), "--out", str(tmp_path / name)]).exit_code == 0
    for file in ("summary.json", "allocation.csv", "purchases.csv"):
        assert (tmp_path / "one" / file).read_bytes() == (tmp_path / "two" / file).read_bytes()


def test_bad_input_exits_2_with_located_message(folder, tmp_path):
    (folder / "offers.csv").write_text(
        "offer,provider,region,accelerator,usd_per_chip_hour,max_chips\no1,aws,r1,a,-2,10\n"
    )
    result = runner.invoke(cli.app, ["plan", "--data", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "offers.csv, line 2, column usd_per_chip_hour" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_output_inside_data_folder_is_refused(folder):
    result = runner.invoke(cli.app, ["plan", "--data", str(folder), "--out", str(folder / "out")])
    assert result.exit_code == 2
    assert "never written among the inputs" in result.output
    assert not (folder / "out").exists()


def test_failed_verification_exits_5_and_keeps_previous_outputs(folder, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert runner.invoke(cli.app, ["plan", "--data", str(folder), "--out", str(out)]).exit_code == 0
    before = (out / "summary.json").read_bytes()

    def broken(*args, **kwargs):
        raise VerificationError(["capacity of o1 exceeded"])

    monkeypatch.setattr("optimizer.plan.pipeline.verify", broken)
    result = runner.invoke(cli.app, ["plan", "--data", str(folder), "--out", str(out)])
    assert result.exit_code == 5
    assert "nothing was written" in result.output
    assert (out / "summary.json").read_bytes() == before


def test_time_limit_stop_is_not_reported_as_optimal(tmp_path):
    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    from generate import generate

    generate(20_000, tmp_path / "big")
    result = runner.invoke(
        cli.app, ["plan", "--data", str(tmp_path / "big"), "--out", str(tmp_path / "out"), "--time-limit", "0.001"]
    )
    assert result.exit_code == 3, result.output
    assert "time limit" in result.output
    assert not (tmp_path / "out").exists()


def test_unknown_method_is_a_usage_error(folder, tmp_path):
    result = runner.invoke(cli.app, ["plan", "--data", str(folder), "--method", "magic"])
    assert result.exit_code == 2
    assert "Invalid value for '--method'" in result.output and "'magic' is not one of" in result.output


def test_console_script_runs(folder, tmp_path):
    """The installed entry point, in a real process: exit code and files."""
    completed = subprocess.run(
        [sys.executable, "-m", "optimizer.cli", "plan", "--data", str(folder), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "out" / "summary.json").exists()
    assert "Running HiGHS" not in completed.stdout


def test_bundled_data_plan_is_diversified(tmp_path):
    """`optimizer plan` alone runs the main job: a verified, non-trivial plan on data/."""
    out = tmp_path / "out"
    result = runner.invoke(cli.app, ["plan", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    providers = {g for shares in summary["volume_shares"]["provider"].values() for g, s in shares.items() if s > 0}
    vendors = {g for shares in summary["volume_shares"]["vendor"].values() for g, s in shares.items() if s > 0}
    assert len(providers) >= 3 and len(vendors) >= 3
    assert summary["binding_rules"], "at least one share cap binds on the bundled data"
    # With revenues, demand is left unserved only where serving it loses money or a share
    # rule holds it back (data/SOURCES.md section 8: the frontier model only), each row saying why.
    unmet = pd.read_csv(out / "unmet.csv")
    assert summary["unmet_tokens_per_s"] == pytest.approx(unmet["unmet_tokens_per_s"].sum(), rel=1e-9)
    assert set(unmet["model"]) == {"llama3.1-405b"}
    assert unmet["reason"].str.contains("costs more than the revenue it earns|a share rule held it back").all()


def test_leverage_writes_every_table(folder, tmp_path):
    out = tmp_path / "lev"
    result = runner.invoke(cli.app, ["leverage", "--data", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.index("Suppliers") < result.output.index("Offers")
    expected = {
        "suppliers.csv": [
            "dimension",
            "supplier",
            "spend_usd",
            "share",
            "walk_away_cost_usd",
            "walk_away_cost_no_rules_usd",
            "unserved_if_removed_tokens_per_s",
            "uniform_ceiling_pct",
            "half_volume_pct",
            "revenue_peak_pct",
            "revenue_peak_usd",
            "revenue_peak_method",
        ],
        "supplier_price_to_win.csv": [
            "dimension",
            "supplier",
            "volume_tokens_per_s",
            "win_any_pct",
            "win_any_not_pct",
            "win_any_method",
            "win_share_pct",
            "win_share_not_pct",
            "win_share_method",
        ],
        "offer_prices.csv": [
            "offer",
            "provider",
            "accelerator",
            "usd_per_chip_hour",
            "chip_hours",
            "chip_hours_at_risk",
            "price_ceiling_usd_per_chip_hour",
            "price_to_win_usd_per_chip_hour",
            "method",
            "rests_on_assumption",
        ],
        "capacity.csv": ["offer", "quarter", "max_chips", "chips", "value_usd_per_chip_hour"],
        "rules.csv": [
            "dimension",
            "group",
            "quarter",
            "kind",
            "limit",
            "basis",
            "cost_of_rule_usd",
            "usd_per_share_point",
        ],
        "policy_rules.csv": [
            "setting",
            "dimension",
            "group",
            "kind",
            "limit",
            "basis",
            "limit_without",
            "cost_of_setting_usd",
        ],
        "walk_away_curve.csv": ["dimension", "supplier", "volume_pct", "total_cost_usd"],
        "price_response.csv": [
            "dimension",
            "supplier",
            "price_change_pct",
            "volume_tokens_per_s",
            "supplier_revenue_usd",
            "total_cost_usd",
        ],
        "outage.csv": [
            "dimension",
            "supplier",
            "quarter",
            "stranded_tokens_per_s",
            "stranded_share",
            "outage_days",
            "margin_at_risk_usd",
            "penalty_at_risk_usd",
        ],
    }
    for name, columns in expected.items():
        header = pd.read_csv(out / name, nrows=0).columns.tolist()
        assert set(columns) <= set(header), (name, header)
    summary = json.loads((out / "summary.json").read_text())
    assert "diversification_premium_usd" in summary and summary["total_cost_usd"] == pytest.approx(36_135)


def test_running_out_of_memory_is_said_plainly_not_as_a_bug(tmp_path, monkeypatch):
    def exhausted(folder):
        raise MemoryError

    monkeypatch.setattr(cli, "load", exhausted)
    result = runner.invoke(cli.app, ["plan", "--out", str(tmp_path / "out")])
    assert result.exit_code == 8
    assert "out of memory: this run needs more memory than the machine allows" in result.output
    assert "bug" not in result.output
    assert not (tmp_path / "out").exists()
