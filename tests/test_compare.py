"""Scenario comparison on two hand-solvable scenarios, and from the command line."""

from __future__ import annotations

import pandas as pd
import pytest
from test_scenarios import base, scenario  # noqa: F401  (fixture and helper)
from typer.testing import CliRunner

from optimizer import cli
from optimizer.scenarios.comparison import compare
from optimizer.scenarios.overlays import Scale, Scenario


def test_cost_difference_worked_out_by_hand(tmp_path, base):  # noqa: F811
    """Base (provider cap 0.7, three quarters of 1000 tok/s): 36,135 USD a quarter (test_planner),
    108,405 in all. With o2 at 6 USD/chip-h (0.030 per token/s-h, now dearer than o1's 0.020),
    o1 takes all the cap allows, 700 tok/s on 7 chips (30,660), and o2 the other 300 on 1.5
    chips (19,710): 50,370 a quarter, 151,110 in all, so +42,705 USD (+39.39%)."""
    doubled = Scenario(
        name="o2-doubled",
        base=base,
        changes=[Scale(scale="offers", where={"offer": "o2"}, column="usd_per_chip_hour", by=2.0)],
    )
    table = compare([scenario(tmp_path, base, "  []\n", name="base"), doubled], workers=1)
    assert list(table["scenario"]) == ["base", "o2-doubled"]
    assert table["total_cost_usd"].tolist() == pytest.approx([108_405, 151_110])
    assert table["delta_usd"].tolist() == pytest.approx([0, 42_705])
    assert table["delta_pct"].iloc[1] == pytest.approx(42_705 / 108_405 * 100)
    assert table["share_provider_aws"].tolist() == pytest.approx([0.3, 0.7])
    # Walking away from gcp in the base: o1 capped at 0.7 of served volume and alone, so
    # nothing can be served at all: 3 x 1000 tok/s x 788.4 USD = 2,365,200 - 108,405.
    assert table["walk_away_provider_gcp"].iloc[0] == pytest.approx(3 * 1000 * 788.4 - 108_405)


def test_compare_command_writes_csv(tmp_path, base):  # noqa: F811
    first = scenario(tmp_path, base, "  []\n", name="base")
    second = scenario(tmp_path, base, "  - policy: {max_share: {provider: 1.0}}\n", name="nocap")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli.app, ["compare", str(first), str(second), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "comparison.csv")
    assert table["scenario"].tolist() == ["base", "nocap"]
    assert table["total_cost_usd"].iloc[1] == pytest.approx(3 * 32_850)  # all on o2 (test_planner)


def test_invalid_scenario_exits_2(tmp_path, base):  # noqa: F811
    bad = scenario(tmp_path, base, "  - remove: offers\n    where: {offer: nope}\n", name="bad")
    result = CliRunner().invoke(cli.app, ["compare", str(bad), "--workers", "1", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "bad.yaml" in result.output and "line 5" in result.output


def test_a_scenario_that_cannot_solve_is_reported_blank_and_exits_6(tmp_path, base):  # noqa: F811
    """o1 made to hold at least 10 chips (43,800 USD a quarter) under a 10,000 USD budget: no
    plan exists. The comparison is still written, the base row as solved alone (108,405,
    test_cost_difference_worked_out_by_hand), the failed row with its reason and blank
    figures (no 0 shares, no delta), and the command exits 6."""
    first = scenario(tmp_path, base, "  []\n", name="base")
    broke = scenario(
        tmp_path,
        base,
        "  - set: offers\n    where: {offer: o1}\n    column: min_chips\n    value: 10\n"
        "  - policy: {budget_usd_per_quarter: 10000}\n",
        name="broke",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(cli.app, ["compare", str(first), str(broke), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 6, result.output
    assert "1 of 2 scenarios failed" in result.output and "broke" in result.output
    table = pd.read_csv(out / "comparison.csv")
    assert table["total_cost_usd"].iloc[0] == pytest.approx(108_405)
    assert pd.isna(table["error"].iloc[0])
    assert "hard rules cannot all hold" in table["error"].iloc[1]
    figures = [c for c in table.columns if c not in ("scenario", "description", "error")]
    assert table.loc[1, figures].isna().all()
