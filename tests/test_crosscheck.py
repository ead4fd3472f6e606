"""The tool's optimum against an independent formulation of the data contract.

The reference (``reference_lp.py``) reads the contract's "Formulation" section
literally, from the raw rows of the generated input folder, and imports nothing from the
optimizer package (``test_reference_is_independent`` checks it). Two careful implementations of the
contract must reach the same optimal cost, or agree that no plan exists (spend-basis
shares against take-or-pay minimums). ``with_contracts`` adds signed contracts, often in
quarters their offer is no longer on sale: the share groups of contract v5 (every group
that can hold chips in the quarter) are written here from the rows, as the contract says.
About a quarter of the instances carry the cost of moving (``switching``, often with a
``fleet.csv``): the reference writes its moves and continuity limits from the contract's
text, and the summary counts those instances, the infeasible and the limit-bound ones.

Instances come from ``instances.instances()``; their number comes from the hypothesis
profile (tests/conftest.py): ``ci`` by default, ``--hypothesis-profile=long`` for the
long run. The worst relative difference seen is printed at the end of the module and
written to ``<tempdir>/crosscheck_summary.json``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings, target
from hypothesis import strategies as st
from instances import QUARTERS, Case, costs_agree, examples, instances, relative_difference, tool_cost
from reference_lp import ordinal, reference

# Running record of the cross-check, printed and written at the end of the module.
SUMMARY = {
    "instances": 0,
    "optimal": 0,
    "infeasible": 0,
    "with_switching": 0,  # of which: policy switching (the cost of moving) ...
    "with_fleet": 0,  # ... with a starting fleet
    "switching_infeasible": 0,  # ... the reference finding no plan
    "move_limit_binding": 0,  # ... a continuity limit with a nonzero dual
    "worst_relative_difference": 0.0,
    "worst_case": None,
}


@pytest.fixture(scope="module", autouse=True)
def _report_summary(request):
    yield
    if not SUMMARY["instances"]:
        return
    path = Path(tempfile.gettempdir()) / "crosscheck_summary.json"
    path.write_text(json.dumps(SUMMARY, indent=1) + "\n", encoding="utf-8")
    line = (
        f"cross-check: {SUMMARY['instances']} instances ({SUMMARY['optimal']} optimal, "
        f"{SUMMARY['infeasible']} infeasible; {SUMMARY['with_switching']} with switching, "
        f"{SUMMARY['with_fleet']} of them with a fleet, {SUMMARY['switching_infeasible']} infeasible, "
        f"{SUMMARY['move_limit_binding']} binding a continuity limit), worst relative cost difference "
        f"{SUMMARY['worst_relative_difference']:.3g}; written to {path}"
    )
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line(line)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(case=instances(revenue=True))
def test_same_optimal_cost_as_independent_formulation(case: Case) -> None:
    expected = reference(case)
    cost, _ = tool_cost(case)
    SUMMARY["instances"] += 1
    event(f"reference: {expected.status}")
    if "switching" in case.policy:
        SUMMARY["with_switching"] += 1
        SUMMARY["with_fleet"] += bool(case.tables.get("fleet"))
        SUMMARY["switching_infeasible"] += expected.status == "infeasible"
        SUMMARY["move_limit_binding"] += bool(expected.families & {"move_off_limit", "move_onto_limit"})
    if expected.status == "infeasible":
        assert cost is None, f"the reference proves the rules infeasible, the tool found a plan costing {cost!r}"
        SUMMARY["infeasible"] += 1
        return
    assert cost is not None, f"the tool found no plan (SolveError), the reference's optimum is {expected.cost!r}"
    SUMMARY["optimal"] += 1
    difference = relative_difference(cost, expected.cost)
    if difference > SUMMARY["worst_relative_difference"]:
        SUMMARY["worst_relative_difference"] = difference
        SUMMARY["worst_case"] = {"tool": cost, "reference": expected.cost}
    target(difference, label="relative cost difference")
    assert costs_agree(cost, expected.cost), f"tool {cost!r} != reference {expected.cost!r}"


@st.composite
def with_contracts(draw) -> Case:
    """An instance plus one or two signed contracts, often in quarters where their offer is
    not on sale (contract v5: its group's caps and floors hold there all the same)."""
    case = draw(instances())
    horizon = sorted({row["quarter"] for row in case.tables["workloads"]})
    rows = []
    for _ in range(draw(st.integers(1, 2))):
        period = sorted(draw(st.lists(st.sampled_from(horizon), min_size=1, max_size=2, unique=True)))
        start, end = period[0], period[-1]
        offer = draw(st.sampled_from(case.tables["offers"]))
        if QUARTERS.index(start) > 0 and draw(st.booleans()):  # off sale from the contract's start
            offer["available_until"] = QUARTERS[QUARTERS.index(start) - 1]
            if offer["available_from"] and offer["available_from"] > offer["available_until"]:
                offer["available_from"] = None
        rows.append(
            {
                "offer": offer["offer"],
                "chips": draw(st.integers(1, 400)) / 10,
                "start": start,
                "end": end,
                "usd_per_chip_hour": draw(st.none() | st.integers(0, 800).map(lambda k: k / 100)),
            }
        )
    case.tables["contracts"] = rows
    return case


@settings(max_examples=examples(0.15), suppress_health_check=[HealthCheck.too_slow])
@given(case=with_contracts())
def test_same_optimal_cost_with_signed_contracts(case: Case) -> None:
    """Signed chips on offers on sale or not: both formulations agree (or both find no plan)."""
    expected = reference(case)
    cost, _ = tool_cost(case)
    event(f"reference: {expected.status}")
    if expected.status == "infeasible":
        assert cost is None, f"the reference proves the rules infeasible, the tool found {cost!r}"
        return
    assert cost is not None, f"the tool found no plan, the reference's optimum is {expected.cost!r}"
    assert costs_agree(cost, expected.cost), f"tool {cost!r} != reference {expected.cost!r}"


def test_random_cases_exercise_every_family():
    """Guard against a generator that silently stops producing the interesting cases.

    A fixed sample (derandomized, generation only) of instances, solved by the reference,
    must contain every family the cross-check is meant to reach: among them a starting
    fleet, a moving cost paid, each continuity limit with a nonzero dual (``move_off_limit``,
    ``move_onto_limit``, the tool's row families) and limits that alone leave no plan.
    """
    seen: set[str] = set()

    @settings(
        max_examples=400,  # at 150, floor binding came up 0 to 17 times as hypothesis versions differ
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(case=instances())
    def sample(case: Case) -> None:
        found = reference(case).families
        seen.update(found)
        if "infeasible" in found and "switching" in case.policy and reference(_unlimited(case)).status == "optimal":
            seen.add("move limits infeasible")  # the continuity limits alone leave no plan
        if any(row["available_from"] or row["available_until"] for row in case.tables["offers"]):
            seen.add("availability window")
        if len({row["quarter"] for row in case.tables["workloads"]}) < len(_horizon(case)):
            seen.add("horizon gap")
        if case.tables["offer_quarters"]:
            seen.add("offer_quarters")
        if "share_overrides" in case.policy:
            seen.add("share_overrides")

    sample()
    assert seen >= {
        "volume",
        "spend",
        "power",
        "several bases",
        "cap binding on spend",
        "cap binding on power",
        "infeasible",
        "unmet",
        "min_chips binding",
        "cap binding",
        "floor binding",
        "latency boundary",
        "availability window",
        "horizon gap",
        "offer_quarters",
        "share_overrides",
        "fleet",
        "move",
        "move limits infeasible",
        "workload exclusion",
        "workload cap binding",
    }, seen
    # A continuity limit with a nonzero dual comes up in only one or two of these draws, and
    # which one varies between runs (duals at degenerate optima): one of them must, and the
    # hand cases of moving hold the reference to each (test_reference_solves_the_hand_cases_of_moving).
    assert seen & {"move_off_limit", "move_onto_limit"}, seen


def test_random_cases_with_money_exercise_terms_and_discounting():
    """The same guard for the draws of ``instances(revenue=True)``: revenues, discount
    rates, and 1yr/3yr terms paid per quarter and upfront, bought under both rules."""
    seen: set[str] = set()

    @settings(
        max_examples=300,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(case=instances(revenue=True))
    def sample(case: Case) -> None:
        found = reference(case).families
        seen.update(found)
        if any(row.get("revenue_usd_per_mtok") is not None for row in case.tables["workloads"]):
            seen.add("revenue")
        if found & {"term bought", "upfront term bought"}:
            seen.add(f"bought under {case.policy.get('commitment_cost', 'whole')}")

    sample()
    assert seen >= {
        "revenue",
        "discounted",
        "term bought",
        "upfront term bought",
        "bought under whole",
        "bought under in_horizon",
    }, seen  # a discounted move is rare in these draws (it came and went with the run's other
    # tests): test_reference_solves_the_hand_cases_of_moving holds the reference to one


def _unlimited(case: Case) -> Case:
    """``case`` without its continuity limits (max_off_share, max_onto_share): moving costs only."""
    loose = case.copy()
    for terms in loose.policy["switching"].values():
        for own in (terms, *terms.get("groups", {}).values()):
            own.pop("max_off_share", None)
            own.pop("max_onto_share", None)
    return loose


def _horizon(case: Case) -> list[int]:
    quarters = [ordinal(row["quarter"]) for row in case.tables["workloads"]]
    return list(range(min(quarters), max(quarters) + 1))


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=instances())
def test_reference_is_independent(case: Case) -> None:
    """The reference imports nothing from the tool: in a fresh interpreter with every
    ``optimizer`` import refused, it solves drawn cases to the same verdict and cost."""
    script = Path(tempfile.mkdtemp()) / "run_reference.py"
    script.write_text(
        "import json, sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'optimizer' or name.startswith('optimizer.'):\n"
        "            raise ImportError(f'the reference imported {name}')\n"
        "sys.meta_path.insert(0, Block())\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from reference_lp import Reference, reference\n"
        "class Case:\n"
        "    def __init__(self, tables, policy):\n"
        "        self.tables, self.policy = tables, policy\n"
        "found = reference(Case(**json.loads(sys.stdin.read())))\n"
        "print(found.status, found.cost)\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        [sys.executable, str(script)],
        input=json.dumps({"tables": case.tables, "policy": case.policy}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    status, cost = run.stdout.split()
    expected = reference(case)
    assert status == expected.status
    assert float(cost) == pytest.approx(expected.cost, rel=1e-12, nan_ok=True)


def _moving_case(policy: dict, fleet: bool = True, demand: tuple[float, float] = (1000.0, 1000.0)) -> Case:
    """tests/test_moving.py's hand case as a Case: aws (o1, 2.00 USD/chip-h) and gcp (o2, 1.90)
    sell one chip serving 100 tokens/s; 1,000 tokens/s run on 10 aws chips today."""

    def offer(name: str, provider: str, region: str, price: float) -> dict:
        row = {"offer": name, "provider": provider, "region": region, "accelerator": "a"}
        return row | {"usd_per_chip_hour": price, "max_chips": 100.0, "min_chips": None}

    tables = {
        "accelerators": [{"accelerator": "a", "vendor": "nvidia"}],
        "offers": [
            offer("o1", "aws", "r1", 2.0) | {"available_from": None, "available_until": None},
            offer("o2", "gcp", "r2", 1.9) | {"available_from": None, "available_until": None},
        ],
        "offer_quarters": [],
        "performance": [{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100.0, "ttft_ms": 100.0}],
        "workloads": [
            {"workload": "w", "model": "m", "geography": "g", "quarter": q, "tokens_per_s": d, "latency_slo_ms": 1000.0}
            for q, d in zip(("2026Q1", "2026Q2"), demand, strict=True)
        ],
        "latency": [{"geography": "g", "region": r, "rtt_ms": 50.0} for r in ("r1", "r2")],
    }
    if fleet:
        tables["fleet"] = [{"offer": "o1", "model": "m", "chips": 10.0, "tokens_per_s": 1000.0}]
    return Case(tables, policy)


def _off(usd: float, **extra) -> dict:
    return {"switching": {"provider": {"off_usd_per_token_s": usd, **extra}}}


@pytest.mark.parametrize(
    ("case", "cost"),
    [
        pytest.param(_moving_case(_off(5)), 87_600.0, id="staying pays"),
        pytest.param(_moving_case(_off(4)), 83_220.0 + 4_000.0, id="moving pays"),
        pytest.param(_moving_case(_off(5, model_factors={"m": 0.5})), 83_220.0 + 2_500.0, id="model factor"),
        pytest.param(_moving_case(_off(100), fleet=False), 83_220.0, id="no fleet"),
        pytest.param(
            _moving_case(_off(1, max_off_share=0.25)), 43_252.5 + 42_841.875 + 437.5, id="off limit spreads the move"
        ),
        pytest.param(
            _moving_case(
                {"switching": {"provider": {"groups": {"gcp": {"max_onto_share": 0.1, "allowance_tokens_per_s": 300}}}}}
            ),
            43_143.0 + 42_420.3,
            id="onto limit with allowance",
        ),
        pytest.param(
            _moving_case({"discount_rate_per_year": 0.1, **_off(5)}, demand=(1000.0, 0.0)),
            43_800.0 + 5_000.0 * 1.1**-0.25,
            id="discounted",
        ),
        pytest.param(
            _moving_case({"switching": {"provider": {"max_off_share": 0.1}}}, demand=(1000.0, 0.0)),
            None,
            id="limit leaves no plan",
        ),
    ],
)
def test_reference_solves_the_hand_cases_of_moving(case: Case, cost: float | None) -> None:
    """The reference's moves reach tests/test_moving.py's hand-solved costs (None: no plan)."""
    found = reference(case)
    if cost is None:
        assert found.status == "infeasible"
    else:
        assert found.status == "optimal" and found.cost == pytest.approx(cost, rel=1e-9)


@pytest.mark.xfail(
    strict=True,
    reason=(
        "tool and reference disagree on the v5 share groups of a 1yr/3yr offer whose window "
        "closes before the horizon: the tool counts it as able to hold chips in the term's "
        "quarters after a start before the horizon (optimizer/io/allowed.py offer_terms, held "
        "from available_from), though no commitment can start there; the reference only from "
        "starts inside the horizon. Contract v5's text does not say whether s must be a "
        "horizon quarter (see the report of the moveref branch)"
    ),
)
def test_a_term_offer_off_sale_before_the_horizon_is_no_share_group() -> None:
    """o0 (1yr) is on sale until 2025Q4, the horizon is 2026Q1: no chip of it can be held in
    2026Q1, so its offer floor of 0.2 writes no row, and 100 tokens/s on o1 cost 1 chip x 1
    USD x 2,190 h = 2,190 (the reference). The tool writes the floor (S_o0 = 0 >= 0.2 S),
    serves nothing and pays the penalty on 100 tokens/s: 78,840."""

    def offer(name: str, **extra) -> dict:
        return {
            "offer": name,
            "provider": "p0",
            "region": "r0",
            "accelerator": "a",
            "usd_per_chip_hour": 1.0,
            "max_chips": 100.0,
            "min_chips": None,
            "available_from": None,
            "available_until": None,
            **extra,
        }

    case = Case(
        {
            "accelerators": [{"accelerator": "a", "vendor": "nvidia"}],
            "offers": [offer("o0", term="1yr", available_until="2025Q4"), offer("o1")],
            "offer_quarters": [],
            "performance": [{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100.0, "ttft_ms": 10.0}],
            "workloads": [
                {
                    "workload": "w",
                    "model": "m",
                    "geography": "g",
                    "quarter": "2026Q1",
                    "tokens_per_s": 100.0,
                    "latency_slo_ms": 1000.0,
                }
            ],
            "latency": [{"geography": "g", "region": "r0", "rtt_ms": 10.0}],
        },
        {"share_overrides": {"min_share": {"offer": {"o0": 0.2}}}},
    )
    expected = reference(case)
    assert (expected.status, expected.cost) == ("optimal", pytest.approx(2190.0))
    cost, _ = tool_cost(case)
    assert cost is not None and costs_agree(cost, expected.cost), f"tool {cost!r} != reference {expected.cost!r}"


def test_the_hand_cases_reach_each_continuity_limit() -> None:
    """The limit families the random draws reach only now and then, each binding here."""
    off = reference(_moving_case(_off(1, max_off_share=0.25))).families
    gcp = {"gcp": {"max_onto_share": 0.1, "allowance_tokens_per_s": 300}}
    onto = reference(_moving_case({"switching": {"provider": {"groups": gcp}}})).families
    assert "move_off_limit" in off and "move_onto_limit" in onto, (off, onto)


def _two_clouds(rules: list[dict]) -> Case:
    """tests/test_workload_rules.py's case: aws at 2.00, azure at 1.90 USD per chip-hour on
    chips serving 100 tokens/s; critical and bulk ask 1,000 tokens/s each in 2026Q1."""
    offers = [
        {"offer": name, "provider": provider, "region": region, "accelerator": "a", "usd_per_chip_hour": price}
        | {"max_chips": 100.0, "min_chips": None, "available_from": None, "available_until": None}
        for name, provider, region, price in (("o1", "aws", "r1", 2.0), ("o2", "azure", "r2", 1.9))
    ]
    workloads = [
        {"workload": name, "model": "m", "geography": "g", "quarter": "2026Q1", "tokens_per_s": 1000.0}
        | {"latency_slo_ms": 1000.0}
        for name in ("critical", "bulk")
    ]
    return Case(
        {
            "accelerators": [{"accelerator": "a", "vendor": "nvidia"}],
            "offers": offers,
            "offer_quarters": [],
            "performance": [{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100.0, "ttft_ms": 100.0}],
            "workloads": workloads,
            "latency": [{"geography": "g", "region": r, "rtt_ms": 50.0} for r in ("r1", "r2")],
        },
        {"workload_rules": rules},
    )


@pytest.mark.parametrize(
    ("rules", "cost", "family"),
    [
        pytest.param(
            [{"workloads": ["critical"], "exclude": {"provider": ["azure"]}}],
            43_800.0 + 41_610.0,  # critical 10 chips on aws, bulk 10 on azure
            "workload exclusion",
            id="exclusion",
        ),
        pytest.param(
            [{"workloads": ["bulk"], "max_share": {"provider": 0.6}}],
            (6 * 1.9 + 4 * 2.0) * 2190 + 41_610.0,  # bulk split 600/400, critical on azure
            "workload cap binding",
            id="cap",
        ),
    ],
)
def test_reference_solves_the_hand_cases_of_workload_rules(rules: list[dict], cost: float, family: str) -> None:
    """The reference's workload rules reach tests/test_workload_rules.py's hand-solved
    costs, the rule's family is seen, and the tool agrees."""
    case = _two_clouds(rules)
    found = reference(case)
    assert found.status == "optimal" and found.cost == pytest.approx(cost, rel=1e-9)
    assert family in found.families, found.families
    tool, _ = tool_cost(case)
    assert tool is not None and costs_agree(tool, found.cost)
