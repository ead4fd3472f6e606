"""Output batches: a command's files appear all at once or not at all, one writer at a time.

Design (README, "Reliability"): a command takes a lock beside its output folder
(``.NAME.lock``, an OS file lock the kernel drops if the process dies) before any work, so
a second run writing the same ``--out`` is refused at once. Its files, manifest included,
are written into a staging folder beside the output folder (``.NAME.writing-*``, the same
filesystem) and the whole folder is swapped in by two renames: the previous output folder
is renamed aside (``.NAME.old-*``), the staging folder renamed into its place, the old one
removed. At every moment ``--out`` is the previous complete set, the new complete set, or
(between the two renames) absent: never a mix. A run killed between the renames is
repaired by the next one, which puts the previous set back before it starts.

A folder is replaced only when it is empty or holds exactly a previous run of the same
command (every file listed by its ``manifest.json``); anything else (another command's
outputs, files of the user's) is refused, so nothing is overwritten silently.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from optimizer.errors import OutputError, WriteError
from optimizer.reporting.files import json_writer
from optimizer.reporting.manifest import MANIFEST, sha256

MAX_MANIFEST_BYTES = 10 * 2**20  # a manifest lists a few dozen files; far larger is not ours


def check_output_folder(out: Path, inputs: list[Path], beside: list[Path] | None = None) -> None:
    """Refuse an output folder that is, or lies inside, an input folder, or is one of
    ``beside`` (folders holding input files, such as scenario files, whose subfolders are
    fine), or that holds the current directory (the swap would pull it from under the shell)."""
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
    here = Path.cwd().resolve()
    if target == here or target in here.parents:
        raise OutputError(f"output folder {out} is the current folder or holds it: choose another --out.")


class Batch:
    """The staging side of one output batch: :meth:`write` puts every file in place at once."""

    def __init__(self, out: Path):
        self.out = out

    def write(self, files: dict[str, Callable[[Path], None]], manifest: dict[str, Any] | None = None) -> None:
        """Write ``files`` (name -> writer of that path) and the completed ``manifest`` (with the
        hash of every file and the seconds spent writing), then swap the folder in."""
        started = time.perf_counter()
        # Made by mkdir, not mkdtemp: the folder gets the umask's permissions (mkdtemp's 0700
        # would make the outputs private), and the lock makes the random name ours alone.
        staging = self.out.parent / f".{self.out.name}.writing-{secrets.token_hex(6)}"
        try:
            with _environment(staging):
                staging.mkdir()
                for name, writer in files.items():
                    writer(staging / name)
                if manifest is not None:
                    manifest["outputs"] = [
                        {"file": name, "bytes": (staging / name).stat().st_size, "sha256": sha256(staging / name)}
                        for name in files
                    ]
                    manifest["seconds"]["write"] = round(time.perf_counter() - started, 6)
                    json_writer(manifest)(staging / MANIFEST)
                for path in staging.iterdir():
                    _flush(path)
                _swap(staging, self.out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def output_batch(
    out: Path, inputs: list[Path], beside: list[Path] | None = None, command: str | None = None
) -> Iterator[Batch]:
    """Hold ``out`` for one command: checked and locked before any work, written at the end.

    Raises :class:`OutputError` (exit 2) for a folder the command may not use and
    :class:`WriteError` (exit 7) when the machine refuses (no space, no permission, a file
    where a folder should be, another run writing there).
    """
    check_output_folder(out, inputs, beside)
    with _environment(out.parent):
        out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and not out.is_dir():
        raise WriteError(f"--out {out} is a file, not a folder: choose another --out.")
    lock = FileLock(out.parent / f".{out.name}.lock", timeout=0)
    with _environment(out.parent):  # Timeout is an OSError too: caught first, inside
        try:
            lock.acquire()
        except Timeout:
            raise WriteError(
                f"another optimizer run is writing {out} (it holds {lock.lock_file}): wait for it to "
                "finish, or choose another --out."
            ) from None
    try:
        _repair(out)
        _check_replaceable(out, command)
        yield Batch(out)
    finally:
        lock.release()


def write_outputs(
    out: Path,
    files: dict[str, Callable[[Path], None]],
    inputs: list[Path],
    beside: list[Path] | None = None,
    manifest: dict[str, Any] | None = None,
) -> None:
    """One batch written at once: :func:`output_batch` and :meth:`Batch.write` together."""
    command = manifest.get("command") if manifest else None
    with output_batch(out, inputs, beside, command) as batch:
        batch.write(files, manifest)


def previous_run(out: Path) -> tuple[str | None, set[str]] | None:
    """(command, files) of the run whose outputs fill ``out``, None when it holds anything
    else: files its manifest does not list, or a manifest that is not one."""
    entries = {path.name for path in out.iterdir()}
    manifest = out / MANIFEST
    if MANIFEST not in entries or not manifest.is_file() or manifest.stat().st_size > MAX_MANIFEST_BYTES:
        return None
    try:
        recorded = json.loads(manifest.read_text(encoding="utf-8"))
        listed = {str(item["file"]) for item in recorded["outputs"]}
        command = recorded.get("command")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    if entries != listed | {MANIFEST} or not isinstance(command, str | None):
        return None
    return command, listed


def _check_replaceable(out: Path, command: str | None) -> None:
    if not out.exists() or not any(out.iterdir()):
        return
    found = previous_run(out)
    if found is None:
        raise OutputError(
            f"output folder {out} holds files that are not a previous run's outputs (no manifest.json "
            "listing exactly them): nothing is overwritten. Choose another --out, or empty it."
        )
    if found[0] != command:
        raise OutputError(
            f"output folder {out} holds the outputs of `optimizer {found[0]}`, which `optimizer {command}` "
            "would replace: choose another --out."
        )


def _swap(staging: Path, out: Path) -> None:
    """Staging in place of ``out`` by two renames (module docstring)."""
    if not out.exists():
        os.replace(staging, out)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.replace(out, aside)  # onto the empty folder just made: atomic, and the name is ours
    os.replace(staging, out)
    shutil.rmtree(aside, ignore_errors=True)


def _repair(out: Path) -> None:
    """Undo what a killed run left beside ``out``: put the previous set back if the kill came
    between the two renames, and remove staging and set-aside folders."""
    parent = out.parent
    asides = sorted(parent.glob(f".{out.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if not out.exists() and asides:
        os.replace(asides.pop(), out)
    legacy = list(out.glob(".writing-*")) if out.is_dir() else []  # 0.1.0 staged inside --out
    for stale in asides + list(parent.glob(f".{out.name}.writing-*")) + legacy:
        shutil.rmtree(stale, ignore_errors=True)


def _flush(path: Path) -> None:
    """Bytes on disk before the rename makes them visible (a crash must not show empty files)."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


@contextmanager
def _environment(path: Path) -> Iterator[None]:
    """The machine's refusals (disk full, read-only, permissions) as a :class:`WriteError`."""
    try:
        yield
    except OSError as error:
        reasons = {
            errno.ENOSPC: "no space left on the device",
            errno.EROFS: "the filesystem is read-only",
            errno.EACCES: "permission denied",
            errno.EEXIST: "a file stands where a folder is needed",
            errno.ENOTDIR: "part of the path is a file, not a folder",
        }
        reason = reasons.get(error.errno or 0, error.strerror or str(error))
        where = error.filename or path
        raise WriteError(f"cannot write {where}: {reason}. Nothing was replaced.") from error
