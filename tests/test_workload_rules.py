"""Where critical workloads may run (policy ``workload_rules``; contract, "Extension: where
workloads may run"), on hand-solved cases.

aws sells at 2.00 USD per chip-hour, azure at 1.90, on chips serving 100 tokens/s; two
workloads ask 1,000 tokens/s each in 2026Q1 (10 chips, 2,190 hours). Unconstrained, all
20 chips go to azure: 20 x 1.90 x 2,190 = 83,220.
"""

from __future__ import annotations

import pytest
from conftest import offer, workload, write_folder

import optimizer
from optimizer.errors import InputError, VerificationError
from optimizer.plan.verification import verify

HOURS = 2190.0


def folder_for(tmp_path, policy):
    return write_folder(
        tmp_path / "in",
        policy=policy,
        accelerators=[{"accelerator": "a", "vendor": "nvidia"}],
        offers=[offer("o1", "aws", "r1", "a", 2.0, 100), offer("o2", "azure", "r2", "a", 1.9, 100)],
        performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100}],
        workloads=[workload("critical", "2026Q1", 1000), workload("bulk", "2026Q1", 1000)],
        latency=[{"geography": "g", "region": r, "rtt_ms": 50} for r in ("r1", "r2")],
    )


def plan_for(tmp_path, policy):
    return optimizer.solve(optimizer.load(folder_for(tmp_path, policy)), payback=False)


def served(plan):
    return plan.allocation.groupby(["workload", "provider"])["tokens_per_s"].sum()


def test_an_exclusion_that_binds(tmp_path):
    """critical never on azure: it goes to aws, 10 x 2.00 x 2,190 = 43,800, while bulk stays
    on azure, 41,610; 85,410 in all, 2,190 more than unconstrained."""
    plan = plan_for(tmp_path, "workload_rules:\n  - workloads: [critical]\n    exclude: {provider: [azure]}\n")
    assert plan.totals["total_cost_usd"] == pytest.approx(85_410.0, rel=1e-9)
    assert served(plan)[("critical", "aws")] == pytest.approx(1000.0)
    assert ("critical", "azure") not in served(plan).index
    assert served(plan)[("bulk", "azure")] == pytest.approx(1000.0)


def test_a_cap_per_workload_splits_it(tmp_path):
    """bulk at most 60% on any one provider: 600 on azure and 400 on aws, (6 x 1.90 + 4 x
    2.00) x 2,190 = 42,486; critical all on azure, 41,610; 84,096 in all."""
    plan = plan_for(tmp_path, "workload_rules:\n  - workloads: [bulk]\n    max_share: {provider: 0.6}\n")
    assert plan.totals["total_cost_usd"] == pytest.approx(42_486.0 + 41_610.0, rel=1e-9)
    assert served(plan)[("bulk", "azure")] == pytest.approx(600.0)
    assert served(plan)[("bulk", "aws")] == pytest.approx(400.0)


def test_the_verifier_holds_plans_to_the_rules(tmp_path):
    """The unconstrained plan (everything on azure) breaks both rules."""
    free = plan_for(tmp_path / "free", "{}\n")
    policy = (
        "workload_rules:\n  - workloads: [critical]\n    exclude: {provider: [azure]}\n"
        "  - workloads: [bulk]\n    max_share: {provider: 0.6}\n"
    )
    inputs = optimizer.load(folder_for(tmp_path / "ruled", policy))
    with pytest.raises(VerificationError) as caught:
        verify(inputs, free.allocation, free.purchases, free.totals["total_cost_usd"])
    assert "critical in 2026Q1 on o2: provider excluded for it" in str(caught.value)
    assert "bulk in 2026Q1: 1000 tok/s on provider azure, above 0.6" in str(caught.value)


def test_rules_name_known_workloads_and_groups(tmp_path):
    policy = "workload_rules:\n  - workloads: [critical, nope]\n    exclude: {provider: [azure, oracle]}\n"
    with pytest.raises(InputError) as caught:
        optimizer.load(folder_for(tmp_path, policy))
    messages = {(p.line, p.message) for p in caught.value.problems}
    assert (2, "workload 'nope' has no rows in workloads.csv") in messages
    assert (3, "provider 'oracle' has no offers in offers.csv") in messages


def test_an_id_yaml_reads_as_a_number_is_told_to_be_quoted(tmp_path):
    """A workload named 1e-3 or 2026 must be quoted in policy.yaml: YAML reads it as a number."""
    policy = "workload_rules:\n  - workloads: [critical, 1e-3]\n    exclude: {provider: [azure, 2026]}\n"
    with pytest.raises(InputError) as caught:
        optimizer.load(folder_for(tmp_path, policy))
    messages = [(p.line, p.message) for p in caught.value.problems]
    quote = "expected text: YAML read this as a number or true/false; put the id in quotes"
    assert (2, f"value 0.001: {quote}") in messages
    assert (3, f"value 2026: {quote}") in messages


def test_leverage_prices_each_part_of_a_workload_rule(tmp_path):
    """critical never on azure and bulk at most 60% on any one provider: 43,800 (critical
    on aws) + 42,486 (bulk split) = 86,286. Without the exclusion critical goes to azure,
    41,610: it costs 2,190. Without the cap bulk goes all to azure, 41,610: it costs 876.
    Each equals a from-scratch solve of the policy with that part removed."""
    exclusion = "  - workloads: [critical]\n    exclude: {provider: [azure]}\n"
    cap = "  - workloads: [bulk]\n    max_share: {provider: 0.6}\n"
    inputs = optimizer.load(folder_for(tmp_path, "workload_rules:\n" + exclusion + cap))
    plan = optimizer.solve(inputs, payback=False)
    assert plan.totals["total_cost_usd"] == pytest.approx(86_286.0, rel=1e-9)
    table = optimizer.leverage(inputs, plan, workers=1).policy_rules.set_index("setting")
    excluded = table.loc["workload_rules.0.exclude.provider"]
    assert excluded["kind"] == "exclude" and excluded["group"] == "azure" and excluded["workloads"] == "critical"
    assert excluded["cost_of_setting_usd"] == pytest.approx(2_190.0, rel=1e-9)
    capped = table.loc["workload_rules.1.max_share.provider"]
    assert capped["kind"] == "max" and capped["limit"] == 0.6 and capped["limit_without"] == 1.0
    assert capped["cost_of_setting_usd"] == pytest.approx(876.0, rel=1e-9)
    for kept, saving in ((cap, 2_190.0), (exclusion, 876.0)):
        alone = plan_for(tmp_path / str(saving), "workload_rules:\n" + kept)
        assert plan.totals["total_cost_usd"] - alone.totals["total_cost_usd"] == pytest.approx(saving, rel=1e-9)


def test_a_workload_every_option_of_which_is_excluded(tmp_path):
    """critical excluded from both providers: nothing may serve it. The load warns once,
    naming the rule as the reason; the plan leaves its 1,000 tokens/s unserved at the
    penalty (1,000 x 100 USD/Mtok x 2,190 h x 3,600 s / 1e6 = 788,400) and bulk on azure
    (41,610): 830,010 in all."""
    policy = "workload_rules:\n  - workloads: [critical]\n    exclude: {provider: [azure, aws]}\n"
    inputs = optimizer.load(folder_for(tmp_path, policy))
    assert [w for w in inputs.warnings if "workload_rules exclude every offer" in w.message] != []
    plan = optimizer.solve(inputs, payback=False)
    assert plan.totals["total_cost_usd"] == pytest.approx(788_400.0 + 41_610.0, rel=1e-9)
    unmet = plan.unmet.set_index("workload")
    assert unmet.loc["critical", "unmet_tokens_per_s"] == pytest.approx(1000.0)
    assert "workload_rules exclude every offer" in unmet.loc["critical", "reason"]
