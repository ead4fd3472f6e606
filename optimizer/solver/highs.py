"""HiGHS set-up in one place: every HiGHS the tool makes has the same options.

The solve, its certificate, the infeasibility explanation, warm re-solves and the
external-solver bridge all start from ``new_highs``, so a matrix entry kept in one is
never dropped in another; integer columns are relaxed or fixed by the one pair of
functions below.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager

import highspy
import numpy as np

from optimizer.tolerances import mip_gap_usd


@contextmanager
def stdout_silenced():
    """Silence C-level writes to stdout (HiGHS prints a banner when constructed)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


# HiGHS drops matrix entries below this as zero (its default 1e-9, the least it takes
# 1e-12). Spend rows are divided by their amount (model.per_amount), so an offer's entry is
# price x hours / amount: 2e-10 for 1 USD per chip-hour against a 1e13 USD commitment,
# which the default would drop, not counting that spend at all.
SMALL_MATRIX_VALUE = 1e-12


_worker = threading.local()


def one_highs_thread() -> None:
    """Give every HiGHS made from now on in this thread one thread of its own.

    For threads that share the cores with other workers (the leverage report's); HiGHS
    keeps one task scheduler per calling thread, sized by the first solve made in it.
    Worker processes of a sweep get the same through ``OPTIMIZER_HIGHS_THREADS``.
    """
    _worker.threads = 1


def new_highs() -> highspy.Highs:
    """A silent HiGHS (no start-up banner), with the thread count its worker was given."""
    with stdout_silenced():
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("small_matrix_value", SMALL_MATRIX_VALUE)
    threads = getattr(_worker, "threads", None) or os.environ.get("OPTIMIZER_HIGHS_THREADS")
    if threads:
        highs.setOptionValue("threads", int(threads))
    return highs


def set_mip_gap(highs: highspy.Highs, scale: float) -> None:
    """Branch and bound runs to an absolute gap (``tolerances.mip_gap_usd``), not HiGHS's
    default relative 1e-4, which on a $30B plan would accept answers $3M from the optimum."""
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", mip_gap_usd(scale))


def integer_columns(highs: highspy.Highs) -> np.ndarray:
    """Positions of the model's integer columns (whole instances, ports), as HiGHS indexes them."""
    kinds = highs.getLp().integrality_
    return np.array([i for i, kind in enumerate(kinds) if kind != highspy.HighsVarType.kContinuous], dtype=np.int32)


def make_continuous(highs: highspy.Highs, columns: np.ndarray, fixed_at: np.ndarray | None = None) -> None:
    """Relax integer ``columns`` to continuous (the LP relaxation, a lower bound) or, with
    ``fixed_at``, also fix them there (the LP of one integer choice, whose duals mean something)."""
    columns = np.asarray(columns, dtype=np.int32)
    if not len(columns):
        return
    highs.changeColsIntegrality(len(columns), columns, np.array([highspy.HighsVarType.kContinuous] * len(columns)))
    if fixed_at is not None:
        highs.changeColsBounds(len(columns), columns, fixed_at, fixed_at)
