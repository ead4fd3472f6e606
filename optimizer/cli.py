"""The ``optimizer`` command: a thin layer over the Python API.

Exit codes: 0 success, 2 invalid inputs or options, 3 no proven optimum (time limit,
conflicting hard rules, a solver failure, an optimum that fails its certificate), 4 a
``--check-manifest`` re-run that does not reproduce the manifest, 5 a plan failed
verification (a bug: nothing is written), 6 some sweep points or compared scenarios did
not solve (outputs written, their rows blank with the reason; ``sweep
--allow-failed-draws`` exits 0 instead), 1 an unexpected internal error.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from optimizer import deadline
from optimizer.errors import InputError, OptimizerError, Problem
from optimizer.io.loading import bundled_data, load
from optimizer.reporting.batch import output_batch, write_outputs
from optimizer.reporting.files import csv_writer, json_writer
from optimizer.scenarios.runner import default_workers
from optimizer.text import visible

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Compute procurement optimizer: where every inference workload should run, and at what cost.",
)
# Wide tables when the output is a file or a pipe (rich would assume 80 columns). No emoji
# codes: a name like ":warning:" prints as written (markup is escaped where text is shown).
console = Console(width=None if sys.stdout.isatty() else 160, emoji=False)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        console.print(f"optimizer {version('compute-procurement-optimizer')}")
        raise typer.Exit(0)


@app.callback()
def _commands(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Compute procurement optimizer: where every inference workload should run, and at what cost."""


errors = Console(stderr=True, emoji=False)


DataOption = Annotated[
    Path | None,
    typer.Option("--data", help="Input folder (CSV files + policy.yaml). Default: the bundled data/."),
]
TimeLimit = Annotated[
    float | None,
    typer.Option(
        "--time-limit",
        min=0.001,
        help="Time budget of the whole command, every solve and re-solve "
        "included; when it runs out nothing is reported (exit 3).",
    ),
]


class LpMethod(StrEnum):
    """The LP methods ``--method`` offers (typer refuses any other, exit 2)."""

    auto = "auto"
    simplex = "simplex"
    ipm = "ipm"


Method = Annotated[LpMethod, typer.Option("--method", help="LP method.")]
Integer = Annotated[
    bool, typer.Option("--integer", help="Buy offers with chips_per_instance in whole instances (MIP).")
]


def _say(line: str, soft_wrap: bool = False) -> None:
    """Print a line that quotes paths or names from the user: as written, not as markup,
    its control characters made visible."""
    console.print(visible(line), markup=False, highlight=False, soft_wrap=soft_wrap)


OUT_OF_MEMORY = 8


def _run(action) -> None:
    """Run a command body, turning the tool's errors into one message and an exit code."""
    try:
        action()
    except OptimizerError as error:
        errors.print(f"[red]error:[/red] {escape(str(error))}", highlight=False, soft_wrap=True)
        raise typer.Exit(error.exit_code) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except BrokenPipeError:  # output piped into `head`: the files are already written
        _detach_stdout()
        raise typer.Exit(0) from None
    except MemoryError:  # not a bug: the inputs pass their limits but the machine is smaller
        errors.print(
            "[red]error:[/red] out of memory: this run needs more memory than the machine allows; "
            "no output was replaced. Try fewer workers or a smaller case.",
            highlight=False,
        )
        raise typer.Exit(OUT_OF_MEMORY) from None
    except Exception as error:  # a bug: say so plainly, show the traceback only on request
        if os.environ.get("OPTIMIZER_DEBUG"):
            raise
        errors.print(
            f"[red]internal error:[/red] {type(error).__name__}: {escape(visible(str(error)))}\n"
            "This is a bug in the optimizer; rerun with OPTIMIZER_DEBUG=1 for the traceback.",
            highlight=False,
        )
        raise typer.Exit(1) from None


def _solved(
    data: Path | None,
    time_limit: float | None,
    integer: bool,
    method: str = "auto",
    payback: bool = True,
    solver: str | None = None,
    write_model: Path | None = None,
):
    """Load a folder (default: the bundled data), show its warnings, solve and verify the plan."""
    folder = data or bundled_data()
    inputs, loaded = _loaded(folder)
    return folder, inputs, _planned(inputs, loaded, time_limit, integer, method, payback, solver, write_model)


def _loaded(folder: Path):
    """The validated inputs (every problem at once, before any output folder is taken), with
    their warnings shown, and the seconds loading took."""
    from optimizer.reporting.console import show_warnings

    started = time.perf_counter()
    inputs = load(folder)
    loaded = time.perf_counter() - started
    show_warnings(inputs.warnings, errors)
    return inputs, loaded


def _planned(inputs, loaded, time_limit, integer, method="auto", payback=True, solver=None, write_model=None):
    from optimizer.plan import pipeline as planner

    result = planner.solve(
        inputs,
        time_limit=time_limit,
        method=method,
        integer=integer,
        payback=payback,
        solver=solver,
        write_model=write_model,
    )
    return replace(result, seconds={"load": loaded, **result.seconds})


@app.command("plan")
def plan_command(
    data: DataOption = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out/plan"),
    time_limit: TimeLimit = None,
    method: Method = LpMethod.auto,
    integer: Integer = False,
    check_manifest: Annotated[
        Path | None,
        typer.Option(
            "--check-manifest",
            help="Re-run the plan of this manifest.json (with its options; --data points at "
            "archived inputs) and confirm the same inputs give the same plan, file by file. Writes nothing; "
            "exit 4 when it does not reproduce.",
        ),
    ] = None,
    solver: Annotated[
        str | None,
        typer.Option(
            "--solver",
            help="Solve with a solver PuLP drives (PULP_CBC_CMD, GUROBI, CPLEX_PY, XPRESS_PY, COPT, "
            "SCIP_CMD, HiGHS...) instead of the tool's HiGHS; the plan is verified, and certified only when the "
            "solver returns duals (an LP). A wrong or unavailable name lists the available ones (exit 2).",
        ),
    ] = None,
    write_model: Annotated[
        Path | None,
        typer.Option(
            "--write-model",
            help="Also write the model for audit, as MPS or LP by the extension (.mps, .lp); "
            "its optimum is the plan's total cost.",
        ),
    ] = None,
) -> None:
    """Solve the cost-minimal plan, verify it, print a summary and write the contract's outputs."""
    from optimizer.reporting.console import show_plan
    from optimizer.reporting.manifest import folder_inputs, new_manifest

    def action() -> None:
        folder = data or bundled_data()
        inputs, loaded = _loaded(folder)
        with output_batch(out, inputs=[folder], command="plan") as batch:
            result = _plan(batch, folder, inputs, loaded)
        show_plan(result, console)
        _say(f"Verified plan written to {out}/" + (f"; model written to {write_model}" if write_model else ""))

    def _plan(batch, folder, inputs, loaded):
        result = _planned(inputs, loaded, time_limit, integer, method.value, solver=solver, write_model=write_model)
        options = {
            "data": str(folder.resolve()),
            "out": str(out),
            "time_limit": time_limit,
            "method": method.value,
            "integer": integer,
            **({"solver": solver} if solver else {}),
            **({"write_model": str(write_model)} if write_model else {}),
        }
        manifest = new_manifest("plan", options, folder_inputs(folder), result.seconds, _result(result))
        batch.write(plan_files(result), manifest)
        return result

    _run(lambda: _check_manifest(check_manifest, data) if check_manifest else action())


def plan_files(result) -> dict:
    """The contract's plan outputs, one writer per file."""
    from optimizer.plan.assembly import summary

    return {
        "summary.json": json_writer(summary(result)),
        "allocation.csv": csv_writer(result.allocation),
        "purchases.csv": csv_writer(result.purchases),
        "shares.csv": csv_writer(result.shares),
        "unmet.csv": csv_writer(result.unmet),
        "commitments.csv": csv_writer(result.commitments),
        "contracts.csv": csv_writer(result.contracts),
        "spend_commitments.csv": csv_writer(result.spend_commitments),
        "spend_discounts.csv": csv_writer(result.spend_discounts),
        "budgets.csv": csv_writer(result.budgets),
        "money_by_quarter.csv": csv_writer(result.money),
        "ports.csv": csv_writer(result.ports),
        "moves.csv": csv_writer(result.moves),
        "resilience.csv": csv_writer(result.resilience),
    }


def _result(plan) -> dict:
    """The headline figures a manifest records, so a reader can tell runs apart at a glance."""
    return {
        "total_cost_usd": plan.totals["total_cost_usd"],
        "certified": plan.certificate.certified if plan.certificate else None,
    }


def _check_manifest(path: Path, data: Path | None) -> None:
    """Re-run a past plan in a scratch folder and compare inputs, outputs and versions."""
    import tempfile

    from optimizer.reporting.manifest import compare_disk, compare_inputs, compare_outputs, read_manifest

    recorded = read_manifest(path)
    options = recorded["options"]
    folder = data or Path(options["data"])
    check = compare_inputs(recorded, folder)
    compare_disk(check, recorded, path.parent)
    _, _, result = _solved(
        folder,
        options.get("time_limit"),
        bool(options.get("integer")),
        options.get("method", "auto"),
        solver=options.get("solver"),
    )
    with tempfile.TemporaryDirectory(prefix="optimizer-check-") as scratch:
        rerun = Path(scratch) / "plan"  # its lock and staging stay inside the scratch folder
        write_outputs(rerun, plan_files(result), inputs=[folder])
        compare_outputs(check, recorded, rerun)
    check.recorded_cost = recorded.get("result", {}).get("total_cost_usd")
    check.rerun_cost = result.totals["total_cost_usd"]
    for line in check.lines():
        _say(line, soft_wrap=True)
    if not check.reproduced:
        raise typer.Exit(4)


@app.command()
def leverage(
    data: DataOption = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out/leverage"),
    time_limit: TimeLimit = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Threads for the re-solves.")] = 2,
    integer: Integer = False,
    sensitivity: Annotated[
        bool,
        typer.Option(
            "--capacity-sensitivity", help="Solve the walk-away costs again with every max_chips -20% and +20%."
        ),
    ] = False,
) -> None:
    """How strong is our hand? Walk-away costs, price ceilings, prices to win, rule costs, outages."""
    from optimizer.analysis.negotiation import leverage as run_leverage
    from optimizer.reporting.console import show_leverage
    from optimizer.reporting.manifest import folder_inputs, new_manifest

    def action() -> None:
        folder = data or bundled_data()
        inputs, loaded = _loaded(folder)
        with output_batch(out, inputs=[folder], command="leverage") as batch:
            report = _leverage(batch, folder, inputs, loaded)
        show_leverage(report, console)
        _say(f"Leverage report written to {out}/ ({report.solves} re-solves, {report.seconds:.1f} s)")

    def _leverage(batch, folder, inputs, loaded):
        # The report prices ports itself (break-even), so the plan's payback re-solves are skipped.
        with deadline.budget(time_limit):  # the plan and every re-solve of the report
            plan_ = _planned(inputs, loaded, time_limit, integer, payback=False)
            report = run_leverage(inputs, plan_, workers=workers, sensitivity=sensitivity)
        options = {
            "data": str(folder.resolve()),
            "out": str(out),
            "time_limit": time_limit,
            "workers": workers,
            "integer": integer,
            "capacity_sensitivity": sensitivity,
        }
        manifest = new_manifest(
            "leverage", options, folder_inputs(folder), {**plan_.seconds, "leverage": report.seconds}, _result(plan_)
        )
        batch.write(leverage_files(report), manifest)
        return report

    _run(action)


@app.command()
def room(
    data: DataOption = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out/room"),
    slack: Annotated[
        float,
        typer.Option("--slack", min=0.0, max=100.0, help="Cost slack in percent of today's optimum (0.5 = 0.5%)."),
    ] = 0.5,
    time_limit: TimeLimit = None,
    integer: Integer = False,
    reopen: Annotated[
        bool,
        typer.Option(
            "--reopen-integers",
            help="Let alternatives change tiers, ports and whole instances (MIP re-solves, far slower); "
            "by default they keep today's, and the room found is a floor.",
        ),
    ] = False,
) -> None:
    """Negotiating room: volume movable away from each supplier, and the most diversified plan, within a cost slack."""
    from optimizer.analysis.room import negotiating_room
    from optimizer.reporting.console import show_room
    from optimizer.reporting.manifest import folder_inputs, new_manifest

    def action() -> None:
        folder = data or bundled_data()
        inputs, loaded = _loaded(folder)
        with output_batch(out, inputs=[folder], command="room") as batch, deadline.budget(time_limit):
            plan_ = _planned(inputs, loaded, time_limit, integer, payback=False)
            started = time.perf_counter()
            found = negotiating_room(plan_, slack=slack / 100, hold_integers=not reopen)
            options = {
                "data": str(folder.resolve()),
                "out": str(out),
                "slack_pct": slack,
                "integer": integer,
                "reopen_integers": reopen,
            }
            seconds = {**plan_.seconds, "room": time.perf_counter() - started}
            manifest = new_manifest("room", options, folder_inputs(folder), seconds, _result(plan_))
            batch.write(
                {
                    "movable.csv": csv_writer(found.movable),
                    "diversified.csv": csv_writer(found.diversified),
                    "fleet_kept.csv": csv_writer(found.fleet),
                },
                manifest,
            )
        show_room(found, console)
        _say(f"Negotiating room written to {out}/ ({found.solves} re-solves, each alternative verified)")

    _run(action)


Workers = Annotated[int | None, typer.Option("--workers", min=1, help="Local worker processes (default: all cores).")]
Scheduler = Annotated[
    str | None, typer.Option("--scheduler", help="Dask scheduler address (tcp://host:8786): run there.")
]


@app.command()
def compare(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario files; the first is the reference.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out/compare"),
    workers: Workers = None,
    scheduler: Scheduler = None,
) -> None:
    """Compare scenarios side by side: cost, change against the first, mix, HHI, walk-away costs."""
    from optimizer.reporting.console import show_comparison
    from optimizer.reporting.manifest import new_manifest, scenario_inputs
    from optimizer.scenarios.comparison import compare as run_compare
    from optimizer.scenarios.comparison import failures

    def action() -> None:
        with output_batch(
            out, inputs=_bases(scenarios), beside=[p.parent for p in scenarios], command="compare"
        ) as batch:
            table = _compare(batch)
        show_comparison(table, console)
        _say(f"Comparison written to {out}/comparison.csv")
        failed = failures(table, "scenarios")
        if failed:
            raise failed

    def _compare(batch):
        started = time.perf_counter()
        table = run_compare(scenarios, workers=workers or default_workers(), scheduler=scheduler)
        options = {
            "scenarios": [str(p.resolve()) for p in scenarios],
            "out": str(out),
            "workers": workers,
            "scheduler": scheduler,
        }
        manifest = new_manifest(
            "compare", options, scenario_inputs(scenarios), {"compare": time.perf_counter() - started}
        )
        batch.write({"comparison.csv": csv_writer(table)}, manifest)
        return table

    _run(action)


@app.command()
def sweep(
    file: Annotated[Path, typer.Argument(help="Sweep file (grid or monte_carlo).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out/sweep"),
    workers: Workers = None,
    scheduler: Scheduler = None,
    allow_failed_draws: Annotated[
        bool,
        typer.Option(
            "--allow-failed-draws",
            help="Exit 0 even when some points or draws did not solve (they are written "
            "with blank figures and their reason either way; without this flag the exit code is 6).",
        ),
    ] = False,
) -> None:
    """Sweep a grid of one or two parameters, or run a seeded Monte Carlo."""
    from optimizer.reporting.console import show_sweep
    from optimizer.reporting.manifest import new_manifest
    from optimizer.scenarios.comparison import failures
    from optimizer.scenarios.sweeps import read_sweep, run_sweep

    def action() -> None:
        spec, base = read_sweep(file)
        bases = _sweep_bases(file, spec)
        with output_batch(out, inputs=bases, beside=[file.parent], command="sweep") as batch:
            points, summary = _sweep(batch, spec, base)
        show_sweep(spec, points, summary, console)
        _say(f"Sweep written to {out}/ (points.csv, summary.csv)")
        failed = failures(points, "points")
        if failed and not allow_failed_draws:
            raise failed

    def _sweep(batch, spec, base):
        started = time.perf_counter()
        points, summary = run_sweep(spec, base, workers=workers or default_workers(), scheduler=scheduler)
        read = _sweep_read(file, spec)
        options = {
            "sweep": str(file.resolve()),
            "out": str(out),
            "workers": workers,
            "scheduler": scheduler,
            "allow_failed_draws": allow_failed_draws,
        }
        manifest = new_manifest("sweep", options, read, {"sweep": time.perf_counter() - started})
        batch.write({"points.csv": csv_writer(points), "summary.csv": csv_writer(summary)}, manifest)
        return points, summary

    _run(action)


@app.command()
def hedge(
    file: Annotated[Path, typer.Argument(help="Monte Carlo sweep file (monte_carlo and/or delivery).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out/hedge"),
    samples: Annotated[
        int | None, typer.Option("--samples", min=1, max=10_000, help="In-sample draws (default: the file's samples).")
    ] = None,
    test_samples: Annotated[
        int | None,
        typer.Option(
            "--test-samples", min=0, max=10_000, help="Fresh draws to price the plans on (default: as many; 0: none)."
        ),
    ] = None,
    test_seed: Annotated[
        int | None, typer.Option("--test-seed", min=0, help="Seed of the fresh draws (default: the file's seed + 1).")
    ] = None,
    cvar_weight: Annotated[
        float,
        typer.Option(
            "--cvar-weight", min=0.0, max=100.0, help="Weight on CVaR added to expected cost (0: expected cost only)."
        ),
    ] = 0.0,
    cvar_level: Annotated[
        float,
        typer.Option("--cvar-level", min=0.5, max=0.999, help="CVaR level: the mean of the worst 1 - level of draws."),
    ] = 0.95,
    time_limit: TimeLimit = None,
) -> None:
    """Commit now, adjust later: commitments hedged over a sweep's draws, with VSS and EVPI."""
    from optimizer.hedge.hedge import hedge as run_hedge
    from optimizer.reporting.console import show_hedge
    from optimizer.reporting.manifest import new_manifest
    from optimizer.reporting.workbook import write_hedge_excel
    from optimizer.scenarios.sweeps import read_sweep

    def action() -> None:
        spec, base = read_sweep(file)
        bases = _sweep_bases(file, spec)
        with (
            output_batch(out, inputs=bases, beside=[file.parent], command="hedge") as batch,
            deadline.budget(time_limit),
        ):
            started = time.perf_counter()
            with _steps() as progress:
                result = run_hedge(
                    spec,
                    base,
                    samples=samples,
                    test_samples=test_samples,
                    test_seed=test_seed,
                    cvar_weight=cvar_weight,
                    cvar_level=cvar_level,
                    progress=progress,
                )
            read = _sweep_read(file, spec)
            options = {
                "sweep": str(file.resolve()),
                "out": str(out),
                "samples": samples,
                "test_samples": test_samples,
                "test_seed": test_seed,
                "cvar_weight": cvar_weight,
                "cvar_level": cvar_level,
            }
            seconds = {**result.seconds, "hedge": time.perf_counter() - started}
            manifest = new_manifest("hedge", options, read, seconds)
            batch.write(
                {
                    "commitments.csv": csv_writer(result.commitments),
                    "draws.csv": csv_writer(result.draws),
                    "summary.csv": csv_writer(result.summary),
                    "hedge.xlsx": lambda path: write_hedge_excel(
                        path, result.summary, result.commitments, result.draws
                    ),
                },
                manifest,
            )
        show_hedge(result, console)
        size = result.size
        _say(
            f"Hedge written to {out}/ (commitments.csv, draws.csv, summary.csv, hedge.xlsx): extensive form of "
            f"{size['scenarios']} draws, {size['columns']:,} columns, {size['rows']:,} rows"
        )

    _run(action)


@contextmanager
def _steps():
    """Progress of a long command on standard error: a bar on a terminal, otherwise a line
    at every tenth of each step (so a log or CI shows it is alive)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    if errors.is_terminal:
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=errors,
            transient=True,
        )
        tasks: dict[str, TaskID] = {}

        def advance(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done)

        with bar:
            yield advance
        return
    shown: dict[str, int] = {}

    def log(step: str, done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if shown.get(step, -1) < tenth:
            shown[step] = tenth
            errors.print(f"{step}: {done}/{total}", markup=False, highlight=False)

    yield log


@app.command("report")
def report_command(
    more: Annotated[
        list[Path] | None, typer.Argument(help="More scenario files after --scenarios.", show_default=False)
    ] = None,
    data: DataOption = None,
    scenarios: Annotated[
        list[Path] | None,
        typer.Option(
            "--scenarios",
            help="Scenario files (the first is the reference), instead of --data: --scenarios a.yaml b.yaml",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out/report"),
    workers: Workers = None,
    integer: Integer = False,
    room: Annotated[
        bool, typer.Option("--room/--no-room", help="Include the negotiating room (optimizer room's defaults).")
    ] = True,
    hedge: Annotated[
        Path | None,
        typer.Option("--hedge", help="An `optimizer hedge` output folder to include (checked against its manifest)."),
    ] = None,
) -> None:
    """Finance reports: an Excel workbook with native charts and a self-contained HTML page."""
    from optimizer.reporting.manifest import file_entries, folder_inputs, new_manifest, scenario_inputs
    from optimizer.reporting.report import HEDGE_FILES, make_report, report_files

    files = list(scenarios or []) + list(more or [])

    def action() -> None:
        if more and not scenarios:
            raise InputError([Problem("report", "scenario files follow --scenarios: --scenarios a.yaml b.yaml")])
        if data is not None and files:
            raise InputError([Problem("--data/--scenarios", "give a data folder or scenario files, not both")])
        sources = _bases(files) if files else [data or bundled_data()]
        with output_batch(
            out,
            inputs=sources + ([hedge] if hedge is not None else []),
            beside=[p.parent for p in files],
            command="report",
        ) as batch:
            content = _report(batch, sources)
        verdict = "reconcile" if content.reconciles else "DO NOT reconcile"
        _say(f"Report written to {out}/ (report.xlsx, report.html); compute lines {verdict} to the cent")

    def _report(batch, sources):
        started = time.perf_counter()
        content = make_report(
            data, files, workers=workers or default_workers(), integer=integer, room=room, hedge=hedge
        )
        read = scenario_inputs(files) if files else folder_inputs(sources[0])
        options = {
            "data": str(sources[0].resolve()) if not files else None,
            "scenarios": [str(p.resolve()) for p in files],
            "out": str(out),
            "workers": workers,
            "integer": integer,
            "room": room,
            "hedge": str(hedge.resolve()) if hedge is not None else None,
        }
        if hedge is not None:
            read += file_entries([hedge / name for name in HEDGE_FILES], "hedge")
        manifest = new_manifest("report", options, read, {"report": time.perf_counter() - started})
        batch.write(report_files(content), manifest)
        return content

    _run(action)


def _sweep_bases(file: Path, spec) -> list[Path]:
    """The data folder a sweep file builds on (through its base scenario, or the bundled data)."""
    return _bases([file.parent / spec.scenario]) if spec.scenario else [bundled_data()]


def _sweep_read(file: Path, spec) -> list[dict]:
    """A sweep's inputs for its manifest: the file, then its base scenario's or the bundled data's."""
    from optimizer.reporting.manifest import file_entries, folder_inputs, scenario_inputs

    base = scenario_inputs([file.parent / spec.scenario]) if spec.scenario else folder_inputs(bundled_data())
    return file_entries([file], "sweep") + base


def _bases(scenario_files: list[Path]) -> list[Path]:
    """The data folders scenario files build on (the bundled data when they name none):
    inputs as much as ``--data``, so no output is ever written among them."""
    from optimizer.scenarios.overlays import read_scenario

    return [bundled_data(), *{read_scenario(p).base or bundled_data() for p in scenario_files}]


def leverage_files(report) -> dict:
    """The contract's leverage outputs, one writer per file."""
    return {
        "suppliers.csv": csv_writer(report.suppliers),
        "supplier_shares.csv": csv_writer(report.supplier_shares),
        "offer_prices.csv": csv_writer(report.offer_prices),
        "capacity.csv": csv_writer(report.capacity),
        "rules.csv": csv_writer(report.rules),
        "policy_rules.csv": csv_writer(report.policy_rules),
        "walk_away_curve.csv": csv_writer(report.walk_away_curve),
        "price_response.csv": csv_writer(report.price_response),
        "supplier_price_to_win.csv": csv_writer(report.supplier_price_to_win),
        "outage.csv": csv_writer(report.outage),
        "ports.csv": csv_writer(report.ports),
        "tiers.csv": csv_writer(report.tiers),
        "spend_discounts.csv": csv_writer(report.spend_discounts),
        "renewal.csv": csv_writer(report.renewal),
        "capacity_sensitivity.csv": csv_writer(report.capacity_sensitivity),
        "summary.json": json_writer(report.summary),
    }


def _detach_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main() -> None:
    try:
        app()
    except BrokenPipeError:
        _detach_stdout()
        sys.exit(0)
    except SystemExit as exit_:
        sys.exit(exit_.code)


if __name__ == "__main__":
    main()
