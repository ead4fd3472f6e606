"""Shared helpers: write small input folders in the contract format from Python rows."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import optimizer

DEFAULT_HEADERS = {
    "accelerators": ["accelerator", "vendor"],
    "offers": ["offer", "provider", "region", "accelerator", "usd_per_chip_hour", "max_chips"],
    "performance": ["model", "accelerator", "tokens_per_s_per_chip", "ttft_ms"],
    "workloads": ["workload", "model", "geography", "quarter", "tokens_per_s", "latency_slo_ms"],
    "latency": ["geography", "region", "rtt_ms"],
}


def write_csv(path: Path, rows: list[dict]) -> None:
    """Write rows (dicts) with the union of their keys as header, in first-seen order."""
    header: list[str] = []
    for row in rows:
        header += [k for k in row if k not in header]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)


def write_folder(folder: Path, policy: str = "{}\n", **tables: list[dict]) -> Path:
    """Write an input folder; each keyword is a table name with its rows."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        if rows:
            write_csv(folder / f"{name}.csv", rows)
        else:
            (folder / f"{name}.csv").write_text(",".join(DEFAULT_HEADERS.get(name, ["offer", "quarter"])) + "\n")
    (folder / "policy.yaml").write_text(policy, encoding="utf-8")
    return folder


def offer(name, provider, region, accelerator, price, max_chips, **extra):
    return {
        "offer": name,
        "provider": provider,
        "region": region,
        "accelerator": accelerator,
        "usd_per_chip_hour": price,
        "max_chips": max_chips,
        **extra,
    }


def workload(name, quarter, tokens_per_s, model="m", geography="g", slo=1000, **extra):
    return {
        "workload": name,
        "model": model,
        "geography": geography,
        "quarter": quarter,
        "tokens_per_s": tokens_per_s,
        "latency_slo_ms": slo,
        **extra,
    }


@pytest.fixture
def solve_case(tmp_path):
    """Write a case and return its verified plan: solve_case(policy=..., offers=[...], ...)."""

    def run(policy: str = "{}\n", **tables):
        folder = write_folder(tmp_path / "case", policy=policy, **tables)
        return optimizer.solve(optimizer.load(folder))

    return run


# Hypothesis profiles (issue 8). ``ci``, loaded by default, is what .ci/run runs:
# derandomized so CI is reproducible, no deadline (a solve's time varies with the load
# of the machine). ``long`` (pytest --hypothesis-profile=long) is the 10,000-instance
# cross-check. max_examples is the cross-check's count; other property tests scale from
# it (tests/instances.py, ``examples``). The plugin loads a profile named on the command
# line in pytest_configure, which may run before or after this file is imported: load
# ``ci`` only while no profile has been chosen.
from hypothesis import settings  # noqa: E402

for _name, _count in (("ci", 300), ("long", 10_000)):
    settings.register_profile(_name, max_examples=_count, deadline=None, derandomize=True, print_blob=True)
if settings.get_current_profile_name() == "default":
    settings.load_profile("ci")
