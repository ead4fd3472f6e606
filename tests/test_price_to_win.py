"""Prices to win volume and revenue peaks of suppliers, hand-solved, checked by re-solves.

Instance "three suppliers" of tests/test_leverage.py (H = 2190 h, one quarter, 1000 tok/s,
every chip 100 tok/s): o1 aws at 1 USD/chip-h, o2 gcp at 2, o3 oci at 3; provider cap 0.5.
Optimum: o1 500 (capped), o2 500.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import offer
from rich.console import Console
from test_leverage import AMD, CAP, NV, THREE, by, port_case, solve

from optimizer.analysis.negotiation import leverage
from optimizer.reporting.console import show_leverage


def volume_of(tmp_path, provider, factor, name, offers=THREE, policy=CAP):
    """Tokens/s served by ``provider``'s offers in a cold re-solve with its prices x ``factor``."""
    changed = [
        dict(o, usd_per_chip_hour=o["usd_per_chip_hour"] * factor) if o["provider"] == provider else o for o in offers
    ]
    _, plan = solve(tmp_path, changed, policy, name=name)
    allocation = plan.allocation
    return float(allocation.loc[allocation["provider"] == provider, "tokens_per_s"].sum())


@pytest.fixture
def three(tmp_path):
    inputs, plan = solve(tmp_path, THREE)
    return leverage(inputs, plan)


def test_revenue_peaks_where_an_alternative_becomes_cheaper(three, tmp_path):
    """aws sells o1's capped 500 tok/s (10,950 chip-hours) until o1 costs more than o3 (3 USD,
    factor 3); above it o2 and o3 serve 500 each and aws sells nothing. Revenue f x 10,950
    rises on [0.5, 3] and peaks at +200%: 32,850 USD. gcp: o2 at 2f keeps 500 until 2f = 3,
    f = 1.5 (+50%), revenue 1.5 x 2 x 10,950 = 32,850; above, o3 takes gcp's 500.
    """
    aws = by(three.suppliers, dimension="provider", supplier="aws")
    assert aws["revenue_peak_pct"] == pytest.approx(200, rel=1e-6)
    assert aws["revenue_peak_usd"] == pytest.approx(32_850, rel=1e-6)
    assert aws["revenue_peak_method"] == "breakpoints by ranging"
    gcp = by(three.suppliers, dimension="provider", supplier="gcp")
    assert gcp["revenue_peak_pct"] == pytest.approx(50, rel=1e-6)
    assert gcp["revenue_peak_usd"] == pytest.approx(32_850, rel=1e-6)
    for supplier, peak in (("aws", 3.0), ("gcp", 1.5)):
        assert volume_of(tmp_path, supplier, peak * 0.999, f"{supplier}-below") == pytest.approx(500)
        assert volume_of(tmp_path, supplier, peak * 1.001, f"{supplier}-above") == pytest.approx(0, abs=1e-6)


def test_an_unused_supplier_must_undercut_the_marginal_offer(three, tmp_path):
    """oci (o3 at 3) sells nothing: aws is capped at 500, so o3 must undercut o2 (2 USD):
    a factor of 2/3 ties, strictly below it o3 takes gcp's 500 tok/s (50%, so 10% too).
    The bracket straddles -33.33%: -33.33% proven not to win, just below it proven to win.
    """
    oci = by(three.supplier_price_to_win, dimension="provider", supplier="oci")
    assert oci["volume_tokens_per_s"] == 0
    for column in ("win_any", "win_share"):
        assert oci[f"{column}_pct"] < -100 / 3 < oci[f"{column}_pct"] + 1e-4
        assert oci[f"{column}_not_pct"] == pytest.approx(-100 / 3, rel=1e-6)
        assert oci[f"{column}_method"] == "ranging"
    assert volume_of(tmp_path, "oci", 1 + oci["win_any_not_pct"] / 100, "oci-not") == pytest.approx(0, abs=1e-6)
    assert volume_of(tmp_path, "oci", 1 + oci["win_any_pct"] / 100, "oci-win") == pytest.approx(500)
    for supplier in ("aws", "gcp"):  # 50% each today
        row = by(three.supplier_price_to_win, dimension="provider", supplier=supplier)
        assert (row["win_share_pct"], row["win_share_method"]) == (0.0, "already wins")


def test_ten_percent_out_of_reach_of_a_small_supplier(tmp_path):
    """tiny (o4 at 3 USD, 0.5 chips = 50 tok/s) wins its 50 tok/s once it undercuts o2 (2 USD,
    factor 2/3), but 50 tok/s is 5% of the 1000: no cut wins 10%, down to -99.9%.
    """
    offers = [*THREE, offer("o4", "tiny", "r4", "d", 3.0, 0.5)]
    inputs, plan = solve(tmp_path, offers)
    tiny = by(leverage(inputs, plan).supplier_price_to_win, dimension="provider", supplier="tiny")
    assert tiny["win_any_not_pct"] == pytest.approx(-100 / 3, rel=1e-6)
    assert tiny["win_any_pct"] < -100 / 3 < tiny["win_any_pct"] + 1e-4
    assert pd.isna(tiny["win_share_pct"]) and pd.isna(tiny["win_share_not_pct"])
    assert tiny["win_share_method"] == "no cut down to -99.9% wins: ranging"
    deepest = [dict(o, usd_per_chip_hour=0.003) if o["offer"] == "o4" else o for o in offers]
    served = solve(tmp_path, deepest, name="deepest")[1].allocation
    assert served.loc[served["provider"] == "tiny", "tokens_per_s"].sum() == pytest.approx(50)


def test_revenue_still_rising_without_an_alternative(tmp_path):
    """aws alone (o1, no share cap) serves all 1000 tok/s at any price: revenue f x 21,900
    rises to the end of the range, so no peak is reported (+1000% is the search's limit)."""
    inputs, plan = solve(tmp_path, THREE[:1], policy="{}\n")
    aws = by(leverage(inputs, plan).suppliers, dimension="provider", supplier="aws")
    assert pd.isna(aws["revenue_peak_pct"]) and pd.isna(aws["revenue_peak_usd"])
    assert aws["revenue_peak_method"] == "still rising at +1000%"
    assert volume_of(tmp_path, "aws", 11.0, "aws-limit", offers=THREE[:1], policy="{}\n") == pytest.approx(1000)


def test_a_port_sets_the_price_to_win_on_a_mixed_integer_plan(tmp_path):
    """tests/test_leverage.py's port case: o1 (aws, 2 USD) serves 4 quarters x 1000 tok/s;
    oci (o2, 1 USD, chip b needs an 80,000 USD port of one quarter) sells nothing. Ported,
    o2 serves Q2-Q4 (3000 of 4000 tok/s, so 10% too) once 43,800 + 80,000 + 65,700 f <
    175,200: f < 0.78234 (-21.77%). Found by bisection on MIP re-solves, a 0.5% bracket.
    aws, ported away from above +10.9%, keeps Q1 up to 18 x its price: revenue still rises
    at +1000% (grid of re-solves).
    """
    inputs, plan = port_case(tmp_path, [NV, AMD])
    report = leverage(inputs, plan, workers=1)
    oci = by(report.supplier_price_to_win, dimension="provider", supplier="oci")
    win = (51_400 / 65_700 - 1) * 100
    for column in ("win_any", "win_share"):
        assert oci[f"{column}_not_pct"] > win > oci[f"{column}_pct"]
        assert oci[f"{column}_not_pct"] - oci[f"{column}_pct"] < 0.5
        assert oci[f"{column}_method"] == "bisection on MIP re-solves"
    for pct, ported in ((oci["win_any_not_pct"], False), (oci["win_any_pct"], True)):
        changed = [dict(AMD, usd_per_chip_hour=1 + pct / 100), NV]
        assert (not port_case(tmp_path, changed, name=f"p{pct}")[1].ports.empty) == ported
    aws = by(report.suppliers, dimension="provider", supplier="aws")
    assert aws["revenue_peak_method"] == "still rising at +1000%"


def test_the_console_shows_each_suppliers_price_to_win_and_peak(three):
    """The leverage console lists oci, unused, with its cut to win (-33.3%) and aws with its
    revenue peak (+200.0%), the figures of the hand cases above."""
    console = Console(width=200, record=True)
    show_leverage(three, console)
    lines = console.export_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "price cut to win" in line)
    oci = next(line for line in lines[start:] if " oci " in line)
    aws = next(line for line in lines[start:] if " aws " in line)
    assert "-33.3%" in oci and "0.0%" in oci
    assert "+200.0%" in aws and "breakpoints by ranging" in aws
