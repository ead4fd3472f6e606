"""Quarter labels such as ``2026Q1`` and the arithmetic on them.

Quarters are handled as ordinals (year * 4 + quarter - 1) so that ranges with gaps
and offsets ("from q + 2") are plain integer arithmetic.
"""

from __future__ import annotations

import re

QUARTER_PATTERN = re.compile(r"^([0-9]{4})Q([1-4])$")


def ordinal(label: str) -> int:
    match = QUARTER_PATTERN.match(label)
    if match is None:
        raise ValueError(f"not a quarter: {label!r} (expected e.g. 2026Q1)")
    return int(match.group(1)) * 4 + int(match.group(2)) - 1


def label(ordinal_value: int) -> str:
    return f"{ordinal_value // 4}Q{ordinal_value % 4 + 1}"


def quarter_range(first: str, last: str) -> list[str]:
    """Every quarter from ``first`` to ``last`` inclusive, gaps included."""
    return [label(i) for i in range(ordinal(first), ordinal(last) + 1)]


def period_length(first: str, last: str) -> int:
    """How many quarters run from ``first`` to ``last`` inclusive (0 when last is earlier)."""
    return max(0, ordinal(last) - ordinal(first) + 1)


def within(first: str, last: str, span: list[str]) -> list[str]:
    """The quarters from ``first`` to ``last`` that fall in ``span`` (a horizon: consecutive
    quarters), in order; as long as the overlap, however long the period, so a contract
    signed until 2199 costs nothing more to handle than one inside the horizon."""
    if not span:
        return []
    low = max(ordinal(first), ordinal(span[0]))
    high = min(ordinal(last), ordinal(span[-1]))
    return [label(i) for i in range(low, high + 1)]


def mtok_per_quarter(tokens_per_s, hours_per_quarter: float):
    """Million tokens a rate of ``tokens_per_s`` serves over a quarter of ``hours_per_quarter``
    hours (3,600 s an hour): the unit of every price per Mtok (penalty, cost per Mtok)."""
    return tokens_per_s * hours_per_quarter * 3600 / 1e6
