"""Hostile-text corpus: user text reaches the terminal and the files escaped, never interpreted.

Control characters and ANSI escapes (clear the screen, an OSC 8 hyperlink, the C1 CSI
U+009B, a bell), bidi overrides and isolates, rich markup, matplotlib mathtext and
spreadsheet formula starts are put into a data folder's name, an accelerator's name, scenario
names and bases, a sweep's name, an output folder and ids, and the real commands run on a
tiny folder. What is checked: every command ends with its normal exit code; no raw control
or invisible character appears in stdout, stderr, a CSV, the HTML page or a workbook cell;
their visible escapes (``\\x1b``, ``\\u202e``) and the markup appear as written; a cell that
looks like a formula starts with a quote. The tiny plan: 1,000 tokens/s on chips serving
100 each at 2 USD/chip-hour (aws) or 400 each at 3 USD/chip-hour (gcp).
"""

from __future__ import annotations

import csv
import html.parser
from pathlib import Path

import openpyxl
import pytest
from conftest import offer, workload, write_folder
from typer.testing import CliRunner, Result

from optimizer import cli
from optimizer.reporting.files import cell, neutralise
from optimizer.text import visible

CLEAR = "\x1b[2J"
LINK = "\x1b]8;;http://x\x1b\\here\x1b]8;;\x1b\\"
RAW = "\x07\x9b\u202e\u2066\u200b"  # bell, C1 CSI, right-to-left override, LTR isolate, zero-width space
CONTROLS = CLEAR + LINK + RAW
MARKUP = "[link=https://evil]x[/link] [bold red]b"
CLOSE = "[/x]"
MATH = "$\\foo{x}$"
FORMULAS = [" =1+1", "\t=1", "\uff1d1+1", "\uff0b1", "\uff0d1", "\uff20SUM(A1)"]  # fullwidth = + - @
NAME = f"{MARKUP} {CLOSE} {MATH}"  # a scenario name: control characters are refused there
FOLDER = f"data{CLEAR}{RAW}[bold red]b[link=evil]x{MATH}"  # a folder may be called anything without "/"
FORMULA_MARKS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def shows_as_written(text: str) -> bool:
    """No raw control or invisible character (line breaks are the program's own)."""
    return all(c.isprintable() or c == "\n" for c in text)


def is_inert(value: str) -> bool:
    """A cell a spreadsheet cannot read as a formula."""
    return value.startswith("'") or not value.lstrip().startswith(FORMULA_MARKS)


def tiny(folder: Path, accelerator_name: str = "") -> Path:
    return write_folder(
        folder,
        accelerators=[
            {"accelerator": "a", "vendor": "nvidia", "name": accelerator_name},
            {"accelerator": "b", "vendor": "google", "name": "TPU"},
        ],
        performance=[
            {"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100},
            {"model": "m", "accelerator": "b", "tokens_per_s_per_chip": 400, "ttft_ms": 100},
        ],
        latency=[{"geography": "g", "region": "r1", "rtt_ms": 50}, {"geography": "g", "region": "r2", "rtt_ms": 50}],
        offers=[offer("o1", "aws", "r1", "a", 2.0, 1000, notes="x"), offer("o2", "gcp", "r2", "b", 3.0, 1000)],
        workloads=[workload("w", "2026Q1", 1000)],
        policy="max_share:\n  provider: 0.7\n",
    )


def yaml_text(text: str) -> str:
    """A YAML double-quoted scalar: control characters as YAML escapes (\\e, \\x9b, \\u202e)."""
    return '"' + "".join(f"\\u{ord(c):04x}" if not c.isprintable() else c for c in text.replace("\\", "\\\\")) + '"'


def scenario(path: Path, name: str, base: str, description: str = "", by: float = 1.0) -> Path:
    path.write_text(
        f"name: {yaml_text(name)}\ndescription: {yaml_text(description)}\nbase: {yaml_text(base)}\n"
        f"changes:\n  - scale: offers\n    where: {{offer: o2}}\n    column: usd_per_chip_hour\n    by: {by}\n",
        encoding="utf-8",
    )
    return path


def run(*args: str) -> Result:
    result = CliRunner().invoke(cli.app, list(args))
    assert shows_as_written(result.stdout), repr(result.stdout)
    assert shows_as_written(result.stderr), repr(result.stderr)
    return result


def flat(text: str) -> str:
    """Console text without the table borders and line breaks, so a folded cell reads whole."""
    return "".join(c for c in text if c not in "│┃\n ")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tiny(tmp_path / FOLDER, accelerator_name=f"{FORMULAS[0]}{CONTROLS}{NAME}")


def test_visible_writes_each_dangerous_character_as_its_escape():
    assert visible(f"a{CLEAR}b") == "a\\x1b[2Jb"
    assert visible(LINK) == "\\x1b]8;;http://x\\x1b\\here\\x1b]8;;\\x1b\\"
    assert visible(RAW) == "\\x07\\x9b\\u202e\\u2066\\u200b"
    assert visible("\x00\x7f\x85\u2028\u00a0") == "\\x00\\x7f\\x85\\u2028\\xa0"
    assert visible("line\nbreak\ttab", keep="\n") == "line\nbreak\\ttab"
    assert visible("Microsoft Maia 200 (café) $1.2 [x]") == "Microsoft Maia 200 (café) $1.2 [x]"


@pytest.mark.parametrize("text", [*FORMULAS, "=1+1", "+1", "-1", "@SUM(A1)", "  \uff1dA1"])
def test_formula_starts_are_neutralised(text):
    assert neutralise(text) == "'" + text
    assert cell(text).startswith("'") or cell(text).startswith("\\t")
    assert shows_as_written(cell(text))


@pytest.mark.parametrize("text", ["aws", "1 = 1", "cost-minimal", "TPU v5e", "café"])
def test_ordinary_text_is_left_as_it_is(text):
    assert cell(text) == neutralise(text) == visible(text) == text


def test_plan_shows_a_hostile_folder_and_out_as_written(folder, tmp_path):
    out = tmp_path / f"res{CLOSE}{CLEAR}"
    result = run("plan", "--data", str(folder), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"Verified plan written to {visible(str(out))}/" in result.stdout
    assert f"{visible(str(folder))}/offers.csv: column(s) notes not in the data contract" in result.stderr
    assert "data\\x1b[2J\\x07\\x9b\\u202e\\u2066\\u200b[bold red]b[link=evil]x$\\foo{x}$/offers" in result.stderr
    for path in out.glob("*.csv"):
        assert shows_as_written(path.read_text(encoding="utf-8")), path


@pytest.mark.parametrize(
    ("table", "row", "shown"),
    [
        ("offers", offer(f"o1{CLEAR}", "aws", "r1", "a", 2.0, 10), "'o1\\x1b[2J'"),
        ("offers", offer("o\u202e1", "aws", "r1", "a", 2.0, 10), "'o\\u202e1'"),
        ("offers", offer("[bold red]o", "aws", "r1", "a", 2.0, 10), "'[bold red]o'"),
        ("offers", offer(CLOSE, "aws", "r1", "a", 2.0, 10), "'[/x]'"),
        ("workloads", workload(f"w{LINK}", "2026Q1", 1000), "'w\\x1b]8;;http://x\\x1b\\\\here"),
    ],
    ids=["clear", "rtl", "markup", "closing-tag", "hyperlink"],
)
def test_a_hostile_id_is_refused_with_the_value_shown_escaped(tmp_path, table, row, shown):
    folder = tiny(tmp_path / "data")
    rows = {"offers": [row], "workloads": [row]}[table]
    write_folder(folder, policy="max_share:\n  provider: 0.7\n", **{table: rows})
    result = run("plan", "--data", str(folder), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert f"{table}.csv, line 2, column {table[:-1]}: value {shown}" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.fixture
def scenarios(folder, tmp_path) -> list[Path]:
    """A reference, a scenario whose name holds markup and mathtext, and one per formula start
    (the tab one in the description, which is stripped and may hold a tab; a name may not)."""
    base = f"../{FOLDER}"  # YAML escapes bypass the raw-stream check of the YAML reader
    (tmp_path / "s").mkdir()
    files = [
        scenario(tmp_path / "s" / "ref.yaml", "ref", base),
        scenario(tmp_path / "s" / "x.yaml", NAME, base, by=0.5),
    ]
    for index, text in enumerate(FORMULAS):
        name, description = (f"f{index}", f"{text}\tend") if "\t" in text else (text, text)
        files.append(scenario(tmp_path / "s" / f"f{index}.yaml", name, base, description, by=0.9))
    return files


def test_compare_shows_markup_as_written_and_neutralises_formulas(scenarios, tmp_path):
    out = tmp_path / f"cmp{CLOSE}"
    result = run("compare", *map(str, scenarios), "--out", str(out), "--workers", "1")
    assert result.exit_code == 0, result.output
    assert NAME.replace(" ", "") in flat(result.stdout)  # not a hyperlink, no crash on [/x]
    assert f"Comparison written to {out}/comparison.csv" in result.stdout
    with (out / "comparison.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["scenario"] for r in rows] == ["ref", NAME, "' =1+1", "f1", *("'" + f for f in FORMULAS[2:])]
    assert rows[3]["description"] == "'=1\\tend"
    for row in rows:
        assert all(shows_as_written(v) for v in row.values()), row
        assert is_inert(row["scenario"]) and is_inert(row["description"]), row


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("name", f"n{CLEAR}", "name 'n\\x1b[2J': control characters are not allowed"),
        ("name", "n\u202e", "name 'n\\u202e': control characters are not allowed"),
        ("base", f"missing{CLEAR}{RAW}", "missing\\x1b[2J\\x07\\x9b\\u202e\\u2066\\u200b' not found"),
    ],
    ids=["name-clear", "name-rtl", "base-controls"],
)
def test_a_hostile_scenario_is_refused_with_the_value_shown_escaped(tmp_path, key, value, shown):
    fields = {"name": "s", "base": "data"} | {key: value}
    tiny(tmp_path / "data")
    path = scenario(tmp_path / "s.yaml", fields["name"], fields["base"])
    result = run("compare", str(path), "--out", str(tmp_path / "out"), "--workers", "1")
    assert result.exit_code == 2, result.output
    assert shown in result.stderr


def sweep_file(tmp_path: Path, name: str) -> Path:
    """A sweep of two points on the tiny folder (gcp's price +0% and +10%)."""
    (tmp_path / "s").mkdir()
    base = scenario(tmp_path / "s" / "base.yaml", "base", f"../{FOLDER}")
    sweep = tmp_path / "s" / "sweep.yaml"
    sweep.write_text(
        f"name: {yaml_text(name)}\nscenario: {base.name}\ngrid:\n  - table: offers\n    where: {{offer: o2}}\n"
        "    column: usd_per_chip_hour\n    change_pct: {from: 0, to: 10, step: 10}\n",
        encoding="utf-8",
    )
    return sweep


def test_sweep_named_with_control_characters_is_refused_escaped(folder, tmp_path):
    """As a scenario's, a sweep's name is refused when it holds a control character."""
    result = run("sweep", str(sweep_file(tmp_path, f"s{CLEAR}{RAW}")), "--out", str(tmp_path / "sweep"))
    assert result.exit_code == 2, result.output
    message = f"column name: name 's{visible(CLEAR + RAW)}': control characters are not allowed"
    assert flat(message) in flat(result.stderr)
    assert shows_as_written(result.stderr)
    assert not (tmp_path / "sweep").exists()


def test_sweep_with_a_hostile_name_writes_and_shows_it_escaped(folder, tmp_path):
    name = f" =1+1{MARKUP}$x$"
    out = tmp_path / "sweep"
    result = run("sweep", str(sweep_file(tmp_path, name)), "--out", str(out), "--workers", "1")
    assert result.exit_code == 0, result.output
    assert f"Sweep{visible(name)}".replace(" ", "") in flat(result.stdout)
    assert "offers[offer=o2].usd_per_chip_hour" in flat(result.stdout)  # a parameter is not markup either
    with (out / "points.csv").open(encoding="utf-8", newline="") as handle:
        points = list(csv.DictReader(handle))
    assert [p["scenario"] for p in points] == [f"'{visible(name)}-0", f"'{visible(name)}-1"]
    assert shows_as_written((out / "points.csv").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", [f"s{CLOSE}", f"s{MATH}"], ids=["closing-tag", "braces"])
def test_sweep_named_like_markup_or_a_format_string_runs(folder, tmp_path, name):
    result = run("sweep", str(sweep_file(tmp_path, name)), "--out", str(tmp_path / "sweep"), "--workers", "1")
    assert result.exit_code == 0, result.output


class _PageText(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _page_text(path: Path) -> str:
    parser = _PageText()
    parser.feed(path.read_text(encoding="utf-8"))
    return "\n".join(parser.parts)


def _cells(path: Path) -> list[str]:
    book = openpyxl.load_workbook(path)
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells)  # no formula anywhere
    return [c.value for c in cells if isinstance(c.value, str)]


def test_report_on_a_hostile_folder(folder, tmp_path):
    out = tmp_path / "report"
    result = run("report", "--data", str(folder), "--out", str(out), "--workers", "1")
    assert result.exit_code == 0, result.output
    title = f"Compute procurement plan: {visible(str(folder))}"
    accelerator = visible(f"{FORMULAS[0]}{CONTROLS}{NAME}")
    page = _page_text(out / "report.html")
    assert title in page and accelerator in page
    assert shows_as_written(page)
    cells = _cells(out / "report.xlsx")
    assert title in cells and "'" + accelerator in cells
    assert all(shows_as_written(c) and is_inert(c) for c in cells)


def test_report_on_scenarios_with_mathtext_and_markup_names(scenarios, tmp_path):
    out = tmp_path / "report"
    result = run("report", "--scenarios", str(scenarios[1]), str(scenarios[0]), "--out", str(out), "--workers", "1")
    assert result.exit_code == 0, result.output  # the chart of scenarios drew $\foo{x}$ as text
    page = _page_text(out / "report.html")
    assert f"Compute procurement plan: scenario {NAME}" in page
    cells = _cells(out / "report.xlsx")
    assert NAME in cells
    assert all(shows_as_written(c) and is_inert(c) for c in cells)
