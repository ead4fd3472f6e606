"""Solving the model and proving the answer.

HiGHS set-up in one place (``highs``), the solve and its status checks (``lp``), other
solvers driven through PuLP (``external``), the optimality certificate checked from the
duals (``certificate``), the conflicting rules behind an infeasible model
(``infeasibility``) and warm re-solves of a solved model with changed inputs
(``whatif``), which every leverage figure and port payback is built on.
"""
