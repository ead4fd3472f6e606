"""Files to validated inputs: read every CSV and the policy, report all problems at once.

The order is: read each file (missing files and columns, malformed rows), validate each
row against its pydantic model (types, ranges, ids, quarters), find duplicate keys, then
run the cross-file checks of :mod:`optimizer.consistency`. Problems from every stage are
collected, so one run lists everything that is wrong.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ValidationError

from . import consistency
from .errors import InputError, Problem
from .inputs import ORIGIN_COLUMNS, Inputs
from .schema import (
    AcceleratorRow,
    LatencyRow,
    OfferQuarterRow,
    OfferRow,
    PerformanceRow,
    Policy,
    WorkloadRow,
)
from .yaml_io import read_yaml


@dataclass(frozen=True)
class FileSpec:
    table: str
    filename: str
    row: type[BaseModel]
    key: tuple[str, ...]
    optional: bool = False

    @property
    def columns(self) -> list[str]:
        return list(self.row.model_fields)

    @property
    def required_columns(self) -> list[str]:
        return [name for name, f in self.row.model_fields.items() if f.is_required()]


FILES = (
    FileSpec("accelerators", "accelerators.csv", AcceleratorRow, ("accelerator",)),
    FileSpec("offers", "offers.csv", OfferRow, ("offer",)),
    FileSpec("offer_quarters", "offer_quarters.csv", OfferQuarterRow, ("offer", "quarter"), True),
    FileSpec("performance", "performance.csv", PerformanceRow, ("model", "accelerator")),
    FileSpec("workloads", "workloads.csv", WorkloadRow, ("workload", "quarter")),
    FileSpec("latency", "latency.csv", LatencyRow, ("geography", "region")),
)
SPECS = {spec.table: spec for spec in FILES}
POLICY_FILE = "policy.yaml"

Record = tuple[str, int | None, dict[str, Any]]  # (file, line, values)


def load(folder: str | Path) -> Inputs:
    """Read and validate an input folder; raise :class:`InputError` listing every problem."""
    folder = Path(folder)
    problems: list[Problem] = []
    warnings: list[str] = []
    if not folder.is_dir():
        raise InputError([Problem(str(folder), "input folder not found")])
    records: dict[str, list[Record]] = {}
    broken: set[str] = set()
    for spec in FILES:
        found, file_problems, file_warnings = read_records(folder / spec.filename, spec)
        records[spec.table] = found
        if file_problems:
            broken.add(spec.table)
        problems += file_problems
        warnings += file_warnings
    policy_data, policy_lines, policy_problems = read_policy_file(folder / POLICY_FILE, warnings)
    problems += policy_problems
    if policy_problems:
        policy_data = None  # unreadable YAML: its keys are not checked further
    return validate(records, policy_data, policy_lines, str(folder / POLICY_FILE), folder,
                    problems, warnings, broken)


def validate(
    records: dict[str, list[Record]],
    policy_data: Any,
    policy_lines: dict[tuple[Any, ...], int],
    policy_file: str,
    folder: Path | None,
    problems: list[Problem] | None = None,
    warnings: list[str] | None = None,
    broken: set[str] | None = None,
) -> Inputs:
    """Validate records of every table and the policy data into :class:`Inputs`.

    Shared by folder loading and scenario overlays, so changed inputs pass exactly the
    same checks as files. Cross-file checks still run when rows are invalid, but count
    the ids of invalid rows as known, so one bad row gives one message, not a cascade;
    ``broken`` names tables whose file could not be read at all (not checked against).
    ``policy_data`` None means the policy file could not be parsed: defaults stand in.
    """
    problems = list(problems or [])
    warnings = list(warnings or [])
    tables = {}
    for spec in FILES:
        table, row_problems = validate_rows(spec, records.get(spec.table, []))
        tables[spec.table] = table
        problems += row_problems
    policy, policy_problems = (
        validate_policy(policy_data, policy_lines, policy_file) if policy_data is not None else (None, [])
    )
    problems += policy_problems
    known = {
        "accelerator": _raw_values(records, "accelerators", "accelerator"),
        "region": _raw_values(records, "offers", "region"),
        "offer": _raw_values(records, "offers", "offer"),
    }
    inputs = Inputs(**tables, policy=policy or Policy(), folder=folder, warnings=warnings)
    cross_problems, cross_warnings = consistency.check(
        inputs, policy_lines, policy_file, known=known, broken=broken or set(), check_policy=policy is not None
    )
    problems += cross_problems
    if problems:
        raise InputError(problems)
    return Inputs(**tables, policy=inputs.policy, folder=folder, warnings=warnings + cross_warnings)


def _raw_values(records: dict[str, list[Record]], table: str, column: str) -> set[str]:
    return {str(values.get(column, "")).strip() for _, _, values in records.get(table, [])}


def read_records(path: Path, spec: FileSpec) -> tuple[list[Record], list[Problem], list[str]]:
    """Read one CSV file into raw records, checking the header and the row shapes."""
    file = str(path)
    if not path.exists():
        if spec.optional:
            return [], [], []
        return [], [Problem(file, "file not found")], []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(_rows_with_lines(csv.reader(handle)))
    except UnicodeDecodeError as error:
        return [], [Problem(file, f"not valid UTF-8 text ({error.reason})")], []
    except csv.Error as error:
        return [], [Problem(file, f"not a readable CSV file: {error}")], []
    if not rows:
        return [], [Problem(file, "empty file: expected a header row")], []
    header_line, header = rows[0]
    header = [name.strip() for name in header]
    problems = []
    warnings = []
    duplicates = sorted({name for name in header if header.count(name) > 1})
    for name in duplicates:
        problems.append(Problem(file, "column appears twice in the header", header_line, name))
    for name in spec.required_columns:
        if name not in header:
            problems.append(Problem(file, "required column is missing", header_line, name))
    unknown = [name for name in header if name not in spec.columns]
    if unknown:
        warnings.append(
            f"{file}: column(s) {', '.join(unknown)} not in the data contract: ignored"
        )
    if problems:
        return [], problems, warnings
    records: list[Record] = []
    for line, values in rows[1:]:
        if len(values) != len(header):
            problems.append(
                Problem(file, f"row has {len(values)} fields, the header has {len(header)}", line)
            )
            continue
        records.append((file, line, dict(zip(header, values, strict=True))))
    return records, problems, warnings


def _rows_with_lines(reader: Iterable[list[str]]) -> Iterable[tuple[int, list[str]]]:
    """Yield (first line of the record, fields), skipping blank lines."""
    line = 1
    for row in reader:
        start = line
        line = reader.line_num + 1  # type: ignore[attr-defined]
        if row and any(cell.strip() for cell in row):
            yield start, row


def validate_rows(spec: FileSpec, records: list[Record]) -> tuple[pd.DataFrame, list[Problem]]:
    """Validate raw records against the row model; blank cells take the column's default."""
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    for file, line, values in records:
        present = {
            k: v for k, v in values.items() if v is not None and not (isinstance(v, str) and not v.strip())
        }
        try:
            row = spec.row.model_validate(present)
        except ValidationError as error:
            for detail in error.errors():
                column = ".".join(str(part) for part in detail["loc"]) or None
                problems.append(Problem(file, describe(detail), line, column))
            continue
        rows.append({**row.model_dump(), "_file": file, "_line": line})
    table = pd.DataFrame(rows, columns=spec.columns + ORIGIN_COLUMNS)
    problems += duplicate_keys(spec, table)
    return table, problems


def duplicate_keys(spec: FileSpec, table: pd.DataFrame) -> list[Problem]:
    key = list(spec.key)
    repeated = table[table.duplicated(key, keep="first")]
    problems = []
    for _, row in repeated.iterrows():
        values = tuple(row[k] for k in key)
        first = table[(table[key] == pd.Series(values, index=key)).all(axis=1)].iloc[0]
        shown = ", ".join(f"{k}={v!r}" for k, v in zip(key, values, strict=True))
        problems.append(
            Problem(
                row["_file"],
                f"duplicate key ({shown}); first defined at line {first['_line']}",
                row["_line"],
                "/".join(key),
            )
        )
    return problems


def read_policy_file(
    path: Path, warnings: list[str]
) -> tuple[Any, dict[tuple[Any, ...], int], list[Problem]]:
    if not path.exists():
        warnings.append(f"{path}: not found; every policy key takes its default")
        return {}, {}, []
    try:
        data, lines, yaml_problems = read_yaml(path)
    except UnicodeDecodeError as error:
        return None, {}, [Problem(str(path), f"not valid UTF-8 text ({error.reason})")]
    problems = [Problem(str(path), p.message, p.line) for p in yaml_problems]
    return data, lines, problems


def validate_policy(
    data: Any, lines: dict[tuple[Any, ...], int], file: str
) -> tuple[Policy | None, list[Problem]]:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [Problem(file, "expected a mapping of policy keys at the top level", 1)]
    try:
        return Policy.model_validate(data), []
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            loc = tuple(detail["loc"])
            problems.append(
                Problem(file, describe(detail), line_of(lines, loc), ".".join(map(str, loc)))
            )
        return None, problems


def line_of(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    """Line of the deepest key of ``loc`` that the YAML file really contains."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


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


def describe(detail: dict[str, Any]) -> str:
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
        expected = f"expected a number >= {ctx['ge']:g}"
    elif kind == "greater_than":
        expected = f"expected a number > {ctx['gt']:g}"
    elif kind == "less_than_equal":
        expected = f"expected a number <= {ctx['le']:g}"
    elif kind == "string_pattern_mismatch":
        if "Q" in ctx.get("pattern", ""):
            expected = "expected a quarter such as 2026Q1"
        else:
            expected = "expected a lowercase id: letters a-z, digits, '.', '_' or '-'"
    elif kind == "literal_error":
        expected = f"expected {ctx.get('expected', '')}"
    else:
        expected = _EXPECTED.get(kind, detail["msg"])
    return f"value {value!r}: {expected}"
