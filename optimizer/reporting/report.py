"""The finance report: an Excel workbook with native charts and a self-contained HTML page.

:func:`make_report` solves the plan the report is about and gathers its :class:`ReportData`
(:mod:`~optimizer.reporting.report_data`); :func:`report_files` names the two files and their
writers (:mod:`~optimizer.reporting.workbook`, :mod:`~optimizer.reporting.html_page`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from optimizer.hedge.hedge import Hedge
from optimizer.reporting import html_page, workbook
from optimizer.reporting.report_data import ReportData, gather


def make_report(
    data: Path | None = None,
    scenarios: list[Path] | None = None,
    workers: int | None = 1,
    integer: bool = False,
    room: bool = True,
    hedge: Path | None = None,
) -> ReportData:
    """The report for a data folder (default: the bundled data) or for scenario files (the
    first one's plan and leverage, and every scenario side by side); with ``room``, the
    negotiating room around that plan too (``optimizer room``'s defaults); with ``hedge``,
    an ``optimizer hedge`` output folder's figures (read, not solved again)."""
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
    hedged = read_hedge(hedge) if hedge is not None else None  # a bad folder fails before any solve
    plan = solve(inputs, integer=integer, payback=False)  # the report shows no payback
    content = gather(plan, leverage(inputs, plan), comparison, title, negotiating_room(plan) if room else None)
    return replace(content, hedge=hedged)


HEDGE_FILES = ["commitments.csv", "draws.csv", "summary.csv"]


def read_hedge(folder: Path) -> Hedge:
    """An ``optimizer hedge`` run's tables from its output folder, each file checked against
    its manifest (so the report quotes what that run wrote)."""
    import pandas as pd

    from optimizer.reporting.manifest import read_outputs

    manifest = read_outputs(folder, "hedge", HEDGE_FILES)
    tables = {name: pd.read_csv(folder / name, keep_default_na=False, na_values=[""]) for name in HEDGE_FILES}
    options = manifest.get("options", {})
    return Hedge(
        commitments=tables["commitments.csv"],
        draws=tables["draws.csv"],
        summary=tables["summary.csv"],
        cvar_level=float(options.get("cvar_level", 0.95)),
        cvar_weight=float(options.get("cvar_weight", 0.0)),
    )


def report_files(data: ReportData) -> dict[str, Any]:
    """The report's files, one writer per file (for :func:`optimizer.reporting.files.write_outputs`)."""
    return {
        "report.xlsx": lambda path: workbook.write_excel(path, data),
        "report.html": lambda path: html_page.write_html(path, data),
    }
