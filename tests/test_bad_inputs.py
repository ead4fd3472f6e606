"""Bad-input corpus: each damaged file gives one clear message, exit code 2 and no output.

Most cases load a tiny valid folder with one file damaged, in process, and check the single
problem reported: file, line, column and the message worked out for that damage (every
message must also be printable, so no control character reaches a terminal). A few cases
run the real command in a subprocess, to check what a user sees: exit code 2 within
seconds, the message on stderr, no traceback, and the previous outputs untouched.
The tiny folder's plan: 1,000 tokens/s on chips serving 100 each at 2 USD/chip-hour is
10 chips x 2 x 2,190 h = 43,800 USD.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import offer, workload, write_folder

import optimizer
from optimizer.errors import InputError, Problem
from optimizer.io.loading import MAX_CSV_BYTES, bundled_data
from optimizer.io.yaml_reader import MAX_YAML_BYTES
from optimizer.scenarios.overlays import apply, read_scenario
from optimizer.scenarios.sweeps import read_sweep

OFFERS = "offer,provider,region,accelerator,usd_per_chip_hour,max_chips\n"
OFFERS_WITH_SOURCE = OFFERS.rstrip("\n") + ",source\n"
WORKLOADS = "workload,model,geography,quarter,tokens_per_s,latency_slo_ms\n"
PERFORMANCE = "model,accelerator,tokens_per_s_per_chip,ttft_ms\n"
ROW = "o1,aws,r1,a,2.0,100\n"
TINY_COST_USD = 43_800.0
ID_RULE = "expected a lowercase id: letters a-z, digits, '.', '_' or '-'"
NOT_FINITE = "expected a finite number (not NaN or infinity)"
NOT_A_NUMBER = "expected a number (digits, '.' for decimals, e.g. 1234.5 or 1.5e6)"
NOT_A_MAPPING = "expected a mapping with name, description, base and changes"
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"  # 9^9 = 387 million strings
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)


def tiny(folder: Path) -> Path:
    return write_folder(
        folder,
        accelerators=[{"accelerator": "a", "vendor": "nvidia"}],
        offers=[offer("o1", "aws", "r1", "a", 2.0, 100)],
        performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100}],
        workloads=[workload("w", "2026Q1", 1000)],
        latency=[{"geography": "g", "region": "r1", "rtt_ms": 50}],
    )


@dataclass(frozen=True)
class Case:
    """One damaged file and the one problem it must give."""

    id: str
    file: str
    content: str | bytes
    line: int | None
    column: str | None
    message: str


def offers(*rows: str) -> str:
    return OFFERS + "".join(row + "\n" for row in rows)


LATIN_1 = (OFFERS_WITH_SOURCE + "o1,aws,r1,a,2.0,100,list\no2,aws,r1,a,2.0,100,café\n").encode("latin-1")
PRICE, CHIPS = "usd_per_chip_hour", "max_chips"

FILE_CASES = [
    # empty and truncated files
    Case("empty-file", "offers.csv", b"", None, None, "empty file: expected a header row"),
    Case("blank-lines-only", "offers.csv", "\n  \n\n", None, None, "empty file: expected a header row"),
    Case(
        "header-only-workloads",
        "workloads.csv",
        WORKLOADS,
        None,
        None,
        "no rows after the header: at least one workload row is needed",
    ),
    Case(
        "upfront-on-demand",
        "offers.csv",
        OFFERS[:-1] + ",payment\n" + "o1,aws,r1,a,2.0,100,upfront\n",
        2,
        "payment",
        "payment upfront needs a 1yr or 3yr term",
    ),
    Case(
        "payment-unknown",
        "offers.csv",
        OFFERS[:-1] + ",term,payment\n" + "o1,aws,r1,a,2.0,100,1yr,monthly\n",
        2,
        "payment",
        "per_quarter",
    ),
    Case(
        "truncated-mid-row",
        "offers.csv",
        OFFERS + "o1,aws,r1,a,2.",
        2,
        None,
        "row has 5 fields, the header has 6: the file ends in this line without a line break, so it looks truncated",
    ),
    Case(
        "truncated-mid-quoted-field",
        "offers.csv",
        OFFERS_WITH_SOURCE + 'o1,aws,r1,a,2.0,100,"list pri',
        2,
        None,
        "a quoted field is still open at the end of the file",
    ),
    # delimiters and encodings
    Case(
        "semicolons",
        "offers.csv",
        offers(ROW).replace(",", ";"),
        1,
        None,
        "the header has no commas but 5 semicolons: save the file comma-separated",
    ),
    Case("tabs", "offers.csv", offers(ROW).replace(",", "\t"), 1, None, "the header has no commas but 5 tabs"),
    Case("latin-1", "offers.csv", LATIN_1, 3, None, "not valid UTF-8 text: byte 0xe9 cannot be decoded"),
    Case("utf-16", "offers.csv", offers(ROW).encode("utf-16"), 1, None, "(it looks UTF-16: save it as UTF-8)"),
    # quotes and header
    Case(
        "stray-quote-after-field",
        "offers.csv",
        offers('o1,aws,"r1"x,a,2.0,100'),
        2,
        None,
        "text follows the closing quote of a field: a stray quote?",
    ),
    Case(
        "unclosed-quote-mid-file",
        "offers.csv",
        offers('o1,aws,"r1,a,2.0,100', "o2,aws,r1,a,3.0,100"),
        2,
        None,
        "a quoted field is still open at the end of the file",
    ),
    Case(
        "quote-inside-id",
        "offers.csv",
        offers('o"1,aws,r1,a,2.0,100'),
        2,
        "offer",
        f"""value 'o"1': {ID_RULE} (found '"')""",
    ),
    Case(
        "duplicate-header",
        "offers.csv",
        OFFERS.rstrip("\n") + ",max_chips\n" + ROW[:-1] + ",1\n",
        1,
        CHIPS,
        "column appears twice in the header",
    ),
    Case("short-row", "offers.csv", offers("o1,aws,r1,a,2.0"), 2, None, "row has 5 fields, the header has 6"),
    Case(
        "header-of-a-million-columns",
        "offers.csv",
        ",".join(["x"] * 10**6) + "\n" + ROW,
        1,
        None,
        "the header has 1,000,000 columns, above the limit of 1,000: is this the right file?",
    ),
    # huge and tiny numbers
    Case(
        "price-1e308",
        "offers.csv",
        offers("o1,aws,r1,a,1e308,100"),
        2,
        PRICE,
        "value '1e308': expected a number <= 1e6",
    ),
    Case(
        "price-1e400-overflows",
        "offers.csv",
        offers("o1,aws,r1,a,1e400,100"),
        2,
        PRICE,
        "value '1e400': expected a finite number: too large to represent",
    ),
    Case(
        "price-1e30", "offers.csv", offers("o1,aws,r1,a,1e30,100"), 2, PRICE, "value '1e30': expected a number <= 1e6"
    ),
    Case(
        "max-chips-1e30",
        "offers.csv",
        offers("o1,aws,r1,a,2.0,1e30"),
        2,
        CHIPS,
        "value '1e30': expected a number <= 1e9",
    ),
    Case(
        "demand-1e12",
        "workloads.csv",
        WORKLOADS + "w,m,g,2026Q1,1e12,1000\n",
        2,
        "tokens_per_s",
        "value '1e12': expected a number <= 1e10",
    ),
    Case(
        "throughput-1e-300",
        "performance.csv",
        PERFORMANCE + "m,a,1e-300,100\n",
        2,
        "tokens_per_s_per_chip",
        "value '1e-300': expected a number >= 0.001",
    ),
    Case(
        "throughput-5e-324",
        "performance.csv",
        PERFORMANCE + "m,a,5e-324,100\n",
        2,
        "tokens_per_s_per_chip",
        "value '5e-324': expected a number >= 0.001",
    ),
    # NaN, infinity, and numbers Python's float() reads but a spreadsheet would not
    *[
        Case(
            f"price-{text}", "offers.csv", offers(f"o1,aws,r1,a,{text},100"), 2, PRICE, f"value '{text}': {NOT_FINITE}"
        )
        for text in ("nan", "NaN", "inf", "-inf", "Infinity")
    ],
    *[
        Case(
            f"max-chips-{label}",
            "offers.csv",
            offers(f"o1,aws,r1,a,2.0,{cell}"),
            2,
            CHIPS,
            f"value {value!r}: {NOT_A_NUMBER}",
        )
        for label, cell, value in (
            ("underscore", "1_000", "1_000"),
            ("fullwidth-digits", "\uff11\uff10", "\uff11\uff10"),
            ("decimal-comma", '"1,5"', "1,5"),
        )
    ],
    Case(
        "quarter-fullwidth-digits",
        "workloads.csv",
        WORKLOADS + "w,m,g,\uff12\uff10\uff12\uff16Q1,1000,1000\n",
        2,
        "quarter",
        "expected a quarter such as 2026Q1",
    ),
    # unicode and control characters in ids: the value as repr, the character by its name
    Case(
        "id-accent",
        "offers.csv",
        offers("o-\u00e9,aws,r1,a,2.0,100"),
        2,
        "offer",
        f"value 'o-\u00e9': {ID_RULE} (found '\u00e9' (U+00E9 LATIN SMALL LETTER E WITH ACUTE))",
    ),
    Case(
        "id-fullwidth",
        "offers.csv",
        offers("\uff4f1,aws,r1,a,2.0,100"),
        2,
        "offer",
        "(found '\uff4f' (U+FF4F FULLWIDTH LATIN SMALL LETTER O))",
    ),
    Case(
        "id-zero-width-space",
        "workloads.csv",
        WORKLOADS + "w\u200b,m,g,2026Q1,1000,1000\n",
        2,
        "workload",
        f"value 'w\\u200b': {ID_RULE} (found '\\u200b' (U+200B ZERO WIDTH SPACE))",
    ),
    Case(
        "id-emoji",
        "offers.csv",
        offers("o1\U0001f680,aws,r1,a,2.0,100"),
        2,
        "offer",
        "(found '\U0001f680' (U+1F680 ROCKET))",
    ),
    Case(
        "id-nul",
        "offers.csv",
        offers("o\x001,aws,r1,a,2.0,100"),
        2,
        "offer",
        f"value 'o\\x001': {ID_RULE} (found '\\x00' (U+0000 control character))",
    ),
    Case(
        "id-escape-sequence",
        "offers.csv",
        offers("o1\x1b[31m,aws,r1,a,2.0,100"),
        2,
        "offer",
        f"value 'o1\\x1b[31m': {ID_RULE} (found '\\x1b' (U+001B control character))",
    ),
    Case(
        "id-carriage-return-in-quotes", "offers.csv", offers('"o1\rx",aws,r1,a,2.0,100'), 2, "offer", "value 'o1\\rx'"
    ),
    Case(
        "id-starts-with-dash",
        "offers.csv",
        offers("-o1,aws,r1,a,2.0,100"),
        2,
        "offer",
        f"value '-o1': {ID_RULE} (it starts with '-')",
    ),
    # policy.yaml
    Case(
        "yaml-billion-laughs", "policy.yaml", LAUGHS, 2, None, "YAML aliases (*a) are not allowed: write the value out"
    ),
    Case("yaml-recursive-alias", "policy.yaml", "max_share: &a [*a]\n", 1, None, "YAML aliases (*a) are not allowed"),
    Case(
        "discount-rate-above-100-percent",
        "policy.yaml",
        "hours_per_quarter: 2190\ndiscount_rate_per_year: 8\n",
        2,
        "discount_rate_per_year",
        "value 8: expected a number <= 1",
    ),
    Case(
        "yaml-duplicate-key",
        "policy.yaml",
        "hours_per_quarter: 2190\nhours_per_quarter: 730\n",
        2,
        None,
        "duplicate key 'hours_per_quarter'",
    ),
    Case(
        "yaml-python-object",
        "policy.yaml",
        "hours_per_quarter: !!python/object/apply:os.system ['true']\n",
        1,
        None,
        "YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed (plain data only)",
    ),
    Case(
        "yaml-binary",
        "policy.yaml",
        "hours_per_quarter: !!binary aGVsbG8=\n",
        1,
        None,
        "YAML tag 'tag:yaml.org,2002:binary' is not allowed",
    ),
    Case("yaml-custom-tag", "policy.yaml", "hours_per_quarter: !foo 2190\n", 1, None, "YAML tag '!foo' is not allowed"),
    Case(
        "yaml-merge-key",
        "policy.yaml",
        "max_share:\n  <<: {provider: 0.5}\n",
        2,
        None,
        "YAML merge keys (<<) are not allowed",
    ),
    Case(
        "yaml-list-key",
        "policy.yaml",
        "? [a, b]\n: 1\n",
        1,
        None,
        "a YAML key must be a plain name, not a list or mapping",
    ),
    Case(
        "yaml-top-level-list",
        "policy.yaml",
        "- max_share\n",
        1,
        None,
        "expected a mapping of policy keys at the top level",
    ),
    Case(
        "yaml-escape-character",
        "policy.yaml",
        "hours_per_quarter: 2190\nshare_basis: v\x1b[2J\n",
        2,
        None,
        "'\\x1b' (U+001B control character) is not allowed in YAML",
    ),
    Case(
        "yaml-latin-1",
        "policy.yaml",
        "# café\nhours_per_quarter: 2190\n".encode("latin-1"),
        1,
        None,
        "not valid UTF-8 text: byte 0xe9 cannot be decoded",
    ),
    Case(
        "yaml-nested-too-deeply",
        "policy.yaml",
        "max_share: " + "[" * 5000 + "]" * 5000 + "\n",
        None,
        None,
        "YAML nested too deeply",
    ),
    Case("yaml-nan", "policy.yaml", "hours_per_quarter: .nan\n", 1, "hours_per_quarter", NOT_FINITE),
    Case(
        "yaml-huge-hours",
        "policy.yaml",
        "hours_per_quarter: 1e30\n",
        1,
        "hours_per_quarter",
        "value 1e+30: expected a number <= 10000",
    ),
    Case(
        "yaml-5000-digit-number",
        "policy.yaml",
        "hours_per_quarter: " + "9" * 5000 + "\n",
        1,
        None,
        "a whole number of 5,000 characters is too large",
    ),
    Case(
        "yaml-int-tag-on-text", "policy.yaml", "hours_per_quarter: !!int many\n", 1, None, "'many' is not a valid int"
    ),
    Case(
        "yaml-key-with-escape",
        "policy.yaml",
        'max_share: {"provider\\e[31m": 0.5}\n',
        1,
        "max_share.'provider\\x1b[31m'",
        "unknown key 'provider\\x1b[31m'",
    ),
]


def check(problem: Problem, file: str, line: int | None, column: str | None, message: str) -> None:
    assert Path(problem.file).name == file, str(problem)
    assert (problem.line, problem.column) == (line, column), str(problem)
    assert message in problem.message, str(problem)
    assert str(problem).isprintable(), str(problem)  # nothing raw reaches a terminal


def single(error: InputError) -> Problem:
    assert len(error.problems) == 1, [str(p) for p in error.problems]
    return error.problems[0]


@pytest.mark.parametrize("case", FILE_CASES, ids=[case.id for case in FILE_CASES])
def test_damaged_file_gives_one_clear_problem(tmp_path, case):
    folder = tiny(tmp_path / "in")
    data = case.content if isinstance(case.content, bytes) else case.content.encode("utf-8")
    (folder / case.file).write_bytes(data)
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        optimizer.load(folder)
    assert time.monotonic() - started < 5
    check(single(caught.value), case.file, case.line, case.column, case.message)


def test_tiny_folder_is_valid_and_costs_what_the_docstring_says(tmp_path):
    """The corpus's base: any problem above comes from the damage, not from the folder."""
    plan = optimizer.solve(optimizer.load(tiny(tmp_path / "in")))
    assert plan.totals["total_cost_usd"] == pytest.approx(TINY_COST_USD, rel=1e-9)


def test_byte_order_marks_are_accepted_with_the_same_plan(tmp_path):
    folder = tiny(tmp_path / "in")
    for path in [*folder.glob("*.csv"), folder / "policy.yaml"]:
        path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    plan = optimizer.solve(optimizer.load(folder))
    assert plan.totals["total_cost_usd"] == pytest.approx(TINY_COST_USD, rel=1e-9)


def test_limits_are_generous_for_real_use(tmp_path):
    """Prices of 1e-4 to 1e6 USD/chip-hour, and the other limits themselves, are accepted."""
    folder = write_folder(
        tmp_path / "in",
        accelerators=[{"accelerator": "a", "vendor": "nvidia", "power_kw": 1e3}],
        offers=[offer("o1", "aws", "r1", "a", 1e-4, 1e9), offer("o2", "aws", "r1", "a", 1e6, 1e9)],
        performance=[
            {"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 1e-3, "ttft_ms": 1e12},
            {"model": "n", "accelerator": "a", "tokens_per_s_per_chip": 1e7, "ttft_ms": 0},
        ],
        workloads=[workload("w", "2026Q1", 1e10), workload("v", "2026Q1", 0, model="n")],
        latency=[{"geography": "g", "region": "r1", "rtt_ms": 50}],
        policy="hours_per_quarter: 1e4\nunmet_penalty_usd_per_mtok: 1e9\nbudget_usd_per_quarter: 1e13\n",
    )
    inputs = optimizer.load(folder)
    assert sorted(inputs.offers["usd_per_chip_hour"]) == [1e-4, 1e6]


def test_header_names_with_control_characters_are_shown_escaped(tmp_path):
    folder = tiny(tmp_path / "in")
    (folder / "offers.csv").write_text(OFFERS[:-1] + ",\x1b[2Jnotes\n" + ROW[:-1] + ",x\n")
    warnings = [str(w) for w in optimizer.load(folder).warnings]
    assert any("column(s) '\\x1b[2Jnotes' not in the data contract: ignored" in w for w in warnings), warnings
    assert all(w.isprintable() for w in warnings)


def test_oversized_yaml_is_refused_before_parsing(tmp_path):
    folder = tiny(tmp_path / "in")
    with (folder / "policy.yaml").open("r+b") as handle:
        handle.truncate(MAX_YAML_BYTES + 1)  # sparse: no time or disk spent
    with pytest.raises(InputError) as caught:
        optimizer.load(folder)
    check(single(caught.value), "policy.yaml", None, None, "file is 257 KiB, above the 256 KiB limit for YAML files")


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda folder: None, "input folder not found"),
        (lambda folder: folder.write_text("a file\n"), "a file, not an input folder"),
        (
            lambda folder: folder.mkdir(),
            "not an input folder: it has none of accelerators.csv, "
            "offers.csv, performance.csv, workloads.csv, latency.csv",
        ),
    ],
    ids=["missing", "a-file", "not-a-data-folder"],
)
def test_data_folder_that_is_not_one(tmp_path, make, message):
    make(tmp_path / "data")
    with pytest.raises(InputError) as caught:
        optimizer.load(tmp_path / "data")
    check(single(caught.value), "data", None, None, message)


# Scenarios: the base folder and the file itself.


def scenario_file(tmp_path: Path, text: str | bytes, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


SCENARIO_CASES = [
    ("base-missing", "name: s\nbase: missing\n", 2, "base", "base folder '{tmp}/missing' not found"),
    ("base-is-a-file", "name: s\nbase: notes.txt\n", 2, "base", "base '{tmp}/notes.txt' is a file, not a data folder"),
    (
        "base-not-a-data-folder",
        "name: s\nbase: empty\n",
        2,
        "base",
        "base folder '{tmp}/empty' is not a data folder: it has no accelerators.csv, offers.csv, "
        "performance.csv, workloads.csv, latency.csv",
    ),
    (
        "base-not-text",
        "name: s\nbase: [data]\n",
        2,
        "base",
        "expected the path of a data folder, relative to this file",
    ),
    ("top-level-list", "- name: s\n", 1, None, NOT_A_MAPPING),
    ("top-level-text", "just text\n", 1, None, NOT_A_MAPPING),
    ("empty-file", "", 1, None, NOT_A_MAPPING),
    ("billion-laughs", "name: s\n" + LAUGHS, 3, None, "YAML aliases (*a) are not allowed"),
    ("duplicate-key", "name: s\nchanges: []\nchanges: []\n", 3, None, "duplicate key 'changes'"),
    ("python-tag", "name: !!python/object/new:os.getcwd []\n", 1, None, "is not allowed (plain data only)"),
    (
        "name-with-escape",
        'name: "cheap\\e[8m"\n',
        1,
        "name",
        "name 'cheap\\x1b[8m': control characters are not allowed",
    ),
    ("not-utf-8", "name: café\n".encode("latin-1"), 1, None, "not valid UTF-8 text: byte 0xe9"),
]


@pytest.mark.parametrize(
    "text,line,column,message", [case[1:] for case in SCENARIO_CASES], ids=[case[0] for case in SCENARIO_CASES]
)
def test_bad_scenario_gives_one_clear_problem(tmp_path, text, line, column, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("not a folder\n")
    with pytest.raises(InputError) as caught:
        read_scenario(scenario_file(tmp_path, text))
    check(single(caught.value), "s.yaml", line, column, message.format(tmp=tmp_path))


def test_scenario_removing_all_demand(tmp_path):
    tiny(tmp_path / "data")
    path = scenario_file(tmp_path, "name: s\nbase: data\nchanges:\n  - remove: workloads\n    where: {workload: w}\n")
    with pytest.raises(InputError) as caught:
        apply(read_scenario(path))
    check(single(caught.value), "s.yaml", 4, None, "removes every workloads row: a plan needs some demand")


def test_tables_other_than_demand_may_be_empty(tmp_path):
    """The contract leaves demand that nothing can serve unmet, at the penalty: with no
    offers (and so no latency rows) the tiny case's 1,000 tokens/s cost 1,000 x 788.4."""
    folder = tiny(tmp_path / "in")
    (folder / "offers.csv").write_text(OFFERS)
    (folder / "latency.csv").write_text("geography,region,rtt_ms\n")
    plan = optimizer.solve(optimizer.load(folder))
    assert plan.totals["total_cost_usd"] == pytest.approx(1000 * 100 * 2190 * 3600 / 1e6)
    assert plan.totals["unmet_tokens_per_s"] == pytest.approx(1000)
    for command in ("leverage", "report"):  # nothing bought: empty tables and no charts, no crash
        result, _ = run(tmp_path, command, "--data", str(folder), "--out", str(tmp_path / command))
        assert result.returncode == 0, result.stderr.decode()


GRID = "grid:\n  - {table: offers, column: usd_per_chip_hour,\n     change_pct: {from: 0, to: 10, step: 5}}\n"


def grid(steps: str, where: str = "{}") -> str:
    """A one-parameter grid on the bundled offers' prices; its parameter is on line 3."""
    parameter = f"  - {{table: offers, where: {where}, column: usd_per_chip_hour,\n     change_pct: {steps}}}\n"
    return "name: g\ngrid:\n" + parameter


def monte_carlo(factor: str, samples: int = 2, seed: int = 1, where: str = "{vendor: nvidia}") -> str:
    """A one-parameter Monte Carlo on the bundled offers' prices; its parameter is on line 5."""
    return (
        f"name: m\nsamples: {samples}\nseed: {seed}\nmonte_carlo:\n"
        f"  - {{table: offers, where: {where}, column: usd_per_chip_hour,\n     factor: {factor}}}\n"
    )


LOGNORMAL = "{distribution: lognormal, mu: 0, sigma: 0.1}"


@pytest.mark.parametrize(
    "text,line,column,message",
    [
        (
            "name: g\nscenario: nope.yaml\n" + GRID,
            2,
            "scenario",
            "scenario file 'nope.yaml' not found next to this file",
        ),
        ("name: g\n" + LAUGHS, 3, None, "YAML aliases (*a) are not allowed"),
        (
            "name: g\nseed: !!python/object/apply:random.seed [1]\n" + GRID,
            2,
            None,
            "YAML tag 'tag:yaml.org,2002:python/object/apply:random.seed' is not allowed",
        ),
        ("name: caf\u00e9\n".encode("latin-1"), 1, None, "not valid UTF-8 text: byte 0xe9"),
        (monte_carlo(LOGNORMAL, seed=-1), 3, "seed", "value -1: expected a number >= 0"),
        (monte_carlo(LOGNORMAL, samples=10**9), 2, "samples", "value 1000000000: expected a number <= 10000"),
        (
            monte_carlo("{distribution: triangular, low: 1.2, mode: 1.0, high: 1.5}"),
            6,
            "monte_carlo.0.factor.triangular",
            "expected low <= mode <= high, got 1.2, 1, 1.5",
        ),
        (
            monte_carlo("{distribution: triangular, low: 1, mode: 1, high: 1}"),
            6,
            "monte_carlo.0.factor.triangular",
            "low and high are both 1: a triangle needs a width (or use a scenario)",
        ),
        (
            monte_carlo("{distribution: uniform, low: 2, high: 1}"),
            6,
            "monte_carlo.0.factor.uniform",
            "low (2) is above high (1)",
        ),
        (
            monte_carlo("{distribution: lognormal, mu: 1000, sigma: 0.1}"),
            6,
            "monte_carlo.0.factor.lognormal.mu",
            "value 1000: expected a number <= 7",
        ),
        (
            monte_carlo("{distribution: normal, mean: .inf, sd: 0.1}"),
            6,
            "monte_carlo.0.factor.normal.mean",
            "value inf: expected a finite number (not NaN or infinity)",
        ),
        (
            monte_carlo(LOGNORMAL, where="{vendor: nvidiaa}"),
            5,
            None,
            "no offers row matches {'vendor': 'nvidiaa'}",
        ),
        (
            monte_carlo(LOGNORMAL, where="{offer: '1e5'}"),
            5,
            None,
            "no offers row matches {'offer': '1e5'}",
        ),
        (
            grid("{from: .nan, to: 0, step: 5}"),
            4,
            "grid.0.change_pct.from",
            "value nan: expected a finite number (not NaN or infinity)",
        ),
        (grid("{from: 0, to: -50, step: 5}"), 4, "grid.0.change_pct", "to (-50) is below from (0): steps go up"),
        (grid("{from: -150, to: 0, step: 50}"), 4, "grid.0.change_pct.from", "value -150: expected a number >= -100"),
        (
            grid("{from: 0, to: 50, step: 0.000001}"),
            4,
            "grid.0.change_pct",
            "50,000,001 steps, above the limit of 10,000 points: is the step right?",
        ),
        (grid("{from: 0, to: 10, step: 5}", where="{region: nowhere}"), 3, None, "no offers row matches"),
    ],
    ids=[
        "scenario-missing",
        "billion-laughs",
        "python-tag",
        "not-utf-8",
        "negative-seed",
        "billion-samples",
        "triangle-low-above-mode",
        "triangle-without-width",
        "uniform-reversed",
        "lognormal-mu-1000",
        "normal-infinite-mean",
        "where-matches-nothing",
        "ids-compared-as-text",
        "grid-from-nan",
        "grid-descending",
        "grid-below-minus-100pct",
        "grid-billions-of-points",
        "grid-where-matches-nothing",
    ],
)
def test_bad_sweep_file_gives_one_clear_problem(tmp_path, text, line, column, message):
    with pytest.raises(InputError) as caught:
        read_sweep(scenario_file(tmp_path, text))
    check(single(caught.value), "s.yaml", line, column, message)


# End to end: what a user sees from the command.

PREVIOUS = "previous run\n"


def run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``optimizer <args>`` as a user would (no colour, no debug traceback)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPTIMIZER_DEBUG", "FORCE_COLOR")}
    env["NO_COLOR"] = "1"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "optimizer.cli", *args], capture_output=True, timeout=60, cwd=tmp_path, env=env
    )
    return result, time.monotonic() - started


def with_previous_outputs(out: Path) -> Path:
    out.mkdir(parents=True)
    (out / "summary.json").write_text(PREVIOUS)
    return out


def assert_refused(result: subprocess.CompletedProcess, seconds: float, out: Path, message: str) -> None:
    """Exit 2 within seconds, the message on stderr, no traceback, previous outputs untouched."""
    stderr = result.stderr.decode("utf-8")
    assert result.returncode == 2, stderr
    assert seconds < 20, seconds
    assert message in stderr, stderr
    assert b"Traceback" not in result.stdout + result.stderr
    assert b"\x1b" not in result.stdout + result.stderr  # no escape sequence from the inputs
    assert [p.name for p in out.iterdir()] == ["summary.json"]
    assert (out / "summary.json").read_text() == PREVIOUS


def test_cli_huge_price_in_the_bundled_data(tmp_path):
    folder = Path(shutil.copytree(bundled_data(), tmp_path / "data"))
    with (folder / "offers.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[1][rows[0].index("usd_per_chip_hour")] = "1e30"  # line 2: no field spans lines
    with (folder / "offers.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    out = with_previous_outputs(tmp_path / "out")
    assert_refused(
        *run(tmp_path, "plan", "--data", str(folder), "--out", str(out)),
        out,
        f"{folder / 'offers.csv'}, line 2, column usd_per_chip_hour: value '1e30': expected a number <= 1e6",
    )


def test_cli_bundled_data_with_byte_order_marks_plans_at_the_same_cost(tmp_path):
    folder = Path(shutil.copytree(bundled_data(), tmp_path / "data"))
    for path in [*folder.glob("*.csv"), folder / "policy.yaml"]:
        path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    result, _ = run(tmp_path, "plan", "--data", str(folder), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr.decode()
    cost = json.loads((tmp_path / "out" / "summary.json").read_text())["total_cost_usd"]
    reference = optimizer.solve(optimizer.load(bundled_data()), payback=False)
    assert cost == pytest.approx(reference.totals["total_cost_usd"], rel=1e-9)


MIB = MAX_CSV_BYTES // 2**20
OVERSIZED = f"file is {MIB + 1} MiB, above the {MIB} MiB limit"


@pytest.mark.parametrize(
    "file,damage,message",
    [
        ("offers.csv", None, f"offers.csv: {OVERSIZED} for input files"),
        ("policy.yaml", LAUGHS, "policy.yaml, line 2: YAML aliases (*a) are not allowed"),
        (
            "offers.csv",
            offers("o1\x1b[2J,aws,r1,a,2.0,100"),
            f"offers.csv, line 2, column offer: value 'o1\\x1b[2J': {ID_RULE} (found '\\x1b' (U+001B "
            "control character))",
        ),
        (
            "offers.csv",
            OFFERS + "o1,aws,r1,a",
            "offers.csv, line 2: row has 4 fields, the header has 6: the file ends in this line without a line break",
        ),
    ],
    ids=["oversized-csv", "billion-laughs", "escape-in-id", "truncated"],
)
def test_cli_refuses_bad_tiny_folder(tmp_path, file, damage, message):
    folder = tiny(tmp_path / "in")
    if damage is None:
        with (folder / file).open("r+b") as handle:
            handle.truncate(MAX_CSV_BYTES + 2**20)  # sparse: refused on its size, never read
    else:
        (folder / file).write_bytes(damage.encode("utf-8"))
    out = with_previous_outputs(tmp_path / "out")
    assert_refused(*run(tmp_path, "plan", "--data", str(folder), "--out", str(out)), out, message)


def test_cli_brackets_in_a_value_are_shown_as_written(tmp_path):
    folder = tiny(tmp_path / "in")
    (folder / "offers.csv").write_text(offers("o[/x],aws,r1,a,2.0,100"))
    out = with_previous_outputs(tmp_path / "out")
    assert_refused(*run(tmp_path, "plan", "--data", str(folder), "--out", str(out)), out, "value 'o[/x]'")


@pytest.mark.parametrize(
    "text,message",
    [
        ("name: s\nbase: missing\n", "s.yaml, line 2, column base: base folder 'missing' not found"),
        ("name: s\nbase: empty\n", "s.yaml, line 2, column base: base folder 'empty' is not a data"),
        ("name: s\n" + LAUGHS, "s.yaml, line 3: YAML aliases (*a) are not allowed"),
        ("- name: s\n", f"s.yaml, line 1: {NOT_A_MAPPING}"),
    ],
    ids=["base-missing", "base-not-a-data-folder", "billion-laughs", "not-a-mapping"],
)
def test_cli_compare_refuses_bad_scenario(tmp_path, text, message):
    (tmp_path / "empty").mkdir()
    scenario_file(tmp_path, text)
    out = with_previous_outputs(tmp_path / "out")
    assert_refused(*run(tmp_path, "compare", "s.yaml", "--out", str(out), "--workers", "1"), out, message)


def test_last_line_without_a_line_break_is_accepted_with_a_warning(tmp_path):
    """Many tools write CSV without a final line break; only a short last row is an error."""
    folder = tiny(tmp_path / "in")
    for path in folder.glob("*.csv"):
        path.write_text(path.read_text(encoding="utf-8").rstrip("\r\n"), encoding="utf-8")
    inputs = optimizer.load(folder)
    assert optimizer.solve(inputs).totals["total_cost_usd"] == pytest.approx(2.0 * 10 * 2190)
    assert any("offers.csv, line 2: the file ends without a line break" in w for w in map(str, inputs.warnings))
    cut = next(w for w in inputs.warnings if w.file.endswith("offers.csv"))
    assert (cut.line, cut.severity) == (2, "warning")  # structured: file, line and severity, not only text
