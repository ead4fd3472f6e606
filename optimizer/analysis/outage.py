"""How much demand is stranded when one provider or region fails, today's purchases fixed,
and what that costs over the drill's duration (``outage_days``): the revenue the stranded
tokens would have earned (margin, since the chips are paid for anyway) and, for rows
without a revenue, the policy's penalty."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.analysis.context import Context
from optimizer.solver.whatif import INF, Change, ReSolver

OUTAGE_DIMENSIONS = ("provider", "region")
OUTAGE_COLUMNS = [
    "dimension",
    "supplier",
    "quarter",
    "stranded_tokens_per_s",
    "stranded_share",
    "outage_days",
    "margin_at_risk_usd",
    "penalty_at_risk_usd",
]


def outage_table(context: Context, plain: ReSolver) -> pd.DataFrame:
    """Today's purchases fixed, one provider (or region) lost, rules lifted: demand stranded."""
    y_cols = context.columns["y"]
    fixed = {int(y_cols[t]): (context.y_today[t], context.y_today[t]) for t in range(len(context.terms))}
    lifted = context.rules_lifted()
    capacity_row = dict(
        zip(context.plan.model.rows["capacity"]["t"], context.plan.model.rows["capacity"]["row"], strict=True)
    )
    demand_by_quarter = pd.Series(context.demand).groupby(context.workload_quarter).sum().to_dict()
    policy = context.plan.inputs.policy
    per_token_s = context.plan.inputs.unserved_usd_per_token_s() * policy.outage_days * 24.0 / policy.hours_per_quarter
    records = []
    for dimension in OUTAGE_DIMENSIONS:
        for supplier, terms in sorted(context.terms_of(dimension).items()):
            signed = context.terms["contract_chips"].to_numpy()[terms]
            if context.y_today[terms].sum() + signed.sum() <= 0:
                continue
            bounds = dict(fixed)
            bounds.update({int(y_cols[t]): (0.0, 0.0) for t in terms})
            rows = dict(lifted)
            # signed chips lost too
            rows.update({int(capacity_row[t]): (-INF, 0.0) for t in terms if t in capacity_row})
            outcome = plain.solve(Change(col_bounds=bounds, row_bounds=rows))
            if not outcome.optimal:
                continue
            extra = context.unmet(outcome) - context.u_today
            stranded = (
                pd.DataFrame(
                    {
                        "tokens": extra,
                        "margin": np.where(context.priced, extra * per_token_s, 0.0),
                        "penalty": np.where(context.priced, 0.0, extra * per_token_s),
                    }
                )
                .groupby(context.workload_quarter)
                .sum()
            )
            for quarter, amount in stranded.iterrows():
                tokens = max(0.0, float(amount["tokens"]))
                demand = demand_by_quarter[quarter]
                records.append(
                    {
                        "dimension": dimension,
                        "supplier": supplier,
                        "quarter": quarter,
                        "stranded_tokens_per_s": tokens,
                        "stranded_share": tokens / demand if demand else 0.0,
                        "outage_days": policy.outage_days,
                        "margin_at_risk_usd": max(0.0, float(amount["margin"])),
                        "penalty_at_risk_usd": max(0.0, float(amount["penalty"])),
                    }
                )
    return pd.DataFrame(records, columns=OUTAGE_COLUMNS)
