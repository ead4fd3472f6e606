"""The time budget of one command: every HiGHS run it makes draws on what is left
(and so does a ``--solver`` run, given the time left as its limit).

``--time-limit S`` bounds the whole command (the plan, its payback re-solves, every
leverage re-solve), not each solve: a command that would run past it stops with a clear
message instead. The deadline is process-wide, so the leverage report's worker threads
share it; nested budgets never extend an outer one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import highspy

from optimizer.errors import TimeLimitReached

_deadline: float | None = None
_seconds: float | None = None


@contextmanager
def budget(seconds: float | None) -> Iterator[None]:
    """Within this block, HiGHS runs stop ``seconds`` from now (None: no limit)."""
    global _deadline, _seconds
    saved = (_deadline, _seconds)
    if seconds is not None:
        candidate = time.monotonic() + seconds
        if _deadline is None or candidate < _deadline:
            _deadline, _seconds = candidate, seconds
    try:
        yield
    finally:
        _deadline, _seconds = saved


def remaining() -> float | None:
    """Seconds left of the budget (None: no limit); refuse to start when none are."""
    if _deadline is None:
        return None
    left = _deadline - time.monotonic()
    if left <= 0:
        raise TimeLimitReached(exhausted())
    return left


def limit(highs: highspy.Highs) -> None:
    """Give ``highs`` the time left; refuse to start when none is."""
    left = remaining()
    if left is None:
        return
    # HiGHS checks time_limit against its run clock, which adds up over every run of the
    # same instance (warm re-solves): the limit is that clock plus what is left.
    highs.setOptionValue("time_limit", highs.getRunTime() + left)


def exhausted() -> str:
    return (
        f"the time limit of {_seconds:g} s ran out before every solve of this command finished; "
        "nothing is reported. Raise --time-limit."
    )
