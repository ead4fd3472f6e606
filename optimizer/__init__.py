"""Compute procurement optimizer: allocate AI inference volume across chips, clouds and regions.

The public API is the names below; the subpackages behind them (``io``, ``model``,
``solver``, ``plan``, ``analysis``, ``scenarios``, ``hedge``, ``reporting``) may move between
versions. ::

    import optimizer
    inputs = optimizer.load("data")
    plan = optimizer.solve(inputs)
    plan.allocation, plan.purchases, plan.shares, plan.totals
    optimizer.solve(inputs, solver="PULP_CBC_CMD")   # another solver PuLP drives
    optimizer.write_model(inputs, "model.mps")        # the model, for audit (.mps or .lp)
    report = optimizer.leverage(inputs, plan)         # walk-away costs, price ceilings, ...
    room = optimizer.negotiating_room(plan)           # volume movable within 0.5% more cost
    sweep, base = optimizer.read_sweep("scenarios/sweeps/open-questions.yaml")
    hedged = optimizer.hedge(sweep, base, samples=20)   # commitments hedged over the draws
    table = optimizer.compare(["scenarios/base.yaml", optimizer.Scenario(...)])
"""

import logging

from optimizer.analysis.negotiation import Leverage, leverage
from optimizer.analysis.room import Room, negotiating_room
from optimizer.errors import InputError, OptimizerError, Problem, SolveError, VerificationError
from optimizer.hedge.hedge import Hedge, hedge
from optimizer.io.loading import bundled_data, load
from optimizer.io.tables import Inputs
from optimizer.plan.assembly import Plan
from optimizer.plan.pipeline import solve, write_model
from optimizer.scenarios.comparison import compare
from optimizer.scenarios.overlays import Add, PolicyChange, Remove, Scale, Scenario, Set, apply, read_scenario
from optimizer.scenarios.sweeps import read_sweep, run_sweep

# A library logs to the "optimizer" logger and leaves handlers to the application: without
# this, Python's last-resort handler would print its warnings to stderr beside the CLI's own.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "Add",
    "Hedge",
    "InputError",
    "Inputs",
    "Leverage",
    "OptimizerError",
    "Plan",
    "PolicyChange",
    "Problem",
    "Remove",
    "Room",
    "Scale",
    "Scenario",
    "Set",
    "SolveError",
    "VerificationError",
    "apply",
    "bundled_data",
    "compare",
    "hedge",
    "leverage",
    "load",
    "negotiating_room",
    "read_scenario",
    "read_sweep",
    "run_sweep",
    "solve",
    "write_model",
]
