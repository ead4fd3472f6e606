"""Determinism and the reproducibility manifest.

The same inputs give byte-identical output files across runs and across row orders (the
manifest, with its time stamp and timings, is the only file that differs); every run
records what it read and wrote; ``plan --check-manifest`` confirms or refutes a past plan.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from conftest import offer, workload, write_folder
from typer.testing import CliRunner

from optimizer import cli
from optimizer.io.loading import bundled_data

runner = CliRunner()
CONTRACT = Path(__file__).parents[1] / "docs" / "data-contract.md"


def contract_version() -> int:
    """The data contract's version as docs/data-contract.md states it (its title and the last
    row of its history table, which must agree): read from the text, not from the code."""
    text = CONTRACT.read_text(encoding="utf-8")
    title = re.search(r"^# Data contract.*\bv(\d+)\)\s*$", text, re.MULTILINE)
    history = re.findall(r"^\| v(\d+) \|", text, re.MULTILINE)
    assert title and history, "docs/data-contract.md no longer states its version where this test looks"
    assert int(title.group(1)) == int(history[-1]), "the contract's title and history disagree on its version"
    return int(history[-1])


# Two offers at the same price in one region: the optimum is not unique (any split of the
# demand between them costs the same), so the plan could follow the row order.
TIED = dict(
    accelerators=[{"accelerator": "a", "vendor": "nvidia"}, {"accelerator": "b", "vendor": "amd"}],
    performance=[
        {"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100},
        {"model": "m", "accelerator": "b", "tokens_per_s_per_chip": 100, "ttft_ms": 100},
        {"model": "n", "accelerator": "a", "tokens_per_s_per_chip": 50, "ttft_ms": 100},
    ],
    latency=[{"geography": "g", "region": "r1", "rtt_ms": 50}, {"geography": "g", "region": "r2", "rtt_ms": 50}],
    offers=[
        offer("o1", "aws", "r1", "a", 2.0, 30),
        offer("o2", "gcp", "r2", "b", 2.0, 30),
        offer("o3", "aws", "r1", "b", 2.0, 30),
    ],
    workloads=[
        workload("w1", "2026Q1", 1500),
        workload("w1", "2026Q2", 2500),
        workload("w2", "2026Q1", 900, model="n"),
        workload("w2", "2026Q2", 400, model="n"),
    ],
)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def outputs(folder: Path) -> dict[str, str]:
    """Hash of every output file but the manifest."""
    return {p.name: digest(p) for p in sorted(folder.iterdir()) if p.name != "manifest.json"}


def plan(data: Path, out: Path, *more: str):
    result = runner.invoke(cli.app, ["plan", "--data", str(data), "--out", str(out), *more])
    assert result.exit_code == 0, result.output
    return result


def shuffled_copy(source: Path, target: Path, seed: int) -> Path:
    """The same inputs with the data rows of every CSV file in another order."""
    shutil.copytree(source, target)
    rng = random.Random(seed)
    for path in target.glob("*.csv"):
        header, *rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
        rng.shuffle(rows)
        path.write_text(header + "".join(rows), encoding="utf-8")
    return target


@pytest.fixture
def tied(tmp_path):
    return write_folder(tmp_path / "data", policy="max_share:\n  provider: 0.8\n", **TIED)


def test_same_inputs_same_bytes_across_runs_and_row_orders(tied, tmp_path):
    plan(tied, tmp_path / "first")
    plan(tied, tmp_path / "second")
    reference = outputs(tmp_path / "first")
    assert outputs(tmp_path / "second") == reference
    for seed in range(4):
        copy = shuffled_copy(tied, tmp_path / f"shuffled{seed}", seed)
        plan(copy, tmp_path / f"out{seed}")
        assert outputs(tmp_path / f"out{seed}") == reference, f"row order {seed} changed an output"


def test_bundled_data_plan_is_independent_of_row_order(tmp_path):
    plan(bundled_data(), tmp_path / "first")
    plan(shuffled_copy(bundled_data(), tmp_path / "shuffled", 7), tmp_path / "second")
    assert outputs(tmp_path / "second") == outputs(tmp_path / "first")


def test_manifest_records_inputs_outputs_versions_and_phases(tied, tmp_path):
    out = tmp_path / "out"
    plan(tied, out, "--method", "simplex")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "plan"
    assert manifest["schema_version"] == contract_version()
    assert manifest["options"]["method"] == "simplex" and manifest["options"]["integer"] is False
    read = {Path(e["path"]).name: e["sha256"] for e in manifest["inputs"]}
    assert read == {p.name: digest(p) for p in tied.iterdir()}  # every file the folder holds is one the tool reads
    written = {e["file"]: e["sha256"] for e in manifest["outputs"]}
    assert written == outputs(out)
    assert {"load", "build", "solve", "verify", "certify", "write"} <= set(manifest["seconds"])
    assert manifest["environment"]["highs"].startswith(manifest["environment"]["libraries"]["highspy"][:4])
    assert manifest["result"]["certified"] is True


def test_the_minor_version_is_the_contract_version():
    """While the major version is 0 the minor version is the data contract's (CHANGELOG.md),
    so a new contract version cannot ship under the old version number."""
    project = tomllib.loads((CONTRACT.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    major, minor, _ = project["project"]["version"].split(".", 2)
    assert major == "0" and int(minor) == contract_version()


def test_check_manifest_confirms_an_unchanged_plan(tied, tmp_path):
    plan(tied, tmp_path / "out")
    result = runner.invoke(cli.app, ["plan", "--check-manifest", str(tmp_path / "out" / "manifest.json")])
    assert result.exit_code == 0, result.output
    assert "same inputs, same plan" in result.output


def test_check_manifest_names_a_changed_input_and_the_outputs_it_moved(tied, tmp_path):
    plan(tied, tmp_path / "out")
    offers = tied / "offers.csv"
    offers.write_text(offers.read_text().replace("o2,gcp,r2,b,2.0", "o2,gcp,r2,b,1.5"))
    result = runner.invoke(cli.app, ["plan", "--check-manifest", str(tmp_path / "out" / "manifest.json")])
    assert result.exit_code == 4, result.output
    assert "input changed since the plan: offers.csv" in result.output
    assert "output differs: allocation.csv" in result.output
    assert "output differs: ports.csv" not in result.output  # no ports in this case: the empty file is the same


def test_check_manifest_reads_archived_inputs_from_data(tied, tmp_path):
    plan(tied, tmp_path / "out")
    archive = shutil.copytree(tied, tmp_path / "archive")
    shutil.rmtree(tied)
    args = ["plan", "--check-manifest", str(tmp_path / "out" / "manifest.json")]
    assert runner.invoke(cli.app, args).exit_code == 2  # the recorded folder is gone
    result = runner.invoke(cli.app, [*args, "--data", str(archive)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "unreadable JSON"),
        ('{"manifest_format": 1, "command": "leverage"}', "only plan manifests can be checked"),
        ("[1, 2]", "not a manifest of format 1"),
    ],
)
def test_check_manifest_refuses_what_is_not_a_plan_manifest(tmp_path, content, message):
    path = tmp_path / "manifest.json"
    path.write_text(content)
    result = runner.invoke(cli.app, ["plan", "--check-manifest", str(path)])
    assert result.exit_code == 2
    assert message in result.output and str(path) in result.output


def test_check_manifest_refuses_another_schema_version_with_a_message(tied, tmp_path):
    plan(tied, tmp_path / "out")
    path = tmp_path / "out" / "manifest.json"
    manifest = json.loads(path.read_text())
    newer = contract_version() + 1
    manifest["schema_version"] = newer
    manifest["environment"]["libraries"]["compute-procurement-optimizer"] = "9.9.9"
    path.write_text(json.dumps(manifest))
    result = runner.invoke(cli.app, ["plan", "--check-manifest", str(path)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # a message, not a traceback
    text = " ".join(result.output.split())  # rich wraps long lines
    assert str(path) in result.output
    assert f"written by compute-procurement-optimizer 9.9.9 for output schema version {newer}" in text
    assert f"this optimizer writes schema version {contract_version()}" in text
    assert "Traceback" not in result.output


def test_check_manifest_checks_a_manifest_without_schema_version_and_says_so(tied, tmp_path):
    plan(tied, tmp_path / "out")
    path = tmp_path / "out" / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["schema_version"]  # as 0.1.0 wrote it
    path.write_text(json.dumps(manifest))
    result = runner.invoke(cli.app, ["plan", "--check-manifest", str(path)])
    assert result.exit_code == 0, result.output
    assert "same inputs, same plan" in result.output
    assert "the manifest records no schema_version (written before 0.5.0" in " ".join(result.output.split())


def test_a_failed_run_leaves_the_previous_outputs_and_manifest_untouched(tied, tmp_path):
    out = tmp_path / "out"
    plan(tied, out)
    before = {p.name: digest(p) for p in out.iterdir()}
    (tied / "offers.csv").write_text("offer,provider\n")
    assert runner.invoke(cli.app, ["plan", "--data", str(tied), "--out", str(out)]).exit_code == 2
    assert {p.name: digest(p) for p in out.iterdir()} == before


def test_every_command_writes_a_manifest(tmp_path):
    scenario = Path(__file__).parents[1] / "scenarios" / "base.yaml"
    result = runner.invoke(cli.app, ["compare", str(scenario), "--out", str(tmp_path / "c"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    roles = {e["role"] for e in manifest["inputs"]}
    assert roles == {"scenario", "data"}
    assert [e["file"] for e in manifest["outputs"]] == ["comparison.csv"]
    assert manifest["schema_version"] == contract_version()


def test_leverage_and_report_files_are_byte_identical_across_runs(tied, tmp_path):
    for run in ("first", "second"):
        for command in ("leverage", "report"):
            result = runner.invoke(cli.app, [command, "--data", str(tied), "--out", str(tmp_path / run / command)])
            assert result.exit_code == 0, result.output
    for command in ("leverage", "report"):
        assert outputs(tmp_path / "second" / command) == outputs(tmp_path / "first" / command)
        manifest = json.loads((tmp_path / "first" / command / "manifest.json").read_text())
        assert manifest["command"] == command and manifest["schema_version"] == contract_version()
