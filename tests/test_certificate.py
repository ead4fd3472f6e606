"""The optimality certificate: closed-form figures on a hand-worked case, and refusals.

Hand case: one quarter (2190 h), demand 100 tokens/s, 10 tokens/s per chip, so 10 chips.
Offer ``cheap`` ($1/chip-h) sells at most 5; ``dear`` ($3/chip-h) the rest. Optimal cost
(5 x 1 + 5 x 3) x 2190 = 43,800. The same plan all on ``dear`` costs 10 x 3 x 2190 = 65,700,
a primal-feasible point whose gap to the optimal dual must be 21,900.
"""

from __future__ import annotations

import highspy
import numpy as np
import pytest
from conftest import offer, workload

import optimizer
from optimizer.errors import SolveError
from optimizer.solver import certificate

HAND = dict(
    accelerators=[{"accelerator": "a", "vendor": "v"}],
    offers=[offer("cheap", "p1", "r1", "a", 1.0, 5), offer("dear", "p2", "r2", "a", 3.0, 100)],
    performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 10, "ttft_ms": 100}],
    workloads=[workload("w", "2026Q1", 100)],
    latency=[{"geography": "g", "region": "r1", "rtt_ms": 10}, {"geography": "g", "region": "r2", "rtt_ms": 10}],
)


def test_hand_case_certified_with_closed_form_objectives(solve_case):
    plan = solve_case(**HAND)
    proof = plan.certificate
    assert proof.certified and proof.lp == "as solved" and proof.mip_relative_gap is None
    assert proof.primal_objective_usd == pytest.approx(43_800, rel=1e-12)
    assert proof.dual_objective_usd == pytest.approx(43_800, rel=1e-12)
    assert abs(proof.gap_usd) < 1e-6


def test_a_feasible_but_dearer_plan_fails_its_certificate(solve_case):
    plan = solve_case(**HAND)
    highs, columns = plan.solution.highs, plan.solution.columns
    x = np.array(highs.getSolution().col_value)
    offers = list(plan.model.pairs["offer"])
    terms = list(plan.model.terms["offer"])
    x[columns["x"][offers.index("cheap")]], x[columns["x"][offers.index("dear")]] = 0.0, 100.0
    x[columns["y"][terms.index("cheap")]], x[columns["y"][terms.index("dear")]] = 0.0, 10.0
    proof = certificate.certify_duals(highs.getLp(), x, np.array(highs.getSolution().row_dual))
    assert proof.max_primal_residual == 0.0
    assert proof.primal_objective_usd == pytest.approx(65_700, rel=1e-12)
    assert proof.gap_usd == pytest.approx(21_900, rel=1e-9)
    assert not proof.certified


def test_duals_of_the_wrong_sign_are_dual_infeasible(solve_case):
    plan = solve_case(**HAND)
    highs = plan.solution.highs
    duals = -np.array(highs.getSolution().row_dual)  # the demand row's dual (657 $ per token/s) flipped
    proof = certificate.certify_duals(highs.getLp(), np.array(highs.getSolution().col_value), duals)
    assert proof.max_dual_infeasibility > 1e-3 and not proof.certified


def test_an_uncertified_optimum_is_refused(solve_case, monkeypatch):
    real = certificate.certify

    def failing(highs, arrays, constant=0.0):
        return certificate.Certificate(
            **{**real(highs, arrays, constant).__dict__, "relative_gap": 1e-3, "certified": False}
        )

    monkeypatch.setattr("optimizer.plan.pipeline.certify", failing)
    with pytest.raises(SolveError, match="failed its optimality certificate"):
        solve_case(**HAND)


def test_bundled_mip_plan_is_certified_with_its_integers_fixed():
    plan = optimizer.solve(optimizer.load(optimizer.bundled_data()), payback=False)
    proof = plan.certificate
    assert proof.lp == "integer decisions fixed" and proof.certified
    assert proof.mip_relative_gap <= 1e-6
    assert proof.primal_objective_usd == pytest.approx(plan.totals["total_cost_pv_usd"], rel=1e-12)  # the objective


def test_dual_infeasibility_is_relative_to_each_column_not_to_the_largest_cost():
    """min x1 + 1e12 x2 s.t. x1 + x2 >= 1, x >= 0: x1 = 1, row dual 1. Handed a row dual of
    1.001, x1's reduced cost is 1 - 1.001 = -0.001 with no upper bound to price it. Against
    its own column (1 + |c| + |a y| = 1 + 1 + 1.001) that is 0.001 / 3.001 = 3.3e-4, far
    above tolerance; scaled by the largest cost (1e12) it would read 1e-15 and pass."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 2, 1
    lp.col_cost_ = np.array([1.0, 1e12])
    lp.col_lower_, lp.col_upper_ = np.zeros(2), np.full(2, highspy.kHighsInf)
    lp.row_lower_, lp.row_upper_ = np.array([1.0]), np.array([highspy.kHighsInf])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array([0, 1, 2], dtype=np.int32)
    lp.a_matrix_.index_ = np.array([0, 0], dtype=np.int32)
    lp.a_matrix_.value_ = np.array([1.0, 1.0])
    proof = certificate.certify_duals(lp, np.array([1.0, 0.0]), np.array([1.001]))
    assert proof.max_dual_infeasibility == pytest.approx(0.001 / 3.001, rel=1e-9)
    assert not proof.certified
