"""Scenario overlays: named, ordered changes to a base input folder, validated like data.

A scenario file::

    name: nvidia-price-rise
    description: Nvidia raises every list price by 20%.
    base: ../data                  # optional, relative to this file; default: the bundled data
    changes:
      - scale: offers              # multiply a numeric column of the rows matched by `where`
        where: {vendor: nvidia}    # column -> value or list of values; offers and performance
        column: usd_per_chip_hour  #   also match on the accelerator's vendor
        by: 1.2
        from: 2027Q1               # optional quarter range (workloads, offer_quarters; on offers
        until: 2027Q4              #   it writes per-quarter overrides)
      - set: offers                # same selectors, `value:` instead of `by:`
      - add: contracts             # `rows:` a list of rows in the table's columns
      - remove: spend_commitments  # `where:` the rows to drop
      - delay: offers              # the matched offers arrive `quarters` late: no chips in
        where: {accelerator: nvidia-rubin}  #   their first quarters of availability
        quarters: 2
      - policy: {max_share: {provider: 1.0}}   # policy keys, merged into the base policy

Every input table of :data:`optimizer.io.tables.TABLES` can be changed. Changes apply in
order to the base folder's records; the result passes the same validation as a data
folder, and every problem names the scenario file and line of the change (or the data
file and line of an untouched row). ``add`` to an optional table the base folder lacks
creates it; ``remove``, ``scale`` and ``set`` that match no row are errors, so a change
that would do nothing (a misspelt id, a file missing from the base) is never silent.
"""

from __future__ import annotations

import copy
import functools
import math
import os
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from optimizer import quarters
from optimizer.errors import InputError, Problem
from optimizer.io.loading import (
    Origin,
    RawInputs,
    bundled_data,
    describe,
    missing_files,
    read_raw,
    validate,
)
from optimizer.io.schema import QUARTER_PATTERN, parse_flag, parse_number
from optimizer.io.tables import SPECS, TABLES, Inputs, TableName
from optimizer.io.yaml_reader import read_yaml

Selector = dict[str, str | float | int | bool | list[str | float | int | bool]]
QuarterLabel = Annotated[str, Field(pattern=QUARTER_PATTERN)]
# Rows that name an accelerator can also be selected by its vendor (offers, performance).
VIRTUAL_VENDOR = tuple(s.name for s in TABLES if "accelerator" in s.columns and "vendor" not in s.columns)
# from/until select rows by their quarter; on offers they write per-quarter overrides.
RANGED = ("offers", *(s.name for s in TABLES if "quarter" in s.required_columns))
MAX_DELAY_QUARTERS = 40  # ten years: a longer slip is an offer that never comes (remove it)


class _Change(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=True, frozen=True)


class Add(_Change):
    add: TableName
    rows: list[dict[str, Any]]


class Remove(_Change):
    remove: TableName
    where: Selector


class Scale(_Change):
    scale: TableName
    where: Selector = Field(default_factory=dict)
    column: str
    by: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    first: QuarterLabel | None = Field(default=None, alias="from")
    last: QuarterLabel | None = Field(default=None, alias="until")


class Set(_Change):
    set: TableName
    where: Selector = Field(default_factory=dict)
    column: str
    value: str | float | int | bool
    first: QuarterLabel | None = Field(default=None, alias="from")
    last: QuarterLabel | None = Field(default=None, alias="until")


class Delay(_Change):
    """Offers that arrive ``quarters`` late: no chips (max_chips and min_chips 0) in their
    first ``quarters`` quarters of availability, each offer counted from its own
    ``available_from`` (the horizon's first quarter when blank)."""

    delay: Literal["offers"]
    where: Selector = Field(default_factory=dict)
    quarters: Annotated[int, Field(ge=0, le=MAX_DELAY_QUARTERS)]


class PolicyChange(_Change):
    policy: dict[str, Any]


Change = Add | Remove | Scale | Set | Delay | PolicyChange
KINDS: dict[str, type[_Change]] = {
    "add": Add,
    "remove": Remove,
    "scale": Scale,
    "set": Set,
    "delay": Delay,
    "policy": PolicyChange,
}


class Scenario(BaseModel):
    """A named list of changes to a base folder (None: the bundled data).

    Built from a YAML file with :func:`read_scenario`, or directly in Python::

        Scenario(name="cheap-maia", changes=[Scale(scale="offers", where={"accelerator":
                 "microsoft-maia-200"}, column="usd_per_chip_hour", by=0.7)])
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    name: str
    description: str = ""
    base: Path | None = None
    changes: list[Any] = Field(default_factory=list)
    file: str = "<python>"
    change_lines: list[int | None] = Field(default_factory=list)
    key_lines: dict[tuple, int] = Field(default_factory=dict)  # YAML line of every key, by path

    @field_validator("base")
    @classmethod
    def _absolute(cls, base: Path | None) -> Path | None:
        """Made absolute here, in this process: a worker elsewhere (another folder, a Dask
        node) would resolve a relative path against its own working folder."""
        return None if base is None else Path(os.path.abspath(base))


def read_scenario(path: str | Path) -> Scenario:
    """Parse and check a scenario file; raise :class:`InputError` naming file and line."""
    path = Path(path)
    if not path.exists():
        raise InputError([Problem(str(path), "scenario file not found")])
    data, lines, yaml_problems = read_yaml(path)
    problems = [Problem(str(path), p.message, p.line) for p in yaml_problems]
    if problems:
        raise InputError(problems)
    if not isinstance(data, dict):
        raise InputError([Problem(str(path), "expected a mapping with name, description, base and changes", 1)])
    for key in data:
        if key not in ("name", "description", "base", "changes"):
            problems.append(
                Problem(
                    str(path),
                    f"unknown key {key!r} (expected name, description, base, changes)",
                    lines.get((key,)),
                    key,
                )
            )
    if not isinstance(data.get("name"), str) or not data.get("name"):
        problems.append(Problem(str(path), "a scenario needs a name (text)", lines.get(("name",), 1), "name"))
    for key, allowed in (("name", ""), ("description", "\n\t")):
        text = data.get(key)
        if isinstance(text, str) and has_control(text, allowed):
            message = f"{key} {text!r}: control characters are not allowed"
            problems.append(Problem(str(path), message, lines.get((key,)), key))
    base, base_problems = _base_folder(data.get("base"), path, lines.get(("base",)))
    problems += base_problems
    raw_changes = data.get("changes") or []
    if not isinstance(raw_changes, list):
        problems.append(Problem(str(path), "changes: expected a list", lines.get(("changes",)), "changes"))
        raw_changes = []
    changes, change_lines = [], []
    for index, raw in enumerate(raw_changes):
        line = lines.get(("changes", index))
        change, change_problems = _parse_change(raw, str(path), line, lines, ("changes", index))
        problems += change_problems
        changes.append(change)
        change_lines.append(line)
    if problems:
        raise InputError(problems)
    return Scenario(
        name=data["name"],
        description=str(data.get("description") or "").strip(),
        base=base,
        changes=changes,
        file=str(path),
        change_lines=change_lines,
        key_lines=lines,
    )


def has_control(text: str, allowed: str = "") -> bool:
    """Whether text holds a control or invisible character (other than ``allowed``)."""
    return any(not character.isprintable() and character not in allowed for character in text)


def _base_folder(base: Any, path: Path, line: int | None) -> tuple[Path | None, list[Problem]]:
    """The scenario's base folder (None: the bundled data), checked now to be a data folder,
    so a wrong path is named with the scenario's line before any solve starts."""
    if base is None:
        return None, []

    def problem(message: str) -> tuple[None, list[Problem]]:
        return None, [Problem(str(path), message, line, "base")]

    if not isinstance(base, str) or not base.strip():
        return problem("expected the path of a data folder, relative to this file")
    folder = path.parent / base
    if not folder.exists():
        return problem(f"base folder {str(folder)!r} not found")
    if not folder.is_dir():
        return problem(f"base {str(folder)!r} is a file, not a data folder")
    missing = missing_files(folder)
    if missing:
        return problem(f"base folder {str(folder)!r} is not a data folder: it has no {', '.join(missing)}")
    return folder, []


def _parse_change(raw: Any, file: str, line: int | None, lines: dict, path: tuple) -> tuple[Any, list[Problem]]:
    if not isinstance(raw, dict):
        return None, [Problem(file, "a change must be a mapping", line)]
    kinds = [k for k in KINDS if k in raw]
    if len(kinds) != 1:
        return None, [
            Problem(
                file,
                f"a change names exactly one of {', '.join(KINDS)} (found {', '.join(kinds) or 'none'})",
                line,
            )
        ]
    try:
        return KINDS[kinds[0]].model_validate(raw), []
    except ValidationError as error:
        return None, [
            Problem(
                file,
                describe(detail),
                lines.get(path + tuple(detail["loc"][:1]), line),
                ".".join(map(str, detail["loc"])),
            )
            for detail in error.errors()
        ]


def apply(scenario: Scenario) -> Inputs:
    """The scenario's inputs: its base folder with every change applied, then validated."""
    raw = base_records(Path(scenario.base or bundled_data()))
    raw = apply_changes(raw, scenario)
    return validate(raw)


_BASES: dict[tuple[Path, tuple], RawInputs] = {}


def base_records(folder: Path) -> RawInputs:
    """The base folder's records, read once per process while its files stay as they are
    (the points of a sweep share one base). Callers copy before changing them."""
    key = (folder.resolve(), _signature(folder))
    raw = _BASES.get(key)
    if raw is None:
        raw = read_raw(folder)
        _BASES.clear()  # one base at a time: a changed folder's old records are not kept
        _BASES[key] = raw
    return raw


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, modification time and size of each file in ``folder`` (one stat each)."""
    if not folder.is_dir():
        return ()
    found = []
    for entry in sorted(os.scandir(folder), key=lambda item: item.name):
        if entry.is_file():
            info = entry.stat()
            found.append((entry.name, info.st_mtime_ns, info.st_size))
    return tuple(found)


def apply_changes(raw: RawInputs, scenario: Scenario) -> RawInputs:
    """A copy of ``raw`` with the scenario's changes applied in order (problems collected)."""
    raw = copy.deepcopy(raw)
    problems: list[Problem] = []
    lines = scenario.change_lines or [None] * len(scenario.changes)
    for index, (change, line) in enumerate(zip(scenario.changes, lines, strict=True)):
        origin = (scenario.file, line)
        if isinstance(change, PolicyChange):
            keys: dict[tuple, Origin] = {
                path[3:]: (scenario.file, key_line)
                for path, key_line in scenario.key_lines.items()
                if path[:3] == ("changes", index, "policy")
            }
            _merge_policy(raw, change.policy, origin, keys)
        elif isinstance(change, Add):
            problems += _add(raw, change, origin)
        elif isinstance(change, Remove):
            problems += _remove(raw, change, origin)
        elif isinstance(change, Scale | Set):
            problems += _update(raw, change, origin)
        elif isinstance(change, Delay):
            problems += _delay(raw, change, origin)
        else:
            problems.append(Problem(scenario.file, f"not a change: {change!r}", line))
    if problems:
        raise InputError(problems)
    return raw


def _table_of(change: Any) -> str:
    for key in ("add", "remove", "scale", "set"):
        if hasattr(change, key):
            return getattr(change, key)
    raise ValueError(change)


def _merge_policy(raw: RawInputs, change: dict[str, Any], origin: Origin, keys: dict[tuple, Origin]) -> None:
    """Deep-merge policy keys; merged keys point at their line in the scenario file."""

    def merge(target: dict, source: dict, path: tuple) -> None:
        for key, value in source.items():
            raw.policy_origins[path + (key,)] = keys.get(path + (key,), origin)
            if isinstance(value, dict) and isinstance(target.get(key), dict):
                merge(target[key], value, path + (key,))
            else:
                target[key] = copy.deepcopy(value)

    if raw.policy is None:
        raw.policy = {}
    merge(raw.policy, change, ())


def _add(raw: RawInputs, change: Add, origin: Origin) -> list[Problem]:
    columns = SPECS[change.add].columns
    problems = []
    for row in change.rows:
        unknown = [c for c in row if c not in columns]
        if unknown:
            problems.append(Problem(origin[0], f"{change.add} has no column(s) {', '.join(unknown)}", origin[1]))
            continue
        raw.records.setdefault(change.add, []).append((origin[0], origin[1], dict(row)))
    return problems


def _matches(table: str, values: dict[str, Any], where: Selector, vendors: dict[str, str]) -> bool:
    for column, wanted in where.items():
        actual = values.get(column)
        if column == "vendor" and table in VIRTUAL_VENDOR:
            actual = vendors.get(str(values.get("accelerator", "")).strip())
        options = wanted if isinstance(wanted, list) else [wanted]
        kind = "text" if column == "vendor" else _column_kind(table, column)
        if not any(_same(kind, actual, option) for option in options):
            return False
    return True


@functools.cache
def _column_kind(table: str, column: str) -> str:
    """'number', 'flag' or 'text', from the row schema: ids are text even when they look
    like numbers (offer ``1e5`` is not offer ``100000``, ``inf`` not ``infinity``)."""
    annotation = SPECS[table].row.model_fields[column].annotation
    if get_origin(annotation) in (Union, UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return "flag" if annotation is bool else "number" if annotation in (int, float) else "text"


def _same(kind: str, actual: Any, wanted: Any) -> bool:
    """Whether a cell (text as read, or a number a change wrote) is the selector's value."""
    if actual is None:
        return False
    if kind == "number":
        left, right = _number(actual), _number(wanted)
        return left is not None and left == right
    if kind == "flag":
        return _flag(actual) is not None and _flag(actual) == _flag(wanted)
    return str(actual).strip() == str(wanted).strip()


def _number(value: Any) -> float | None:
    """A number as the row schema reads it (plain finite decimals), else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(parse_number(value))
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _flag(value: Any) -> bool | None:
    """A flag as the row schema reads it (true/yes/1, false/no/0), else None."""
    try:
        flag = parse_flag(value)
    except ValueError:
        return None
    return flag if isinstance(flag, bool) else None


def _check_selector(table: str, where: Selector, origin: Origin) -> list[Problem]:
    columns = SPECS[table].columns + (["vendor"] if table in VIRTUAL_VENDOR else [])
    return [
        Problem(origin[0], f"{table} has no column {column!r} to select on", origin[1], column)
        for column in where
        if column not in columns
    ]


def _vendors(raw: RawInputs) -> dict[str, str]:
    return {
        str(v.get("accelerator", "")).strip(): str(v.get("vendor", "")).strip()
        for _, _, v in raw.records.get("accelerators", [])
    }


def _no_match(raw: RawInputs, table: str, where: Selector, origin: Origin) -> Problem:
    """'No row matches', saying so when the table is empty because the base lacks its optional file."""
    message = f"no {table} row matches {where}"
    filename = SPECS[table].filename
    if not raw.records.get(table) and raw.folder is not None and not (raw.folder / filename).is_file():
        message += f": the base folder has no {filename}"
    return Problem(origin[0], message, origin[1])


def _remove(raw: RawInputs, change: Remove, origin: Origin) -> list[Problem]:
    problems = _check_selector(change.remove, change.where, origin)
    if problems:
        return problems
    vendors = _vendors(raw)
    records = raw.records.get(change.remove, [])
    kept = [r for r in records if not _matches(change.remove, r[2], change.where, vendors)]
    if len(kept) == len(records):
        return [_no_match(raw, change.remove, change.where, origin)]
    if not kept and change.remove == "workloads":
        message = "removes every workloads row: a plan needs some demand"
        return [Problem(origin[0], message, origin[1])]
    raw.records[change.remove] = kept
    return []


def _update(raw: RawInputs, change: Scale | Set, origin: Origin) -> list[Problem]:
    table = _table_of(change)
    problems = _check_selector(table, change.where, origin)
    if change.column not in SPECS[table].columns:
        problems.append(Problem(origin[0], f"{table} has no column {change.column!r}", origin[1], "column"))
    ranged = change.first is not None or change.last is not None
    if ranged and table not in RANGED:
        message = f"from/until apply only to {', '.join(RANGED)}, not to {table}"
        problems.append(Problem(origin[0], message, origin[1]))
    if problems:
        return problems
    vendors = _vendors(raw)
    matched = [i for i, r in enumerate(raw.records.get(table, [])) if _matches(table, r[2], change.where, vendors)]
    if not matched:
        return [_no_match(raw, table, change.where, origin)]
    if table == "offers" and ranged:
        return _update_offer_quarters(raw, change, matched, origin) or _follow_tiers(raw, change, matched, origin)
    touched = 0
    for i in matched:
        file, line, values = raw.records[table][i]
        if ranged and not _in_range(values.get("quarter"), change):
            continue
        current = values.get(change.column)
        if change.column == "min_chips" and (current is None or not str(current).strip()):
            current = 0.0  # blank min_chips is 0 (the contract's default), as in quarter overrides
        updated, problem = _new_value(current, change, origin)
        if problem:
            return [problem]
        raw.records[table][i] = (origin[0], origin[1], {**values, change.column: updated})
        touched += 1
    if not touched:
        return [
            Problem(
                origin[0],
                f"no {table} row matches {change.where} between "
                f"{change.first or 'the start'} and {change.last or 'the end'}",
                origin[1],
            )
        ]
    if table == "offers":
        return _follow_overrides(raw, change, matched, origin) or _follow_tiers(raw, change, matched, origin)
    return []


def _delay(raw: RawInputs, change: Delay, origin: Origin) -> list[Problem]:
    """Each matched offer's first ``change.quarters`` quarters of availability lose their chips."""
    problems = _check_selector("offers", change.where, origin)
    if problems:
        return problems
    vendors = _vendors(raw)
    matched = [
        i for i, r in enumerate(raw.records.get("offers", [])) if _matches("offers", r[2], change.where, vendors)
    ]
    if not matched:
        return [_no_match(raw, "offers", change.where, origin)]
    horizon = _horizon(raw)
    if change.quarters == 0 or not horizon:
        return []
    for i in matched:
        offer = raw.records["offers"][i][2]
        first = str(offer.get("available_from") or "").strip() or horizon[0]
        try:
            start = quarters.ordinal(first)
        except ValueError:  # the offer's own row names the bad quarter when validated
            continue
        until = quarters.label(start + change.quarters - 1)
        for column in ("max_chips", "min_chips"):
            scale = Scale(scale="offers", where={}, column=column, by=0.0, first=first, last=until)
            problems += _update_offer_quarters(raw, scale, [i], origin)
    return problems


def _follow_tiers(raw: RawInputs, change: Scale | Set, matched: list[int], origin: Origin) -> list[Problem]:
    """Scaling an offer's price scales its price tiers too (a 20% list-price rise raises
    every tier); ``set`` leaves them, as they are prices of their own. Within from/until a
    tier row for every quarter becomes one row per quarter of the horizon, scaled in range."""
    if change.column != "usd_per_chip_hour" or not isinstance(change, Scale) or not raw.records.get("price_tiers"):
        return []
    names = {str(raw.records["offers"][i][2].get("offer", "")).strip() for i in matched}
    ranged = change.first is not None or change.last is not None
    rows: list[tuple[str, int | None, dict[str, Any]]] = []
    for file, line, values in raw.records["price_tiers"]:
        quarter = str(values.get("quarter") or "").strip()
        if str(values.get("offer", "")).strip() not in names:
            rows.append((file, line, values))
            continue
        each = [quarter] if quarter or not ranged else _horizon(raw)
        for q in each:
            row = {**values, "quarter": q} if q else values
            if ranged and not _in_range(q, change):
                rows.append((file, line, row))
                continue
            updated, problem = _new_value(values.get("usd_per_chip_hour"), change, origin)
            if problem:
                return [problem]
            rows.append((origin[0], origin[1], {**row, "usd_per_chip_hour": updated}))
    raw.records["price_tiers"] = rows
    return []


def _follow_overrides(raw: RawInputs, change: Scale | Set, matched: list[int], origin: Origin) -> list[Problem]:
    """An offer's quarter overrides of the changed column change with it (scaled, or set).

    Without this, "halve TPU capacity" would leave a quarter whose capacity comes from
    offer_quarters.csv untouched.
    """
    names = {str(raw.records["offers"][i][2].get("offer", "")).strip() for i in matched}
    overrides = raw.records.get("offer_quarters", [])
    for k, (_, _, values) in enumerate(overrides):
        current = values.get(change.column)
        if str(values.get("offer", "")).strip() not in names or current is None or not str(current).strip():
            continue
        updated, problem = _new_value(current, change, origin)
        if problem:
            return [problem]
        overrides[k] = (origin[0], origin[1], {**values, change.column: updated})
    return []


def _in_range(quarter: Any, change: Scale | Set) -> bool:
    try:
        ordinal = quarters.ordinal(str(quarter).strip())
    except ValueError:
        return False
    low = quarters.ordinal(change.first) if change.first else ordinal
    high = quarters.ordinal(change.last) if change.last else ordinal
    return low <= ordinal <= high


def _new_value(current: Any, change: Scale | Set, origin: Origin) -> tuple[Any, Problem | None]:
    if isinstance(change, Set):
        return change.value, None
    if current is None or (isinstance(current, str) and not current.strip()):
        return None, Problem(
            origin[0], f"cannot scale {change.column}: a matched row has no value", origin[1], change.column
        )
    try:
        return float(current) * change.by, None
    except (TypeError, ValueError):
        return None, Problem(
            origin[0], f"cannot scale {change.column}: value {current!r} is not a number", origin[1], change.column
        )


def _update_offer_quarters(raw: RawInputs, change: Scale | Set, matched: list[int], origin: Origin) -> list[Problem]:
    """A quarter-ranged change of offers becomes per-quarter overrides in offer_quarters."""
    if change.column not in ("usd_per_chip_hour", "max_chips", "min_chips"):
        return [
            Problem(
                origin[0], f"only prices and chip bounds change by quarter, not {change.column}", origin[1], "column"
            )
        ]
    horizon = _horizon(raw)
    if not horizon:
        return [Problem(origin[0], "no workloads: the horizon is unknown", origin[1])]
    overrides = raw.records.setdefault("offer_quarters", [])
    index = {
        (str(v.get("offer", "")).strip(), str(v.get("quarter", "")).strip()): k for k, (_, _, v) in enumerate(overrides)
    }
    for i in matched:
        offer = raw.records["offers"][i][2]
        name = str(offer.get("offer", "")).strip()
        for quarter in horizon:
            if not _in_range(quarter, change) or not _available(offer, quarter, horizon):
                continue
            existing = index.get((name, quarter))
            values = dict(overrides[existing][2]) if existing is not None else {"offer": name, "quarter": quarter}
            current = values.get(change.column)
            if current is None or (isinstance(current, str) and not current.strip()):
                current = offer.get(change.column, 0.0 if change.column == "min_chips" else None)
            updated, problem = _new_value(current, change, origin)
            if problem:
                return [problem]
            values[change.column] = updated
            if existing is None:
                index[(name, quarter)] = len(overrides)
                overrides.append((origin[0], origin[1], values))
            else:
                overrides[existing] = (origin[0], origin[1], values)
    return []


def _horizon(raw: RawInputs) -> list[str]:
    found = []
    for _, _, values in raw.records.get("workloads", []):
        try:
            found.append(quarters.ordinal(str(values.get("quarter", "")).strip()))
        except ValueError:
            continue
    return quarters.quarter_range(quarters.label(min(found)), quarters.label(max(found))) if found else []


def _available(offer: dict[str, Any], quarter: str, horizon: list[str]) -> bool:
    start = str(offer.get("available_from") or "").strip() or horizon[0]
    end = str(offer.get("available_until") or "").strip() or horizon[-1]
    try:
        return quarters.ordinal(start) <= quarters.ordinal(quarter) <= quarters.ordinal(end)
    except ValueError:
        return True
