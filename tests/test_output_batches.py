"""Outputs that cannot tear or lie: kills at every step, a second writer, refusals, a full disk.

A batch is one run's files plus its manifest (reporting/batch.py). After any kill, the
output folder holds one complete set whose files all match its manifest (the previous
run's or the new one's), or nothing until the next run puts the previous set back; a
second writer is refused while the first holds the folder; a folder holding anything but
a previous run of the same command is never replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import offer, workload, write_folder
from typer.testing import CliRunner

from optimizer import cli
from optimizer.errors import OutputError, WriteError
from optimizer.reporting.batch import output_batch, write_outputs

runner = CliRunner()

# Writes run A, then run B of the same command, dying (os._exit, no clean-up runs) at the
# KILL_AT-th call of any step that moves or flushes files; KILL_AT=-1 never dies.
KILLED_WRITER = """
import os, shutil, sys
from pathlib import Path
from optimizer.reporting.batch import write_outputs

out, kill_at = Path(sys.argv[1]), int(sys.argv[2])

def run(letter):
    files = {f"{name}.csv": (lambda path, name=name: path.write_text(letter * 1000)) for name in "abc"}
    write_outputs(out, files, inputs=[], manifest={"command": "plan", "seconds": {}})

run("A")
calls = [0]
def dying(real):
    def step(*args, **kwargs):
        if calls[0] == kill_at:
            os._exit(9)
        calls[0] += 1
        return real(*args, **kwargs)
    return step
os.replace, os.fsync, shutil.rmtree = dying(os.replace), dying(os.fsync), dying(shutil.rmtree)
run("B")
print(calls[0])
"""


def complete_set(out: Path) -> str | None:
    """The letter of the one run whose complete, manifest-consistent set fills ``out``."""
    manifest = json.loads((out / "manifest.json").read_text())
    listed = {entry["file"]: entry["sha256"] for entry in manifest["outputs"]}
    assert {path.name for path in out.iterdir()} == set(listed) | {"manifest.json"}
    letters = set()
    for name, digest in listed.items():
        content = (out / name).read_bytes()
        assert hashlib.sha256(content).hexdigest() == digest, name
        letters |= set(content.decode())
    assert len(letters) == 1, letters
    return letters.pop()


def test_a_kill_at_any_step_leaves_one_complete_set(tmp_path):
    """Kill points 0, 1, ... up to the step count of an undisturbed run (which prints it)."""
    script = tmp_path / "writer.py"
    script.write_text(KILLED_WRITER)
    clean = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "clean" / "out"), "-1"], capture_output=True, text=True
    )
    assert clean.returncode == 0, clean.stderr
    steps = int(clean.stdout)
    assert steps >= 5  # three fsyncs and two renames at least
    seen = set()
    for kill_at in range(steps + 1):
        out = tmp_path / f"kill-{kill_at}" / "out"
        run = subprocess.run([sys.executable, str(script), str(out), str(kill_at)], capture_output=True, text=True)
        assert run.returncode in (0, 9), run.stderr
        if out.exists():  # what a reader sees right after the kill: A or B, whole
            seen.add(complete_set(out))
        with output_batch(out, inputs=[], command="plan"):  # the next run repairs first
            assert complete_set(out) in ("A", "B")
        assert not [p.name for p in out.parent.iterdir() if ".writing-" in p.name or ".old-" in p.name]
    assert seen == {"A", "B"}  # early kills keep A, late ones have B in place


def test_staging_left_inside_out_by_0_1_0_is_removed(tmp_path):
    """0.1.0 staged inside ``--out`` and a killed run left ``.writing-*`` there: not files of
    the user's, so the next run removes them and replaces the folder."""
    out = tmp_path / "out"
    write_outputs(out, {"a.csv": lambda p: p.write_text("A")}, inputs=[], manifest={"command": "plan", "seconds": {}})
    (out / ".writing-k3j2").mkdir()
    (out / ".writing-k3j2" / "report.xlsx").write_text("half")
    write_outputs(out, {"a.csv": lambda p: p.write_text("B")}, inputs=[], manifest={"command": "plan", "seconds": {}})
    assert complete_set(out) == "B"


def test_a_second_writer_is_refused_while_the_first_holds_the_folder(tmp_path):
    folder = tiny_folder(tmp_path / "in")
    out = tmp_path / "out" / "plan"
    with output_batch(out, inputs=[folder], command="plan"):
        second = subprocess.run(
            [sys.executable, "-m", "optimizer.cli", "plan", "--data", str(folder), "--out", str(out)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
    assert second.returncode == 7, second.stdout + second.stderr
    assert "another optimizer run is writing" in second.stdout + second.stderr
    assert not out.exists()  # the first holder wrote nothing; the second was refused before solving
    assert runner.invoke(cli.app, ["plan", "--data", str(folder), "--out", str(out)]).exit_code == 0


def tiny_folder(folder: Path) -> Path:
    return write_folder(
        folder,
        accelerators=[{"accelerator": "a", "vendor": "nvidia"}],
        offers=[offer("o1", "aws", "r1", "a", 2.0, 100)],
        performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100}],
        workloads=[workload("w", "2026Q1", 1000)],
        latency=[{"geography": "g", "region": "r1", "rtt_ms": 50}],
    )


def test_another_commands_outputs_and_foreign_files_are_never_replaced(tmp_path):
    folder = tiny_folder(tmp_path / "in")
    out = tmp_path / "out"
    assert runner.invoke(cli.app, ["plan", "--data", str(folder), "--out", str(out)]).exit_code == 0
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    result = runner.invoke(cli.app, ["leverage", "--data", str(folder), "--out", str(out)])
    assert result.exit_code == 2 and "holds the outputs of `optimizer plan`" in result.output
    (out / "notes.txt").write_text("mine")
    result = runner.invoke(cli.app, ["plan", "--data", str(folder), "--out", str(out)])
    assert result.exit_code == 2 and "not a previous run's outputs" in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name != "notes.txt"} == before


def test_a_scenarios_base_folder_is_protected_like_data(tmp_path):
    folder = tiny_folder(tmp_path / "base")
    scenario = tmp_path / "scenarios" / "s.yaml"
    scenario.parent.mkdir()
    scenario.write_text(f"name: s\nbase: {folder}\nchanges: []\n")
    result = runner.invoke(cli.app, ["compare", str(scenario), "--out", str(folder / "out"), "--workers", "1"])
    assert result.exit_code == 2 and "inside the input folder" in result.output
    assert not (folder / "out").exists()


def test_out_under_a_file_is_refused_before_solving(tmp_path):
    folder = tiny_folder(tmp_path / "in")
    (tmp_path / "afile").write_text("x")
    for out in (tmp_path / "afile", tmp_path / "afile" / "plan"):
        result = runner.invoke(cli.app, ["plan", "--data", str(folder), "--out", str(out)])
        assert result.exit_code == 7, result.output
        assert "afile" in result.output and "internal error" not in result.output


def test_a_writer_that_fails_half_way_replaces_nothing(tmp_path):
    """ENOSPC from a writer (what a full disk raises): a WriteError naming the cause, the
    previous complete set still in place, no staging folder left behind."""
    out = tmp_path / "out"
    write_outputs(out, {"a.csv": lambda p: p.write_text("A")}, inputs=[], manifest={"command": "plan", "seconds": {}})

    def full(path: Path) -> None:
        path.write_text("half")
        raise OSError(28, "No space left on device", str(path))

    with pytest.raises(WriteError, match="no space left on the device"):
        write_outputs(out, {"a.csv": full}, inputs=[], manifest={"command": "plan", "seconds": {}})
    assert (out / "a.csv").read_text() == "A"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out"]


@pytest.mark.skipif(os.geteuid() != 0 or sys.platform != "linux", reason="mounting a small filesystem needs root")
def test_a_full_disk_on_a_small_filesystem(tmp_path):
    """A 64 KiB tmpfs: a 1 MB output cannot fit; the run says so (exit 7) and leaves the
    previous set, which did fit, as it was."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        out = disk / "out"
        manifest = {"command": "plan", "seconds": {}}
        write_outputs(out, {"a.csv": lambda p: p.write_text("A")}, inputs=[], manifest=dict(manifest, seconds={}))
        with pytest.raises(WriteError, match="no space left on the device"):
            write_outputs(out, {"a.csv": lambda p: p.write_bytes(b"B" * 2**20)}, inputs=[], manifest=manifest)
        assert (out / "a.csv").read_text() == "A"
        assert not [p for p in disk.iterdir() if ".writing-" in p.name]
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_out_among_the_inputs_or_holding_the_current_folder_is_refused(tmp_path, monkeypatch):
    folder = tiny_folder(tmp_path / "in")
    with pytest.raises(OutputError, match="inside the input folder"):
        write_outputs(folder / "out", {}, inputs=[folder])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match="current folder"):
        write_outputs(tmp_path, {}, inputs=[])
