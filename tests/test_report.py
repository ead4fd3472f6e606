"""Finance reports: workbook contents, formats and charts, reconciliation, formula safety, HTML."""

from __future__ import annotations

import csv
import html.parser
from pathlib import Path

import openpyxl
import pytest
from conftest import offer, workload, write_folder
from typer.testing import CliRunner

from optimizer import cli

HOSTILE = '=HYPERLINK("http://example.invalid","x")'


@pytest.fixture
def case(tmp_path) -> tuple[Path, Path, Path]:
    """The provider-cap case of test_planner (36,135 USD a quarter, two quarters: 72,270),
    with a hostile accelerator name, and a second scenario with a hostile description."""
    folder = write_folder(
        tmp_path / "data",
        policy="max_share:\n  provider: 0.7\n",
        accelerators=[
            {"accelerator": "a", "vendor": "nvidia", "name": HOSTILE},
            {"accelerator": "b", "vendor": "google", "name": "TPU"},
        ],
        performance=[
            {"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100},
            {"model": "m", "accelerator": "b", "tokens_per_s_per_chip": 200, "ttft_ms": 100},
        ],
        latency=[{"geography": "g", "region": "r1", "rtt_ms": 50}, {"geography": "g", "region": "r2", "rtt_ms": 50}],
        offers=[offer("o1", "aws", "r1", "a", 2.0, 1000), offer("o2", "gcp", "r2", "b", 3.0, 1000)],
        workloads=[workload("w", q, 1000) for q in ("2026Q1", "2026Q2")],
    )
    base = tmp_path / "base.yaml"
    base.write_text(f"name: base\nbase: {folder}\nchanges: []\n")
    hostile = tmp_path / "cheap.yaml"
    hostile.write_text(
        f"name: cheap\ndescription: '{HOSTILE.replace(chr(39), chr(39) * 2)}'\nbase: {folder}\n"
        "changes:\n  - scale: offers\n    where: {offer: o2}\n"
        "    column: usd_per_chip_hour\n    by: 0.5\n"
    )
    return folder, base, hostile


def run(args):
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    return result


def test_workbook_numbers_formats_and_charts(case, tmp_path):
    folder, base, hostile = case
    out = tmp_path / "report"
    run(["report", "--scenarios", str(base), str(hostile), "--out", str(out), "--workers", "1"])
    book = openpyxl.load_workbook(out / "report.xlsx")
    assert book.sheetnames == [
        "Summary",
        "Money by quarter",
        "Purchases",
        "Allocation",
        "Spend",
        "Leverage",
        "Price response",
        "Negotiating room",
        "Scenarios",
    ]
    summary = book["Summary"]
    values = {summary.cell(row, 1).value: summary.cell(row, 2) for row in range(1, summary.max_row + 1)}
    assert values["Total cost (objective)"].value == pytest.approx(72_270)
    assert values["Total cost (objective)"].number_format == '"$"#,##0.00'
    assert values["Compute cost (sum of the lines above)"].value == pytest.approx(72_270)
    assert any(
        "reconcile with the plan's compute cost to the cent: yes" in str(summary.cell(r, 1).value)
        for r in range(1, summary.max_row + 1)
    )
    purchases = book["Purchases"]
    header = [c.value for c in purchases[1]]
    cost = header.index("cost_usd") + 1
    assert sum(purchases.cell(r, cost).value for r in range(2, purchases.max_row + 1)) == pytest.approx(72_270)
    assert purchases.cell(2, cost).number_format == '"$"#,##0.00'
    assert purchases.freeze_panes == "A2" and purchases.auto_filter.ref
    spend = book["Spend"]
    charts = spend._charts
    assert len(charts) == 2
    stacked = charts[0]
    assert stacked.grouping == "stacked"
    refs = [s.val.numRef.f for s in stacked.series]
    categories = stacked.series[0].cat.strRef.f
    assert all(r.startswith("Spend!") and r.endswith("$3") for r in refs)  # two quarters: rows 2-3
    assert categories.endswith("$2:$F$3") or categories.endswith("$3")
    assert len(book["Leverage"]._charts) == 1 and len(book["Price response"]._charts) == 1
    room_sheet = book["Negotiating room"]
    assert len(room_sheet._charts) == 1
    rows = list(room_sheet.iter_rows(values_only=True))
    columns = rows[0]
    movable = {(r[1], r[2]): r for r in rows[1:] if r[0] == "provider"}
    # Per token/s and quarter aws costs 2.00 x 2,190 / 100 = 43.80 and gcp 3.00 x 2,190 / 200 =
    # 32.85; gcp sits at its 70% cap, so nothing moves onto it and aws keeps its 600. Off gcp
    # within 0.5% (361.35 USD): 361.35 / 10.95 = 33 of its 1,400 tokens/s-quarters.
    half = dict(zip(columns, movable[("gcp", 0.5)], strict=True))
    assert half["movable_tokens_per_s"] == pytest.approx(33.0, rel=1e-7)
    assert half["extra_cost_usd"] == pytest.approx(361.35, rel=1e-7)
    aws = dict(zip(columns, movable[("aws", 0.5)], strict=True))
    assert aws["movable_tokens_per_s"] == pytest.approx(0.0, abs=1e-6)
    assert room_sheet.cell(2, columns.index("movable_share") + 1).number_format == "0.0%"
    scenarios = book["Scenarios"]
    assert len(scenarios._charts) == 1
    costs = [c.value for c in scenarios["E"][1:3]]
    assert scenarios["E1"].value == "cost_per_mtok_usd" and all(isinstance(v, float) for v in costs)


def test_hostile_text_is_inert_everywhere(case, tmp_path):
    folder, base, hostile = case
    out = tmp_path / "report"
    run(["report", "--scenarios", str(base), str(hostile), "--out", str(out), "--workers", "1"])
    book = openpyxl.load_workbook(out / "report.xlsx")
    texts = [
        cell
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and "HYPERLINK" in cell.value
    ]
    assert {sheet for sheet in ("Purchases", "Scenarios")} <= {c.parent.title for c in texts}
    assert all(c.data_type == "s" and c.value.startswith("'=") for c in texts)
    page = (out / "report.html").read_text()
    assert "HYPERLINK" in page and "<a " not in page and 'href="http' not in page
    # cheap's saving, gcp's 3.5 chips at 1.5 USD/h less, 2,190 h a quarter, two quarters: the minus leads
    assert "-$22,995.00" in page and "$-" not in page
    run(["compare", str(base), str(hostile), "--out", str(tmp_path / "cmp"), "--workers", "1"])
    with (tmp_path / "cmp" / "comparison.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows[1]["description"] == "'" + HOSTILE
    assert float(rows[1]["delta_pct"]) < 0  # numbers, even negative ones, stay numbers


def test_html_parses_and_embeds_every_image(case, tmp_path):
    folder, base, _ = case
    out = tmp_path / "report"
    run(["report", "--data", str(folder), "--out", str(out)])

    class Images(html.parser.HTMLParser):
        sources: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag == "img":
                self.sources.append(dict(attrs)["src"])

    parser = Images()
    page = (out / "report.html").read_text()
    parser.feed(page)
    assert len(parser.sources) >= 4 and 'alt="room"' in page
    assert all(src.startswith("data:image/png;base64,") for src in parser.sources)


def test_existing_report_survives_a_failed_run(case, tmp_path, monkeypatch):
    folder, _, _ = case
    out = tmp_path / "report"
    run(["report", "--data", str(folder), "--out", str(out)])
    before = (out / "report.xlsx").read_bytes()

    def broken(path, data):
        raise RuntimeError("disk full")

    monkeypatch.setattr("optimizer.reporting.html_page.write_html", broken)
    result = CliRunner().invoke(cli.app, ["report", "--data", str(folder), "--out", str(out)])
    assert result.exit_code == 1 and "disk full" in result.output  # the HTML writer failed, after the workbook's
    assert (out / "report.xlsx").read_bytes() == before
    assert not list(out.glob(".writing-*"))


def test_no_room_leaves_the_sheet_out(case, tmp_path):
    folder, _, _ = case
    out = tmp_path / "report"
    run(["report", "--data", str(folder), "--out", str(out), "--no-room"])
    assert "Negotiating room" not in openpyxl.load_workbook(out / "report.xlsx").sheetnames
    assert 'alt="room"' not in (out / "report.html").read_text()
