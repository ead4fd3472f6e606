"""Writers of result files (CSV, JSON), safe to open in a spreadsheet.

Batches of them are put in place by :mod:`optimizer.reporting.batch`. Text cells have their
invisible and control characters written as visible escapes (:func:`optimizer.text.visible`),
and a text cell that a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@`` or
their fullwidth forms, after any leading spaces; or a leading tab or carriage return) is
prefixed with a single quote; numbers are untouched.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.text import visible

# Spreadsheets read the fullwidth forms (U+FF1D, U+FF0B, U+FF0D, U+FF20) as the ASCII ones.
FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise(value: Any) -> Any:
    """Make a text value inert in spreadsheets; leave every other value as it is."""
    if isinstance(value, str) and (value.startswith(("\t", "\r")) or value.lstrip().startswith(FORMULA_STARTS)):
        return "'" + value
    return value


def cell(value: Any) -> Any:
    """A value as a file may hold it: text made visible, then neutralised; other values as they are."""
    return neutralise(visible(value)) if isinstance(value, str) else value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` whose text cells and column names are made safe (see :func:`cell`)."""
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(cell)
    frame.columns = [cell(str(c)) for c in frame.columns]
    return frame


def _clean_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {cell(str(k)): _clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean_json(value.item())
    return value


def csv_writer(frame: pd.DataFrame) -> Callable[[Path], None]:
    return lambda path: safe_frame(frame).to_csv(path, index=False, lineterminator="\n")


def json_writer(data: dict[str, Any]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_text(json.dumps(_clean_json(data), indent=2, sort_keys=False) + "\n", encoding="utf-8")

    return write
