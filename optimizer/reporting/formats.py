"""How numbers read to people: money, counts and percentages, formatted in one place.

The console, the HTML page and the written summary (also in the workbook) all format
through here, so an amount reads the same wherever it appears. A missing figure reads "-".
"""

from __future__ import annotations

import pandas as pd


def usd(value: float | None) -> str:
    """Dollars at a readable scale: $1.23B, $456.70M, $12.35k, $999.00."""
    if value is None or pd.isna(value):
        return "-"
    sign = "-" if value < 0 else ""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{sign}${abs(value) / size:,.2f}{suffix}"
    return f"{sign}${abs(value):,.2f}"


def price(value: float | None) -> str:
    """A price per chip-hour or per million tokens, to a tenth of a cent: $2.235."""
    return "-" if value is None or pd.isna(value) else f"${value:,.3f}"


def count(value: float | None) -> str:
    """A whole number with thousands separators: 12,345."""
    return "-" if value is None or pd.isna(value) else f"{value:,.0f}"


def percent(value: float | None) -> str:
    """A share (0.25) as a percentage: 25.0%."""
    return "-" if value is None or pd.isna(value) else f"{value:.1%}"


def pct_change(value: float | None) -> str:
    """A change already in percent, always signed: +4.2%, -31.8%."""
    return "-" if value is None or pd.isna(value) else f"{value:+.1f}%"
