"""The MIP re-solver (branch and bound on warm LPs) against HiGHS's own branch and bound,
cold, on the same changed problem: the optimal costs must agree within the MIP gap.

Changes drawn as the leverage analyses make them: one column's cost scaled, on-demand
chips held at their take-or-pay minimum (walking away), a port forbidden or made free,
every share rule lifted. The reference is a fresh ``highspy.Highs`` given the plan's LP
with the change applied, solved as a MIP from scratch; nothing of the re-solver is shared.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import highspy
import numpy as np
import pytest
from conftest import write_folder
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from mip_instances import mip_cases

import optimizer
from optimizer.solver.whatif import Change, MipWhatIf
from optimizer.tolerances import mip_gap_usd

DATA = Path(__file__).resolve().parents[1] / "data"


def cold_mip(plan: optimizer.Plan, change: Change) -> float | None:
    """Optimal cost of the changed problem by a new HiGHS, branch and bound from scratch."""
    lp = plan.solution.highs.getLp()
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", mip_gap_usd(plan.solution.objective) / 10)
    highs.passModel(lp)
    for column, cost in change.cost.items():
        highs.changeColCost(column, cost)
    for column, (lower, upper) in change.col_bounds.items():
        highs.changeColBounds(column, lower, upper)
    for row, (lower, upper) in change.row_bounds.items():
        highs.changeRowBounds(row, lower, upper)
    highs.run()
    status = highs.getModelStatus()
    if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return None
    assert status == highspy.HighsModelStatus.kOptimal, highs.modelStatusToString(status)
    return highs.getInfo().objective_function_value + plan.model.objective_constant


FACTORS = [0.0, 0.3, 0.9, 1.1, 3.0, 30.0]


def changes(plan: optimizer.Plan, choose) -> list[Change]:
    """``choose(n)``: an index below n (hypothesis draws it, or a seeded generator)."""
    columns = plan.solution.columns
    lp = plan.solution.highs.getLp()
    cost = np.asarray(lp.col_cost_)
    drawn = []
    priced = np.concatenate([columns["y"], columns["c"]]).astype(int)
    for _ in range(3 if len(priced) else 0):
        column = int(priced[choose(len(priced))])
        drawn.append(Change(cost={column: cost[column] * FACTORS[choose(len(FACTORS))]}))
    terms = plan.model.terms
    providers = sorted(set(terms["provider"]))
    if providers:
        provider = providers[choose(len(providers))]
        held = np.flatnonzero((terms["provider"] == provider).to_numpy())
        minimum = terms["min_chips"].to_numpy()
        drawn.append(Change(col_bounds={int(columns["y"][t]): (minimum[t], minimum[t]) for t in held}))
    if len(columns["z"]):
        z = int(columns["z"][choose(len(columns["z"]))])
        drawn.append(Change(col_bounds={z: (0.0, 0.0)}))
        drawn.append(Change(cost={z: 0.0}))
    if "share" in plan.model.rows:
        drawn.append(Change(row_bounds={int(r): (-math.inf, math.inf) for r in plan.model.rows["share"]["row"]}))
    return drawn


def assert_same(plan: optimizer.Plan, resolver: MipWhatIf, change: Change) -> None:
    outcome = resolver.solve(change)
    reference = cold_mip(plan, change)
    if reference is None:
        assert not outcome.optimal
        return
    assert outcome.optimal
    # The audit's tolerance (tests/audit.py): costs agree to max($1, 1e-6 of the cost). Both
    # sides prove their optimum only to the LP's feasibility tolerances, which on a $46,070
    # drawn instance already differ by $0.0014, more than its MIP gap of $0.00005.
    assert abs(outcome.objective - reference) <= max(1.0, 1e-6 * abs(reference))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(pair=mip_cases(), data=st.data())
def test_branch_and_bound_on_warm_lps_equals_a_cold_mip(pair, data):
    case, integer = pair
    with tempfile.TemporaryDirectory() as folder:
        inputs = optimizer.load(write_folder(Path(folder) / "case", policy=case.policy_text, **case.tables))
    try:
        plan = optimizer.solve(inputs, integer=integer, payback=False)
    except (optimizer.SolveError, optimizer.VerificationError):
        # No plan to re-solve. A VerificationError here is the tool refusing a plan HiGHS
        # returned, an open finding (spend basis, offer cap: issue notes), not this test's.
        assume(False)
    resolver = MipWhatIf(plan)
    # One copy for every change: warm starts and learnt branchings carry over, as in the report.
    for change in changes(plan, lambda n: data.draw(st.integers(0, n - 1))):
        assert_same(plan, resolver, change)


@pytest.fixture(scope="module")
def bundled_plan() -> optimizer.Plan:
    return optimizer.solve(optimizer.load(DATA), payback=False)


@pytest.mark.parametrize("seed", [0, 1])
def test_branch_and_bound_equals_a_cold_mip_on_the_bundled_data(bundled_plan, seed):
    """The bundled MIP's relaxation is about 10M USD below its optimum, so every change here
    goes through the branch and bound (the warm LPs alone do not close the gap)."""
    resolver = MipWhatIf(bundled_plan)
    rng = np.random.default_rng(seed)
    for change in changes(bundled_plan, lambda n: int(rng.integers(n))):
        assert_same(bundled_plan, resolver, change)
    assert resolver.fallbacks == 0  # none handed over to HiGHS's MIP: the tree stayed small
