"""Commit now, adjust later: the two-stage plan over a Monte Carlo sweep's draws.

The hedged plan chooses the first stage (``blocks.FIRST_STAGE``) once, against every
in-sample draw at once (the extensive form); each draw then buys its own recourse. It is
compared with two others on the same draws:

- the deterministic plan: the first stage of the sweep's base plan (every factor 1, no
  delay; ``optimizer plan``'s own plan, verified), held fixed in every draw: what signing
  today's plan commits to;
- hindsight: each draw's own optimum, as if its numbers had been known when signing.

VSS (value of the stochastic solution) = E[deterministic] - E[hedged]; EVPI (expected
value of perfect information) = E[hedged] - E[hindsight]. In sample both are >= 0 by
construction; the same three plans are then priced on fresh draws (another seed) with a
95% interval from the per-draw paired differences, so the figures quoted are not those
of the draws the plan was fitted to.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimizer.errors import InputError, Problem, SolveError
from optimizer.hedge.blocks import FIRST_STAGE, Block, first_stage_keys, scenario_block
from optimizer.hedge.extensive import check_aligned, cvar, solve_extensive, solve_scenario
from optimizer.plan.pipeline import solve
from optimizer.scenarios.overlays import Scenario, apply
from optimizer.scenarios.sweeps import PERCENTILES, Sweep, draws_of, point_scenario
from optimizer.tolerances import objectives_agree

Progress = Callable[[str, int, int], None]
PLANS = ("hedged", "deterministic", "hindsight")
# The summary's headline rows, in the order the console and the report show them.
HEADLINES = (
    "hedged_expected_cost",
    "deterministic_expected_cost",
    "hindsight_expected_cost",
    "value_of_stochastic_solution",
    "expected_value_of_perfect_information",
)
CONFIDENCE = 0.95


@dataclass
class Hedge:
    """``commitments``: the first-stage decisions of the hedged and deterministic plans;
    ``draws``: per draw (in and out of sample) its parameters and each plan's cost and
    margin; ``summary``: expected costs, VSS, EVPI, percentiles and CVaR per sample."""

    commitments: pd.DataFrame
    draws: pd.DataFrame
    summary: pd.DataFrame
    cvar_level: float
    cvar_weight: float
    size: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def no_progress(step: str, done: int, total: int) -> None:
    """No progress shown."""


def hedge(
    sweep: Sweep,
    base: Scenario,
    samples: int | None = None,
    test_samples: int | None = None,
    test_seed: int | None = None,
    cvar_weight: float = 0.0,
    cvar_level: float = 0.95,
    progress: Progress = no_progress,
    inside: pd.DataFrame | None = None,
    outside: pd.DataFrame | None = None,
) -> Hedge:
    """The hedged plan over ``samples`` draws of ``sweep`` (its own count by default), priced
    with the deterministic and hindsight plans in sample and on ``test_samples`` fresh draws
    seeded ``test_seed`` (default: the sweep's seed + 1; 0 draws: no out-of-sample check).

    ``inside`` and ``outside`` give the draws themselves instead (tables shaped as
    :func:`~optimizer.scenarios.sweeps.draws_of` returns), for scenario sets chosen by hand."""
    if sweep.grid:
        problem = Problem(f"sweep {sweep.name}", "a hedge needs monte_carlo or delivery draws, not a grid")
        raise InputError([problem])
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    if inside is None:
        inside = draws_of(sweep, samples=samples)
    if outside is None:
        outside = draws_of(sweep, seed=sweep.seed + 1 if test_seed is None else test_seed, samples=test_samples)
    base_inputs = apply(base)
    base_block = scenario_block(base_inputs)
    blocks = draw_blocks(sweep, base, inside, "in", progress)
    check_aligned([base_block, blocks[0]])  # the draws among themselves: load_extensive
    seconds["build_scenarios"] = time.perf_counter() - started
    probability = np.full(len(blocks), 1.0 / len(blocks))
    progress("solving the extensive form", 0, 1)
    extensive = solve_extensive(blocks, probability, cvar_weight, cvar_level)
    progress("solving the extensive form", 1, 1)
    seconds.update({f"extensive_{k}": v for k, v in extensive.seconds.items()})
    started = time.perf_counter()
    plan = solve(base_inputs, payback=False)  # the deterministic plan: optimizer plan's, verified
    deterministic_first = np.concatenate([np.asarray(getattr(plan.solution, name), float) for name in FIRST_STAGE])
    rows = _price(blocks, inside, "in", extensive.first, deterministic_first, progress, extensive.costs)
    if len(outside):
        fresh = draw_blocks(sweep, base, outside, "out", progress)
        rows += _price(fresh, outside, "out", extensive.first, deterministic_first, progress)
    seconds["price_draws"] = time.perf_counter() - started
    draws = pd.DataFrame(rows)
    keys = first_stage_keys(base_block.model)
    commitments = keys.assign(
        hedged=_rounded(extensive.first, base_block), deterministic=_rounded(deterministic_first, base_block)
    )
    moved = (commitments["hedged"].abs() > 1e-6) | (commitments["deterministic"].abs() > 1e-6)
    commitments = commitments[moved].reset_index(drop=True)
    commitments["change"] = commitments["hedged"] - commitments["deterministic"]
    size = {"scenarios": len(blocks), "columns": extensive.columns, "rows": extensive.rows}
    return Hedge(commitments, draws, summarize(draws, cvar_level), cvar_level, cvar_weight, size, seconds)


def _rounded(first: np.ndarray, block: Block) -> np.ndarray:
    return np.where(block.integer[block.first], np.round(first), first)


def draw_blocks(sweep: Sweep, base: Scenario, table: pd.DataFrame, sample: str, progress: Progress) -> list[Block]:
    blocks = []
    step = f"building the {'in-sample' if sample == 'in' else 'fresh'} draws"
    for index, row in enumerate(table.itertuples(index=False)):
        values = [float(v) for v in row]
        inputs = apply(point_scenario(sweep, base, values, index))
        signed = apply(point_scenario(sweep, base, values, index, delivery=False)) if sweep.delivery else None
        blocks.append(scenario_block(inputs, signed))
        progress(step, index + 1, len(table))
    return blocks


def _price(
    blocks: list[Block],
    table: pd.DataFrame,
    sample: str,
    hedged: np.ndarray,
    deterministic: np.ndarray,
    progress: Progress,
    fitted: np.ndarray | None = None,
) -> list[dict]:
    """Each plan's cost in each draw: the two first stages fixed (LPs), and hindsight.

    In sample, the hedged plan's cost solved again with its first stage fixed must equal the
    extensive form's cost for the draw (``fitted``): the extensive form is checked by a
    from-scratch solve of every scenario."""
    rows = []
    step = f"pricing the plans on the {'in-sample' if sample == 'in' else 'fresh'} draws"
    for k, block in enumerate(blocks):
        costs = {}
        for plan, first in zip(PLANS, (hedged, deterministic, None), strict=True):
            solved = solve_scenario(block, first)
            costs[plan] = np.nan if solved is None else solved[0]
        if fitted is not None and not objectives_agree(fitted[k], costs["hedged"]):
            raise SolveError(
                f"draw {k}: the extensive form costs it {fitted[k]:,.2f} USD but solving it alone with "
                f"the same commitments gives {costs['hedged']:,.2f} USD; no hedge is reported"
            )
        revenue = block.revenue
        row = {"sample": sample, "draw": k, **dict(zip(table.columns, table.iloc[k], strict=True))}
        row.update({f"{plan}_cost_usd": costs[plan] for plan in PLANS})
        row.update({f"{plan}_margin_usd": np.nan if revenue is None else revenue - costs[plan] for plan in PLANS})
        rows.append(row)
        progress(step, k + 1, len(blocks))
    return rows


def _interval(differences: np.ndarray) -> tuple[float, float]:
    """The 95% interval of a mean from per-draw values (Student's t); NaN below two draws."""
    from scipy import stats

    n = len(differences)
    if n < 2:
        return np.nan, np.nan
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * differences.std(ddof=1) / np.sqrt(n))
    mean = float(differences.mean())
    return mean - half, mean + half


def summarize(draws: pd.DataFrame, level: float) -> pd.DataFrame:
    """Per sample: each plan's expected cost, VSS and EVPI (with their intervals), cost and
    margin percentiles and CVaR at ``level``; a figure a fixed first stage left infeasible
    in some draws is blank, with the count of those draws."""
    records = []
    for sample in ("in", "out"):
        group = draws[draws["sample"] == sample]
        if group.empty:
            continue
        label = "in-sample" if sample == "in" else "out-of-sample"
        cost = {plan: group[f"{plan}_cost_usd"].to_numpy(dtype=float) for plan in PLANS}
        failed = {plan: int(np.isnan(cost[plan]).sum()) for plan in PLANS}
        means = [(f"{plan}_expected_cost", cost[plan], failed[plan]) for plan in PLANS] + [
            (
                "value_of_stochastic_solution",
                cost["deterministic"] - cost["hedged"],
                failed["deterministic"] + failed["hedged"],
            ),
            ("expected_value_of_perfect_information", cost["hedged"] - cost["hindsight"], failed["hedged"]),
        ]
        for metric, values, infeasible in means:
            low, high = (np.nan, np.nan) if infeasible else _interval(values)
            value = np.nan if infeasible else float(values.mean())
            records.append(_record(label, metric, value, len(values), infeasible, low, high))
        probability = np.full(len(group), 1.0 / len(group))
        for plan in ("hedged", "deterministic"):
            if failed[plan]:
                continue
            points = [(f"{plan}_cost_p{q}", float(np.percentile(cost[plan], q))) for q in PERCENTILES]
            points.append((f"{plan}_cost_cvar{level * 100:g}", cvar(cost[plan], probability, level)))
            margin = group[f"{plan}_margin_usd"].to_numpy(dtype=float)
            if not np.isnan(margin).any():
                points += [(f"{plan}_margin_p{q}", float(np.percentile(margin, q))) for q in PERCENTILES]
            records += [_record(label, metric, value, len(group)) for metric, value in points]
    return pd.DataFrame(records)


def _record(
    sample: str,
    metric: str,
    value: float,
    draws: int,
    infeasible: int = 0,
    low: float = np.nan,
    high: float = np.nan,
) -> dict:
    return {
        "sample": sample,
        "metric": metric,
        "value_usd": value,
        "ci95_low_usd": low,
        "ci95_high_usd": high,
        "draws": draws,
        "infeasible_draws": infeasible,
    }
