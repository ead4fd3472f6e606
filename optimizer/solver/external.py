"""Solving the model with a solver PuLP drives (CBC, Gurobi, CPLEX, Xpress, COPT, SCIP...).

For labs that hold licences for faster MIP solvers. The model goes over as arrays (a
``highspy.HighsLp``): HiGHS writes it as MPS and PuLP reads it back
(``LpProblem.fromMPS``), so nothing here depends on how the model was built. The file
handed to PuLP is made safe for both PuLP readers (3.3 and 4.x):

- columns and rows carry position names (``c0``, ``r0``), which PuLP keeps as they are
  (it rewrites ``-``, ``+``, spaces... in names), so values and duals map back by position;
- the objective constant is left out (PuLP 3.3's reader fails on an objective RHS) and
  added back here;
- a ranged row ``L <= a x <= U`` becomes two rows (PuLP's readers ignore RANGES); its
  dual is the sum of the two rows' duals;
- integrality is left out of the file and set on PuLP's variables from the arrays, with
  every column's bounds: PuLP 3.3 rejects HiGHS's integer bounds (``LI``, ``UI``) and
  reads ``MI`` as an upper bound of 0, and HiGHS writes a column with no matrix entry
  after an integer one inside the integer markers.

The solver's status is read through both PuLP lines (3.3: status and solution status on
the problem; 4.x: the returned ``LpSolveStats``); only a proven optimum with a solution
is accepted.
"""

from __future__ import annotations

import inspect
import os
import shutil
import sysconfig
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard

import highspy
import numpy as np
import pulp

from optimizer.errors import OptionError, SolveError, TimeLimitReached
from optimizer.model.arrays import dot
from optimizer.solver.certificate import Certificate, certify_duals
from optimizer.solver.highs import new_highs, stdout_silenced
from optimizer.tolerances import mip_gap_usd, objectives_agree

MODEL_SUFFIXES = (".mps", ".lp")


@dataclass(frozen=True)
class ExternalSolution:
    """A proven optimum from another solver, aligned with the columns and rows of the LP.

    ``row_dual`` follows HiGHS's sign convention (change of the optimal cost per unit
    increase of the row's bound); None when the solver returned no duals (a MIP, or a
    solver that reports none). ``objective`` is recomputed from the values (costs times
    values plus the LP's offset and the constant) and agrees with the solver's own figure.
    ``certificate`` is computed from the duals when there are some; ``uncertified`` says
    why the optimum is not certified (no duals, or duals that fail the certificate).
    """

    solver: str
    values: np.ndarray
    row_dual: np.ndarray | None
    objective: float
    seconds: float
    certificate: Certificate | None
    uncertified: str | None


def solver_names() -> dict[str, type[pulp.LpSolver]]:
    """PuLP's solver classes by their names and by the names PuLP exports them under
    (``XPRESS_CMD`` is ``XPRESS``, ``GLPK`` is ``GLPK_CMD``)."""
    known = set(pulp.listSolvers())
    classes: dict[str, type[pulp.LpSolver]] = {}
    for attribute in dir(pulp):
        solver = getattr(pulp, attribute)
        if _is_solver(solver) and solver.name in known:
            classes.setdefault(solver.name, solver)
            classes.setdefault(attribute, solver)
    return classes


def _is_solver(value: object) -> TypeGuard[type[pulp.LpSolver]]:
    return isinstance(value, type) and issubclass(value, pulp.LpSolver)


def _instance(solver: type[pulp.LpSolver], **options) -> pulp.LpSolver:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return solver(msg=False, **options)


def _refusal(solver: type[pulp.LpSolver]) -> str | None:
    """Why ``solver`` must not run here, or None. PuLP finds Xpress as an executable named
    ``optimizer``, this tool's own command: running it would start the tool, not Xpress."""
    if solver.name != "XPRESS":
        return None
    path = _instance(solver).path
    found = shutil.which(path)
    if found is None:
        return None  # unavailable: said as such
    resolved = Path(found).resolve()
    own = Path(sysconfig.get_path("scripts")) / Path(found).name
    try:
        with open(resolved, "rb") as handle:
            script = handle.read(2) == b"#!"
    except OSError:  # unreadable: not known to be Xpress either
        script = True
    if script or (own.exists() and own.resolve() == resolved):
        return (
            f"PuLP runs Xpress as the executable {path!r} on PATH, and the one found ({found}) is "
            "not FICO Xpress but a script (this tool's own `optimizer` command, or a shim for it). "
            "Use --solver XPRESS_PY (the xpress Python package), or put Xpress's bin folder first on PATH"
        )
    return None


def available() -> list[str]:
    """Names of the solvers PuLP can run here (Xpress only when it is the real one)."""
    names = []
    for name, solver in solver_names().items():
        if name != solver.name or name in names:
            continue
        if _instance(solver).available() and _refusal(solver) is None:
            names.append(name)
    return names


def resolve(name: str) -> type[pulp.LpSolver]:
    """PuLP's solver class for ``name`` (any case; class names too), if it can run here;
    otherwise :class:`OptionError` naming the solvers that can."""
    classes = {key.lower(): solver for key, solver in solver_names().items()}
    solver = classes.get(name.lower())
    refusal = _refusal(solver) if solver is not None else None
    if solver is not None and refusal is None and _instance(solver).available():
        return solver
    reason = refusal or (
        f"PuLP knows no solver {name!r}"
        if solver is None
        else f"{solver.name} is not available here (not installed or no licence)"
    )
    listed = ", ".join(available()) or "none"
    raise OptionError(
        f"--solver {name}: {reason}. Available here: {listed} (without --solver, the plan "
        "is solved by the tool's own HiGHS)"
    )


def write_model(lp: highspy.HighsLp, path: Path, names: list[str] | None = None, constant: float = 0.0) -> None:
    """Write ``lp`` for audit as MPS or CPLEX LP (by the suffix), atomically: written in a
    temporary folder beside ``path``, then one rename. ``names``: the columns' names (else c0, c1...);
    ``constant`` (sunk costs kept out of the solver) goes into the objective, so the file's
    optimum is the plan's total cost."""
    check_model_path(path)
    named = _copy(lp)
    named.col_names_ = names if names is not None else [f"c{j}" for j in range(lp.num_col_)]
    named.row_names_ = [f"r{i}" for i in range(lp.num_row_)]
    named.offset_ = lp.offset_ + constant
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".writing-", dir=path.parent))
    try:
        _write(named, staging / f"model{path.suffix.lower()}")
        os.replace(staging / f"model{path.suffix.lower()}", path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def check_model_path(path: Path) -> None:
    """Refuse a model file whose extension names neither format."""
    if path.suffix.lower() not in MODEL_SUFFIXES:
        raise OptionError(
            f"--write-model {path}: the model is written as .mps or .lp (by the file's "
            f"extension), not {path.suffix or 'without an extension'!r}"
        )


def solve(
    lp: highspy.HighsLp, solver: type[pulp.LpSolver], time_limit: float | None, scale: float, constant: float = 0.0
) -> ExternalSolution:
    """Solve ``lp`` with PuLP's ``solver``; raise :class:`SolveError` unless it proves an optimum.

    ``time_limit`` (seconds) goes to the solver. A MIP runs to the tool's absolute gap
    (``tolerances.mip_gap_usd`` of the problem's cost ``scale``) where the solver takes
    ``gapAbs``, else to that gap relative to ``scale`` as ``gapRel``. ``constant``: the
    objective's part kept out of the LP (sunk costs).
    """
    lp = _copy(lp)
    integer = _integer(lp)
    mip = bool(integer.any())
    file_lp, origin = _one_sided(lp)
    with tempfile.TemporaryDirectory(prefix="optimizer-solver-") as folder:
        path = Path(folder) / "model.mps"
        _write(file_lp, path)
        _, prob = pulp.LpProblem.fromMPS(str(path))
    variables = {v.name: v for v in prob.variables()}
    _set_columns(variables, file_lp, integer)
    rows = _constraints(prob)
    _check_read_back(variables, rows, file_lp)
    options = _options(solver, time_limit, mip, scale)
    started = time.monotonic()
    try:
        with stdout_silenced():  # in-process solvers print banners
            result = prob.solve(_instance(solver, **options))
    except Exception as error:  # an outside component: its failure is not a plan
        raise SolveError(
            f"{solver.name} failed while solving ({type(error).__name__}: {error}); no plan is reported"
        ) from error
    seconds = time.monotonic() - started
    proven, status = _outcome(prob, result)
    if not proven:
        if time_limit is not None and (_timed_out(result) or seconds >= time_limit):
            raise TimeLimitReached(
                f"{solver.name} stopped at the time limit ({time_limit:.2g} s were left of the "
                "command's) before proving an optimum; no plan is reported. Raise --time-limit."
            )
        raise SolveError(
            f"{solver.name} did not prove an optimum ({status}); no plan is reported. Without "
            "--solver, HiGHS names the conflicting rules of an infeasible plan."
        )
    values = np.array([variables[f"c{j}"].varValue for j in range(file_lp.num_col_)], dtype=float)
    if np.isnan(values).any():
        raise SolveError(f"{solver.name} reported an optimum without a value for every column; no plan is reported")
    objective = dot(np.asarray(lp.col_cost_), values) + lp.offset_ + constant
    reported = float(pulp.value(prob.objective) or 0.0) + lp.offset_ + constant
    if not objectives_agree(reported, objective):
        raise SolveError(
            f"{solver.name} reported an objective of {reported:,.2f} USD for a solution that costs "
            f"{objective:,.2f} USD; no plan is reported"
        )
    duals = [row.pi for row in rows]
    if mip or any(d is None for d in duals):
        why = "a MIP has no duals" if mip else f"{solver.name} returned no duals"
        return ExternalSolution(
            solver.name,
            values,
            None,
            objective,
            seconds,
            None,
            f"not certified: {why}, so the plan is verified feasible but its optimality "
            f"rests on {solver.name}'s word (without --solver, HiGHS's optimum is certified)",
        )
    row_dual = np.bincount(origin, weights=np.array(duals, dtype=float), minlength=lp.num_row_)
    proof = certify_duals(lp, values, row_dual, constant)
    failed = (
        None
        if proof.certified
        else f"not certified: {solver.name}'s duals fail the optimality "
        f"certificate (relative gap {proof.relative_gap:.1e}, dual infeasibility {proof.max_dual_infeasibility:.1e})"
    )
    return ExternalSolution(solver.name, values, row_dual, objective, seconds, proof, failed)


def _copy(lp: highspy.HighsLp) -> highspy.HighsLp:
    """A column-wise copy of ``lp`` as HiGHS holds it."""
    highs = new_highs()
    highs.passModel(lp)
    return highs.getLp()


def _write(lp: highspy.HighsLp, path: Path) -> None:
    highs = new_highs()
    highs.passModel(lp)
    if highs.writeModel(str(path)) != highspy.HighsStatus.kOk or not path.exists():
        raise SolveError(f"HiGHS could not write the model to {path}")


def _integer(lp: highspy.HighsLp) -> np.ndarray:
    kinds = list(lp.integrality_)
    return np.array(
        [kind != highspy.HighsVarType.kContinuous for kind in kinds] if kinds else [False] * lp.num_col_, dtype=bool
    )


def _one_sided(lp: highspy.HighsLp) -> tuple[highspy.HighsLp, np.ndarray]:
    """``lp`` with every ranged row split into its two sides, no objective constant, no
    integrality and position names; and the original row of each of its rows."""
    lp = _copy(lp)
    lower, upper = np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)
    ranged = np.flatnonzero(np.isfinite(lower) & np.isfinite(upper) & (lower < upper))
    origin = np.concatenate([np.arange(lp.num_row_), ranged])
    if len(ranged):
        starts = np.asarray(lp.a_matrix_.start_)
        rows = np.asarray(lp.a_matrix_.index_)
        values = np.asarray(lp.a_matrix_.value_)
        columns = np.repeat(np.arange(lp.num_col_), np.diff(starts))
        copy = np.full(lp.num_row_, -1)
        copy[ranged] = lp.num_row_ + np.arange(len(ranged))
        twin = copy[rows] >= 0
        rows = np.concatenate([rows, copy[rows[twin]]])
        columns = np.concatenate([columns, columns[twin]])
        values = np.concatenate([values, values[twin]])
        order = np.lexsort((rows, columns))
        new_upper = upper.copy()
        new_upper[ranged] = np.inf
        lp.row_lower_ = np.concatenate([lower, np.full(len(ranged), -np.inf)])
        lp.row_upper_ = np.concatenate([new_upper, upper[ranged]])
        lp.num_row_ = len(origin)
        lp.a_matrix_.start_ = np.searchsorted(columns[order], np.arange(lp.num_col_ + 1)).astype(np.int32)
        lp.a_matrix_.index_ = rows[order].astype(np.int32)
        lp.a_matrix_.value_ = values[order]
    lp.offset_ = 0.0
    lp.integrality_ = []
    lp.col_names_ = [f"c{j}" for j in range(lp.num_col_)]
    lp.row_names_ = [f"r{i}" for i in range(lp.num_row_)]
    return lp, origin


def _set_columns(variables: dict, lp: highspy.HighsLp, integer: np.ndarray) -> None:
    """Bounds and integrality of every column from the arrays (module docstring)."""
    for j, (low, high) in enumerate(zip(lp.col_lower_, lp.col_upper_, strict=True)):
        variable = variables.get(f"c{j}")
        if variable is None:
            continue  # counted as missing by the caller
        variable.lowBound = None if np.isinf(low) else float(low)
        variable.upBound = None if np.isinf(high) else float(high)
        variable.cat = pulp.LpInteger if integer[j] else pulp.LpContinuous


def _constraints(prob: pulp.LpProblem) -> list:
    """Rows in position order (PuLP 3.3 keeps a dict by name, 4.x returns a list)."""
    rows = prob.constraints
    rows = rows() if callable(rows) else rows
    by_name = {row.name: row for row in (rows.values() if isinstance(rows, dict) else rows)}
    return [by_name[f"r{i}"] for i in range(len(by_name)) if f"r{i}" in by_name]


def _check_read_back(variables: dict, rows: list, lp: highspy.HighsLp) -> None:
    """Refuse a file PuLP did not read back as written: every column, and every row with
    its bounds (to 1e-9 relative: the file holds decimal text)."""
    named = all(f"c{j}" in variables for j in range(lp.num_col_))
    if not named or len(variables) != lp.num_col_ or len(rows) != lp.num_row_:
        raise SolveError(
            f"PuLP read back {len(variables)} columns and {len(rows)} rows of the model's "
            f"{lp.num_col_} and {lp.num_row_}; the model is not solved"
        )
    read = np.array([[_bound(row.getLb(), -np.inf), _bound(row.getUb(), np.inf)] for row in rows])
    written = np.column_stack([np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)])
    with np.errstate(invalid="ignore"):  # inf - inf where both sides are unbounded
        same = (read == written) | (np.abs(read - written) <= 1e-9 * (1.0 + np.abs(written)))
    if not same.all():
        row = int(np.flatnonzero(~same.all(axis=1))[0])
        raise SolveError(
            f"PuLP read row {row} of the model with bounds {tuple(read[row])}, written as "
            f"{tuple(written[row])}; the model is not solved"
        )


def _bound(value: float | None, missing: float) -> float:
    return missing if value is None else float(value)


def _options(solver: type[pulp.LpSolver], time_limit: float | None, mip: bool, scale: float) -> dict:
    """The time limit, and for a MIP the optimality gap, in the keywords ``solver`` takes."""
    accepted = inspect.signature(solver.__init__).parameters
    options: dict = {} if time_limit is None else {"timeLimit": time_limit}
    gap = mip_gap_usd(scale)
    if mip and "gapAbs" in accepted:
        options |= {"gapAbs": gap, **({"gapRel": 0.0} if "gapRel" in accepted else {})}
    elif mip and "gapRel" in accepted:
        options["gapRel"] = gap / max(1.0, scale)
    return options


def _outcome(prob: pulp.LpProblem, result) -> tuple[bool, str]:
    """(a proven optimum with a solution, the status in words) on PuLP 3.3 and 4.x."""
    if isinstance(result, int):  # PuLP 3.3: the status; the solution's status is on the problem
        solution = getattr(prob, "sol_status", None)
        proven = result == pulp.LpStatusOptimal and solution == pulp.LpSolutionOptimal
        return proven, f"status {pulp.LpStatus.get(result, result)}, solution {pulp.LpSolution.get(solution, solution)}"
    return (
        result.status == pulp.LpSolveStatus.Optimal and bool(result.has_solution),
        f"status {result.status.name}, {'a' if result.has_solution else 'no'} solution",
    )


def _timed_out(result) -> bool:
    return not isinstance(result, int) and result.status == pulp.LpSolveStatus.TimeLimit
