"""Finance reports: an Excel workbook with native charts and a self-contained HTML page.

Both are built from the same :class:`ReportData`, assembled from a verified plan, its
leverage report and (with several scenarios) their comparison. Amounts are stored
unrounded and rounded only by number formats; every sum is taken before rounding, so the
compute-spend lines reconcile with the plan's compute cost to the cent, and the Summary
sheet says whether they do. Text from the inputs is written as text, never as a formula.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.analysis.negotiation import Leverage
from optimizer.io.tables import named_rows
from optimizer.plan.assembly import Plan
from optimizer.reporting.files import neutralise
from optimizer.reporting.formats import count, pct_change, percent, usd

FIXED_CREATED = datetime(1980, 1, 1)  # the zip epoch, which the workbook's members carry too

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
    shares_against_cap: pd.DataFrame  # quarter x provider (share) + cap
    suppliers: pd.DataFrame
    offer_prices: pd.DataFrame
    rules: pd.DataFrame
    price_response: pd.DataFrame
    scenarios: pd.DataFrame | None
    narrative: list[str] = field(default_factory=list)


def assemble(plan: Plan, report: Leverage, comparison: pd.DataFrame | None, title: str) -> ReportData:
    totals = plan.totals
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
        ("Porting (one-time)", float(totals.get("port_cost_usd", 0.0))),
    ]
    gap = sum(v for _, v in lines) - float(totals["compute_cost_usd"])
    reconciliation = lines + [
        ("Compute cost (sum of the lines above)", sum(v for _, v in lines)),
        ("Unmet-demand penalty (not a payment: demand left unserved)", float(totals["unmet_penalty_usd"])),
        ("Total cost (the plan's objective)", float(totals["total_cost_usd"])),
    ]
    summary = [
        ("Total cost (objective)", float(totals["total_cost_usd"]), "usd"),
        ("Compute cost", float(totals["compute_cost_usd"]), "usd"),
        ("Unmet-demand penalty", float(totals["unmet_penalty_usd"]), "usd"),
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
    shares = plan.shares[plan.shares["dimension"] == "provider"].pivot_table(
        index="quarter",
        columns="group",
        values="volume_share" if plan.inputs.policy.share_basis == "volume" else "spend_share",
        fill_value=0.0,
    )
    shares["cap"] = plan.inputs.policy.max_share.provider
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
        shares_against_cap=shares.reset_index(),
        suppliers=report.suppliers,
        offer_prices=report.offer_prices,
        rules=report.rules,
        price_response=report.price_response,
        scenarios=comparison,
    )
    data.narrative = narrative(plan, report, comparison)
    return data


def narrative(plan: Plan, report: Leverage, comparison: pd.DataFrame | None) -> list[str]:
    """A short written summary generated from the numbers."""
    totals = plan.totals
    text = [
        f"The cost-minimal plan costs {usd(totals['total_cost_usd'])} over "
        f"{len(plan.inputs.horizon)} quarters, {usd(totals['cost_per_mtok_usd'] or 0)} per million served tokens."
    ]
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
        if (strongest.get("unserved_if_removed_tokens_per_s") or 0) > 0:
            note = " (walking away would leave demand unserved: the threat is not credible)"
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


# ---------------------------------------------------------------------------------------------
# Excel


def _kind(column: str) -> str:
    if (
        column.endswith("_usd")
        or column.startswith("walk_away_")
        or column == "usd_per_chip_hour"
        or column.endswith("usd_per_chip_hour")
        or column == "usd_per_share_point"
    ):
        return "usd"
    if column in ("share", "volume_share", "spend_share", "stranded_share", "limit", "cap") or column.startswith(
        "share_"
    ):
        return "pct"
    if column.endswith("_pct"):
        return "pct_points"
    if column in ("chips", "max_chips", "used_chips") or column.endswith("chips"):
        return "chips"
    return "number"


def write_excel(path: Path, data: ReportData) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True})
    # A fixed creation stamp keeps the workbook byte-identical for the same inputs; when the
    # run happened is in manifest.json.
    book.set_properties({"title": "Compute procurement plan", "created": FIXED_CREATED})
    formats = {
        "usd": book.add_format({"num_format": '"$"#,##0.00'}),
        "pct": book.add_format({"num_format": "0.0%"}),
        "pct_points": book.add_format({"num_format": '0.0"%"'}),
        "chips": book.add_format({"num_format": "#,##0.0"}),
        "number": book.add_format({"num_format": "#,##0.00"}),
        "text": book.add_format({}),
        "header": book.add_format({"bold": True, "bottom": 1}),
        "title": book.add_format({"bold": True, "font_size": 14}),
        "bold": book.add_format({"bold": True}),
    }

    summary = book.add_worksheet("Summary")
    summary.write_string(0, 0, neutralise(data.title), formats["title"])
    summary.write_string(2, 0, "Headline", formats["header"])
    summary.write_string(2, 1, "Value", formats["header"])
    for row, (label, value, kind) in enumerate(data.summary, start=3):
        summary.write_string(row, 0, label)
        summary.write_number(row, 1, float(value), formats[kind])
    start = 4 + len(data.summary)
    summary.write_string(start, 0, "Reconciliation (USD, sums before rounding)", formats["header"])
    for row, (label, value) in enumerate(data.reconciliation, start=start + 1):
        summary.write_string(row, 0, label)
        summary.write_number(row, 1, value, formats["usd"])
    check_row = start + 2 + len(data.reconciliation)
    verdict = "yes" if data.reconciles else "NO"
    summary.write_string(
        check_row,
        0,
        f"Compute lines reconcile with the plan's compute cost to the cent: {verdict} "
        f"(difference {data.reconciliation_gap_usd:.6f} USD)",
        formats["bold"],
    )
    for row, sentence in enumerate(data.narrative, start=check_row + 2):
        summary.write_string(row, 0, neutralise(sentence))
    summary.set_column(0, 0, 70)
    summary.set_column(1, 1, 22)
    summary.freeze_panes(3, 0)

    _sheet(book, "Purchases", data.purchases, formats)
    _sheet(book, "Allocation", data.allocation, formats)
    spend_sheet = _sheet(book, "Spend", data.spend, formats)
    pivot_col = len(data.spend.columns) + 1
    _block(spend_sheet, data.spend_by_provider, 0, pivot_col, formats)
    _stacked_spend_chart(book, spend_sheet, data.spend_by_provider, pivot_col)
    shares_col = pivot_col + len(data.spend_by_provider.columns) + 1
    _block(spend_sheet, data.shares_against_cap, 0, shares_col, formats)
    _share_chart(book, spend_sheet, data.shares_against_cap, shares_col)

    leverage = book.add_worksheet("Leverage")
    row = 0
    for title, table in (("Suppliers", data.suppliers), ("Offer prices", data.offer_prices), ("Rules", data.rules)):
        leverage.write_string(row, 0, title, formats["title"])
        _block(leverage, table, row + 1, 0, formats, autofilter=(title == "Suppliers"))
        if title == "Suppliers":
            suppliers_at = row + 1
        row += len(table) + 4
    leverage.freeze_panes(2, 0)
    _walk_away_chart(book, leverage, data.suppliers, suppliers_at)

    response = _sheet(book, "Price response", data.price_response, formats)
    _price_response_chart(book, response, data.price_response)

    if data.scenarios is not None and len(data.scenarios) > 1:
        scenarios = _sheet(book, "Scenarios", data.scenarios, formats)
        _scenario_chart(book, scenarios, data.scenarios)
    book.close()


def _widths(table: pd.DataFrame) -> list[int]:
    widths = []
    for column in table.columns:
        values = table[column].head(200)
        longest = max([len(str(column))] + [len(f"{v:,.2f}") if isinstance(v, float) else len(str(v)) for v in values])
        widths.append(min(max(longest + 2, 8), 48))
    return widths


def _block(sheet, table: pd.DataFrame, top: int, left: int, formats: dict, autofilter: bool = False) -> None:
    """A table at (top, left): header, typed cells (numbers as numbers, text as text)."""
    for j, column in enumerate(table.columns):
        sheet.write_string(top, left + j, neutralise(str(column)), formats["header"])
    kinds = [_kind(str(c)) for c in table.columns]
    for i, record in enumerate(table.itertuples(index=False), start=top + 1):
        for j, value in enumerate(record):
            if value is None or (isinstance(value, float) and pd.isna(value)):
                continue
            if isinstance(value, bool):
                sheet.write_boolean(i, left + j, value)
            elif isinstance(value, int | float):
                sheet.write_number(i, left + j, float(value), formats[kinds[j]])
            else:
                sheet.write_string(i, left + j, neutralise(str(value)))
    for j, width in enumerate(_widths(table)):
        sheet.set_column(left + j, left + j, width)
    if autofilter and len(table.columns):
        sheet.autofilter(top, left, top + max(len(table), 1), left + len(table.columns) - 1)


def _sheet(book, name: str, table: pd.DataFrame, formats: dict):
    sheet = book.add_worksheet(name)
    _block(sheet, table, 0, 0, formats, autofilter=True)
    sheet.freeze_panes(1, 0)
    return sheet


def _stacked_spend_chart(book, sheet, table: pd.DataFrame, left: int) -> None:
    if table.empty or len(table.columns) < 2:  # nothing bought: a chart needs a series
        return
    chart = book.add_chart({"type": "column", "subtype": "stacked"})
    rows = len(table)
    for j in range(1, len(table.columns)):
        chart.add_series(
            {
                "name": ["Spend", 0, left + j],
                "categories": ["Spend", 1, left, rows, left],
                "values": ["Spend", 1, left + j, rows, left + j],
            }
        )
    chart.set_title({"name": "Spend by provider per quarter (USD)"})
    chart.set_y_axis({"num_format": '"$"#,##0,,,"B"'})
    sheet.insert_chart(rows + 3, left, chart, {"x_scale": 1.6, "y_scale": 1.3})


def _share_chart(book, sheet, table: pd.DataFrame, left: int) -> None:
    if table.empty or len(table.columns) < 2:
        return
    chart = book.add_chart({"type": "line"})
    rows = len(table)
    for j, column in enumerate(table.columns[1:], start=1):
        series: dict[str, Any] = {
            "name": ["Spend", 0, left + j],
            "categories": ["Spend", 1, left, rows, left],
            "values": ["Spend", 1, left + j, rows, left + j],
        }
        if column == "cap":
            series["line"] = {"dash_type": "dash", "color": "red", "width": 2}
        chart.add_series(series)
    chart.set_title({"name": "Provider share per quarter against the cap"})
    chart.set_y_axis({"num_format": "0%", "min": 0})
    sheet.insert_chart(rows + 24, left, chart, {"x_scale": 1.6, "y_scale": 1.3})


def _walk_away_chart(book, sheet, table: pd.DataFrame, top: int) -> None:
    if table.empty:
        return
    column = list(table.columns).index("walk_away_cost_usd")
    names = list(table.columns).index("supplier")
    chart = book.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": "Walk-away cost (USD)",
            "categories": ["Leverage", top + 1, names, top + len(table), names],
            "values": ["Leverage", top + 1, column, top + len(table), column],
        }
    )
    chart.set_title({"name": "Cost of walking away, by supplier"})
    chart.set_x_axis({"num_format": '"$"#,##0,,,"B"'})
    chart.set_legend({"none": True})
    sheet.insert_chart(top, len(table.columns) + 1, chart, {"x_scale": 1.5, "y_scale": 1.5})


def _price_response_chart(book, sheet, table: pd.DataFrame) -> None:
    if table.empty or not (table["dimension"] == "provider").any():
        return
    chart = book.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    columns = list(table.columns)
    x, y = columns.index("price_change_pct"), columns.index("supplier_revenue_usd")
    rows = table.reset_index(drop=True)
    for (dimension, supplier), block in rows.groupby(["dimension", "supplier"], sort=False):
        if dimension != "provider":
            continue
        first, last = block.index.min() + 1, block.index.max() + 1
        chart.add_series(
            {
                "name": neutralise(str(supplier)),
                "categories": ["Price response", first, x, last, x],
                "values": ["Price response", first, y, last, y],
            }
        )
    chart.set_title({"name": "Price response: provider revenue from us as its prices move"})
    chart.set_x_axis({"name": "price change (%)"})
    chart.set_y_axis({"name": "revenue (USD)", "num_format": '"$"#,##0,,,"B"'})
    sheet.insert_chart(1, len(columns) + 1, chart, {"x_scale": 1.8, "y_scale": 1.6})


def _scenario_chart(book, sheet, table: pd.DataFrame) -> None:
    columns = list(table.columns)
    names, values = columns.index("scenario"), columns.index("cost_per_mtok_usd")
    chart = book.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": "Cost per million served tokens (USD)",
            "categories": ["Scenarios", 1, names, len(table), names],
            "values": ["Scenarios", 1, values, len(table), values],
        }
    )
    chart.set_title({"name": "Cost per million served tokens by scenario"})
    chart.set_legend({"none": True})
    sheet.insert_chart(len(table) + 3, 0, chart, {"x_scale": 1.6, "y_scale": 1.3})


# ---------------------------------------------------------------------------------------------
# HTML


def figures(data: ReportData) -> dict[str, bytes]:
    """The report's charts as PNG images (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = {}

    def save(name: str, figure) -> None:
        buffer = io.BytesIO()
        figure.tight_layout()
        figure.savefig(buffer, format="png", dpi=110)
        plt.close(figure)
        images[name] = buffer.getvalue()

    spend = data.spend_by_provider.set_index("quarter") / 1e9
    if not spend.empty and len(spend.columns):  # nothing bought: no chart
        figure, axis = plt.subplots(figsize=(9, 4.5))
        spend.plot(kind="bar", stacked=True, ax=axis, width=0.8)
        axis.set_ylabel("USD billions")
        axis.set_title("Spend by provider per quarter")
        axis.legend(ncol=4, fontsize=8)
        save("spend_by_provider", figure)

    shares = data.shares_against_cap.set_index("quarter")
    if not shares.empty and len(shares.columns):
        figure, axis = plt.subplots(figsize=(9, 4.5))
        for column in shares.columns:
            style = {"linestyle": "--", "color": "red", "linewidth": 2} if column == "cap" else {"marker": "o"}
            axis.plot(shares.index, shares[column] * 100, label=column, **style)
        axis.set_ylabel("share of the quarter (%)")
        axis.set_title("Provider share per quarter against the cap")
        axis.legend(ncol=4, fontsize=8)
        save("shares_against_cap", figure)

    suppliers = data.suppliers.dropna(subset=["walk_away_cost_usd"]).sort_values("walk_away_cost_usd")
    if not suppliers.empty:
        figure, axis = plt.subplots(figsize=(9, 0.45 * len(suppliers) + 1.5))
        labels = [f"{d}: {s}" for d, s in zip(suppliers["dimension"], suppliers["supplier"], strict=True)]
        axis.barh(labels, suppliers["walk_away_cost_usd"] / 1e9, color="tab:blue")
        axis.set_xlabel("USD billions over the horizon")
        axis.set_title("Cost of walking away, by supplier")
        save("walk_away", figure)

    response = data.price_response[data.price_response["dimension"] == "provider"]
    if not response.empty:
        figure, axis = plt.subplots(figsize=(9, 4.5))
        for supplier, block in response.groupby("supplier"):
            axis.plot(block["price_change_pct"], block["supplier_revenue_usd"] / 1e9, marker=".", label=supplier)
        axis.set_xlabel("change in all the provider's prices (%)")
        axis.set_ylabel("its revenue from us, USD billions")
        axis.set_title("Price response: where each provider's revenue peaks")
        axis.legend(ncol=4, fontsize=8)
        save("price_response", figure)

    if data.scenarios is not None and len(data.scenarios) > 1:
        figure, axis = plt.subplots(figsize=(9, 4.5))
        axis.bar(data.scenarios["scenario"], data.scenarios["cost_per_mtok_usd"], color="tab:green")
        axis.set_ylabel("USD per million served tokens")
        axis.set_title("Cost per million served tokens by scenario")
        axis.tick_params(axis="x", rotation=30)
        save("scenarios", figure)
    return images


def _html_table(table: pd.DataFrame, limit: int = 60) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    rows = []
    kinds = [_kind(str(c)) for c in table.columns]
    for record in table.head(limit).itertuples(index=False):
        cells = []
        for value, kind in zip(record, kinds, strict=True):
            if value is None or (isinstance(value, float) and pd.isna(value)):
                text = ""
            elif isinstance(value, bool):
                text = str(value)
            elif isinstance(value, int | float):
                text = {
                    "usd": f"${value:,.2f}",
                    "pct": percent(value),
                    "pct_points": f"{value:.1f}%",
                    "chips": f"{value:,.1f}",
                }.get(kind, f"{value:,.2f}")
            else:
                text = str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p class='note'>{len(table) - limit} more rows in the workbook.</p>" if len(table) > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def write_html(path: Path, data: ReportData) -> None:
    images = figures(data)

    def image(name: str) -> str:
        if name not in images:
            return ""
        encoded = base64.b64encode(images[name]).decode("ascii")
        return f'<img alt="{name}" src="data:image/png;base64,{encoded}">'

    summary = "".join(
        f"<tr><td>{html.escape(label)}</td><td>{html.escape(usd(value) if kind == 'usd' else count(value))}</td></tr>"
        for label, value, kind in data.summary
    )
    lines = "".join(
        f"<tr><td>{html.escape(label)}</td><td>{html.escape(f'${value:,.2f}')}</td></tr>"
        for label, value in data.reconciliation
    )
    verdict = "reconcile" if data.reconciles else "do NOT reconcile"
    sections = [
        f"<h1>{html.escape(data.title)}</h1>",
        "<h2>Summary</h2>",
        "".join(f"<p>{html.escape(s)}</p>" for s in data.narrative),
        f"<table>{summary}</table>",
        "<h2>Reconciliation</h2>",
        f"<table>{lines}</table>",
        f"<p>The compute lines {verdict} with the plan's compute cost to the cent "
        f"(difference {data.reconciliation_gap_usd:.6f} USD).</p>",
        "<h2>Spend</h2>",
        image("spend_by_provider"),
        image("shares_against_cap"),
        "<h2>Negotiating position</h2>",
        image("walk_away"),
        _html_table(data.suppliers),
        "<h3>Offer prices</h3>",
        _html_table(data.offer_prices),
        "<h3>Cost of each binding rule (they overlap: never add them up)</h3>",
        _html_table(data.rules),
        "<h2>Price response</h2>",
        image("price_response"),
    ]
    if data.scenarios is not None and len(data.scenarios) > 1:
        sections += [
            "<h2>Scenarios</h2>",
            image("scenarios"),
            _html_table(
                data.scenarios[
                    [
                        "scenario",
                        "description",
                        "total_cost_usd",
                        "cost_per_mtok_usd",
                        "delta_usd",
                        "delta_pct",
                        "unmet_tokens_per_s",
                    ]
                ]
            ),
        ]
    sections += ["<h2>Purchases</h2>", _html_table(data.purchases)]
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:1em 0;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}img{max-width:100%;display:block;margin:1em 0}"
        ".note{color:#666;font-size:12px}"
    )
    page = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(data.title)}</title>"
        f"<style>{style}</style></head><body>{''.join(sections)}</body></html>"
    )
    path.write_text(page, encoding="utf-8")


def make_report(
    data: Path | None = None, scenarios: list[Path] | None = None, workers: int | None = 1, integer: bool = False
) -> ReportData:
    """The report for a data folder (default: the bundled data) or for scenario files (the
    first one's plan and leverage, and every scenario side by side)."""
    from optimizer.analysis.negotiation import leverage
    from optimizer.io.loading import bundled_data, load
    from optimizer.plan.pipeline import solve
    from optimizer.scenarios.comparison import compare, failures
    from optimizer.scenarios.overlays import apply, read_scenario

    if scenarios:
        first = read_scenario(scenarios[0])
        inputs = apply(first)
        comparison = compare(scenarios, workers=workers) if len(scenarios) > 1 else None
        failed = None if comparison is None else failures(comparison, "scenarios")
        if failed:  # a finance report does not show a scenario it could not solve
            raise failed
        comparison = comparison.drop(columns="error") if comparison is not None else None
        title = f"Compute procurement plan: scenario {first.name}"
    else:
        folder = data or bundled_data()
        inputs = load(folder)
        comparison = None
        title = f"Compute procurement plan: {folder}"
    plan = solve(inputs, integer=integer, payback=False)  # the report shows no payback
    return assemble(plan, leverage(inputs, plan), comparison, title)


def report_files(data: ReportData) -> dict[str, Any]:
    """The report's files, one writer per file (for :func:`optimizer.reporting.files.write_outputs`)."""
    return {"report.xlsx": lambda path: write_excel(path, data), "report.html": lambda path: write_html(path, data)}
