"""The Excel workbook (xlsxwriter): typed cells, number formats and native charts.

Numbers are written as numbers, formatted by their column's kind; text from the inputs is
written as text, its control characters made visible, never as a formula (see
:func:`optimizer.reporting.files.cell`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.reporting.files import cell
from optimizer.reporting.formats import usd_exact
from optimizer.reporting.report_data import ReportData, column_kind

FIXED_CREATED = datetime(1980, 1, 1)  # the zip epoch, which the workbook's members carry too


def write_excel(path: Path, data: ReportData) -> None:
    """Summary, Purchases, Allocation, Spend, Leverage, Price response, Negotiating room
    (when gathered) and, with several scenarios, Scenarios: one sheet each."""

    book = _new_book(path, "Compute procurement plan")
    formats = _formats(book)

    summary = book.add_worksheet("Summary")
    summary.write_string(0, 0, cell(data.title), formats["title"])
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
        f"(difference {usd_exact(data.reconciliation_gap_usd, 6)})",
        formats["bold"],
    )
    for row, sentence in enumerate(data.narrative, start=check_row + 2):
        summary.write_string(row, 0, cell(sentence))
    summary.set_column(0, 0, 70)
    summary.set_column(1, 1, 22)
    summary.freeze_panes(3, 0)

    if not data.money.empty:
        _sheet(book, "Money by quarter", data.money, formats)
    _sheet(book, "Purchases", data.purchases, formats)
    _sheet(book, "Allocation", data.allocation, formats)
    spend_sheet = _sheet(book, "Spend", data.spend, formats)
    pivot_col = len(data.spend.columns) + 1
    _block(spend_sheet, data.spend_by_provider, 0, pivot_col, formats)
    _stacked_spend_chart(book, spend_sheet, data.spend_by_provider, pivot_col)
    shares_col = pivot_col + len(data.spend_by_provider.columns) + 1
    for basis, shares in data.shares_against_cap.items():
        _block(spend_sheet, shares, 0, shares_col, formats)
        _share_chart(book, spend_sheet, shares, shares_col, basis)
        shares_col += len(shares.columns) + 1

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

    if data.room is not None:
        room = _sheet(book, "Negotiating room", data.room.movable, formats)
        below = len(data.room.movable) + 3
        room.write_string(below - 1, 0, "Most diversified plan within the slack", formats["title"])
        _block(room, data.room.diversified, below, 0, formats)
        if not data.room.fleet.empty:
            below += len(data.room.diversified) + 3
            room.write_string(below - 1, 0, "Plan that changes least from the starting fleet", formats["title"])
            _block(room, data.room.fleet, below, 0, formats)
        _room_chart(book, room, data.room.movable)

    if data.hedge is not None:
        _hedge_sheet(book, data.hedge.summary, data.hedge.commitments, data.hedge.draws, formats)

    if data.scenarios is not None and len(data.scenarios) > 1:
        scenarios = _sheet(book, "Scenarios", data.scenarios, formats)
        _scenario_chart(book, scenarios, data.scenarios)
    book.close()


def _new_book(path: Path, title: str):
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True})
    # A fixed creation stamp keeps the workbook byte-identical for the same inputs; when the
    # run happened is in manifest.json.
    book.set_properties({"title": title, "created": FIXED_CREATED})
    return book


def _formats(book) -> dict:
    return {
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


def write_hedge_excel(path: Path, summary: pd.DataFrame, commitments: pd.DataFrame, draws: pd.DataFrame) -> None:
    """Hedge (VSS, EVPI, cost spread) with the cost distribution of the hedged and the
    deterministic plan as a chart, Commitments (first stage of both plans) and Draws."""
    book = _new_book(path, "Two-stage plan: hedged commitments")
    formats = _formats(book)
    _hedge_sheet(book, summary, commitments, draws, formats)
    _sheet(book, "Draws", draws, formats)
    book.close()


def _hedge_sheet(book, summary: pd.DataFrame, commitments: pd.DataFrame, draws: pd.DataFrame, formats: dict) -> None:
    """The summary, the first-stage decisions below it, and the cost distribution chart beside."""
    sheet = _sheet(book, "Hedge", summary, formats)
    below = len(summary) + 3
    sheet.write_string(below - 1, 0, "First-stage decisions: hedged against deterministic", formats["title"])
    _block(sheet, commitments, below, 0, formats)
    _cost_distribution_chart(book, sheet, draws, max(len(summary.columns), len(commitments.columns)) + 1, formats)


def _cost_distribution_chart(book, sheet, draws: pd.DataFrame, left: int, formats: dict) -> None:
    """Each plan's costs over the fresh draws (the in-sample ones when there are none),
    sorted, against the share of draws at or below: the empirical distribution function."""
    sample = "out" if (draws["sample"] == "out").any() else "in"
    chosen = draws[draws["sample"] == sample]
    if chosen.empty:
        return
    n = len(chosen)
    curves = pd.DataFrame(
        {
            "share_of_draws": (pd.RangeIndex(n) + 1) / n,
            "hedged_cost_usd": sorted(chosen["hedged_cost_usd"]),
            "deterministic_cost_usd": sorted(chosen["deterministic_cost_usd"]),
        }
    )
    top = 0
    _block(sheet, curves, top, left, formats)
    chart = book.add_chart({"type": "scatter", "subtype": "straight"})
    for k, plan in ((1, "hedged plan"), (2, "deterministic plan")):
        chart.add_series(
            {
                "name": plan,
                "categories": [sheet.name, top + 1, left + k, top + n, left + k],
                "values": [sheet.name, top + 1, left, top + n, left],
            }
        )
    where = "fresh" if sample == "out" else "in-sample"
    chart.set_title({"name": f"Cost distribution over the {where} draws"})
    largest = float(curves[["hedged_cost_usd", "deterministic_cost_usd"]].abs().max().max())
    chart.set_x_axis({"name": "total cost (USD)", "num_format": _scaled_usd(largest)})
    chart.set_y_axis({"name": "share of draws at or below", "num_format": "0%", "min": 0, "max": 1})
    sheet.insert_chart(n + 3, left, chart, {"x_scale": 1.6, "y_scale": 1.4})


def _scaled_usd(largest: float) -> str:
    """An Excel number format in the unit the figures need: B, M or k of dollars."""
    for commas, unit, size in ((",,,", "B", 1e9), (",,", "M", 1e6), (",", "k", 1e3)):
        if largest >= size:
            return f'"$"#,##0.0{commas}"{unit}"'
    return '"$"#,##0'


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
        sheet.write_string(top, left + j, cell(str(column)), formats["header"])
    kinds = [column_kind(str(c)) for c in table.columns]
    for i, record in enumerate(table.itertuples(index=False), start=top + 1):
        for j, value in enumerate(record):
            if value is None or (isinstance(value, float) and pd.isna(value)):
                continue
            if isinstance(value, bool):
                sheet.write_boolean(i, left + j, value)
            elif isinstance(value, int | float):
                sheet.write_number(i, left + j, float(value), formats[kinds[j]])
            else:
                sheet.write_string(i, left + j, cell(str(value)))
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


def _share_chart(book, sheet, table: pd.DataFrame, left: int, basis: str) -> None:
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
    chart.set_title({"name": f"Provider share of {basis} per quarter against the cap"})
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
    chart = _curves_chart(
        book,
        "Price response",
        table,
        "price_change_pct",
        "supplier_revenue_usd",
        lambda dimension, supplier: str(supplier) if dimension == "provider" else None,
    )
    chart.set_title({"name": "Price response: provider revenue from us as its prices move"})
    chart.set_x_axis({"name": "price change (%)"})
    chart.set_y_axis({"name": "revenue (USD)", "num_format": '"$"#,##0,,,"B"'})
    sheet.insert_chart(1, len(table.columns) + 1, chart, {"x_scale": 1.8, "y_scale": 1.6})


def _room_chart(book, sheet, table: pd.DataFrame) -> None:
    """Volume-movable curves: each supplier's movable share against the cost slack."""
    if table.empty:
        return
    chart = _curves_chart(
        book,
        "Negotiating room",
        table,
        "slack_pct",
        "movable_share",
        lambda dimension, supplier: f"{dimension}: {supplier}",
    )
    chart.set_title({"name": "Share of each supplier's volume movable elsewhere, against the extra cost allowed"})
    chart.set_x_axis({"name": "cost slack (% of the optimum)"})
    chart.set_y_axis({"name": "movable share", "num_format": "0%", "min": 0, "max": 1})
    sheet.insert_chart(1, len(table.columns) + 1, chart, {"x_scale": 1.8, "y_scale": 1.6})


def _curves_chart(book, sheet_name: str, table: pd.DataFrame, x_column: str, y_column: str, label):
    """A scatter chart with one line per (dimension, supplier) block of ``table``, written at
    the top left of ``sheet_name``; ``label`` names a block's series, or None to leave it out."""
    chart = book.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    columns = list(table.columns)
    x, y = columns.index(x_column), columns.index(y_column)
    rows = table.reset_index(drop=True)
    for (dimension, supplier), block in rows.groupby(["dimension", "supplier"], sort=False):
        name = label(dimension, supplier)
        if name is None:
            continue
        first, last = block.index.min() + 1, block.index.max() + 1
        chart.add_series(
            {
                "name": cell(name),
                "categories": [sheet_name, first, x, last, x],
                "values": [sheet_name, first, y, last, y],
            }
        )
    return chart


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
