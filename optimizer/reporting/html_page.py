"""The self-contained HTML page: the summary, reconciliation and tables, charts embedded."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from optimizer.hedge.hedge import HEADLINES
from optimizer.reporting.figures import chart_images, share_chart_name
from optimizer.reporting.formats import count, percent, usd, usd_exact
from optimizer.reporting.report_data import ReportData, column_kind
from optimizer.text import visible

SUMMARY_FORMATS = {"usd": usd, "pct": percent}  # a summary line by its kind; others are counts


def _html(text: str) -> str:
    """Text on the page: its control characters made visible, then HTML-escaped."""
    return html.escape(visible(text))


def _html_table(table: pd.DataFrame, limit: int = 60) -> str:
    head = "".join(f"<th>{_html(str(c))}</th>" for c in table.columns)
    rows = []
    kinds = [column_kind(str(c)) for c in table.columns]
    for record in table.head(limit).itertuples(index=False):
        cells = []
        for value, kind in zip(record, kinds, strict=True):
            if value is None or (isinstance(value, float) and pd.isna(value)):
                text = ""
            elif isinstance(value, bool):
                text = str(value)
            elif isinstance(value, int | float):
                text = {
                    "usd": usd_exact(value),
                    "pct": percent(value),
                    "pct_points": f"{value:.1f}%",
                    "chips": f"{value:,.1f}",
                }.get(kind, f"{value:,.2f}")
            else:
                text = str(value)
            cells.append(f"<td>{_html(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p class='note'>{len(table) - limit} more rows in the workbook.</p>" if len(table) > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def write_html(path: Path, data: ReportData) -> None:
    images = chart_images(data)

    def image(name: str) -> str:
        if name not in images:
            return ""
        encoded = base64.b64encode(images[name]).decode("ascii")
        return f'<img alt="{name}" src="data:image/png;base64,{encoded}">'

    summary = "".join(
        f"<tr><td>{_html(label)}</td><td>{_html(SUMMARY_FORMATS.get(kind, count)(value))}</td></tr>"
        for label, value, kind in data.summary
    )
    lines = "".join(
        f"<tr><td>{_html(label)}</td><td>{_html(usd_exact(value))}</td></tr>" for label, value in data.reconciliation
    )
    verdict = "reconcile" if data.reconciles else "do NOT reconcile"
    sections = [
        f"<h1>{_html(data.title)}</h1>",
        "<h2>Summary</h2>",
        "".join(f"<p>{_html(s)}</p>" for s in data.narrative),
        f"<table>{summary}</table>",
        "<h2>Reconciliation</h2>",
        f"<table>{lines}</table>",
        f"<p>The compute lines {verdict} with the plan's compute cost to the cent "
        f"(difference {usd_exact(data.reconciliation_gap_usd, 6)}).</p>",
        "<h2>Money by quarter</h2>",
        _html_table(data.money),
        "<h2>Spend</h2>",
        image("spend_by_provider"),
        *(image(share_chart_name(basis)) for basis in data.shares_against_cap),
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
    if data.room is not None:
        curves = data.room.movable.pivot_table(
            index=["dimension", "supplier"], columns="slack_pct", values="movable_share", sort=False
        )
        curves.columns = [f"share_within_+{k:g}%" for k in curves.columns]
        sections += [
            "<h2>Negotiating room</h2>",
            "<p>Share of each supplier's volume (tokens/s summed over the horizon) that a plan serving "
            "the same demand, keeping every rule and today's tiers, ports and whole instances, moves "
            "elsewhere for at most the stated extra cost; each such plan verified.</p>",
            image("room"),
            _html_table(curves.reset_index()),
            "<h3>Most diversified plan within the slack</h3>",
            _html_table(data.room.diversified),
        ]
        if not data.room.fleet.empty:
            sections += ["<h3>Plan that changes least from the starting fleet</h3>", _html_table(data.room.fleet)]
    if data.hedge is not None:
        headline = data.hedge.summary[data.hedge.summary["metric"].isin(HEADLINES)]
        sections += [
            "<h2>Commit now, adjust later: the hedged plan</h2>",
            "<p>Commitments chosen once against every draw of the sweep, against today's deterministic "
            "commitments and against hindsight; out of sample: fresh draws, with the 95% interval of the mean "
            "of the per-draw differences.</p>",
            image("hedge"),
            _html_table(headline),
            "<h3>First-stage decisions</h3>",
            _html_table(data.hedge.commitments),
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
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_html(data.title)}</title>"
        f"<style>{style}</style></head><body>{''.join(sections)}</body></html>"
    )
    path.write_text(page, encoding="utf-8")
