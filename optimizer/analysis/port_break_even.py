"""Per port: the largest one-time cost its savings repay, and the cut in its chip's prices
at which porting is chosen."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.analysis.context import Context, full_copy
from optimizer.analysis.price_pieces import MAX_SWITCHES
from optimizer.plan.ports import port_columns
from optimizer.solver.whatif import Change, MipWhatIf, Outcome, ReSolver

CUT_STEP = 1e-3  # percentage points either side of a porting cut's crossing, checked by full re-solves


@dataclass(frozen=True)
class BreakEvens:
    table: pd.DataFrame  # ports.csv's rows for this part, indexed by port
    solves: int


def break_evens(context: Context, part: int = 0, parts: int = 1) -> BreakEvens:
    """For every pair that needs porting: the largest one-time cost its savings repay over
    the horizon, and the smallest cut in its chip's prices at which porting at the stated
    cost is chosen (full re-solves, integer decisions included). ``part`` of ``parts``:
    every parts-th port from the part-th, so the work splits over threads."""
    plan = context.plan
    columns = [
        "model",
        "accelerator",
        "port_usd",
        "port_quarters",
        "ported",
        "break_even_port_usd",
        "price_cut_to_port_pct",
        "price_cut_not_ported_pct",
    ]
    if plan.model.ports.empty:
        return BreakEvens(pd.DataFrame(columns=columns), solves=0)
    whatif = full_copy(context)
    records, index = [], []
    for port in range(part, len(plan.model.ports), parts):
        item = plan.model.ports.iloc[port]
        z = port_columns(plan, port)
        chosen = bool(plan.solution.z[np.isin(plan.solution.columns["z"], z)].sum() > 0.5)
        never = whatif.solve(Change(col_bounds={int(c): (0.0, 0.0) for c in z}))
        free = whatif.solve(Change(cost={int(c): 0.0 for c in z}))
        break_even = never.objective - free.objective if never.optimal and free.optimal else None
        offers = sorted(set(context.terms.loc[context.terms["accelerator"] == item["accelerator"], "offer"]))
        records.append(
            {
                "model": item["model"],
                "accelerator": item["accelerator"],
                "port_usd": item["port_usd"],
                "port_quarters": item["port_quarters"],
                "ported": chosen,
                "break_even_port_usd": max(0.0, break_even) if break_even is not None else None,
                **dict(
                    zip(
                        ["price_cut_to_port_pct", "price_cut_not_ported_pct"],
                        (0.0, None) if chosen else _cut_to_port(context, whatif, z, offers),
                        strict=True,
                    )
                ),
            }
        )
        index.append(port)
    return BreakEvens(pd.DataFrame(records, columns=columns, index=index), whatif.solves)


def _cut_to_port(
    context: Context, whatif: ReSolver, z: np.ndarray, offers: list[str]
) -> tuple[float | None, float | None]:
    """Smallest cut (%) in the prices of the chip's offers proven to make the port chosen, and
    the largest proven not to (None, None: not even at 90%).

    Both ends are full re-solves. Between a cut where it is not chosen (integer choice z_lo)
    and one where it is (z_hi), the LPs with each choice held give the candidate, the cut at
    which they cost the same (bisection on the two cheap LPs); full re-solves CUT_STEP
    either side confirm it, or replace one end with a new integer choice and repeat.
    """
    costs = context.costs_of(offers)
    links = context.links_of(costs["column"].to_numpy())
    held = whatif.held if isinstance(whatif, MipWhatIf) else whatif
    integers = whatif.integers if isinstance(whatif, MipWhatIf) else np.array([], int)

    def change(cut: float, values: np.ndarray | None = None) -> Change:
        factor = 1 - cut / 100
        fixed = (
            {}
            if values is None
            else {int(c): (float(v), float(v)) for c, v in zip(integers, np.round(values[integers]), strict=True)}
        )
        return Change(
            cost={int(c): v * factor for c, v in zip(costs["column"], costs["cost"], strict=True)},
            col_bounds=fixed,
            coefficients={(row, col): (value * factor, value) for row, col, value in links},
        )

    def ported(outcome: Outcome) -> bool:
        return outcome.optimal and float(outcome.values[z].sum()) > 0.5

    def held_cost(cut: float, values: np.ndarray | None) -> float:
        outcome = held.solve(change(cut, values))
        return outcome.objective if outcome.optimal else math.inf

    top = whatif.solve(change(90.0))
    if not ported(top):
        return None, None
    low, high, low_values, high_values = 0.0, 90.0, None, top.values  # None: today's choice
    for _ in range(MAX_SWITCHES):
        a, b = low, high  # the two choices' LPs: not ported cheaper at a, ported cheaper at b
        while b - a > CUT_STEP / 10:
            middle = (a + b) / 2
            if held_cost(middle, high_values) < held_cost(middle, low_values):
                b = middle
            else:
                a = middle
        below, above = max(low, a - CUT_STEP), min(high, b + CUT_STEP)
        at_below, at_above = whatif.solve(change(below)), whatif.solve(change(above))
        if ported(at_below):
            high, high_values = below, at_below.values
        elif not ported(at_above):
            low, low_values = above, at_above.values
        else:
            return above, below
        if high - low <= 2 * CUT_STEP:
            break
    return high, low
