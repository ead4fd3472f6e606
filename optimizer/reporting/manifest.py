"""Reproducibility manifests: what a run read, with what, how long it took, what it wrote.

Every command writes ``manifest.json`` beside its outputs, in the same atomic batch: the
tool, solver and library versions, the options, the SHA-256 of every input file and of
every output file, and the seconds spent per phase. ``optimizer plan --check-manifest``
re-runs a past plan from its manifest and confirms that the same inputs still give the
same plan, file by file: the audit trail of last quarter's approved plan.

The manifest itself differs between runs (time stamps, timings); every other output file
is byte-identical for the same inputs, options and versions.

``schema_version`` names the output schema the files were written to: the version of
``docs/data-contract.md``. A check refuses a manifest of another schema (its files cannot
be compared with this version's byte for byte) and checks one without the field (written
before it existed, 0.5.0) with a note saying so.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError

from optimizer import tolerances
from optimizer.errors import InputError, Problem
from optimizer.io.loading import FILES, POLICY_FILE

MANIFEST = "manifest.json"
FORMAT = 1
# The output schema: the version of the data contract (docs/data-contract.md) whose columns
# and meanings the output files follow. Raised with the contract, never on its own: a
# column renamed, removed or given a new meaning is a new contract version (see its
# "Output columns: deprecation policy" and CHANGELOG.md).
SCHEMA_VERSION = 5
TOOL = "compute-procurement-optimizer"
LIBRARIES = (TOOL, "highspy", "pulp", "pandas", "numpy", "pydantic", "pyyaml")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def environment() -> dict[str, Any]:
    """Versions of everything that can change a plan: Python, the libraries and HiGHS itself."""
    from optimizer.solver.highs import new_highs

    highs = new_highs()
    libraries: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            libraries[name] = version(name)
        except PackageNotFoundError:
            libraries[name] = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "highs": f"{highs.version()} ({highs.githash()})",
        "libraries": libraries,
    }


def data_files(folder: Path) -> list[Path]:
    """The files of an input folder that a plan reads (optional ones only when present)."""
    names = [spec.filename for spec in FILES] + [POLICY_FILE]
    return [folder / name for name in names if (folder / name).is_file()]


def file_entries(paths: list[Path], role: str) -> list[dict[str, Any]]:
    return [
        {"role": role, "path": str(path.resolve()), "bytes": path.stat().st_size, "sha256": sha256(path)}
        for path in paths
    ]


def new_manifest(
    command: str,
    options: dict[str, Any],
    inputs: list[dict[str, Any]],
    seconds: dict[str, float],
    result: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A manifest without its outputs; :func:`optimizer.reporting.files.write_outputs` adds their hashes."""
    return {
        "manifest_format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "command": command,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "argv": sys.argv[1:],
        "options": {**options, "mip_abs_gap_usd": tolerances.MIP_ABS_GAP_USD, "mip_rel_gap": tolerances.MIP_REL_GAP},
        "environment": environment(),
        "inputs": inputs,
        "seconds": {phase: round(value, 6) for phase, value in seconds.items()},
        "result": result or {},
        "outputs": [],
    }


MAX_MANIFEST_BYTES = 10 * 2**20  # a plan's manifest is a few kB; one this size is not ours


class _Strict(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


def _plain_name(name: str) -> str:
    """An output is a file beside its manifest: never a path that reaches elsewhere."""
    if name in ("", ".", "..") or any(mark in name for mark in ("/", "\\", "\x00")):
        raise ValueError(f"output {name!r} is not a plain file name beside the manifest")
    return name


class _Output(_Strict):
    file: Annotated[str, AfterValidator(_plain_name)]
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class _Input(_Strict):
    path: str
    role: str
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class _PlanOptions(_Strict):
    data: str
    time_limit: float | None = None
    method: Literal["auto", "simplex", "ipm"] = "auto"
    integer: bool = False
    solver: str | None = None


class _PlanManifest(_Strict):
    """What ``--check-manifest`` reads of a plan's manifest, with the types it must have."""

    manifest_format: Literal[1]
    schema_version: int | None = None
    command: Literal["plan"]
    options: _PlanOptions
    inputs: list[_Input]
    outputs: list[_Output]
    environment: dict[str, Any]
    result: dict[str, Any] = {}


def _raw_manifest(path: Path) -> dict[str, Any]:
    """The JSON of a manifest this tool wrote (at most ``MAX_MANIFEST_BYTES``, its format), or :class:`InputError`."""
    file = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        raise InputError([Problem(file, "manifest not found")]) from None
    except OSError as error:
        raise InputError([Problem(file, f"cannot be read as a manifest ({error.strerror or error})")]) from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise InputError(
            [Problem(file, f"larger than {MAX_MANIFEST_BYTES:,} bytes: not a manifest written by this tool")]
        )
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:  # ValueError: bad JSON, 5,000-digit numbers
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise InputError([Problem(file, f"not a manifest written by this tool (unreadable JSON: {reason})")]) from None
    if not isinstance(manifest, dict) or manifest.get("manifest_format") != FORMAT:
        raise InputError([Problem(file, f"not a manifest of format {FORMAT} written by this tool")])
    return manifest


def read_manifest(path: Path) -> dict[str, Any]:
    """A plan's manifest, or :class:`InputError` saying why it cannot serve for a check:
    at most ``MAX_MANIFEST_BYTES``, valid JSON, every key it reads present and of its type,
    every output a plain file name beside the manifest (never a path elsewhere)."""
    file = str(path)
    manifest = _raw_manifest(path)
    if manifest.get("command") != "plan":
        raise InputError(
            [Problem(file, f"a manifest of `optimizer {manifest.get('command')}`: only plan manifests can be checked")]
        )
    if "schema_version" in manifest and manifest["schema_version"] != SCHEMA_VERSION:
        raise InputError([Problem(file, schema_mismatch(manifest))])
    try:
        _PlanManifest.model_validate(manifest)
    except ValidationError as error:
        raise InputError(
            [
                Problem(file, item["msg"], column=".".join(str(part) for part in item["loc"]))
                for item in error.errors(include_url=False)
            ]
        ) from None
    return manifest


class _Outputs(_Strict):
    command: str
    outputs: list[_Output]


def read_outputs(folder: Path, command: str, needed: list[str]) -> dict[str, Any]:
    """The manifest of ``command``'s outputs in ``folder``, every file it lists unchanged
    since (its SHA-256) and every ``needed`` file among them, or :class:`InputError` naming
    each problem: a report built on another command's outputs quotes only what that run wrote."""
    path = folder / MANIFEST
    file = str(path)
    manifest = _raw_manifest(path)
    if manifest.get("command") != command:
        message = f"a manifest of `optimizer {manifest.get('command')}`, not of `optimizer {command}`"
        raise InputError([Problem(file, message)])
    if "schema_version" in manifest and manifest["schema_version"] != SCHEMA_VERSION:
        raise InputError([Problem(file, schema_mismatch(manifest))])
    try:
        listed = _Outputs.model_validate(manifest).outputs
    except ValidationError as error:
        problems = [
            Problem(file, item["msg"], column=".".join(str(part) for part in item["loc"]))
            for item in error.errors(include_url=False)
        ]
        raise InputError(problems) from None
    recorded = {entry.file: entry.sha256 for entry in listed}
    problems = [
        Problem(str(folder / name), "missing from the manifest's outputs") for name in needed if name not in recorded
    ]
    for name, digest in recorded.items():
        if not (folder / name).is_file():
            problems.append(Problem(str(folder / name), "listed in the manifest but missing"))
        elif sha256(folder / name) != digest:
            problems.append(Problem(str(folder / name), "changed since the run that wrote it (its SHA-256 differs)"))
    if problems:
        raise InputError(problems)
    return manifest


def schema_mismatch(manifest: dict[str, Any]) -> str:
    """Why a manifest of another output schema cannot be checked by this version."""
    environment = manifest.get("environment")
    libraries = environment.get("libraries") if isinstance(environment, dict) else None
    writer = libraries.get(TOOL) if isinstance(libraries, dict) else None
    by = f" by {TOOL} {writer}" if writer else ""
    return (
        f"written{by} for output schema version {manifest['schema_version']!r}, but this optimizer "
        f"writes schema version {SCHEMA_VERSION} (data contract v{SCHEMA_VERSION}): the output files follow "
        "different contracts and cannot be compared byte for byte. Check it with the version that wrote "
        "it (CHANGELOG.md says what changed between the two)."
    )


@dataclass
class Check:
    """A past plan against its re-run: which inputs, outputs and versions differ."""

    data: Path
    changed_inputs: list[str] = field(default_factory=list)
    missing_inputs: list[str] = field(default_factory=list)
    new_inputs: list[str] = field(default_factory=list)
    differing_outputs: list[str] = field(default_factory=list)
    matching_outputs: list[str] = field(default_factory=list)
    tampered_on_disk: list[str] = field(default_factory=list)  # files beside the manifest that disagree with it
    changed_versions: list[str] = field(default_factory=list)
    recorded_cost: float | None = None
    rerun_cost: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def same_inputs(self) -> bool:
        return not (self.changed_inputs or self.missing_inputs or self.new_inputs)

    @property
    def same_plan(self) -> bool:
        return not self.differing_outputs

    @property
    def disk_matches(self) -> bool:
        return not self.tampered_on_disk

    @property
    def reproduced(self) -> bool:
        return self.same_inputs and self.same_plan and self.disk_matches

    def lines(self) -> list[str]:
        """The verdict and every difference, one line each, for the terminal."""
        verdict = (
            "same inputs, same plan: every output file is byte-identical, on disk and re-run"
            if self.reproduced
            else "the re-run does NOT reproduce the manifest"
        )
        lines = [verdict, f"inputs read from {self.data}", *self.notes]
        lines += [f"input changed since the plan: {name}" for name in self.changed_inputs]
        lines += [f"input missing now: {name}" for name in self.missing_inputs]
        lines += [f"input not in the manifest: {name}" for name in self.new_inputs]
        lines += [f"output differs: {name}" for name in self.differing_outputs]
        lines += [f"on disk beside the manifest: {item}" for item in self.tampered_on_disk]
        lines += [f"version differs: {item}" for item in self.changed_versions]
        if self.recorded_cost is not None and self.rerun_cost is not None:
            lines.append(f"total cost recorded {self.recorded_cost:,.2f} USD, re-run {self.rerun_cost:,.2f} USD")
        return lines


def compare_inputs(manifest: dict[str, Any], data: Path) -> Check:
    """Hashes of the files of ``data`` against the manifest's, matched by file name."""
    check = Check(data=data)
    if "schema_version" not in manifest:
        check.notes.append(
            f"note: the manifest records no schema_version (written before 0.5.0, which added it); its "
            f"outputs are compared with this version's, schema version {SCHEMA_VERSION}: a difference "
            "may come from a change of the data contract (CHANGELOG.md) rather than of the plan"
        )
    recorded = {Path(entry["path"]).name: entry["sha256"] for entry in manifest["inputs"] if entry["role"] == "data"}
    current = {path.name: sha256(path) for path in data_files(data)}
    check.changed_inputs = sorted(n for n in recorded if n in current and current[n] != recorded[n])
    check.missing_inputs = sorted(n for n in recorded if n not in current)
    check.new_inputs = sorted(n for n in current if n not in recorded)
    return check


def compare_disk(check: Check, manifest: dict[str, Any], folder: Path) -> None:
    """The files beside the manifest against its record: each one changed, missing or not
    listed is named (a folder edited after the run is not the run's output)."""
    listed = {entry["file"]: entry["sha256"] for entry in manifest["outputs"]}
    for name, recorded in listed.items():
        path = folder / name
        if not path.is_file():
            check.tampered_on_disk.append(f"{name} is missing")
        elif sha256(path) != recorded:
            check.tampered_on_disk.append(f"{name} differs from its recorded hash")
    for path in sorted(folder.iterdir()):
        if path.name not in listed and path.name != MANIFEST:
            check.tampered_on_disk.append(f"{path.name} is not in the manifest")


def compare_outputs(check: Check, manifest: dict[str, Any], written: Path) -> None:
    """Hashes of the re-run's output files against the manifest's."""
    for entry in manifest["outputs"]:
        path = written / entry["file"]
        same = path.is_file() and sha256(path) == entry["sha256"]
        (check.matching_outputs if same else check.differing_outputs).append(entry["file"])
    now = environment()
    then = manifest["environment"]
    for key in ("python", "highs"):
        if then.get(key) != now[key]:
            check.changed_versions.append(f"{key} {then.get(key)} -> {now[key]}")
    for name, value in now["libraries"].items():
        if then.get("libraries", {}).get(name) != value:
            check.changed_versions.append(f"{name} {then.get('libraries', {}).get(name)} -> {value}")


def folder_inputs(folder: Path) -> list[dict[str, Any]]:
    return file_entries(data_files(folder), "data")


def scenario_inputs(files: list[Path], role: str = "scenario") -> list[dict[str, Any]]:
    """Scenario files and the data folders they build on (each folder once)."""
    from optimizer.io.loading import bundled_data
    from optimizer.scenarios.overlays import read_scenario

    entries = file_entries(files, role)
    folders: list[Path] = []
    for file in files:
        base = (read_scenario(file).base or bundled_data()).resolve()
        if base not in folders:
            folders.append(base)
    for folder in folders:
        entries += folder_inputs(folder)
    return entries
