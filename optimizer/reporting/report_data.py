"""What the finance report shows, gathered once from a verified plan, its leverage report
and (with several scenarios) their comparison; the workbook and the HTML page both draw on it.

Amounts are kept unrounded and rounded only where they are shown; every sum is taken before
rounding, so the compute-spend lines reconcile with the plan's compute cost to the cent, and
the report says whether they do. Also here: the written summary, and what kind of figure
each column holds (dollars, share, percentage points, chips), which both reports format by.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from optimizer.analysis.negotiation import Leverage
from optimizer.analysis.room import Room
from optimizer.hedge.hedge import Hedge
from optimizer.io.tables import named_rows
from optimizer.plan.assembly import Plan
from optimizer.reporting.formats import pct_change, usd

RECONCILE_TOLERANCE_USD = 0.005  # "to the cent"


@dataclass
class ReportData:
    """Everything both reports show."""

    title: str
    summary: list[tuple[str, float, str]]  # (label, value, kind: usd, pct or number)
    reconciliation: list[tuple[str, float]]
    reconciles: bool
    reconciliation_gap_usd: float
    purchases: pd.DataFrame
    allocation: pd.DataFrame
    spend: pd.DataFrame  # dimension, group, quarter, spend_usd
    spend_by_provider: pd.DataFrame  # quarter x provider (USD)
    shares_against_cap: dict[str, pd.DataFrame]  # by basis with rules: quarter x provider (share) + cap
    suppliers: pd.DataFrame
    offer_prices: pd.DataFrame
    rules: pd.DataFrame
    price_response: pd.DataFrame
    scenarios: pd.DataFrame | None
    money: pd.DataFrame = field(default_factory=pd.DataFrame)  # money_by_quarter.csv
    room: Room | None = None  # the negotiating room around the plan (optimizer room), when asked for
    hedge: Hedge | None = None  # an optimizer hedge run's outputs (report --hedge DIR), when given
    narrative: list[str] = field(default_factory=list)


def _shares_against_cap(plan: Plan) -> dict[str, pd.DataFrame]:
    """Provider shares per quarter against the default provider cap, on share_basis and on
    each other basis with rules (each rule is read in its own basis)."""
    policy = plan.inputs.policy
    tables: dict[str, pd.DataFrame] = {}
    for basis in policy.shown_bases():
        shares = plan.share_table("provider", basis)
        shares["cap"] = policy.share_rules(basis).max_share.provider
        tables[basis] = shares.reset_index()
    return tables


def gather(
    plan: Plan, report: Leverage, comparison: pd.DataFrame | None, title: str, room: Room | None = None
) -> ReportData:
    """The report's data from a plan, its leverage report, the scenario comparison (None
    for a single plan) and the negotiating room (None when not asked for)."""
    totals = plan.totals
    total_label = "the plan's objective" if totals["discount_rate_per_year"] is None else "undiscounted"
    spend = plan.shares[["dimension", "group", "quarter", "spend_usd"]].copy()
    in_horizon = float(plan.purchases["cost_usd"].sum() + plan.contracts["cost_usd"].sum())
    lines = [
        ("Compute spend in the horizon (the Spend sheet, by provider)", in_horizon),
        (
            "Commitment payments after the horizon",
            float(totals.get("commitment_cost_after_horizon_usd", 0.0))
            if plan.inputs.policy.commitment_cost == "whole"
            else 0.0,
        ),
        ("Spend-commitment shortfalls", float(totals.get("spend_shortfall_usd", 0.0))),
        ("Minimum-spend discounts (rebated)", -float(totals.get("spend_discount_usd", 0.0))),
        ("Porting (one-time)", float(totals.get("port_cost_usd", 0.0))),
        ("Moving workloads between suppliers (switching costs)", float(totals.get("moving_cost_usd", 0.0))),
    ]
    gap = sum(v for _, v in lines) - float(totals["compute_cost_usd"])
    reconciliation = lines + [
        ("Compute cost (sum of the lines above)", sum(v for _, v in lines)),
        ("Unmet-demand penalty (not a payment: demand left unserved)", float(totals["unmet_penalty_usd"])),
        *(
            [("Revenue lost on unserved demand (not a payment)", float(totals["lost_revenue_usd"]))]
            if totals["lost_revenue_usd"] is not None
            else []
        ),
        (f"Total cost ({total_label})", float(totals["total_cost_usd"])),
    ]
    summary = [
        (
            f"Total cost ({'objective' if totals['discount_rate_per_year'] is None else 'undiscounted'})",
            float(totals["total_cost_usd"]),
            "usd",
        ),
        *_present_values(totals),
        ("Compute cost", float(totals["compute_cost_usd"]), "usd"),
        ("Unmet-demand penalty", float(totals["unmet_penalty_usd"]), "usd"),
        *(
            [
                ("Revenue lost on unserved demand", float(totals["lost_revenue_usd"]), "usd"),
                ("Revenue of the served tokens", float(totals["revenue_usd"]), "usd"),
            ]
            if totals["revenue_usd"] is not None
            else []
        ),
        *(
            [("Gross margin (revenue - cost in the horizon)", float(totals["gross_margin_usd"]), "usd")]
            if totals["gross_margin_usd"] is not None
            else []
        ),
        ("Cost per million served tokens", totals["cost_per_mtok_usd"] or 0.0, "usd"),
        ("Unmet demand (tokens/s, summed over workload rows)", float(totals["unmet_tokens_per_s"]), "number"),
        ("HHI of provider volume shares (0-10,000)", totals["hhi_provider"] or 0.0, "number"),
        ("HHI of vendor volume shares (0-10,000)", totals["hhi_vendor"] or 0.0, "number"),
        (
            "Diversification premium (every share rule lifted)",
            report.summary.get("diversification_premium_usd") or 0.0,
            "usd",
        ),
    ]
    provider_spend = spend[spend["dimension"] == "provider"].pivot_table(
        index="quarter", columns="group", values="spend_usd", aggfunc="sum", fill_value=0.0
    )
    purchases = plan.purchases.merge(
        plan.inputs.accelerators[["accelerator", "name"]].rename(columns={"name": "accelerator_name"}),
        on="accelerator",
        how="left",
    )
    data = ReportData(
        title=title,
        summary=summary,
        reconciliation=reconciliation,
        reconciles=abs(gap) <= RECONCILE_TOLERANCE_USD,
        reconciliation_gap_usd=gap,
        purchases=purchases,
        allocation=plan.allocation,
        spend=spend,
        spend_by_provider=provider_spend.reset_index(),
        shares_against_cap=_shares_against_cap(plan),
        suppliers=report.suppliers,
        offer_prices=report.offer_prices,
        rules=report.rules,
        price_response=report.price_response,
        scenarios=comparison,
        money=plan.money,
        room=room,
    )
    data.narrative = narrative(plan, report, comparison)
    return data


def _present_values(totals: dict) -> list[tuple[str, float, str]]:
    """The summary's present-value lines, under a discount rate."""
    rate = totals["discount_rate_per_year"]
    if rate is None:
        return []
    named = [
        ("total_cost_pv_usd", "Present value of the total cost (the plan's objective)"),
        ("compute_cost_pv_usd", "Present value of the compute cost"),
        ("revenue_pv_usd", "Present value of the revenue"),
        ("gross_margin_pv_usd", "Present value of the gross margin"),
    ]
    lines = [("Discount rate per year", float(rate), "pct")]
    return lines + [(label, float(totals[key]), "usd") for key, label in named if totals[key] is not None]


def narrative(plan: Plan, report: Leverage, comparison: pd.DataFrame | None) -> list[str]:
    """A short written summary generated from the numbers."""
    totals = plan.totals
    quarters = len(plan.inputs.horizon)
    if totals["gross_margin_usd"] is not None:
        opening = (
            f"The margin-maximising plan earns {usd(totals['revenue_usd'])} over {quarters} quarters for "
            f"{usd(totals['compute_cost_usd'])} of compute, a gross margin of {usd(totals['gross_margin_usd'])}"
            f" (compute at {usd(totals['cost_per_mtok_usd'] or 0)} per million served tokens); it leaves demand worth "
            f"{usd(totals['lost_revenue_usd'] or 0)} of revenue unserved (the unmet table says why)."
        )
    else:
        opening = (
            f"The cost-minimal plan costs {usd(totals['total_cost_usd'])} over {quarters} quarters, "
            f"{usd(totals['cost_per_mtok_usd'] or 0)} per million served tokens."
        )
    text = [opening]
    if totals["discount_rate_per_year"] is not None:
        text.append(
            f"At {totals['discount_rate_per_year']:.0%} a year its total cost is worth "
            f"{usd(totals['total_cost_pv_usd'])} today (present value, the figure the plan minimises; "
            "every leverage figure is a present value too)."
        )
    mix = (
        plan.shares[plan.shares["dimension"] == "vendor"]
        .groupby("group")["spend_usd"]
        .sum()
        .sort_values(ascending=False)
    )
    if mix.sum() > 0:
        top = ", ".join(f"{g} {v / mix.sum():.0%}" for g, v in mix.head(3).items())
        text.append(f"Cheapest mix by chip vendor (share of spend): {top}.")
    if not plan.binding_rules.empty:
        rules = plan.binding_rules.groupby(["dimension", "group"])["quarter"].apply(lambda q: ", ".join(sorted(q)))
        listed = "; ".join(
            f"{r.dimension} {r.group} at its limit in {r.quarter}" for r in named_rows(rules.head(4).reset_index())
        )
        text.append(
            f"Binding rules: {listed}. Together they cost "
            f"{usd(report.summary.get('diversification_premium_usd') or 0)}."
        )
    suppliers = report.suppliers.dropna(subset=["walk_away_cost_usd"])
    if not suppliers.empty:
        strongest = suppliers.sort_values("walk_away_cost_usd", ascending=False).iloc[0]
        weakest = suppliers.sort_values("walk_away_cost_usd").iloc[0]
        note = ""
        if (strongest.get("walk_away_penalty_usd") or 0) > 0:  # a policy penalty, not a price
            note = " (mostly the policy's unmet-demand penalty: the threat is not credible)"
        text.append(
            f"Strongest negotiating position against us: {strongest['dimension']} {strongest['supplier']}, "
            f"whom walking away from would cost {usd(strongest['walk_away_cost_usd'])}{note}. "
            f"Weakest: {weakest['dimension']} {weakest['supplier']} "
            f"({usd(weakest['walk_away_cost_usd'])}), whose prices we can press hardest."
        )
    if comparison is not None and len(comparison) > 1:
        moves = comparison.iloc[1:].sort_values("delta_usd")
        best, worst = moves.iloc[0], moves.iloc[-1]
        text.append(
            f"Against {comparison['scenario'].iloc[0]}: {best['scenario']} changes the cost by "
            f"{usd(best['delta_usd'])} ({pct_change(best['delta_pct'])}), {worst['scenario']} by "
            f"{usd(worst['delta_usd'])} ({pct_change(worst['delta_pct'])})."
        )
    return text


def column_kind(column: str) -> str:
    """How a column's numbers are shown, from its name: usd, pct (a share), pct_points, chips or number."""
    if (
        column.endswith("_usd")
        or column.startswith("walk_away_")
        or column == "usd_per_chip_hour"
        or column.endswith("usd_per_chip_hour")
        or column == "usd_per_share_point"
    ):
        return "usd"
    if (
        column in ("share", "limit", "cap")
        or column.startswith("share_")
        or column.endswith(("_share", "_share_today"))
    ):
        return "pct"
    if column.endswith("_pct"):
        return "pct_points"
    if column in ("chips", "max_chips", "used_chips") or column.endswith("chips"):
        return "chips"
    return "number"
