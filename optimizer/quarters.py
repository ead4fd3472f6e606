"""Quarter labels such as ``2026Q1`` and the arithmetic on them.

Quarters are handled as ordinals (year * 4 + quarter - 1) so that ranges with gaps
and offsets ("from q + 2") are plain integer arithmetic.
"""

from __future__ import annotations

import re

QUARTER_PATTERN = re.compile(r"^(\d{4})Q([1-4])$")


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


def mtok_per_quarter(tokens_per_s, hours_per_quarter: float):
    """Million tokens a rate of ``tokens_per_s`` serves over a quarter of ``hours_per_quarter``
    hours (3,600 s an hour): the unit of every price per Mtok (penalty, cost per Mtok)."""
    return tokens_per_s * hours_per_quarter * 3600 / 1e6
