"""`plan --check-manifest` audits the disk and refuses every malformed manifest cleanly.

A folder edited after its run (a changed, missing or added file) is named line by line
and exits 4; a manifest that is not one this tool wrote (wrong types, missing keys, deep
nesting, huge numbers, a path that leaves the folder, a directory, an oversized file) is
one message naming the manifest and exit 2, never "internal error".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import offer, workload, write_folder
from typer.testing import CliRunner

from optimizer import cli
from optimizer.reporting.manifest import MAX_MANIFEST_BYTES

runner = CliRunner()


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> Path:
    """A tiny plan's output folder (one offer, one workload)."""
    root = tmp_path_factory.mktemp("planned")
    folder = write_folder(
        root / "in",
        accelerators=[{"accelerator": "a", "vendor": "nvidia"}],
        offers=[offer("o1", "aws", "r1", "a", 2.0, 100)],
        performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100}],
        workloads=[workload("w", "2026Q1", 1000)],
        latency=[{"geography": "g", "region": "r1", "rtt_ms": 50}],
    )
    result = runner.invoke(cli.app, ["plan", "--data", str(folder), "--out", str(root / "out")])
    assert result.exit_code == 0, result.output
    return root / "out"


def copy_of(planned: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    for path in planned.iterdir():
        (out / path.name).write_bytes(path.read_bytes())
    return out


def check(out: Path, manifest: Path | None = None):
    return runner.invoke(cli.app, ["plan", "--check-manifest", str(manifest or out / "manifest.json")])


def test_an_untouched_folder_reproduces(planned, tmp_path):
    result = check(copy_of(planned, tmp_path))
    assert result.exit_code == 0, result.output
    assert "byte-identical, on disk and re-run" in result.output


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda out: (out / "summary.json").write_text("{}\n"), "summary.json differs from its recorded hash"),
        (lambda out: append(out / "purchases.csv", "o9,2026Q1\n"), "purchases.csv differs"),
        (lambda out: (out / "allocation.csv").unlink(), "allocation.csv is missing"),
        (lambda out: (out / "extra.csv").write_text("x\n"), "extra.csv is not in the manifest"),
    ],
    ids=["edited", "appended", "deleted", "added"],
)
def test_a_folder_edited_after_its_run_is_named_and_exits_4(planned, tmp_path, edit, named):
    out = copy_of(planned, tmp_path)
    edit(out)
    result = check(out)
    assert result.exit_code == 4, result.output
    assert "does NOT reproduce" in result.output and named in result.output


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


TAMPERED = {
    "integer as text": lambda m: m["options"].update(integer="false"),
    "time limit as text": lambda m: m["options"].update(time_limit="10"),
    "outputs missing": lambda m: m.pop("outputs"),
    "outputs not a list": lambda m: m.update(outputs={"file": "x"}),
    "output outside the folder": lambda m: m["outputs"][0].update(file="../../../../etc/passwd"),
    "output hash not a hash": lambda m: m["outputs"][0].update(sha256=5),
    "inputs wrong type": lambda m: m.update(inputs="all of them"),
    "unknown method": lambda m: m["options"].update(method="magic"),
    "another command": lambda m: m.update(command="leverage"),
    "another format": lambda m: m.update(manifest_format="1"),
}


@pytest.mark.parametrize("name", sorted(TAMPERED))
def test_a_tampered_manifest_is_one_clear_message(planned, tmp_path, name):
    out = copy_of(planned, tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    TAMPERED[name](manifest)
    (out / "manifest.json").write_text(json.dumps(manifest))
    result = check(out)
    assert result.exit_code == 2, result.output
    assert "manifest.json" in result.output and "internal error" not in result.output


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (deep(100_000), "nested too deeply"),
        ('{"manifest_format": 1, "n": ' + "9" * 5000 + "}", "unreadable JSON"),
        ("not json", "unreadable JSON"),
        ("\xff\xfe", "unreadable JSON"),
    ],
    ids=["100000 deep", "5000 digits", "text", "not utf-8"],
)
def test_an_unreadable_manifest_is_one_clear_message(tmp_path, content, said):
    path = tmp_path / "manifest.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape") if content != "\xff\xfe" else b"\xff\xfe")
    result = check(tmp_path, path)
    assert result.exit_code == 2, result.output
    assert said in result.output and "internal error" not in result.output


def test_an_oversized_manifest_is_not_read_whole(tmp_path):
    path = tmp_path / "manifest.json"
    with path.open("wb") as handle:
        handle.truncate(MAX_MANIFEST_BYTES + 1)  # sparse: no disk used
    result = check(tmp_path, path)
    assert result.exit_code == 2 and "larger than" in result.output


def test_a_directory_as_the_manifest_is_one_clear_message(tmp_path):
    (tmp_path / "manifest.json").mkdir()
    result = check(tmp_path)
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output
