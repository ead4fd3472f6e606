"""Scenario comparison: one row per scenario, the first one as the reference."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.errors import FailedRuns, InputError, OptimizerError, Problem
from optimizer.plan.assembly import Plan
from optimizer.scenarios.overlays import Scenario, apply, read_scenario
from optimizer.scenarios.runner import run_all

HEADLINE = [
    "scenario",
    "description",
    "total_cost_usd",
    "compute_cost_usd",
    "cost_per_mtok_usd",
    "delta_usd",
    "delta_pct",
    "hhi_provider",
    "hhi_vendor",
    "unmet_tokens_per_s",
    "total_cost_pv_usd",
    "gross_margin_usd",
]
FIGURES = [
    "total_cost_usd",
    "compute_cost_usd",
    "total_cost_pv_usd",
    "gross_margin_usd",
    "cost_per_mtok_usd",
    "hhi_provider",
    "hhi_vendor",
    "unmet_tokens_per_s",
]


@dataclass(frozen=True)
class Job:
    """One scenario to evaluate (its base folder already absolute: see ``Scenario``), and
    whether to price walking away from each supplier."""

    scenario: Scenario
    walk_away: bool = True


def horizon_shares(plan: Plan) -> dict[str, float]:
    """Volume share of each provider and vendor over the whole horizon: ``share_<dimension>_<group>``."""
    row = {}
    for dimension in ("provider", "vendor"):
        volume = plan.shares[plan.shares["dimension"] == dimension].groupby("group")["tokens_per_s"].sum()
        total = volume.sum()
        for group, amount in volume.items():
            row[f"share_{dimension}_{group}"] = float(amount / total) if total else 0.0
    return row


def evaluate(job: Job) -> dict[str, Any]:
    """Apply, solve and summarise one scenario (a worker-side function: returns plain data)."""
    from optimizer.analysis.walk_away import walk_away_costs
    from optimizer.plan.pipeline import solve

    scenario = job.scenario
    try:
        plan = solve(apply(scenario), payback=False)
    except InputError as error:
        return {"scenario": scenario.name, "error": reason(error), "problems": [str(p) for p in error.problems]}
    except OptimizerError as error:
        return {"scenario": scenario.name, "error": reason(error)}
    totals = plan.totals
    row: dict[str, Any] = {
        "scenario": scenario.name,
        "description": scenario.description,
        **{k: totals[k] for k in FIGURES},
        **horizon_shares(plan),
    }
    if job.walk_away:
        for item in walk_away_costs(plan).itertuples(index=False):
            row[f"walk_away_{item.dimension}_{item.supplier}"] = item.walk_away_cost_usd
    return row


def lost(job: Job, why: str) -> dict[str, Any]:
    """The row of a job that could not run to its end (its worker died): failed, with why."""
    return {"scenario": job.scenario.name, "error": why}


def reason(error: Exception) -> str:
    """An error's message on one line, for the ``error`` column of a table."""
    lines = (line.strip().removeprefix("- ") for line in str(error).splitlines())
    return "; ".join(line for line in lines if line).replace(":; ", ": ")


def failures(table: pd.DataFrame, what: str) -> FailedRuns | None:
    """The rows of a comparison or sweep that did not solve, as the error to raise once written."""
    failed = table[table["error"].notna()]
    if failed.empty:
        return None
    return FailedRuns(list(zip(failed["scenario"], failed["error"], strict=True)), len(table), what)


def as_scenario(item: str | Path | Scenario) -> Scenario:
    return item if isinstance(item, Scenario) else read_scenario(item)


def compare(
    scenarios: Iterable[str | Path | Scenario],
    workers: int | None = 1,
    scheduler: str | None = None,
    client: Any = None,
    walk_away: bool = True,
) -> pd.DataFrame:
    """One row per scenario: costs, change against the first, shares, HHI, unmet, walk-away costs.

    Scenarios are files or :class:`~optimizer.scenarios.overlays.Scenario` objects built in Python.
    Columns: ``scenario, description, total_cost_usd, compute_cost_usd, cost_per_mtok_usd,
    delta_usd, delta_pct`` (of the undiscounted total), ``hhi_provider, hhi_vendor,
    unmet_tokens_per_s, total_cost_pv_usd`` (the objective under a discount rate, else
    blank), ``gross_margin_usd``, then
    ``share_provider_<p>``, ``share_vendor_<v>`` (volume over the horizon) and
    ``walk_away_provider_<p>``, ``walk_away_vendor_<v>`` (USD, rules kept), and ``error``:
    blank for a scenario that solved, the reason for one that did not (its figures blank;
    :func:`failures` turns those rows into the error to raise). A scenario that does not
    apply to its data raises :class:`~optimizer.errors.InputError`.
    """
    items = list(scenarios)
    problems: list[Problem] = []
    parsed: list[Scenario] = []
    for item in items:
        try:
            parsed.append(as_scenario(item))
        except InputError as error:
            problems += error.problems
    if problems:
        raise InputError(problems)
    if not parsed:
        raise InputError([Problem("<compare>", "no scenario given")])
    jobs = [Job(s, walk_away) for s in parsed]
    rows = run_all(evaluate, jobs, workers, scheduler, client, "scenarios", failed=lost)
    bad = [Problem(f"scenario {r['scenario']}", text) for r in rows for text in r.get("problems", [])]
    if bad:  # a scenario file that does not apply is bad input, like any other
        raise InputError(bad)
    table = results_table(rows)
    reference = table["total_cost_usd"].iloc[0]
    table["delta_usd"] = table["total_cost_usd"] - reference
    table["delta_pct"] = table["delta_usd"] / reference * 100 if reference else float("nan")
    extra = sorted(c for c in table.columns if c not in HEADLINE + ["error"])
    shares = [c for c in extra if c.startswith("share_")]
    walks = [c for c in extra if c.startswith("walk_away_")]
    return table.reindex(columns=HEADLINE + shares + walks + ["error"])


def results_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per evaluation; a failed one keeps only its name and ``error``: its figures
    are blank (NaN), never zero. A supplier absent from a solved plan has a share of 0."""
    table = pd.DataFrame(rows).drop(columns=["problems"], errors="ignore")
    for column in FIGURES:  # present even when no evaluation solved
        if column not in table.columns:
            table[column] = float("nan")
    if "error" not in table.columns:
        table["error"] = None
    table["error"] = table["error"].astype(object).where(table["error"].notna(), None)
    solved = table["error"].isna()
    shares = [c for c in table.columns if c.startswith("share_")]
    table.loc[solved, shares] = table.loc[solved, shares].fillna(0.0)
    return table
