"""Compute procurement optimizer: allocate AI inference volume across chips, clouds and regions.

Python API::

    import optimizer
    inputs = optimizer.load("data")
    plan = optimizer.solve(inputs)
    plan.allocation, plan.purchases, plan.shares, plan.totals
    optimizer.solve(inputs, solver="PULP_CBC_CMD")   # another solver PuLP drives
    optimizer.write_model(inputs, "model.mps")        # the model, for audit (.mps or .lp)
"""

from .errors import InputError, OptimizerError, SolveError, VerificationError
from .inputs import Inputs
from .loading import load
from .plan import Plan
from .planner import solve, write_model

__all__ = [
    "InputError",
    "Inputs",
    "OptimizerError",
    "Plan",
    "SolveError",
    "VerificationError",
    "load",
    "solve",
    "write_model",
]
