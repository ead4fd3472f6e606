"""Every tolerance at which the tool accepts a solver's answer, in one place.

Each is stated in README ("How we know it is right") and docs/data-contract.md; a figure
the tool reports is never looser than these.
"""

from __future__ import annotations

# Branch and bound stops when its proven bound is within this many dollars of the plan...
MIP_ABS_GAP_USD = 1.0
# ...or within this fraction of the problem's scale, whichever is smaller (small test cases).
MIP_REL_GAP = 1e-9
# The objective a solver reports and the cost recomputed from the solution it returns
# (costs times values plus constants) must agree to this fraction of 1 + |cost|.
OBJECTIVE_AGREEMENT = 1e-9


def mip_gap_usd(scale: float) -> float:
    """The absolute optimality gap allowed on a problem whose costs are of size ``scale``."""
    return min(MIP_ABS_GAP_USD, MIP_REL_GAP * max(1.0, abs(scale)))


def objectives_agree(reported: float, recomputed: float) -> bool:
    return abs(reported - recomputed) <= OBJECTIVE_AGREEMENT * (1.0 + abs(recomputed))
