"""What one more chip-hour is worth where an offer's max_chips binds."""

from __future__ import annotations

from typing import Any

import highspy
import numpy as np
import pandas as pd

from optimizer.analysis.context import Context
from optimizer.model.builder import last_tier_edits, tiered_terms
from optimizer.solver.whatif import Change, ReSolver, WhatIf


def capacity_values(context: Context, plain: ReSolver) -> pd.DataFrame:
    """Value of one more chip-hour where max_chips binds: the dual, checked; for a
    commitment offer, max_chips raised in every quarter (``_commitment_capacity``).

    The dual is the exact saving of one more chip when HiGHS's bound ranging shows the
    optimal basis survives a larger max_chips (method ``dual``); at a degenerate optimum it
    need not, and a re-solve with a little more capacity measures it (``re-solve``). With
    integer decisions, both come from the LP with them fixed at their optimum.
    """
    y, v0 = context.y_today, context.v0
    if not isinstance(plain, WhatIf):  # a mixed-integer plan's re-solver: its LP, integer decisions held
        plain = WhatIf(context.plan, fix_integers=True)
    plain.baseline()
    duals = np.asarray(plain.highs.getSolution().col_dual)[context.columns["y"]]
    status, ranging = plain.highs.getRanging()
    ranged = np.asarray(ranging.col_bound_up.value_) if status == highspy.HighsStatus.kOk else None
    binding = np.flatnonzero((context.max_chips > 0) & (y >= context.max_chips * (1 - 1e-9)))
    committed = (context.terms["term"] != "on-demand").to_numpy()
    records = []
    tiered = tiered_terms(context.plan.model)
    for t in binding[~committed[binding]]:
        dual_value = max(0.0, -duals[t] / context.hours)
        column = int(context.columns["y"][t])
        if not tiered[t] and ranged is not None and ranged[column] > context.max_chips[t] * (1 + 1e-9) + 1e-9:
            value, method = dual_value, "dual"
        else:  # a tiered term's last segment has its own ceiling: raised with max_chips
            step = max(1e-3, 1e-4 * context.max_chips[t])
            outcome = plain.solve(
                Change(
                    col_bounds={column: (context.min_chips[t], context.max_chips[t] + step)},
                    coefficients=last_tier_edits(context.plan.model, int(t), step),
                )
            )
            value, method = max(0.0, (v0 - outcome.objective) / (step * context.hours)), "re-solve"
        records.append(
            {
                "offer": context.terms.loc[t, "offer"],
                "quarter": context.terms.loc[t, "quarter"],
                "max_chips": context.max_chips[t],
                "chips": y[t],
                "value_usd_per_chip_hour": value,
                "method": method,
            }
        )
    for offer in sorted(set(context.terms["offer"].to_numpy()[binding[committed[binding]]])):
        records.append(_commitment_capacity(context, plain, offer))
    columns = ["offer", "quarter", "max_chips", "chips", "value_usd_per_chip_hour", "method"]
    return pd.DataFrame(records, columns=columns)


def _commitment_capacity(context: Context, plain: WhatIf, offer: str) -> dict[str, Any]:
    """Value of capacity of a 1yr/3yr offer: max_chips raised by a step in every quarter it can
    hold chips, per chip-hour added. One quarter's headroom alone is worth nothing to it (a
    commitment holds its chips for 4 or 12 quarters, so it would break max_chips in the
    others): the value lies in a larger max_chips over the term, which is how offers sell.

    value = (V(today) - V(max_chips + step in every quarter)) / (step x H x quarters).
    """
    terms = np.flatnonzero((context.terms["offer"] == offer).to_numpy())
    step = max(1e-3, 1e-4 * float(context.max_chips[terms].max()))
    bounds = {int(context.columns["y"][t]): (context.min_chips[t], context.max_chips[t] + step) for t in terms}
    outcome = plain.solve(Change(col_bounds=bounds))
    quarters = context.terms["quarter"].to_numpy()[terms]
    return {
        "offer": offer,
        "quarter": f"{quarters[0]}-{quarters[-1]}",
        "max_chips": float(context.max_chips[terms].max()),
        "chips": float(context.y_today[terms].max()),
        "value_usd_per_chip_hour": max(0.0, (context.v0 - outcome.objective) / (step * context.hours * len(terms))),
        "method": "re-solve, every quarter",
    }
