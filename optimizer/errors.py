"""Errors the tool reports to its users, each carrying everything needed to act on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from optimizer.text import visible


@dataclass(frozen=True)
class Problem:
    """One problem found in the inputs, located as precisely as the input allows.

    ``line`` counts physical lines of the file, header = line 1, so an editor's
    "go to line" lands on the bad row. ``severity`` "error" makes the inputs unusable
    (raised in an :class:`InputError`); "warning" is a fact about a usable input (demand
    that cannot be served, a rule that cannot hold), shown and written beside the plan. An
    empty ``file`` is a finding about the inputs as a whole. Shown (``str``), every
    invisible or control character of a path or value is made visible (:func:`visible`).
    """

    file: str
    message: str
    line: int | None = None
    column: str | None = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        if not self.file:
            return visible(self.message)
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column is not None:
            where += f", column {self.column}"
        return visible(f"{where}: {self.message}")


def warning(file: str, message: str, line: int | None = None) -> Problem:
    return Problem(file, message, line, severity="warning")


class OptimizerError(Exception):
    """Base class of the errors the CLI turns into a message and an exit code.

    Shown (``str``), the message has every invisible or control character made visible
    (:func:`visible`), so a path or value it quotes cannot act on the terminal. An error
    that lists items (``listing``) builds its lines from visible items and keeps its own
    line breaks.
    """

    exit_code = 1
    listing = False

    def __str__(self) -> str:
        message = super().__str__()
        return message if self.listing else visible(message)


class InputError(OptimizerError):
    """The inputs are invalid: every problem found, not only the first."""

    exit_code = 2
    listing = True

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        count = len(self.problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the inputs:\n{lines}")


class OptionError(OptimizerError):
    """A command-line option (or its API parameter) that cannot be used as given."""

    exit_code = 2


class OutputError(OptimizerError):
    """An output folder that would lie among the inputs: refused before any work is written."""

    exit_code = 2


class WriteError(OptimizerError):
    """The machine refused to write the outputs (no space, read-only, no permission, a file
    where a folder should be, another run writing there): nothing was replaced."""

    exit_code = 7


class SolveError(OptimizerError):
    """The solver did not prove an optimum (time limit, numerical trouble, infeasible rules)."""

    exit_code = 3


class TimeLimitReached(SolveError):
    """The time budget ran out: the command as a whole has no answer, whatever step it was in."""


class VerificationError(OptimizerError):
    """A solved plan broke a constraint of the data contract: never shown, never written."""

    exit_code = 5
    listing = True

    def __init__(self, violations: list[str]):
        self.violations = list(violations)
        lines = "\n".join(f"  - {visible(v)}" for v in self.violations[:50])
        more = len(self.violations) - 50
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"the solved plan failed verification ({len(self.violations)} violations); "
            f"nothing was written:\n{lines}{tail}"
        )


class FailedRuns(OptimizerError):
    """Some sweep points or compared scenarios did not solve: their rows are written blank,
    with the reason, and the command says so with its own exit code."""

    exit_code = 6
    listing = True

    def __init__(self, failed: list[tuple[str, str]], total: int, what: str):
        self.failed = list(failed)
        lines = "\n".join(f"  - {visible(name)}: {visible(reason)}" for name, reason in self.failed[:20])
        more = f"\n  ... and {len(self.failed) - 20} more" if len(self.failed) > 20 else ""
        super().__init__(
            f"{len(self.failed)} of {total} {what} failed (figures left blank, reason in the "
            f"error column):\n{lines}{more}"
        )
