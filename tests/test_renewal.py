"""The renewal view (contract, "Extension: the hand at renewal"), on a hand-solved case.

aws sells at 2.00 USD per chip-hour, gcp at 1.90, one workload asks 1,000 tokens/s in
2026Q1 on chips serving 100 (10 chips, 2,190 hours). The lab owes aws 43,800 USD of spend
in 2026Q1 (a spend commitment): buying on aws costs 10 x 2.00 x 2,190 = 43,800, all of it
counted against the commitment, while gcp would cost 41,610 plus the 43,800 owed anyway.

- Today the plan buys aws, 43,800. Walking away from aws: gcp's 41,610 plus the 43,800
  owed, 85,410, so it costs 41,610 - the sunk commitment makes aws look indispensable.
- At renewal (the commitment removed) the plan buys gcp, 41,610: walking away from aws
  costs nothing, and from gcp 43,800 - 41,610 = 2,190, the whole of gcp's hand.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import offer, workload, write_folder

import optimizer
from optimizer.analysis.negotiation import leverage
from optimizer.scenarios.overlays import Remove, Scenario, Set, apply

HOURS = 2190.0


def folder_for(tmp_path, renewal):
    commitment = {"provider": "aws", "first": "2026Q1", "last": "2026Q1", "usd": 43_800, "renewal": renewal}
    return write_folder(
        tmp_path / "in",
        accelerators=[{"accelerator": "a", "vendor": "nvidia"}],
        offers=[offer("o1", "aws", "r1", "a", 2.0, 100), offer("o2", "gcp", "r2", "a", 1.9, 100)],
        performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100}],
        workloads=[workload("w", "2026Q1", 1000)],
        latency=[{"geography": "g", "region": r, "rtt_ms": 50} for r in ("r1", "r2")],
        spend_commitments=[commitment],
    )


def report_for(tmp_path, renewal=True):
    inputs = optimizer.load(folder_for(tmp_path, renewal))
    plan = optimizer.solve(inputs, payback=False)
    return inputs, plan, leverage(inputs, plan, workers=1)


def test_renewal_walk_away_leaves_out_the_sunk_commitment(tmp_path):
    inputs, plan, report = report_for(tmp_path)
    assert plan.totals["total_cost_usd"] == pytest.approx(43_800.0, rel=1e-9)
    renewal = report.renewal.set_index(["dimension", "supplier"])
    assert renewal.loc[("provider", "aws"), "walk_away_cost_usd"] == pytest.approx(41_610.0, rel=1e-9)
    assert renewal.loc[("provider", "aws"), "walk_away_cost_at_renewal_usd"] == 0.0
    assert renewal.loc[("provider", "gcp"), "walk_away_cost_usd"] == 0.0
    assert renewal.loc[("provider", "gcp"), "walk_away_cost_at_renewal_usd"] == pytest.approx(2_190.0, rel=1e-9)
    assert report.summary["renewal_total_cost_usd"] == pytest.approx(41_610.0, rel=1e-9)
    assert report.summary["renewal_removes"] == ["spend_commitments.csv line 2"]


def test_renewal_figures_equal_from_scratch_solves(tmp_path):
    """The renewal plan is the scenario that removes the commitment; gcp's walk-away there
    is that scenario with gcp's max_chips at 0, against it."""
    inputs, _, report = report_for(tmp_path)
    removed = Remove(remove="spend_commitments", where={"provider": "aws"})
    renewed = optimizer.solve(apply(Scenario(name="renewal", base=inputs.folder, changes=[removed])), payback=False)
    assert renewed.totals["total_cost_usd"] == pytest.approx(report.summary["renewal_total_cost_usd"], rel=1e-12)
    gcp_gone = [removed, Set(set="offers", where={"provider": "gcp"}, column="max_chips", value=0)]
    walked = optimizer.solve(apply(Scenario(name="walk", base=inputs.folder, changes=gcp_gone)), payback=False)
    figure = report.renewal.set_index("supplier").loc["gcp", "walk_away_cost_at_renewal_usd"]
    assert walked.totals["total_cost_usd"] - renewed.totals["total_cost_usd"] == pytest.approx(figure, rel=1e-9)


def test_a_walk_away_no_plan_can_make_stays_blank(tmp_path):
    """The lab runs the workload on 10 aws chips today and at most half of a provider's volume
    may leave it in a quarter (unserved demand counts as leaving): walking away from aws
    breaks that today and at renewal, so both figures are blank (no plan can), never 0. At
    renewal the plan moves half to gcp, (5 x 2.00 + 5 x 1.90) x 2,190 = 42,705, and walking
    away from gcp keeps all on aws, 43,800: 1,095."""
    folder = folder_for(tmp_path, True)
    (folder / "fleet.csv").write_text("offer,model,chips,tokens_per_s\no1,m,10,1000\n")
    (folder / "policy.yaml").write_text("switching:\n  provider: {max_off_share: 0.5}\n")
    inputs = optimizer.load(folder)
    report = leverage(inputs, optimizer.solve(inputs, payback=False), workers=1)
    renewal = report.renewal.set_index("supplier")
    assert pd.isna(renewal.loc["aws", "walk_away_cost_usd"])
    assert pd.isna(renewal.loc["aws", "walk_away_cost_at_renewal_usd"])
    assert report.summary["renewal_total_cost_usd"] == pytest.approx(42_705.0, rel=1e-9)
    assert renewal.loc["gcp", "walk_away_cost_at_renewal_usd"] == pytest.approx(1_095.0, rel=1e-9)


def test_nothing_up_for_renewal_leaves_the_view_empty(tmp_path):
    _, _, report = report_for(tmp_path, renewal=False)
    assert report.renewal.empty
    assert "renewal_total_cost_usd" not in report.summary
