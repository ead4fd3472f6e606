"""How numbers read to people: money, counts and percentages, formatted in one place.

The console, the HTML page and the written summary (also in the workbook) all format
through here, so an amount reads the same wherever it appears: the minus before the dollar
sign (-$1,234.50), no minus on a figure that rounds to zero, and "-" for a missing figure.
"""

from __future__ import annotations

import pandas as pd


def usd(value: float | None) -> str:
    """Dollars at a readable scale: $1.23B, -$456.70M, $12.35k, $999.00."""
    if value is None or pd.isna(value):
        return "-"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return _dollars(value / size, 2) + suffix
    return _dollars(value, 2)


def usd_exact(value: float | None, decimals: int = 2) -> str:
    """Dollars with every digit, to the cent unless told: $1,234.50, -$10,996,928.57."""
    return "-" if value is None or pd.isna(value) else _dollars(value, decimals)


def price(value: float | None) -> str:
    """A price per chip-hour or per million tokens, to a tenth of a cent: $2.235."""
    return usd_exact(value, 3)


def _dollars(value: float, decimals: int) -> str:
    text = f"{value:z,.{decimals}f}"  # z: what rounds to zero has no minus
    return "-$" + text[1:] if text.startswith("-") else "$" + text


def count(value: float | None) -> str:
    """A whole number with thousands separators: 12,345."""
    return "-" if value is None or pd.isna(value) else f"{value:z,.0f}"


def percent(value: float | None) -> str:
    """A share (0.25) as a percentage: 25.0%."""
    return "-" if value is None or pd.isna(value) else f"{value:z.1%}"


def pct_change(value: float | None) -> str:
    """A change already in percent, always signed: +4.2%, -31.8%, +0.0% for what rounds to zero."""
    return "-" if value is None or pd.isna(value) else f"{value:+z.1f}%"
