"""Every tolerance shared across modules or stated in the contract, in one place.

Each is stated in README ("How we know it is right") and docs/data-contract.md; a figure
the tool reports is never looser than these. Constants private to one algorithm (the
pivot threshold of cost ranging, the step "just beside" a price) stay beside the code
they tune, each with its reason.
"""

from __future__ import annotations

# Branch and bound stops when its proven bound is within this many dollars of the plan...
MIP_ABS_GAP_USD = 1.0
# ...or within this fraction of the problem's scale, whichever is smaller (small test cases).
MIP_REL_GAP = 1e-9
# The objective a solver reports and the cost recomputed from the solution it returns
# (costs times values plus constants) must agree to this fraction of 1 + |cost|.
OBJECTIVE_AGREEMENT = 1e-9

# HiGHS's default primal feasibility tolerance for LPs: an optimum that breaks its original
# rows by more (presolve can leave such a point) is solved again without presolve.
LP_FEASIBILITY = 1e-7
# The verifier's slack: a constraint holds when its violation is at most this times the
# size of what it compares (at least 1); HiGHS's feasibility tolerances (1e-7 on the scaled
# model) stay well inside it, and the plan's cost must match the objective to it too.
VERIFY_RELATIVE = 1e-6
# The contract's latency rule is rtt + ttft <= slo + this: milliseconds read from decimal
# text should not fall on the wrong side of an SLO they equal.
LATENCY_SLACK_MS = 1e-9
# A solver value below this times its scale (at least 1) is noise, reported as 0.
VALUE_NOISE = 1e-9
# HiGHS's mip_feasibility_tolerance: a value this close to an integer is that integer.
INTEGRALITY = 1e-6
# The optimality certificate (solver/certificate.py): primal residuals relative to
# 1 + |bound|, dual infeasibility and the primal-dual gap relative to 1 + |cost|.
CERTIFICATE = {"primal_residual": 1e-6, "dual_infeasibility": 1e-7, "gap": 1e-7}
# Input checks compare sums of shares and amounts read from decimal text: 0.3 + 0.7 is
# not exactly 1.0 in binary, so a sum counts as over or under only beyond this fraction.
INPUT_SUM_SLACK = 1e-9


def mip_gap_usd(scale: float) -> float:
    """The absolute optimality gap allowed on a problem whose costs are of size ``scale``."""
    return min(MIP_ABS_GAP_USD, MIP_REL_GAP * max(1.0, abs(scale)))


def objectives_agree(reported: float, recomputed: float) -> bool:
    return abs(reported - recomputed) <= OBJECTIVE_AGREEMENT * (1.0 + abs(recomputed))
