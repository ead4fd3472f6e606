"""The finance report: an Excel workbook with native charts and a self-contained HTML page.

:func:`make_report` solves the plan the report is about and gathers its :class:`ReportData`
(:mod:`~optimizer.reporting.report_data`); :func:`report_files` names the two files and their
writers (:mod:`~optimizer.reporting.workbook`, :mod:`~optimizer.reporting.html_page`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optimizer.reporting import html_page, workbook
from optimizer.reporting.report_data import ReportData, gather


def make_report(
    data: Path | None = None,
    scenarios: list[Path] | None = None,
    workers: int | None = 1,
    integer: bool = False,
    room: bool = True,
) -> ReportData:
    """The report for a data folder (default: the bundled data) or for scenario files (the
    first one's plan and leverage, and every scenario side by side); with ``room``, the
    negotiating room around that plan too (``optimizer room``'s defaults)."""
    from optimizer.analysis.negotiation import leverage
    from optimizer.analysis.room import negotiating_room
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
    return gather(plan, leverage(inputs, plan), comparison, title, negotiating_room(plan) if room else None)


def report_files(data: ReportData) -> dict[str, Any]:
    """The report's files, one writer per file (for :func:`optimizer.reporting.files.write_outputs`)."""
    return {
        "report.xlsx": lambda path: workbook.write_excel(path, data),
        "report.html": lambda path: html_page.write_html(path, data),
    }
