"""Writers of result files (CSV, JSON), safe to open in a spreadsheet.

Batches of them are put in place by :mod:`optimizer.reporting.batch`. Text cells that a
spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return) are prefixed with a single quote; numbers are untouched.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Make a text value inert in spreadsheets; leave every other value as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` whose text cells are neutralised (see :func:`neutralise`)."""
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(neutralise)
    frame.columns = [neutralise(str(c)) for c in frame.columns]
    return frame


def _clean_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(neutralise(k)): _clean_json(v) for k, v in value.items()}
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
