"""Parameter sweeps: a grid over one or two parameters, or Monte Carlo over distributions.

A sweep file::

    name: maia-price
    scenario: maia-200-pilot.yaml      # optional base scenario, relative to this file
    grid:                              # one or two parameters
      - table: offers
        where: {accelerator: microsoft-maia-200}
        column: usd_per_chip_hour
        change_pct: {from: -50, to: 0, step: 5}

    name: price-and-demand-risk
    samples: 200
    seed: 42
    monte_carlo:                       # each parameter multiplies its column by a drawn factor
      - table: offers
        where: {vendor: nvidia}
        column: usd_per_chip_hour
        factor: {distribution: lognormal, mu: 0.0, sigma: 0.1}
      - table: workloads
        column: tokens_per_s
        from: 2027Q1
        factor: {distribution: triangular, low: 0.8, mode: 1.0, high: 1.5}
    delivery:                          # optional: capacity that arrives late or short
      - where: {accelerator: nvidia-rubin}
        delay_quarters: {quarters: [0, 1, 2], probabilities: [0.5, 0.3, 0.2]}
      - where: {accelerator: google-tpu7x}
        from: 2027Q1
        capacity_factor: {distribution: uniform, low: 0.6, high: 1.0}

Distributions of the factor: ``normal`` (mean, sd; negative draws count as 0),
``lognormal`` (mu, sigma of its logarithm), ``uniform`` (low, high), ``triangular``
(low, mode, high). All draws come from one generator seeded with ``seed``, parameter by
parameter, before any job is dispatched: the same file gives the same numbers whichever
executor runs it. Parameters are bounded (see the constants below and the data contract's
"Sweep files") so that every draw is a finite factor and every file a finite amount of work.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from optimizer.errors import InputError, Problem
from optimizer.io.loading import bundled_data, describe, validate
from optimizer.io.tables import TableName
from optimizer.io.yaml_reader import read_yaml
from optimizer.scenarios.comparison import Job, as_scenario, evaluate, lost, results_table
from optimizer.scenarios.overlays import (
    MAX_DELAY_QUARTERS,
    Delay,
    QuarterLabel,
    Scale,
    Scenario,
    Selector,
    apply_changes,
    base_records,
    has_control,
)
from optimizer.scenarios.runner import run_all

PERCENTILES = (5, 25, 50, 75, 95)
# 10,000 solves of the bundled data take about 4 hours on two cores: more is a typo (a step
# of 0.0001) more often than a plan, and a billion would only fill memory with jobs.
MAX_POINTS = 10_000
MAX_FACTOR = 1000.0  # a thousand times a price or a demand: far beyond any risk scenario
MAX_CHANGE_PCT = (MAX_FACTOR - 1) * 100
MAX_LOG_MU = 7.0  # exp(7) = 1,097: a median factor above MAX_FACTOR
MAX_SIGMA = 5.0  # exp(5 sigma) spreads factors over ten orders of magnitude


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=True, frozen=True, allow_inf_nan=False)


Factor = Annotated[float, Field(ge=0, le=MAX_FACTOR)]


class Steps(_Strict):
    """Percent changes from ``from`` to ``to`` (inclusive) by ``step``; -100% is a factor of 0."""

    first: Annotated[float, Field(ge=-100, le=MAX_CHANGE_PCT)] = Field(alias="from")
    last: Annotated[float, Field(ge=-100, le=MAX_CHANGE_PCT)] = Field(alias="to")
    step: Annotated[float, Field(gt=0)]

    @model_validator(mode="after")
    def _ascending(self) -> Steps:
        if self.last < self.first:
            raise ValueError(f"to ({self.last:g}) is below from ({self.first:g}): steps go up from 'from' to 'to'")
        if self.count() > MAX_POINTS:
            raise ValueError(f"{self.count():,} steps, above the limit of {MAX_POINTS:,} points: is the step right?")
        return self

    def count(self) -> int:
        return int(np.floor((self.last - self.first) / self.step + 1e-9)) + 1

    def values(self) -> list[float]:
        return [round(self.first + k * self.step, 10) for k in range(self.count())]


class Normal(_Strict):
    distribution: Literal["normal"]
    mean: Factor
    sd: Factor


class LogNormal(_Strict):
    distribution: Literal["lognormal"]
    mu: Annotated[float, Field(ge=-MAX_LOG_MU, le=MAX_LOG_MU)]
    sigma: Annotated[float, Field(ge=0, le=MAX_SIGMA)]


class Uniform(_Strict):
    distribution: Literal["uniform"]
    low: Factor
    high: Factor

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is above high ({self.high:g})")
        return self


class Triangular(_Strict):
    distribution: Literal["triangular"]
    low: Factor
    mode: Factor
    high: Factor

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"expected low <= mode <= high, got {self.low:g}, {self.mode:g}, {self.high:g}")
        if self.low == self.high:
            raise ValueError(f"low and high are both {self.low:g}: a triangle needs a width (or use a scenario)")
        return self


Distribution = Annotated[Normal | LogNormal | Uniform | Triangular, Field(discriminator="distribution")]


def _draw(d: Normal | LogNormal | Uniform | Triangular, generator: np.random.Generator, count: int) -> np.ndarray:
    if isinstance(d, Normal):
        return np.maximum(generator.normal(d.mean, d.sd, count), 0.0)
    if isinstance(d, LogNormal):
        return generator.lognormal(d.mu, d.sigma, count)
    if isinstance(d, Uniform):
        return generator.uniform(d.low, d.high, count)
    return generator.triangular(d.low, d.mode, d.high, count)


class Delays(_Strict):
    """A discrete distribution of whole quarters of delay: ``quarters[k]`` with ``probabilities[k]``."""

    quarters: Annotated[list[Annotated[int, Field(ge=0, le=MAX_DELAY_QUARTERS)]], Field(min_length=1)]
    probabilities: Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(min_length=1)]

    @model_validator(mode="after")
    def _a_distribution(self) -> Delays:
        if len(self.quarters) != len(self.probabilities):
            raise ValueError(
                f"{len(self.quarters)} quarters but {len(self.probabilities)} probabilities: give one each"
            )
        if abs(sum(self.probabilities) - 1.0) > 1e-9:
            raise ValueError(f"the probabilities add up to {sum(self.probabilities):g}, not 1")
        return self


class Delivery(_Strict):
    """Capacity of the offers matched by ``where`` that arrives late or short, drawn per sample:
    ``delay_quarters`` (whole quarters, each matched offer counted from its own first quarter)
    or ``capacity_factor`` (a factor on max_chips and min_chips, within from/until)."""

    where: Selector = Field(default_factory=dict)
    first: QuarterLabel | None = Field(default=None, alias="from")
    last: QuarterLabel | None = Field(default=None, alias="until")
    delay_quarters: Delays | None = None
    capacity_factor: Distribution | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Delivery:
        if (self.delay_quarters is None) == (self.capacity_factor is None):
            raise ValueError("a delivery entry gives either delay_quarters or capacity_factor")
        if self.delay_quarters is not None and (self.first or self.last):
            raise ValueError("from/until go with capacity_factor; a delay counts from each offer's first quarter")
        return self

    @property
    def label(self) -> str:
        where = ",".join(f"{k}={v}" for k, v in self.where.items())
        kind = "delay_quarters" if self.delay_quarters is not None else "capacity_factor"
        return f"delivery[{where}] {kind}"

    def changes(self, value: float) -> list[Delay | Scale]:
        if self.delay_quarters is not None:
            return [Delay(delay="offers", where=self.where, quarters=int(value))]
        return [
            Scale(scale="offers", where=self.where, column=column, by=float(value), first=self.first, last=self.last)
            for column in ("max_chips", "min_chips")
        ]

    def draw(self, generator: np.random.Generator, count: int) -> np.ndarray:
        if self.delay_quarters is not None:
            delays = self.delay_quarters
            return generator.choice(np.array(delays.quarters, dtype=float), size=count, p=delays.probabilities)
        assert self.capacity_factor is not None, "one of the two (Delivery._one_kind)"
        return _draw(self.capacity_factor, generator, count)


class Parameter(_Strict):
    """Which numbers move (as in a scenario's ``scale``) and how: grid steps or a distribution."""

    table: TableName
    where: Selector = Field(default_factory=dict)
    column: str
    first: QuarterLabel | None = Field(default=None, alias="from")
    last: QuarterLabel | None = Field(default=None, alias="until")
    change_pct: Steps | None = None
    factor: Distribution | None = None

    @property
    def label(self) -> str:
        where = ",".join(f"{k}={v}" for k, v in self.where.items())
        return f"{self.table}[{where}].{self.column}" if where else f"{self.table}.{self.column}"

    def change(self, factor: float) -> Scale:
        return Scale(
            scale=self.table,
            where=self.where,
            column=self.column,
            by=max(0.0, float(factor)),
            first=self.first,
            last=self.last,
        )

    def draw(self, generator: np.random.Generator, count: int) -> np.ndarray:
        assert self.factor is not None, "a monte_carlo parameter has a factor (Sweep._one_kind)"
        return _draw(self.factor, generator, count)


class Sweep(_Strict):
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    scenario: str | None = None
    grid: Annotated[list[Parameter], Field(min_length=1, max_length=2)] | None = None
    monte_carlo: Annotated[list[Parameter], Field(min_length=1)] | None = None
    delivery: Annotated[list[Delivery], Field(min_length=1)] | None = None
    samples: Annotated[int, Field(gt=0, le=MAX_POINTS)] = 100
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0  # numpy's generators take a non-negative seed

    @field_validator("name", "description")
    @classmethod
    def _printable(cls, text: str, info: ValidationInfo) -> str:
        """As in a scenario's: a name is shown and written everywhere, so it holds no control
        or invisible character (a description may hold line breaks and tabs)."""
        allowed = "\n\t" if info.field_name == "description" else ""
        if has_control(text, allowed):
            raise ValueError(f"{info.field_name} {text!r}: control characters are not allowed")
        return text

    @model_validator(mode="after")
    def _one_kind(self) -> Sweep:
        if (self.grid is None) == (self.monte_carlo is None and self.delivery is None):
            raise ValueError("a sweep has either grid or monte_carlo (and delivery)")
        for p in self.grid or []:
            if p.change_pct is None or p.factor is not None:
                raise ValueError(f"grid parameter {p.label}: give change_pct (from, to, step), not factor")
        points = math.prod(p.change_pct.count() for p in self.grid or [] if p.change_pct is not None)
        if points > MAX_POINTS:
            raise ValueError(f"the grid has {points:,} points, above the limit of {MAX_POINTS:,}")
        for p in self.monte_carlo or []:
            if p.factor is None or p.change_pct is not None:
                raise ValueError(f"monte_carlo parameter {p.label}: give factor (a distribution), not change_pct")
        return self


def read_sweep(path: str | Path) -> tuple[Sweep, Scenario]:
    """The sweep of a file and its base scenario, every parameter checked against the base's
    data; :class:`InputError` naming file and line."""
    path = Path(path)
    if not path.exists():
        raise InputError([Problem(str(path), "sweep file not found")])
    data, lines, yaml_problems = read_yaml(path)
    if yaml_problems:
        raise InputError([Problem(str(path), p.message, p.line) for p in yaml_problems])
    try:
        sweep = Sweep.model_validate(data)
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            loc = tuple(detail["loc"])
            line = next((lines[loc[:k]] for k in range(len(loc), 0, -1) if loc[:k] in lines), 1)
            problems.append(
                Problem(
                    str(path),
                    describe(detail) if detail["type"] != "value_error" else str(detail["ctx"]["error"]),
                    line,
                    ".".join(map(str, loc)) or None,
                )
            )
        raise InputError(problems) from None
    if sweep.scenario and not (path.parent / sweep.scenario).is_file():
        message = f"scenario file {sweep.scenario!r} not found next to this file"
        raise InputError([Problem(str(path), message, lines.get(("scenario",)), "scenario")])
    base = as_scenario(path.parent / sweep.scenario) if sweep.scenario else Scenario(name="base")
    _check_parameters(sweep, base, path, lines)
    return sweep, base


def _check_parameters(sweep: Sweep, base: Scenario, path: Path, lines: dict[tuple[Any, ...], int]) -> None:
    """Apply every parameter once, unchanged (factor 1), to the base: a column that cannot be
    scaled or a ``where`` that matches nothing is named now with its line in the sweep file,
    not reported once per point after the whole sweep has run."""
    kind = "grid" if sweep.grid else "monte_carlo"
    parameters = sweep.grid or sweep.monte_carlo or []
    raw = apply_changes(base_records(Path(base.base or bundled_data())), base)
    changes: list[Any] = [p.change(1.0) for p in parameters]
    change_lines = [lines.get((kind, i)) for i in range(len(parameters))]
    for i, entry in enumerate(sweep.delivery or []):
        unchanged = entry.changes(0.0 if entry.delay_quarters is not None else 1.0)
        changes += unchanged
        change_lines += [lines.get(("delivery", i))] * len(unchanged)
    probe = Scenario(name=sweep.name, changes=changes, file=str(path), change_lines=change_lines)
    validate(apply_changes(raw, probe))


def draws_of(sweep: Sweep, seed: int | None = None, samples: int | None = None) -> pd.DataFrame:
    """The value of every parameter at every grid point or sample (one column each): grid
    points in order, or draws of one generator seeded with ``seed`` (the file's by default),
    parameter by parameter, the monte_carlo ones first, then the delivery ones."""
    parameters = sweep.grid or sweep.monte_carlo or []
    if sweep.grid:
        # Every grid parameter has its steps (Sweep._one_kind).
        steps = [p.change_pct.values() for p in parameters if p.change_pct is not None]
        return pd.DataFrame(list(itertools.product(*steps)), columns=[f"{p.label} change_pct" for p in parameters])
    generator = np.random.default_rng(sweep.seed if seed is None else seed)
    count = sweep.samples if samples is None else samples
    columns = {f"{p.label} factor": p.draw(generator, count) for p in parameters}
    columns.update({entry.label: entry.draw(generator, count) for entry in sweep.delivery or []})
    return pd.DataFrame(columns)


def point_scenario(sweep: Sweep, base: Scenario, values: list[float], index: int, delivery: bool = True) -> Scenario:
    """The base scenario with one point's changes (a row of :func:`draws_of`) added;
    ``delivery=False`` leaves out the delivery entries (what was signed, before what arrives)."""
    parameters = sweep.grid or sweep.monte_carlo or []
    factors = [1 + v / 100 for v in values] if sweep.grid else values
    changes: list[Any] = [p.change(f) for p, f in zip(parameters, factors, strict=False)]
    if delivery:
        entries = zip(sweep.delivery or [], values[len(parameters) :], strict=True)
        changes += [change for entry, value in entries for change in entry.changes(value)]
    lines = list(base.change_lines or [None] * len(base.changes)) + [None] * len(changes)
    update = {"name": f"{sweep.name}-{index}", "changes": list(base.changes) + changes, "change_lines": lines}
    return base.model_copy(update=update)


def jobs_of(sweep: Sweep, base: Scenario) -> tuple[list[Job], pd.DataFrame]:
    """One job per grid point or sample, and the table of their parameter values."""
    table = draws_of(sweep)
    jobs = [
        Job(point_scenario(sweep, base, [float(v) for v in row], index), walk_away=False)
        for index, row in enumerate(table.itertuples(index=False))
    ]
    return jobs, table


def run_sweep(
    sweep: Sweep, base: Scenario, workers: int | None = 1, scheduler: str | None = None, client: Any = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Evaluate every point: (points, summary).

    ``points``: one row per grid point or sample (its parameters, total cost, cost per
    Mtok, unmet demand, each supplier's volume share, and ``error``: blank, or the reason a
    point did not solve, whose figures are then blank). ``summary``: percentiles of total
    cost and of each supplier's share over the points that solved, how many solved
    (``runs``) and failed (``failed``), and how often each supplier is used (share above
    zero). A base that does not apply (every point an input error) raises
    :class:`~optimizer.errors.InputError`.
    """
    jobs, parameters = jobs_of(sweep, base)
    rows = run_all(evaluate, jobs, workers, scheduler, client, sweep.name, failed=lost)
    if all(row.get("problems") for row in rows):
        texts = dict.fromkeys(text for row in rows for text in row["problems"])
        raise InputError([Problem(f"sweep {sweep.name}", text) for text in texts])
    results = results_table(rows).drop(columns=["description"], errors="ignore")
    points = pd.concat([parameters, results], axis=1)
    return points, summarize(points)


def summarize(points: pd.DataFrame) -> pd.DataFrame:
    """Percentiles and mean of cost, cost per Mtok and each supplier's share over the points
    that solved; how many failed; how often each supplier is used."""
    good = points[points["error"].isna()]
    metrics = ["total_cost_usd", "cost_per_mtok_usd", "unmet_tokens_per_s"] + [
        c for c in points.columns if c.startswith("share_")
    ]
    records = []
    for metric in metrics:
        values = good[metric].astype(float).to_numpy()
        record = {"metric": metric, "runs": len(values), "failed": len(points) - len(good)}
        record.update({f"p{q}": float(np.percentile(values, q)) if len(values) else None for q in PERCENTILES})
        record["mean"] = float(values.mean()) if len(values) else None
        if metric.startswith("share_"):
            record["used_fraction"] = float((values > 1e-9).mean()) if len(values) else None
        records.append(record)
    return pd.DataFrame(records)
