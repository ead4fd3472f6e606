"""Files to validated inputs: read every CSV and the policy, report all problems at once.

The order is: read each file (size, encoding, CSV syntax, missing files and columns,
malformed rows), validate each row against its pydantic model (types, ranges, ids,
quarters), find duplicate keys and empty tables, then run the cross-file checks of
:mod:`optimizer.io.consistency`. Problems from every stage are collected, so one run lists
everything that is wrong. Values from the files are shown with ``repr`` (and header or
policy key names when they are not plain text), so a control character in a file never
reaches the terminal raw.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from optimizer.errors import InputError, Problem, warning
from optimizer.io import consistency
from optimizer.io.bounded import FileRefused, read_at_most
from optimizer.io.schema import FIRST_YEAR, LAST_YEAR, Policy
from optimizer.io.tables import ORIGIN_COLUMNS, TABLES, Inputs, TableSpec
from optimizer.io.yaml_reader import character_name, decode_utf8, read_yaml

FILES = TABLES  # the name reporting.manifest imports the registry by
POLICY_FILE = "policy.yaml"
# Refused before reading: 16 MiB is some 250,000 workload rows (the largest benchmark has
# 2,248 in 100 KB), far beyond what one LP solves in reasonable time; validating them
# alone takes about 10 s.
MAX_CSV_BYTES = 16 * 1024 * 1024
# 40 times the largest benchmark's table (1,898 offers); with the byte limit it bounds memory.
MAX_ROWS = 100_000
MAX_COLUMNS = 1000  # a table of the contract has at most 14; extra columns are only ignored

Record = tuple[str, int | None, dict[str, Any]]  # (file, line, values)
Origin = tuple[str, int | None]  # (file, line) of a policy key


@dataclass
class RawInputs:
    """Input records before validation, each with its origin: what scenarios change.

    ``policy`` is the parsed policy mapping (None when the file could not be parsed) and
    ``policy_origins`` the file and line of every key in it, by path of keys.
    """

    folder: Path | None
    records: dict[str, list[Record]]
    policy: Any
    policy_origins: dict[tuple[Any, ...], Origin]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)


def bundled_data() -> Path:
    """The default dataset: the repository's ``data/`` folder.

    In a source checkout or an editable install that is ``data/`` next to the package; an
    installed wheel carries a copy as ``optimizer/bundled_data``. Resolved from the
    package's own location (not by importing a subpackage), so a script run from the
    repository root, where ``optimizer/`` shadows the installed package, finds it too.
    """
    package = Path(__file__).resolve().parent.parent  # optimizer/, above this io/ subpackage
    checkout = package.parent / "data"
    if (checkout / "offers.csv").exists():
        return checkout
    return package / "bundled_data"


def load(folder: str | Path) -> Inputs:
    """Read and validate an input folder; raise :class:`InputError` listing every problem."""
    return validate(read_raw(folder))


def read_raw(folder: str | Path) -> RawInputs:
    """Read every file of an input folder into records, without validating values."""
    folder = Path(folder)
    if not folder.is_dir():
        message = "a file, not an input folder" if folder.exists() else "input folder not found"
        raise InputError([Problem(str(folder), message)])
    missing = missing_files(folder)
    if len(missing) == len([spec for spec in TABLES if not spec.optional]):
        message = f"not an input folder: it has none of {', '.join(missing)}"
        raise InputError([Problem(str(folder), message)])
    raw = RawInputs(folder=folder, records={}, policy=None, policy_origins={})
    for spec in TABLES:
        found, file_problems, file_warnings = read_records(folder / spec.filename, spec)
        raw.records[spec.name] = found
        if file_problems:
            raw.broken.add(spec.name)
        raw.problems += file_problems
        raw.warnings += file_warnings
    policy_file = folder / POLICY_FILE
    data, lines, policy_problems = read_policy_file(policy_file, raw.warnings)
    raw.problems += policy_problems
    raw.policy = None if policy_problems else data  # unreadable YAML: keys not checked further
    raw.policy_origins = {(): (str(policy_file), 1)}
    raw.policy_origins.update({path: (str(policy_file), line) for path, line in lines.items()})
    return raw


def missing_files(folder: Path) -> list[str]:
    """The required CSV files that ``folder`` lacks."""
    return [spec.filename for spec in TABLES if not spec.optional and not (folder / spec.filename).is_file()]


def validate(raw: RawInputs) -> Inputs:
    """Validate raw records of every table and the policy into :class:`Inputs`.

    Shared by folder loading and scenario overlays, so changed inputs pass exactly the
    same checks as files. Cross-file checks still run when rows are invalid, but count
    the ids of invalid rows as known, so one bad row gives one message, not a cascade;
    tables whose file could not be read at all (``raw.broken``) are not checked against.
    """
    problems = list(raw.problems)
    tables: dict[str, Any] = {}
    broken = set(raw.broken)
    for spec in TABLES:
        records = raw.records.get(spec.name, [])
        table, row_problems = validate_rows(spec, records)
        tables[spec.name] = table
        problems += row_problems
        # Without demand there is no horizon and nothing to plan; every other table may be
        # empty (the contract then leaves the demand unserved, at the penalty).
        if not records and spec.name == "workloads" and spec.name not in broken:
            file = str(raw.folder / spec.filename) if raw.folder else spec.filename
            message = "no rows after the header: at least one workload row is needed"
            problems.append(Problem(file, message))
            broken.add(spec.name)
    policy: Policy | None = None
    policy_problems: list[Problem] = []
    if raw.policy is not None:
        policy, policy_problems = validate_policy(raw.policy, raw.policy_origins)
    problems += policy_problems
    known = {
        "accelerator": _raw_values(raw.records, "accelerators", "accelerator"),
        "region": _raw_values(raw.records, "offers", "region"),
        "offer": _raw_values(raw.records, "offers", "offer"),
    }
    inputs = Inputs(**tables, policy=policy or Policy(), folder=raw.folder, warnings=list(raw.warnings))
    cross_problems, cross_warnings = consistency.check(
        inputs, raw.policy_origins, known=known, broken=broken, check_policy=policy is not None
    )
    problems += cross_problems
    if problems:
        raise InputError(problems)
    return Inputs(
        **tables,
        policy=inputs.policy,
        folder=raw.folder,
        warnings=list(raw.warnings) + cross_warnings,
        policy_origins=dict(raw.policy_origins),
    )


def _raw_values(records: dict[str, list[Record]], table: str, column: str) -> set[str]:
    return {str(values.get(column, "")).strip() for _, _, values in records.get(table, [])}


def read_records(path: Path, spec: TableSpec) -> tuple[list[Record], list[Problem], list[Problem]]:
    """Read one CSV file into raw records, checking the header and the row shapes."""
    file = str(path)
    if not path.exists():
        if spec.optional:
            return [], [], []
        return [], [Problem(file, "file not found")], []
    rows, problems, unterminated = read_csv_rows(path, spec.columns)
    if not rows:
        return [], problems or [Problem(file, "empty file: expected a header row")], []
    header_line, header = rows[0]
    header = [name.strip() for name in header]
    separator = _other_separator(header)
    if separator:
        message = f"the header has no commas but {separator}: save the file comma-separated"
        return [], [Problem(file, message, header_line)], []
    if len(header) > MAX_COLUMNS:
        message = f"the header has {len(header):,} columns, above the limit of {MAX_COLUMNS:,}: is this the right file?"
        return [], [Problem(file, message, header_line)], []
    warnings = []
    duplicates = sorted(name for name, count in Counter(header).items() if count > 1)
    for name in duplicates:
        problems.append(Problem(file, "column appears twice in the header", header_line, shown(name)))
    for name in spec.required_columns:
        if name not in header:
            problems.append(Problem(file, "required column is missing", header_line, name))
    ignored = []
    for name in header:
        if name in spec.columns:
            continue
        near = [c for c in difflib.get_close_matches(name, spec.columns, n=1, cutoff=0.75) if c not in header]
        if near:  # an optional column with a typo would silently take its default
            message = f"unknown column: did you mean {near[0]!r}?"
            problems.append(Problem(file, message, header_line, shown(name)))
        else:
            ignored.append(shown(name))
    if ignored:
        warnings.append(warning(file, f"column(s) {', '.join(ignored)} not in the data contract: ignored"))
    if duplicates:
        return [], problems, warnings
    records: list[Record] = []
    kept = set(spec.columns)
    cut = len(rows) > 1 and unterminated
    for line, values in rows[1:]:
        if len(values) != len(header):
            last = cut and line == rows[-1][0]
            problems.append(
                Problem(
                    file,
                    f"row has {len(values)} fields, the header has {len(header)}"
                    + (": the file ends in this line without a line break, so it looks truncated" if last else ""),
                    line,
                )
            )
            continue
        # Only the contract's columns are kept: ignored ones would only take memory.
        records.append((file, line, {n: v for n, v in zip(header, values, strict=True) if n in kept}))
    if cut and records and records[-1][1] == rows[-1][0]:
        warnings.append(
            warning(
                file,
                "the file ends without a line break; if it was cut short, the last value of this row may be incomplete",
                rows[-1][0],
            )
        )
    return records, problems, warnings


_CSV_ERRORS = {  # the csv module's words, and what they mean for the person fixing the file
    "unexpected end of data": "a quoted field is still open at the end of the file: the file is truncated, "
    "or a quote is not closed",
    "',' expected after '\"'": "text follows the closing quote of a field: a stray quote? (inside a quoted field "
    'a quote is written twice: "")',
    "field larger than field limit": "a field is longer than 131,072 characters: a quote that is never closed "
    "takes in the lines after it",
}


def read_csv_rows(path: Path, wanted: Collection[str]) -> tuple[list[tuple[int, list[str]]], list[Problem], bool]:
    """(first line, fields) of every non-blank record, the problems of the file as text, and
    whether its last line ends without a line break. After the header, the fields of
    columns not in ``wanted`` are kept blank: a file of 1,000 columns then holds in memory
    only the cells that are read.

    The file is read bounded (:mod:`optimizer.io.bounded`), the encoding checked before
    parsing (the line of the first byte that is not UTF-8), quotes strictly (Python's
    lenient reader would glue a stray quote's text to its field) and the number of rows
    against :data:`MAX_ROWS` while parsing. Without a final line break, a last row short
    of fields was cut off (see read_records).
    """
    file = str(path)
    try:
        data = read_at_most(path, MAX_CSV_BYTES, _csv_too_large)
    except FileRefused as refused:
        return [], [Problem(file, str(refused))], False
    unterminated = data[-1:] not in (b"\n", b"\r", b"")
    text, bad = decode_utf8(data)
    del data
    if bad is not None:
        return [], [Problem(file, bad.message, bad.line)], False
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    kept: set[int] | None = None
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                if kept is None:  # the header
                    kept = {i for i, name in enumerate(row) if name.strip() in wanted}
                else:
                    row = [cell if i in kept else "" for i, cell in enumerate(row)]
                if len(rows) > MAX_ROWS:  # the header and MAX_ROWS rows are in
                    message = f"more than {MAX_ROWS:,} rows, the limit for input tables: is this the right file?"
                    return [], [Problem(file, message, start)], False
                rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as error:
        plain = [words for known, words in _CSV_ERRORS.items() if str(error).startswith(known)]
        message = plain[0] if plain else f"not readable as CSV: {error}"
        return [], [Problem(file, message, start)], False
    return rows, [], unterminated


def _csv_too_large(size: int) -> str:
    limit = MAX_CSV_BYTES // 2**20
    size_mib = math.ceil(size / 2**20)
    return f"file is {size_mib:,} MiB, above the {limit} MiB limit for input files: is this the right file?"


def _other_separator(header: list[str]) -> str | None:
    """'4 semicolons' when a one-column header is really separated by something else than commas."""
    if len(header) != 1:
        return None
    marks = (("\t", "tabs"), (";", "semicolons"), ("|", "bars"))
    counts = {name: header[0].count(mark) for mark, name in marks}
    name, count = max(counts.items(), key=lambda item: item[1])
    return f"{count} {name}" if count else None


def shown(name: str) -> str:
    """A header or key name as written when it is plain text, else quoted with escapes."""
    return name if name and name.isprintable() and name == name.strip() else repr(name)


def validate_rows(spec: TableSpec, records: list[Record]) -> tuple[pd.DataFrame, list[Problem]]:
    """Validate raw records against the row model; blank cells take the column's default."""
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    for file, line, values in records:
        present = {k: v for k, v in values.items() if v is not None and not (isinstance(v, str) and not v.strip())}
        try:
            row = spec.row.model_validate(present)
        except ValidationError as error:
            for detail in error.errors():
                column = ".".join(str(part) for part in detail["loc"]) or None
                if detail["type"] == "missing" and column not in values:
                    continue  # the whole column is missing: reported once, on the header
                problems.append(Problem(file, describe(detail), line, column))
            continue
        rows.append({**row.model_dump(), "_file": file, "_line": line})
    table = pd.DataFrame(rows, columns=spec.columns + ORIGIN_COLUMNS)
    problems += duplicate_keys(spec, table)
    return table, problems


def duplicate_keys(spec: TableSpec, table: pd.DataFrame) -> list[Problem]:
    """Every row whose key an earlier row already has, naming that row's line (linear time:
    a 16 MiB file of duplicates is checked in seconds, not days)."""
    key = list(spec.key)
    if not key or table.empty:  # no key: repeated rows are meaningful (two contracts on one offer)
        return []
    positions = pd.Series(range(len(table)), index=table.index)
    first_row = positions.groupby([table[k] for k in key], dropna=False, sort=False).transform("first")
    first_line = pd.Series(table["_line"].to_numpy()[first_row.to_numpy()], index=table.index)
    repeated = table.duplicated(key, keep="first")
    problems = []
    for values, file, line, first in zip(
        table.loc[repeated, key].itertuples(index=False, name=None),
        table.loc[repeated, "_file"],
        table.loc[repeated, "_line"],
        first_line[repeated],
        strict=True,
    ):
        shown = ", ".join(f"{k}={_short_repr(v)}" for k, v in zip(key, values, strict=True))
        problems.append(Problem(file, f"duplicate key ({shown}); first defined at line {first}", line, "/".join(key)))
    return problems


def read_policy_file(path: Path, warnings: list[Problem]) -> tuple[Any, dict[tuple[Any, ...], int], list[Problem]]:
    if not path.exists():
        warnings.append(warning(str(path), "not found; every policy key takes its default"))
        return {}, {}, []
    data, lines, yaml_problems = read_yaml(path)
    problems = [Problem(str(path), p.message, p.line) for p in yaml_problems]
    return data, lines, problems


def validate_policy(data: Any, origins: dict[tuple[Any, ...], Origin]) -> tuple[Policy | None, list[Problem]]:
    """Validate the policy mapping; each problem points at the file and line of its key."""
    top = origins.get((), (POLICY_FILE, 1))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [Problem(top[0], "expected a mapping of policy keys at the top level", top[1])]
    try:
        return Policy.model_validate(data), []
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            loc = clean_loc(detail["loc"])
            file, line = origin_of(origins, loc, top)
            column = ".".join(shown(str(part)) for part in loc)
            problems.append(Problem(file, describe(detail), line, column))
        return None, problems


def clean_loc(loc: tuple) -> tuple:
    """A pydantic location without the names of union members (``constrained-float``...)."""
    internal = ("constrained-", "function-", "dict[", "list[", "literal[", "union[", "tagged-union[")
    kept = [part for part in loc if not (isinstance(part, str) and part.startswith(internal))]
    types = ("float", "int", "str", "bool", "none", "dict")
    return tuple(part for part in kept if part not in types)


def origin_of(origins: dict[tuple[Any, ...], Origin], loc: tuple[Any, ...], default: Origin) -> Origin:
    """Origin of the deepest key of ``loc`` that the YAML really contains."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in origins:
            return origins[loc[:end]]
    return default


_EXPECTED = {
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "int_type": "expected a whole number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected text",
    "dict_type": "expected a mapping of keys to values",
    "finite_number": "expected a finite number (not NaN or infinity)",
    "model_type": "expected a mapping of keys to values",
}


def describe(detail: Mapping[str, Any]) -> str:
    """One plain sentence for a pydantic error: the bad value and what was expected."""
    kind = detail["type"]
    ctx = detail.get("ctx", {})
    value = detail.get("input")
    if kind == "missing":
        return "required value is missing"
    if kind == "extra_forbidden":
        return f"unknown key {detail['loc'][-1]!r}"
    if kind == "value_error":
        expected = str(ctx.get("error", detail["msg"]))
    elif kind == "greater_than_equal":
        expected = f"expected a number >= {number_text(ctx['ge'])}"
    elif kind == "greater_than":
        expected = f"expected a number > {number_text(ctx['gt'])}"
    elif kind == "less_than_equal":
        expected = f"expected a number <= {number_text(ctx['le'])}"
    elif kind == "string_pattern_mismatch":
        if "Q" in ctx.get("pattern", ""):
            expected = f"expected a quarter such as 2026Q1, in the years {FIRST_YEAR} to {LAST_YEAR}"
        else:
            expected = "expected a lowercase id: letters a-z, digits, '.', '_' or '-'" + _first_misfit(value)
    elif kind == "literal_error":
        expected = f"expected {ctx.get('expected', '')}"
    elif kind == "string_type" and isinstance(value, (bool, int, float)):
        # YAML reads 1e-3, 2026 and yes as a number or a boolean; an id so spelled needs quotes.
        expected = "expected text: YAML read this as a number or true/false; put the id in quotes"
    else:
        expected = _EXPECTED.get(kind, detail["msg"])
    return f"value {_short_repr(value)}: {expected}"


def number_text(number: float) -> str:
    """1e6 rather than 1e+06: limits as the data contract writes them."""
    return re.sub(r"e\+?(-?)0*(\d)", r"e\1\2", f"{number:g}")


def _short_repr(value: Any, limit: int = 80) -> str:
    """repr of a value, cut short: a cell can hold a whole file when a quote is never closed."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(str(value)):,} characters)"


def _first_misfit(value: Any) -> str:
    """The first character an id may not hold: invisible and look-alike ones are hard to spot."""
    if not isinstance(value, str) or not value:
        return ""
    if value[0] in "._-":
        return f" (it starts with {value[0]!r})"
    for character in value:
        if not (character in "._-" or "a" <= character <= "z" or "0" <= character <= "9"):
            plain = character.isascii() and character.isprintable()
            return f" (found {character!r})" if plain else f" (found {character_name(character)})"
    return ""
