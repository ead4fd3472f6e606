"""Writing result files: complete before anything is replaced, never over the inputs.

Every file is first written into a temporary folder inside the output folder; only when
all of them are complete are they moved into place, one atomic rename each. A run that
fails half way leaves the previous outputs untouched.

Text cells that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``,
``@``, tab or carriage return) are prefixed with a single quote; numbers are untouched.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.errors import OutputError

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


def check_output_folder(out: Path, inputs: list[Path], beside: list[Path] | None = None) -> None:
    """Refuse an output folder that is, or lies inside, an input folder, or is one of
    ``beside`` (folders holding input files, such as scenario files, whose subfolders are fine)."""
    target = out.resolve()
    for folder in inputs:
        source = folder.resolve()
        if target == source or source in target.parents:
            raise OutputError(
                f"output folder {out} is inside the input folder {folder}: outputs are never "
                "written among the inputs. Choose another --out."
            )
    for folder in beside or []:
        if target == folder.resolve():
            raise OutputError(f"output folder {out} holds input files: choose another --out.")


def write_outputs(
    out: Path,
    files: dict[str, Callable[[Path], None]],
    inputs: list[Path],
    beside: list[Path] | None = None,
    manifest: dict[str, Any] | None = None,
) -> None:
    """Write every file of ``files`` (name -> writer of that path) into ``out`` atomically.

    ``manifest`` (:mod:`optimizer.reporting.manifest`) is completed with the hash of every file and
    the seconds spent writing them, and written beside them as ``manifest.json``.
    """
    check_output_folder(out, inputs, beside)
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".writing-", dir=out))
    try:
        for name, writer in files.items():
            writer(staging / name)
        names = list(files)
        if manifest is not None:
            from optimizer.reporting.manifest import MANIFEST, sha256

            manifest["outputs"] = [
                {"file": name, "bytes": (staging / name).stat().st_size, "sha256": sha256(staging / name)}
                for name in names
            ]
            manifest["seconds"]["write"] = round(time.perf_counter() - started, 6)
            json_writer(manifest)(staging / MANIFEST)
            names.append(MANIFEST)
        for name in names:
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def csv_writer(frame: pd.DataFrame) -> Callable[[Path], None]:
    return lambda path: safe_frame(frame).to_csv(path, index=False, lineterminator="\n")


def json_writer(data: dict[str, Any]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_text(json.dumps(_clean_json(data), indent=2, sort_keys=False) + "\n", encoding="utf-8")

    return write
