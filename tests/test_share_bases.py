"""Share rules on several bases at once: volume, spend and power, each rule on its own.

Common setup: H = 2190 h per quarter; one quarter, 2026Q1, with 1000 tok/s of demand;
the penalty (788.4 USD per unserved token/s) is far above every serving cost here
(at most 0.04 USD/h x 2190 = 87.6 USD per token/s), so every plan serves all demand.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import offer, workload, write_folder
from typer.testing import CliRunner

import optimizer
from optimizer import cli
from optimizer.scenarios.overlays import apply, read_scenario

H = 2190.0
PERFORMANCE = [
    {"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100},
    {"model": "m", "accelerator": "hot", "tokens_per_s_per_chip": 100, "ttft_ms": 100},
    {"model": "m", "accelerator": "cool", "tokens_per_s_per_chip": 100, "ttft_ms": 100},
]
ACCELERATORS = [
    {"accelerator": "a", "vendor": "nvidia", "power_kw": 1.0},
    {"accelerator": "hot", "vendor": "nvidia", "power_kw": 2.0},
    {"accelerator": "cool", "vendor": "google", "power_kw": 0.5},
]
LATENCY = [{"geography": "g", "region": r, "rtt_ms": 50} for r in ("r1", "r2", "r3")]
# Three providers selling chip a (100 tok/s): per token/s aws costs 0.01 USD/h, gcp 0.02, azure 0.04.
THREE = [
    offer("o1", "aws", "r1", "a", 1.0, 1000),
    offer("o2", "gcp", "r2", "a", 2.0, 1000),
    offer("o3", "azure", "r3", "a", 4.0, 1000),
]
# aws sells the power-hungry chip (2 kW) cheap, gcp the efficient one (0.5 kW) dearer.
HOT_AND_COOL = [offer("o1", "aws", "r1", "hot", 1.0, 1000), offer("o2", "gcp", "r2", "cool", 2.0, 1000)]
TWO_BASES = "max_share:\n  provider: 0.6\nextra_share_bases:\n  spend:\n    max_share:\n      provider: 0.5\n"


def folder(tmp_path, policy: str, offers=THREE, **extra):
    return write_folder(
        tmp_path / "case",
        policy=policy,
        accelerators=ACCELERATORS,
        performance=PERFORMANCE,
        latency=[row for row in LATENCY if row["region"] in {o["region"] for o in offers}],
        offers=offers,
        workloads=[workload("w", "2026Q1", 1000)],
        **extra,
    )


def plan_of(tmp_path, policy: str, offers=THREE, **extra):
    return optimizer.solve(optimizer.load(folder(tmp_path, policy, offers, **extra)))


def test_volume_cap_and_spend_cap_bind_in_the_same_quarter(tmp_path):
    """Volume cap 0.6 and spend cap 0.5 on every provider; x_a, x_g, x_z tok/s on aws, gcp, azure.

    Serving all 1000 tok/s costs 0.01 x_a + 0.02 x_g + 0.04 (1000 - x_a - x_g) = 40 - 0.03 x_a
    - 0.02 x_g USD/h. Volume: x_a <= 0.6 x 1000 = 600. Spend on gcp: 0.02 x_g <= 0.5 (0.01 x_a +
    0.02 x_g + 0.04 x_z), i.e. 0.03 x_g <= 20 - 0.015 x_a, x_g <= 666.67 - 0.5 x_a. Putting x_g
    at that bound, the hourly cost is 26.667 - 0.02 x_a: x_a as large as the volume cap lets,
    600, so x_g = 366.67 and x_z = 33.33. Cost 6 + 7.3333 + 1.3333 = 14.6667 USD/h x 2190 =
    32,120 USD. gcp holds 7.3333 / 14.6667 = 50% of spend; aws 60% of volume (and 40.9% of
    spend, under its cap); the volume cap alone would give x_g = 400: 14 x 2190 = 30,660 USD.
    """
    plan = plan_of(tmp_path, TWO_BASES)
    assert plan.totals["total_cost_usd"] == pytest.approx(32_120)
    served = plan.allocation.groupby("provider")["tokens_per_s"].sum()
    assert served.to_dict() == pytest.approx({"aws": 600, "gcp": 1100 / 3, "azure": 100 / 3})
    binding = plan.binding_rules.set_index(["group", "basis"])
    assert sorted(binding.index) == [("aws", "volume"), ("gcp", "spend")]
    assert binding.loc[("aws", "volume"), "share"] == pytest.approx(0.6)
    assert binding.loc[("gcp", "spend"), "share"] == pytest.approx(0.5)
    assert plan.share_table("provider", "spend").loc["2026Q1", "gcp"] == pytest.approx(0.5)
    assert plan_of(tmp_path, "max_share:\n  provider: 0.6\n").totals["total_cost_usd"] == pytest.approx(30_660)


def test_plan_outputs_show_each_rule_in_its_basis(tmp_path):
    """The plan of ``test_volume_cap_and_spend_cap...`` from the command line: a mix table per
    basis with rules, and the binding rules with their basis and share (60% of volume for
    aws, 50% of spend for gcp) in ``summary.json``."""
    out = tmp_path / "out"
    result = CliRunner().invoke(cli.app, ["plan", "--data", str(folder(tmp_path, TWO_BASES)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())  # titles wrap at the terminal's width
    assert "Mix by provider (volume share per quarter)" in shown
    assert "Mix by provider (spend share per quarter)" in shown
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["share_bases"] == ["volume", "spend"]
    rules = {(r["group"], r["basis"]): r["share"] for r in summary["binding_rules"]}
    assert rules == pytest.approx({("aws", "volume"): 0.6, ("gcp", "spend"): 0.5})
    assert summary["spend_shares"]["provider"]["2026Q1"]["gcp"] == pytest.approx(0.5)


def test_power_cap_binds(tmp_path):
    """aws may hold at most half the kW: n_a chips of 2 kW on aws, n_g of 0.5 kW on gcp.

    2 n_a <= 0.5 (2 n_a + 0.5 n_g) gives n_g >= 4 n_a; n_a + n_g = 10 chips for 1000 tok/s, so
    n_a <= 2: 2 chips x 1 + 8 chips x 2 = 18 USD/h x 2190 = 39,420 USD, each provider 4 kW
    (50%). Without the rule all 10 chips on aws: 10 x 2190 = 21,900 USD.
    """
    policy = "extra_share_bases:\n  power:\n    share_overrides:\n      max_share:\n        provider: {aws: 0.5}\n"
    plan = plan_of(tmp_path, policy, HOT_AND_COOL)
    assert plan.totals["total_cost_usd"] == pytest.approx(39_420)
    chips = plan.purchases.set_index("offer")["chips"]
    assert chips.to_dict() == pytest.approx({"o1": 2, "o2": 8})
    assert plan.share_table("provider", "power").loc["2026Q1"].to_dict() == pytest.approx({"aws": 0.5, "gcp": 0.5})
    assert list(plan.binding_rules["basis"]) == ["power"]
    assert plan_of(tmp_path, "{}\n", HOT_AND_COOL).totals["total_cost_usd"] == pytest.approx(21_900)


def test_signed_chips_count_on_a_power_basis(tmp_path):
    """One signed chip of o1 (aws, 2 kW, sunk 1 x 2190 = 2,190 USD) joins the aws kW:
    2 (n_a + 1) <= 0.5 (2 (n_a + 1) + 0.5 n_g) gives n_g >= 4 (n_a + 1); n_a + 1 + n_g = 10,
    so n_a = 1, n_g = 8: 2,190 + 8 x 2 x 2190 = 37,230 bought + 2,190 sunk = 39,420 USD. Left
    out of the kW, the signed chip would let n_a = 2: 4,380 + 30,660 + 2,190 = 37,230 USD."""
    policy = "share_basis: power\nshare_overrides:\n  max_share:\n    provider: {aws: 0.5}\n"
    contract = [{"offer": "o1", "chips": 1, "start": "2026Q1", "end": "2026Q1"}]
    plan = plan_of(tmp_path, policy, HOT_AND_COOL, contracts=contract)
    assert plan.totals["total_cost_usd"] == pytest.approx(39_420)
    assert plan.purchases.set_index("offer")["chips"].to_dict() == pytest.approx({"o1": 1, "o2": 8})


def test_no_extra_basis_leaves_the_model_unchanged(tmp_path):
    """An extra basis without rules writes no row: the LP (rows, columns, bounds, costs) and
    the 30,660 USD optimum of the volume cap alone (``test_volume_cap_and_spend_cap...``)
    are those of the policy without the key."""
    plain = plan_of(tmp_path, "max_share:\n  provider: 0.6\n")
    named = plan_of(tmp_path, "max_share:\n  provider: 0.6\nextra_share_bases:\n  spend: {}\n  power: {}\n")
    assert named.totals["total_cost_usd"] == plain.totals["total_cost_usd"] == pytest.approx(30_660)
    assert (named.model.lp.num_row, named.model.lp.num_col) == (plain.model.lp.num_row, plain.model.lp.num_col)
    for mine, theirs in zip(named.model.lp.bounds, plain.model.lp.bounds, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    np.testing.assert_array_equal(named.model.lp.cost, plain.model.lp.cost)


def test_scenario_sets_rules_on_another_basis(tmp_path):
    """A scenario's policy change deep-merges into the base policy: the spend caps of
    ``test_volume_cap_and_spend_cap...`` added to a base with the volume cap reach 32,120 USD."""
    base = folder(tmp_path, "max_share:\n  provider: 0.6\n")
    path = tmp_path / "spend.yaml"
    path.write_text(
        f"name: spend\ndescription: caps on spend too\nbase: {base}\nchanges:\n"
        "  - policy:\n      extra_share_bases: {spend: {max_share: {provider: 0.5}}}\n",
        encoding="utf-8",
    )
    inputs = apply(read_scenario(path))
    assert inputs.policy.max_share.provider == 0.6
    assert optimizer.solve(inputs).totals["total_cost_usd"] == pytest.approx(32_120)


def problem_of(tmp_path, policy: str, accelerators=ACCELERATORS):
    """The single problem loading reports for this policy."""
    target = write_folder(
        tmp_path / "bad",
        policy=policy,
        accelerators=accelerators,
        performance=PERFORMANCE,
        latency=LATENCY,
        offers=THREE,
        workloads=[workload("w", "2026Q1", 1000)],
    )
    with pytest.raises(optimizer.InputError) as caught:
        optimizer.load(target)
    problems = caught.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


@pytest.mark.parametrize(
    ("policy", "line", "column", "message"),
    [
        (
            "share_basis: spend\nextra_share_bases:\n  spend:\n    max_share: {provider: 0.5}\n",
            3,
            "extra_share_bases.spend",
            "'spend' is already the share_basis: write its rules as the top-level max_share",
        ),
        (
            "extra_share_bases:\n  volume:\n    max_share: {provider: 0.5}\n",
            2,
            "extra_share_bases.volume",
            "'volume' is already the share_basis",
        ),
        (
            "extra_share_bases:\n  carbon:\n    max_share: {provider: 0.5}\n",
            2,
            "extra_share_bases.carbon.[key]",
            "value 'carbon': expected 'volume', 'spend' or 'power'",
        ),
        (
            "extra_share_bases:\n  spend:\n    share_overrides:\n      max_share:\n        provider: {oracle: 0.3}\n",
            5,
            "extra_share_bases.spend.share_overrides.max_share.provider.oracle",
            "provider 'oracle' has no offers in offers.csv",
        ),
        (
            "extra_share_bases:\n  power:\n    max_share: {vendor: 0.3}\n    min_share: {vendor: 0.4}\n",
            4,
            "extra_share_bases.power.min_share.vendor",
            "vendor 'nvidia': floor 0.4 is above its cap 0.3",
        ),
    ],
)
def test_bad_share_bases(tmp_path, policy, line, column, message):
    problem = problem_of(tmp_path, policy)
    assert (problem.file.rsplit("/", 1)[-1], problem.line, problem.column) == ("policy.yaml", line, column)
    assert message in problem.message


def test_power_rules_need_power_kw(tmp_path):
    """Shares of power count chips x power_kw: an accelerator sold without one is named."""
    accelerators = [{**row, "power_kw": None} if row["accelerator"] == "a" else row for row in ACCELERATORS]
    problem = problem_of(tmp_path, "extra_share_bases:\n  power:\n    max_share: {provider: 0.5}\n", accelerators)
    assert (problem.line, problem.column) == (2, "extra_share_bases.power")
    assert "accelerator 'a' has no power_kw" in problem.message


def test_conflicting_power_floor_is_named_with_its_basis(tmp_path):
    """aws must hold 10 hot chips (take-or-pay, 20 kW); gcp can hold at most 2 cool ones
    (1 kW): its power share is at most 1 / 21 < 0.6, so its power floor cannot hold, and
    the planner names that rule, its line (5) and its basis."""
    offers = [
        offer("o1", "aws", "r1", "hot", 1.0, 1000, min_chips=10),
        offer("o2", "gcp", "r2", "cool", 2.0, 2),
    ]
    policy = "extra_share_bases:\n  power:\n    share_overrides:\n      min_share:\n        provider: {gcp: 0.6}\n"
    with pytest.raises(optimizer.SolveError) as caught:
        plan_of(tmp_path, policy, offers)
    assert "policy.yaml, line 5: min_share 0.6 for provider gcp in 2026Q1 (share of power)" in str(caught.value)
