"""Terminal rendering of plans with rich: what a planner reads first.

Text from the inputs (names, ids, paths, messages) reaches rich through :func:`literal`, so
its control characters are visible escapes and a ``[`` in it is never read as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from optimizer.errors import Problem
from optimizer.plan.assembly import Plan
from optimizer.reporting.formats import count, pct_change, percent, price, usd, usd_exact
from optimizer.text import visible


def literal(text: str) -> str:
    """Text for a rich markup string that shows as written: control characters made
    visible (:func:`visible`), markup escaped (``[link=...]`` stays text)."""
    return escape(visible(text))


def frame_table(frame: pd.DataFrame, title: str, formats: Mapping[str, Callable[[Any], str]] | None = None) -> Table:
    """A rich table of a DataFrame, numbers right-aligned and formatted per column."""
    formats = formats or {}
    table = Table(title=literal(title), title_justify="left", header_style="bold")
    for column in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        table.add_column(literal(str(column)), justify="right" if numeric else "left", overflow="fold")
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            formatter = formats.get(column)
            if formatter is not None:
                cells.append(formatter(value))
            elif isinstance(value, float):
                cells.append(f"{value:,.4g}")
            else:
                cells.append(str(value))
        table.add_row(*map(literal, cells))
    return table


def show_plan(plan: Plan, console: Console) -> None:
    totals = plan.totals
    head = Table(title="Plan", title_justify="left", show_header=False)
    head.add_column(style="bold")
    head.add_column(justify="right")
    head.add_row("status", totals["status"])
    head.add_row(
        "total cost" + (" (objective)" if totals["discount_rate_per_year"] is None else ", not discounted"),
        usd(totals["total_cost_usd"]),
    )
    head.add_row("compute cost", usd(totals["compute_cost_usd"]))
    head.add_row("unmet-demand penalty", usd(totals["unmet_penalty_usd"]))
    if totals["revenue_usd"] is not None:  # workloads carry a revenue
        head.add_row("revenue lost on unserved demand", usd(totals["lost_revenue_usd"]))
        head.add_row("revenue of the served tokens", usd(totals["revenue_usd"]))
        margin = totals["gross_margin_usd"]
        head.add_row(
            "gross margin (revenue - cost in the horizon)",
            "n/a: not every workload has a revenue" if margin is None else usd(margin),
        )
    if totals["discount_rate_per_year"] is not None:
        head.add_row(
            f"present value at {percent(totals['discount_rate_per_year'])} a year: total cost (objective)",
            usd(totals["total_cost_pv_usd"]),
        )
        head.add_row("present value: compute cost", usd(totals["compute_cost_pv_usd"]))
        if totals["gross_margin_pv_usd"] is not None:
            head.add_row("present value: gross margin", usd(totals["gross_margin_pv_usd"]))
    head.add_row("cost per million served tokens", usd_exact(totals["cost_per_mtok_usd"], 4))
    head.add_row("unmet demand (tokens/s, summed over rows)", count(totals["unmet_tokens_per_s"]))
    for key in ("hhi_provider", "hhi_vendor"):
        head.add_row(f"HHI {key.split('_')[1]} (0-10,000)", count(totals[key]))
    if plan.solution.solver:
        head.add_row("solver", f"{plan.solution.solver} (through PuLP)")
    if plan.certificate is not None and plan.certificate.certified:
        proof = plan.certificate
        head.add_row(
            "optimality certificate",
            f"primal-dual gap {proof.relative_gap:.1e} relative"
            + ("" if proof.mip_relative_gap is None else f", MIP gap {proof.mip_relative_gap:.1e}"),
        )
    elif plan.solution.solver:
        head.add_row("optimality certificate", "none (see below)")
    console.print(head)
    for note in plan.notes:
        console.print(f"[yellow]note:[/yellow] {literal(note)}", highlight=False, soft_wrap=True)
    for basis in plan.inputs.policy.shown_bases():
        for dimension in ("provider", "vendor"):
            mix = plan.share_table(dimension, basis).reset_index()
            formats = {c: percent for c in mix.columns if c != "quarter"}
            console.print(frame_table(mix, f"Mix by {dimension} ({basis} share per quarter)", formats))
    parts = (
        "commitment_cost_usd",
        "sunk_contract_cost_usd",
        "spend_shortfall_usd",
        "spend_discount_usd",
        "port_cost_usd",
        "moving_cost_usd",
    )
    if any(totals.get(key) for key in parts):
        money = Table(title="Where the compute cost goes", title_justify="left", show_header=False)
        money.add_column(style="bold")
        money.add_column(justify="right")
        money.add_row("on demand", usd(totals["on_demand_cost_usd"]))
        money.add_row("commitments (as the objective counts them)", usd(totals["commitment_cost_usd"]))
        money.add_row("  of which after the horizon", usd(totals["commitment_cost_after_horizon_usd"]))
        money.add_row("signed contracts (sunk)", usd(totals["sunk_contract_cost_usd"]))
        money.add_row("spend-commitment shortfalls", usd(totals["spend_shortfall_usd"]))
        money.add_row("minimum-spend discounts (rebated)", usd(-totals["spend_discount_usd"]))
        money.add_row("porting (one-time)", usd(totals["port_cost_usd"]))
        money.add_row("moving between quarters", usd(totals["moving_cost_usd"]))
        console.print(money)
    if not plan.ports.empty:
        ports = plan.ports[["model", "accelerator", "port_quarter", "serves_from", "port_usd"]]
        console.print(frame_table(ports, "Ports started", {"port_usd": usd}))
    if not plan.moves.empty:
        console.print(frame_table(moves_by_group(plan.moves), "What moves (tokens/s, all models)", MOVE_FORMATS))
    if not plan.commitments.empty:
        console.print(
            frame_table(
                plan.commitments.drop(columns=["cost_in_horizon_usd"]),
                "Commitments bought",
                {"chips": count, "usd_per_chip_hour": price, "cost_usd": usd, "cost_after_horizon_usd": usd},
            )
        )
    if not plan.spend_commitments.empty:
        console.print(
            frame_table(
                plan.spend_commitments,
                "Spend commitments",
                {"usd": usd, "usd_in_horizon": usd, "consumed_usd": usd, "shortfall_usd": usd},
            )
        )
    if not plan.spend_discounts.empty:
        console.print(
            frame_table(
                plan.spend_discounts,
                "Minimum-spend discounts",
                {
                    "from_usd": usd,
                    "from_in_horizon_usd": usd,
                    "discount": percent,
                    "spend_usd": usd,
                    "rebate_usd": usd,
                    "to_reach_usd": usd,
                },
            )
        )
    if not plan.budgets.empty and plan.budgets["binding"].any():
        console.print(frame_table(plan.budgets, "Budgets", {"budget_usd": usd, "spend_usd": usd}))
    if not plan.binding_rules.empty:
        rules = plan.binding_rules.assign(limit=plan.binding_rules["limit"].map(percent))
        rules = rules.drop(columns="usd_per_share_point")
        console.print(
            frame_table(rules, "Binding share rules (what each costs: optimizer leverage)", {"share": percent})
        )
    if not plan.unmet.empty:
        unmet = plan.unmet[["workload", "quarter", "tokens_per_s", "unmet_tokens_per_s", "reason"]]
        console.print(frame_table(unmet, "Unmet demand"))


MOVE_FORMATS = {"moved_onto_tokens_per_s": count, "moved_off_tokens_per_s": count, "cost_usd": usd}


def moves_by_group(moves: pd.DataFrame) -> pd.DataFrame:
    """The plan's moves summed over models: per dimension, group and quarter."""
    columns = ["moved_onto_tokens_per_s", "moved_off_tokens_per_s", "cost_usd"]
    return moves.groupby(["dimension", "group", "quarter"], as_index=False)[columns].sum()


def show_warnings(warnings: list[Problem], console: Console) -> None:
    """Each warning as ``summary.json`` writes it (``str(problem)``), after "warning:"."""
    for problem in warnings:
        console.print(f"[yellow]{problem.severity}:[/yellow] {escape(str(problem))}", highlight=False, soft_wrap=True)


def show_leverage(report, console: Console) -> None:
    """Suppliers first (what walking away costs, how far prices can rise), then offers and rules."""
    suppliers = report.suppliers.sort_values(["dimension", "walk_away_cost_usd"], ascending=[True, False])
    columns = [
        "dimension",
        "supplier",
        "spend_usd",
        "share",
        "walk_away_cost_usd",
        "walk_away_cost_no_rules_usd",
        "unserved_if_removed_tokens_per_s",
        "uniform_ceiling_pct",
        "half_volume_pct",
    ]
    console.print(
        frame_table(
            suppliers[columns],
            "Suppliers: cost of walking away, price headroom",
            {
                "spend_usd": usd,
                "share": percent,
                "walk_away_cost_usd": usd,
                "walk_away_cost_no_rules_usd": usd,
                "unserved_if_removed_tokens_per_s": count,
                "uniform_ceiling_pct": pct_change,
                "half_volume_pct": pct_change,
            },
        )
    )
    _show_prices_to_win(report, console)
    offers = report.offer_prices.sort_values("chip_hours", ascending=False)
    columns = [
        "offer",
        "usd_per_chip_hour",
        "chip_hours",
        "chip_hours_at_risk",
        "price_ceiling_usd_per_chip_hour",
        "price_to_win_usd_per_chip_hour",
        "method",
        "rests_on_assumption",
    ]
    console.print(
        frame_table(
            offers[columns],
            "Offers: price ceiling (holds volume) or price to win",
            {
                "usd_per_chip_hour": price,
                "chip_hours": count,
                "chip_hours_at_risk": count,
                "price_ceiling_usd_per_chip_hour": price,
                "price_to_win_usd_per_chip_hour": price,
            },
        )
    )
    if not report.rules.empty:
        rules = report.rules.fillna({"basis": ""}).assign(
            limit=[
                usd(v) if d in ("spend_commitment", "budget") else percent(v)
                for d, v in zip(report.rules["dimension"], report.rules["limit"], strict=True)
            ]
        )
        console.print(
            frame_table(
                rules,
                "Cost of each binding rule (costs overlap: never add them up)",
                {"cost_of_rule_usd": usd, "usd_per_share_point": usd},
            )
        )
    if not report.renewal.empty:
        removed = ", ".join(report.summary.get("renewal_removes", []))
        console.print(
            frame_table(
                report.renewal,
                f"Walking away today and at renewal (without {removed})",
                {
                    "walk_away_cost_usd": usd,
                    "walk_away_cost_at_renewal_usd": usd,
                    "unserved_if_removed_at_renewal_tokens_per_s": count,
                },
            )
        )
    if not report.tiers.empty:
        columns = ["offer", "quarter", "kind", "tier", "chips", "usd_per_chip_hour", "chips_to_next_tier"]
        columns += ["next_usd_per_chip_hour", "saving_at_next_tier_usd", "cost_of_reaching_usd"]
        console.print(
            frame_table(
                report.tiers[columns],
                "Price tiers: the next tier, what it saves and what reaching it costs the plan",
                {
                    "chips": count,
                    "usd_per_chip_hour": price,
                    "chips_to_next_tier": count,
                    "next_usd_per_chip_hour": price,
                    "saving_at_next_tier_usd": usd,
                    "cost_of_reaching_usd": usd,
                },
            )
        )
    if not report.spend_discounts.empty:
        columns = ["provider", "first", "last", "from_in_horizon_usd", "discount", "spend_usd", "reached"]
        columns += ["to_reach_usd", "rebate_usd", "value_usd", "cost_of_reaching_usd"]
        money = {c: usd for c in columns if c.endswith("_usd")}
        console.print(
            frame_table(
                report.spend_discounts[columns],
                "Minimum-spend discounts: what each level is worth, or what reaching it costs the plan",
                {**money, "discount": percent},
            )
        )
    if not report.policy_rules.empty:
        console.print(
            frame_table(
                report.policy_rules,
                "Cost of each policy.yaml share line (removed, in every quarter)",
                {"limit": percent, "limit_without": percent, "cost_of_setting_usd": usd},
            )
        )
    premium = report.summary.get("diversification_premium_usd")
    console.print(f"Diversification premium (all share rules lifted at once): {usd(premium)}", highlight=False)
    flips = report.summary.get("flips_with_commitment_cost") or []
    if flips:
        console.print(
            "Bought or not depending on the terminal-value rule (whole cost vs in-horizon part, "
            f"commitment_cost): {literal(', '.join(flips))}; their figures rest on it",
            highlight=False,
        )
    rate = report.summary.get("discount_rate_per_year")
    if rate is not None:
        console.print(
            f"Walk-away costs, rule costs, capacity values and the premium are present values at {percent(rate)} "
            "a year (differences of the objective); spend and rule limits are undiscounted.",
            highlight=False,
        )
    if not report.outage.empty:
        worst = report.outage.groupby(["dimension", "supplier"], as_index=False)[
            ["stranded_share", "margin_at_risk_usd", "penalty_at_risk_usd"]
        ].max()
        worst = worst.sort_values("stranded_share", ascending=False).rename(
            columns={
                "stranded_share": "worst_quarter_stranded_share",
                "margin_at_risk_usd": "worst_margin_at_risk_usd",
                "penalty_at_risk_usd": "worst_penalty_at_risk_usd",
            }
        )
        days = float(report.outage["outage_days"].iloc[0])
        console.print(
            frame_table(
                worst,
                f"Outage drill: today's chips, one provider or region lost for {days:g} days (policy outage_days)",
                {
                    "worst_quarter_stranded_share": percent,
                    "worst_margin_at_risk_usd": usd,
                    "worst_penalty_at_risk_usd": usd,
                },
            )
        )


def _show_prices_to_win(report, console: Console) -> None:
    """What each supplier, used or not, must cut across its offers to win any volume and
    10% of it, beside the price rise at which its revenue from us peaks."""
    table = report.supplier_price_to_win
    if table.empty:
        return
    peaks = report.suppliers[["dimension", "supplier", "revenue_peak_pct", "revenue_peak_method"]]
    table = table.merge(peaks, on=["dimension", "supplier"], how="left").fillna({"revenue_peak_method": "-"})
    columns = ["dimension", "supplier", "share_pct", "win_any_pct", "win_share_pct", "revenue_peak_pct"]
    columns += ["revenue_peak_method"]
    console.print(
        frame_table(
            table.sort_values(["dimension", "share_pct"], ascending=[True, False])[columns],
            "Suppliers: uniform price cut to win any volume and 10% of it; price at which their revenue from us peaks",
            {
                "share_pct": lambda v: percent(None if pd.isna(v) else v / 100),
                "win_any_pct": pct_change,
                "win_share_pct": pct_change,
                "revenue_peak_pct": pct_change,
            },
        )
    )


def show_room(room, console: Console) -> None:
    """The volume movable away from each supplier at each slack, then the most diversified
    plans and the plan that changes least from the starting fleet."""
    if not room.movable.empty:
        curve = room.movable.pivot_table(
            index=["dimension", "supplier"], columns="slack_pct", values="movable_share", sort=False
        )
        curve.columns = [f"within +{k:g}%" for k in curve.columns]
        console.print(
            frame_table(
                curve.reset_index(),
                "Share of each supplier's volume movable elsewhere, within a cost slack (same demand served)",
                {column: percent for column in curve.columns},
            )
        )
    if not room.diversified.empty:
        console.print(
            frame_table(
                room.diversified,
                "Most diversified plan within the slack: the smallest largest share of the horizon's volume",
                {
                    "slack_pct": pct_change,
                    "largest_share_today": percent,
                    "largest_share": percent,
                    "extra_cost_usd": usd,
                },
            )
        )
    if not room.fleet.empty:
        console.print(
            frame_table(
                room.fleet[["slack_pct", "kept_share_today", "kept_share", "extra_cost_usd"]],
                "Plan within the slack that changes least from the starting fleet: its tokens/s kept where they run",
                {"slack_pct": pct_change, "kept_share_today": percent, "kept_share": percent, "extra_cost_usd": usd},
            )
        )


def show_comparison(table: pd.DataFrame, console: Console) -> None:
    head = table[
        [
            "scenario",
            "total_cost_usd",
            "cost_per_mtok_usd",
            "delta_usd",
            "delta_pct",
            "hhi_provider",
            "hhi_vendor",
            "unmet_tokens_per_s",
        ]
    ]
    console.print(
        frame_table(
            head,
            f"Scenarios against {table['scenario'].iloc[0]}",
            {
                "total_cost_usd": usd,
                "cost_per_mtok_usd": price,
                "delta_usd": usd,
                "delta_pct": pct_change,
                "hhi_provider": count,
                "hhi_vendor": count,
                "unmet_tokens_per_s": count,
            },
        )
    )
    for dimension in ("provider", "vendor"):
        columns = [c for c in table.columns if c.startswith(f"share_{dimension}_")]
        names = {c: c.removeprefix(f"share_{dimension}_") for c in columns}
        shares = table[["scenario"] + columns].rename(columns=names)
        console.print(
            frame_table(
                shares,
                f"Volume share by {dimension} over the horizon",
                {c: percent for c in shares.columns if c != "scenario"},
            )
        )
    walks = [c for c in table.columns if c.startswith("walk_away_")]
    if walks:
        costs = table[["scenario"] + walks].rename(columns={c: c.removeprefix("walk_away_") for c in walks})
        console.print(
            frame_table(
                costs,
                "Walk-away cost by supplier (USD, rules kept)",
                {c: usd for c in costs.columns if c != "scenario"},
            )
        )


def show_sweep(spec, points: pd.DataFrame, summary: pd.DataFrame, console: Console) -> None:
    if spec.grid:
        columns = [c for c in points.columns if c.endswith("change_pct")]
        shares = [c for c in points.columns if c.startswith("share_vendor_")]
        view = points[columns + ["total_cost_usd", "cost_per_mtok_usd", "unmet_tokens_per_s"] + shares]
        console.print(
            frame_table(
                view,
                f"Sweep {spec.name}",
                {
                    "total_cost_usd": usd,
                    "cost_per_mtok_usd": price,
                    "unmet_tokens_per_s": count,
                    **{c: percent for c in shares},
                },
            )
        )
    else:
        formats: dict[str, Callable[[Any], str]] = {f"p{q}": _metric for q in (5, 25, 50, 75, 95)}
        formats.update({"mean": _metric, "used_fraction": lambda v: "-" if pd.isna(v) else f"{v:.0%}"})
        solved = int(points["error"].isna().sum())
        console.print(
            frame_table(
                summary,
                f"Monte Carlo {spec.name}: percentiles over the {solved} of {spec.samples} samples that solved",
                formats,
            )
        )
    failed = int(points["error"].notna().sum())
    if failed:
        console.print(
            f"[yellow]{failed} of {len(points)} point(s) failed (blank figures, reason in the error "
            "column of points.csv)[/yellow]"
        )


def _metric(value) -> str:
    if value is None or pd.isna(value):
        return "-"
    return usd(value) if abs(value) >= 1000 else f"{value:,.4f}"


HEDGE_LABELS = (  # for hedge.HEADLINES, in its order
    "expected cost, hedged plan",
    "expected cost, deterministic plan (today's commitments)",
    "expected cost with hindsight (each draw's own optimum)",
    "value of the stochastic solution (deterministic - hedged)",
    "expected value of perfect information (hedged - hindsight)",
)


def show_hedge(result, console: Console) -> None:
    """The hedged commitments against today's, then VSS, EVPI and the cost spread, in and out of sample."""
    if result.commitments.empty:
        console.print("Neither plan signs any commitment, tier, port or spend level.")
    else:
        console.print(
            frame_table(
                result.commitments.drop(columns=["detail"]),
                "First-stage decisions: the hedged plan against the deterministic one (chips, or 1 = chosen)",
                {"hedged": count, "deterministic": count, "change": count},
            )
        )
    summary = result.summary
    from optimizer.hedge.hedge import HEADLINES

    labels = dict(zip(HEADLINES, HEDGE_LABELS, strict=True))
    headline = summary[summary["metric"].isin(HEADLINES)].assign(metric=lambda frame: frame["metric"].map(labels))
    console.print(
        frame_table(
            headline[["sample", "metric", "value_usd", "ci95_low_usd", "ci95_high_usd", "draws", "infeasible_draws"]],
            "What flexibility is worth (out of sample: fresh draws, 95% interval of the mean)",
            {"value_usd": usd, "ci95_low_usd": usd, "ci95_high_usd": usd},
        )
    )
    spread = summary[summary["metric"].str.contains("_cost_p|_cost_cvar|_margin_p", regex=True)]
    if not spread.empty:
        table = spread.pivot_table(index="metric", columns="sample", values="value_usd", sort=False).reset_index()
        console.print(
            frame_table(
                table,
                f"Distribution of total cost (and margin) per plan; CVaR at {result.cvar_level:.0%}",
                {column: usd for column in table.columns if column != "metric"},
            )
        )
