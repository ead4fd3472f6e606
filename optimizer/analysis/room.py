"""Negotiating room around the optimum: plans that cost at most a little more than it.

A supplier believes a threat it can check: "we can move 30% of your volume for under 1%
more". For a cost slack k, every plan that keeps every rule, serves each workload row
exactly what today's plan serves (so volume is moved, never dropped) and costs at most
(1 + k) x V (V today's optimal cost, as the objective counts it) is a credible
alternative. Two of them are reported, each the optimum of a linear objective over that
set, solved on a copy of the plan's model with one budget row added:

- per supplier (provider, vendor), the plan that moves the most volume away from it
  (least tokens/s on its offers, summed over the horizon's quarters), at each slack of
  a curve: the volume-movable curve;
- per dimension, the most diversified plan: the smallest largest share of the horizon's
  served tokens/s on any one group (HHI would be quadratic; the largest share stays
  linear, one row per group);
- with a starting fleet, the plan that changes least from it: the most of the fleet's
  tokens/s kept where it runs (each fleet row's offer and model, every quarter).

Every alternative is assembled as a plan and checked by the verifier against the rules
and its claimed cost before a figure of it is reported.

Integer decisions (tiers, ports, whole instances) are held at today's plan by default, so
each solve is an LP: every figure is then room a plan keeping today's signatures has, a
floor on the room with them reopened. Reopened (``hold_integers=False``) each solve is the
full MIP; on the bundled data one of them takes up to a minute against a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.errors import SolveError
from optimizer.model.arrays import dot
from optimizer.plan.assembly import Plan, assemble
from optimizer.plan.verification import verify
from optimizer.solver.lp import solution_from_values
from optimizer.solver.whatif import INF, Change, WhatIf
from optimizer.tolerances import mip_gap_usd

DEFAULT_SLACK = 0.005  # 0.5% of today's cost
CURVE_SLACKS = (0.0, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05)
DIMENSIONS = ("provider", "vendor")
MOVABLE_COLUMNS = [
    "dimension",
    "supplier",
    "slack_pct",
    "budget_usd",
    "volume_today_tokens_per_s",
    "volume_tokens_per_s",
    "movable_tokens_per_s",
    "movable_share",
    "extra_cost_usd",
]
DIVERSIFIED_COLUMNS = [
    "dimension",
    "slack_pct",
    "largest_share_today",
    "largest_group_today",
    "largest_share",
    "largest_group",
    "extra_cost_usd",
]

FLEET_COLUMNS = [
    "slack_pct",
    "fleet_tokens_per_s",
    "kept_today_tokens_per_s",
    "kept_tokens_per_s",
    "kept_share_today",
    "kept_share",
    "extra_cost_usd",
]


@dataclass(frozen=True)
class Room:
    movable: pd.DataFrame  # movable.csv (MOVABLE_COLUMNS)
    diversified: pd.DataFrame  # diversified.csv (DIVERSIFIED_COLUMNS)
    fleet: pd.DataFrame  # fleet_kept.csv (FLEET_COLUMNS; no rows without a starting fleet)
    solves: int


class _Alternatives:
    """A copy of the plan's model restricted to today's service and a cost budget."""

    def __init__(self, plan: Plan, hold_integers: bool = True):
        self.plan = plan
        model = plan.model
        self.n = model.lp.num_col
        self.what = WhatIf(plan, fix_integers=hold_integers)
        self.cost = np.asarray(model.lp.cost, dtype=float)
        paying = np.flatnonzero(self.cost)
        self.budget_row = int(self.add_inactive_rows([(paying, self.cost[paying])])[0])
        u = np.asarray(model.u)
        served = plan.solution.u
        self.hold_service = {int(j): (float(v), float(v)) for j, v in zip(u, served, strict=True)}
        self.zero_costs = {int(j): 0.0 for j in paying}
        self.pair_group = {
            "provider": model.terms["provider"].to_numpy()[model.pairs["t"].to_numpy()],
            "vendor": model.terms["vendor"].to_numpy()[model.pairs["t"].to_numpy()],
        }
        self.x = np.asarray(model.x)
        self.cost_gap = mip_gap_usd(plan.solution.objective)  # the gap WhatIf sets for costs
        self.solves = 0

    def extra(self, cost: float) -> float:
        """What an alternative costs beyond the optimum; 0 within the solver's noise (1e-9 of V)."""
        extra = cost - self.plan.solution.objective
        return 0.0 if abs(extra) <= 1e-9 * max(1.0, abs(self.plan.solution.objective)) else extra

    def add_inactive_rows(self, entries: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Rows -inf <= a x <= inf, switched on by a solve's ``rows``."""
        return self.what.add_rows(np.full(len(entries), -INF), np.full(len(entries), INF), entries)

    def budget(self, slack: float) -> float:
        """(1 + slack) V, less the sunk constant the row cannot see; at least V plus the
        solver's cost tolerance, since at slack 0 a row of 1e10 USD is otherwise infeasible
        by rounding alone."""
        value = self.plan.solution.objective
        return max((1 + slack) * value, value + self.cost_gap) - self.plan.model.objective_constant

    def solve(
        self,
        objective: dict[int, float] | None,
        slack: float,
        rows: dict[int, tuple[float, float]] | None = None,
        columns: dict[int, tuple[float, float]] | None = None,
        gap: float = 1e-9,
        verified: bool = True,
    ) -> tuple[np.ndarray, float] | None:
        """The alternative minimising ``objective`` (None: the plan's own cost) within the
        slack, with extra row and column bounds: its values and cost (``verified``: held
        to every rule and its cost as a plan), or None when HiGHS proves none."""
        self.what.highs.setOptionValue("mip_abs_gap", gap if objective is not None else self.cost_gap)
        change = Change(
            cost={} if objective is None else {**self.zero_costs, **objective},
            col_bounds={**self.hold_service, **(columns or {})},
            row_bounds={self.budget_row: (-INF, self.budget(slack)), **(rows or {})},
        )
        outcome = self.what.solve(change)
        self.solves += 1
        if not outcome.optimal:
            return None
        values = outcome.values[: self.n]
        cost = dot(self.cost, values) + self.plan.model.objective_constant
        if verified:
            self._verify(values, cost)
        return outcome.values, cost

    def cheapest_within(
        self, slack: float, rows: dict[int, tuple[float, float]], columns: dict[int, tuple[float, float]] | None = None
    ) -> tuple[np.ndarray, float] | None:
        """The least-cost plan keeping ``rows`` and ``columns``, limits a first solve within
        ``slack`` reached. The budget row is lifted (that first solve proves a plan within
        it exists, so the cheapest is one too): a budget and a limit both at their optimum
        leave HiGHS a degenerate vertex it can fail to settle. Held to the budget after."""
        found = self.solve(None, slack, rows={self.budget_row: (-INF, INF), **rows}, columns=columns)
        if found is not None and dot(self.cost, found[0][: self.n]) > self.budget(slack) + self.cost_gap:
            raise SolveError(f"the cheapest alternative within {100 * slack:g}% costs more than its budget")
        return found

    def _verify(self, values: np.ndarray, cost: float) -> None:
        """The alternative assembled as a plan and held to every rule and its cost."""
        model = self.plan.model
        no_duals = np.full(model.lp.num_row, np.nan)  # an alternative is not an optimum: its duals mean nothing
        alternative = assemble(model, solution_from_values(model, values, no_duals, cost, method="simplex"))
        verify(
            self.plan.inputs,
            alternative.allocation,
            alternative.purchases,
            cost,
            alternative.commitments,
            alternative.ports,
            alternative.recourse,
            integer=model.integer,
        )

    def volume(self, values: np.ndarray, dimension: str) -> pd.Series:
        """Served tokens/s per group of ``dimension``, summed over the horizon's quarters."""
        return pd.Series(values[self.x]).groupby(self.pair_group[dimension]).sum()


def negotiating_room(
    plan: Plan, slack: float = DEFAULT_SLACK, slacks: tuple[float, ...] = CURVE_SLACKS, hold_integers: bool = True
) -> Room:
    """The volume-movable curve of every supplier with volume today (at ``slacks`` and
    ``slack``), and the most diversified plan of each dimension at ``slack``; integer
    decisions held at today's unless ``hold_integers`` is False (module docstring)."""
    if plan.solution.highs is None:
        raise SolveError("the negotiating room re-solves the plan's HiGHS model: solve it without --solver")
    room = _Alternatives(plan, hold_integers)
    total = float(room.plan.solution.x.sum())
    steps = sorted({*slacks, slack})
    movable, diversified = [], []
    for dimension in DIMENSIONS:
        today = room.volume(plan.solution.x, dimension)
        for supplier, volume_today in today.items():
            if volume_today <= 0:
                continue
            mine = room.x[room.pair_group[dimension] == supplier]
            (limit,) = room.add_inactive_rows([(mine, np.ones(len(mine)))])
            movable += _curve(room, dimension, str(supplier), float(volume_today), int(limit), steps, total)
        diversified.append(_most_diversified(room, dimension, today, slack, total))
    kept = [] if plan.inputs.fleet.empty else [_least_change(room, slack)]
    return Room(
        pd.DataFrame(movable, columns=MOVABLE_COLUMNS),
        pd.DataFrame(diversified, columns=DIVERSIFIED_COLUMNS),
        pd.DataFrame(kept, columns=FLEET_COLUMNS),
        room.solves,
    )


def _curve(
    room: _Alternatives, dimension: str, supplier: str, today: float, limit: int, slacks: list[float], total: float
) -> list[dict]:
    """At each slack the least volume left on ``supplier``, then the least cost at which
    that volume is reached (so the extra cost is what the move needs, not the slack; and
    the verified plan is a cost-minimal one: the first solve, indifferent to cost within
    the budget, may buy what it does not need). All volume solves first, then all cost
    solves, so each starts warm from a basis of the same objective."""
    mine = room.x[room.pair_group[dimension] == supplier]
    volume = {int(j): 1.0 for j in mine}
    leasts = []
    for k in slacks:
        found = room.solve(volume, k, gap=1e-9 * max(total, 1.0), verified=False)
        leasts.append(None if found is None else float(found[0][mine].sum()))
    rows = []
    for k, least in zip(slacks, leasts, strict=True):
        cheapest = None if least is None else room.cheapest_within(k, {limit: (-INF, least)})
        if cheapest is not None:
            least = float(cheapest[0][mine].sum())
        row = {
            "dimension": dimension,
            "supplier": supplier,
            "slack_pct": 100 * k,
            "budget_usd": (1 + k) * room.plan.solution.objective,
            "volume_today_tokens_per_s": today,
            "volume_tokens_per_s": None,
            "movable_tokens_per_s": None,
            "movable_share": None,
            "extra_cost_usd": None,
        }
        if cheapest is not None and least is not None:
            row |= {
                "volume_tokens_per_s": least,
                "movable_tokens_per_s": max(0.0, today - least),
                "movable_share": max(0.0, 1 - least / today),
                "extra_cost_usd": room.extra(cheapest[1]),
            }
        rows.append(row)
    return rows


def _most_diversified(room: _Alternatives, dimension: str, today: pd.Series, slack: float, total: float) -> dict:
    """min s subject to sum_q x[g] <= s, for every group g: the served total is held, so
    s / total is the largest share of the alternative. s is in tokens/s, not a share, so
    each row's coefficients are 1 and -1 (a share t would need -total, about 1e9, beside
    ones: a row that badly scaled let HiGHS stop short of the optimum)."""
    groups = sorted(set(room.pair_group[dimension]))
    (largest,) = room.what.add_columns(np.zeros(1), [([], [])])
    entries = []
    for group in groups:
        mine = room.x[room.pair_group[dimension] == group]
        entries.append((np.append(mine, largest), np.append(np.ones(len(mine)), -1.0)))
    rows = {int(r): (-INF, 0.0) for r in room.add_inactive_rows(entries)}
    found = room.solve({int(largest): 1.0}, slack, rows=rows, verified=False)
    if found is not None:  # the least cost at that largest volume, a plan the verifier checks
        found = room.cheapest_within(slack, rows, columns={int(largest): (0.0, float(found[0][largest]))})
    share_today, group_today = _largest(today / total) if total > 0 and len(today) else (None, None)
    row = {
        "dimension": dimension,
        "slack_pct": 100 * slack,
        "largest_share_today": share_today,
        "largest_group_today": group_today,
        "largest_share": None,
        "largest_group": None,
        "extra_cost_usd": None,
    }
    if found is not None and total > 0:
        share_found, group_found = _largest(room.volume(found[0], dimension) / total)
        row |= {"largest_share": share_found, "largest_group": group_found, "extra_cost_usd": room.extra(found[1])}
    return row


def _largest(shares: pd.Series) -> tuple[float, str]:
    """The largest share and every group at it within 1e-7 (an even spread ties them all)."""
    top = float(shares.max())
    return top, ", ".join(str(group) for group in shares.index[shares >= top - 1e-7])


def _least_change(room: _Alternatives, slack: float) -> dict:
    """The most of the starting fleet kept where it runs: per fleet row (offer o, model m,
    F tokens/s) and quarter q a column d >= 0 with sum of x[w, o, q] over m's workloads
    + d >= F; min sum d is the fleet volume the alternative takes elsewhere (or leaves).
    What a plan keeps is read from its x, sum of min(F, served), not from d."""
    model = room.plan.model
    pairs = model.pairs.assign(model=model.workloads["model"].to_numpy()[model.pairs["w"].to_numpy()])
    quarters = sorted(model.workloads["quarter"].unique())
    fleet = room.plan.inputs.fleet.groupby(["offer", "model"], as_index=False)["tokens_per_s"].sum()
    targets = [
        (str(offer), str(name), q, float(f))
        for offer, name, f in fleet[["offer", "model", "tokens_per_s"]].itertuples(index=False)
        for q in quarters
        if f > 0
    ]
    positions = [
        room.x[((pairs["offer"] == offer) & (pairs["model"] == name) & (pairs["quarter"] == q)).to_numpy()]
        for offer, name, q, _ in targets
    ]
    amounts = np.array([amount for *_, amount in targets])

    def kept(values: np.ndarray) -> float:
        return float(np.minimum(amounts, [values[cols].sum() for cols in positions]).sum())

    shortfall = room.what.add_columns(np.zeros(len(targets)), [([], [])] * len(targets))
    entries = [
        (np.append(cols, d), np.append(np.ones(len(cols)), 1.0)) for cols, d in zip(positions, shortfall, strict=True)
    ]
    rows = {int(r): (float(f), INF) for r, f in zip(room.add_inactive_rows(entries), amounts, strict=True)}
    (total_row,) = room.add_inactive_rows([(shortfall, np.ones(len(shortfall)))])
    fleet_total = float(amounts.sum())
    values_today = np.zeros(room.n)
    values_today[room.x] = room.plan.solution.x
    today = kept(values_today)
    row = {
        "slack_pct": 100 * slack,
        "fleet_tokens_per_s": fleet_total,
        "kept_today_tokens_per_s": today,
        "kept_tokens_per_s": None,
        "kept_share_today": today / fleet_total if fleet_total > 0 else None,
        "kept_share": None,
        "extra_cost_usd": None,
    }
    found = room.solve({int(d): 1.0 for d in shortfall}, slack, rows=rows, verified=False)
    if found is not None:
        least = float(found[0][shortfall].sum())
        found = room.cheapest_within(slack, {**rows, int(total_row): (-INF, least)})
    if found is not None and fleet_total > 0:
        row |= {
            "kept_tokens_per_s": kept(found[0]),
            "kept_share": kept(found[0]) / fleet_total,
            "extra_cost_usd": room.extra(found[1]),
        }
    return row
