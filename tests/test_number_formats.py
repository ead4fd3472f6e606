"""How figures read to people (console, HTML page, written summary): every expectation
written out by hand, the minus before the dollar sign, no minus on what rounds to zero."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimizer.reporting.formats import count, pct_change, percent, price, usd, usd_exact


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234.5, "$1,234.50"),
        (-10_996_928.57, "-$10,996,928.57"),
        (0.0, "$0.00"),
        (-0.001, "$0.00"),  # rounds to zero: no minus
        (-0.004, "$0.00"),
        (-0.01, "-$0.01"),
        (72_270, "$72,270.00"),  # an int
        (np.float64(-5), "-$5.00"),  # a numpy scalar, as pandas hands them out
        (None, "-"),
        (math.nan, "-"),
    ],
)
def test_exact_dollars(value, expected):
    assert usd_exact(value) == expected


def test_exact_dollars_to_more_decimals():
    assert usd_exact(4.58333, 4) == "$4.5833"
    assert usd_exact(-0.0000001, 6) == "$0.000000"
    assert usd_exact(-0.000002, 6) == "-$0.000002"
    assert price(2.235) == "$2.235"
    assert price(None) == "-"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234.5, "$1.23k"),
        (-10_996_928.57, "-$11.00M"),
        (1.5e9, "$1.50B"),
        (-23_000, "-$23.00k"),
        (999.0, "$999.00"),
        (-0.001, "$0.00"),
        (None, "-"),
        (math.nan, "-"),
    ],
)
def test_dollars_at_a_readable_scale(value, expected):
    assert usd(value) == expected


def test_counts_and_percentages():
    assert count(12_345.6) == "12,346"
    assert count(-0.4) == "0"
    assert count(None) == "-"
    assert percent(0.25) == "25.0%"
    assert percent(-0.0001) == "0.0%"
    assert percent(math.nan) == "-"
    assert pct_change(4.2) == "+4.2%"
    assert pct_change(-31.8) == "-31.8%"
    assert pct_change(-0.01) == "+0.0%"
    assert pct_change(None) == "-"
