"""Known wrong figures, each pinned by a strict xfail so that its fix is noticed.

Each case was found by the leverage audit (tests/audit.py) on a drawn instance; the case
is written out here so that it does not depend on what the generator draws.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from audit import Audit
from conftest import write_folder
from instances import Case

import optimizer

# o1 (p1, 0.12 USD/chip-hour) serves nothing (no latency row reaches its region), but on a
# spend basis with p2-r0 capped at 76% of spend and a 1M USD spend commitment to p1 the
# plan buys its chips for their spend: 180,398 chip-hours, far above its take-or-pay. The
# audit re-solved at 1,000 x its price (120 USD) and the chip-hours moved.
SPEND_BOUGHT = Case(
    {
        "accelerators": [{"accelerator": "a0", "vendor": "amd"}],
        "latency": [{"geography": "g0", "region": "p2-r0", "rtt_ms": 19.3}],
        "offer_quarters": [
            {"max_chips": None, "min_chips": None, "offer": "o1", "quarter": "2026Q4", "usd_per_chip_hour": None},
            {"max_chips": None, "min_chips": 4.3, "offer": "o1", "quarter": "2025Q4", "usd_per_chip_hour": None},
            {"max_chips": 16.9, "min_chips": 1.3, "offer": "o1", "quarter": "2027Q1", "usd_per_chip_hour": 5.15},
        ],
        "offers": [
            {
                "accelerator": "a0",
                "available_from": None,
                "available_until": None,
                "chips_per_instance": 0.5,
                "max_chips": 27.2,
                "min_chips": None,
                "offer": "o0",
                "provider": "p2",
                "region": "p2-r0",
                "usd_per_chip_hour": 5.79,
            },
            {
                "accelerator": "a0",
                "available_from": None,
                "available_until": None,
                "chips_per_instance": None,
                "max_chips": 21.9,
                "min_chips": None,
                "offer": "o1",
                "provider": "p1",
                "region": "p1-r0",
                "usd_per_chip_hour": 0.12,
            },
        ],
        "performance": [
            {
                "accelerator": "a0",
                "model": "m0",
                "port_quarters": 1,
                "port_usd": 1000000.0,
                "tokens_per_s_per_chip": 26.6,
                "ttft_ms": 66.6,
            },
            {
                "accelerator": "a0",
                "model": "m1",
                "port_quarters": None,
                "port_usd": None,
                "tokens_per_s_per_chip": 79.4,
                "ttft_ms": 190.2,
            },
        ],
        "spend_commitments": [{"first": "2026Q2", "last": "2027Q1", "provider": "p1", "usd": 1000000.0}],
        "workloads": [
            {
                "geography": "g0",
                "latency_slo_ms": 209.5,
                "model": "m1",
                "quarter": "2026Q2",
                "tokens_per_s": 513.1,
                "workload": "w0",
            },
            {
                "geography": "g0",
                "latency_slo_ms": 209.5,
                "model": "m1",
                "quarter": "2026Q3",
                "tokens_per_s": 142.2,
                "workload": "w0",
            },
            {
                "geography": "g0",
                "latency_slo_ms": 1000.0,
                "model": "m1",
                "quarter": "2027Q1",
                "tokens_per_s": 43.5,
                "workload": "w0",
            },
            {
                "geography": "g0",
                "latency_slo_ms": 209.5,
                "model": "m1",
                "quarter": "2026Q2",
                "tokens_per_s": 148.4,
                "workload": "w1",
            },
        ],
    },
    {
        "hours_per_quarter": 2184.0,
        "share_basis": "spend",
        "share_overrides": {"max_share": {"region": {"p2-r0": 0.76}}},
        "unmet_penalty_usd_per_mtok": 0.5,
    },
)


@pytest.mark.xfail(
    strict=True,
    reason="known: on a mixed-integer plan an offer bought only for its spend (share basis spend, a spend "
    "commitment) is classed take-or-pay and reported without a price ceiling, though a re-solve at 1,000 x "
    "its price moves its chip-hours",
)
def test_an_offer_bought_for_its_spend_has_a_ceiling():
    with tempfile.TemporaryDirectory() as scratch:
        folder = write_folder(Path(scratch) / "case", policy=SPEND_BOUGHT.policy_text, **SPEND_BOUGHT.tables)
        inputs = optimizer.load(folder)
    plan = optimizer.solve(inputs, integer=True)
    prices = optimizer.leverage(inputs, plan).offer_prices.set_index("offer")
    assert prices.loc["o1", "chip_hours"] > 100_000
    ceiling = prices.loc["o1", "price_ceiling_usd_per_chip_hour"]
    assert ceiling is not None and ceiling == ceiling, prices.loc["o1", "method"]


# Vendor google's prices must rise 33.6% for it to lose half its volume, the report says,
# but a from-scratch re-solve at 1.005 x that rise still keeps more than half: on a spend
# basis with a floor on google's spend share (9%) and on offer o1's (36%), the spend rows
# move with the price and the price-weighted volume the half-volume walk follows is not
# the volume the audit measures. Found by the leverage audit on a drawn LP instance.
# Since re-solves run dual simplex (issue 20) the walk ends where the re-solve loses half on
# this case: it passes, and stays as a regression test. Nothing was changed in the walk
# itself, so the fault may remain on other spend-floor cases.
SPEND_FLOOR_HALF_VOLUME = Case(
    {
        "accelerators": [
            {"accelerator": "a0", "power_kw": 0.5, "vendor": "amd"},
            {"accelerator": "a1", "power_kw": 1.1, "vendor": "google"},
        ],
        "latency": [
            {"geography": "g0", "region": "p0-r0", "rtt_ms": 101.4},
            {"geography": "g1", "region": "p0-r0", "rtt_ms": 2.8},
        ],
        "offer_quarters": [],
        "offers": [
            {
                "accelerator": "a1",
                "available_from": None,
                "available_until": None,
                "chips_per_instance": 1.0,
                "max_chips": 21.4,
                "min_chips": None,
                "offer": "o0",
                "provider": "p0",
                "region": "p0-r0",
                "usd_per_chip_hour": 2.99,
            },
            {
                "accelerator": "a0",
                "available_from": None,
                "available_until": None,
                "chips_per_instance": None,
                "max_chips": 8.6,
                "min_chips": None,
                "offer": "o1",
                "provider": "p0",
                "region": "p0-r0",
                "usd_per_chip_hour": 1.63,
            },
        ],
        "performance": [
            {
                "accelerator": "a0",
                "model": "m0",
                "port_quarters": 0,
                "port_usd": 50.0,
                "tokens_per_s_per_chip": 20.0,
                "ttft_ms": 165.8,
            },
            {
                "accelerator": "a0",
                "model": "m1",
                "port_quarters": None,
                "port_usd": None,
                "tokens_per_s_per_chip": 226.1,
                "ttft_ms": 179.2,
            },
        ],
        "spend_commitments": [{"first": "2026Q3", "last": "2026Q3", "provider": "p0", "usd": 100000.0}],
        "workloads": [
            {
                "geography": "g1",
                "latency_slo_ms": 1000.0,
                "model": "m0",
                "quarter": "2026Q3",
                "tokens_per_s": 15.4,
                "workload": "w0",
            },
            {
                "geography": "g0",
                "latency_slo_ms": 1000.0,
                "model": "m1",
                "quarter": "2026Q3",
                "tokens_per_s": 2651.9,
                "workload": "w1",
            },
        ],
    },
    {
        "max_share": {"offer": 0.78, "vendor": 0.71},
        "share_basis": "spend",
        "share_overrides": {
            "max_share": {"vendor": {"google": 0.38}},
            "min_share": {"offer": {"o1": 0.36}, "vendor": {"google": 0.09}},
        },
        "unmet_penalty_usd_per_mtok": 20.0,
    },
)


def test_half_volume_under_spend_floors_equals_its_resolve():
    with tempfile.TemporaryDirectory() as scratch:
        folder = write_folder(
            Path(scratch) / "case", policy=SPEND_FLOOR_HALF_VOLUME.policy_text, **SPEND_FLOOR_HALF_VOLUME.tables
        )
        inputs = optimizer.load(folder)
    plan = optimizer.solve(inputs, integer=False)
    report = optimizer.leverage(inputs, plan, workers=1)
    table = Audit(inputs, plan, report, integer=False).run(("half_volume",), plan.ports)
    assert table["ok"].all(), table.to_string()


# Provider p1's uniform ceiling is +0.39%, the report says, but a from-scratch re-solve at
# 1.005 x that rise still keeps its volume: a spend basis with floors (region 8%, offer o0
# 3%, provider p0 4%), as in the case above. Found by the leverage audit on a drawn instance.
SPEND_FLOOR_UNIFORM_CEILING = Case(
    {
        "accelerators": [
            {"accelerator": "a0", "power_kw": 3.6, "vendor": "google"},
            {"accelerator": "a1", "power_kw": 0.5, "vendor": "google"},
            {"accelerator": "a2", "power_kw": 0.6, "vendor": "amd"},
            {"accelerator": "a3", "power_kw": 3.5, "vendor": "nvidia"},
        ],
        "latency": [
            {"geography": "g0", "region": "p0-r0", "rtt_ms": 22.7},
            {"geography": "g0", "region": "p0-r1", "rtt_ms": 23.3},
            {"geography": "g0", "region": "p1-r0", "rtt_ms": 120.3},
        ],
        "offer_quarters": [
            {"max_chips": 18.0, "min_chips": 7.0, "offer": "o1", "quarter": "2027Q1", "usd_per_chip_hour": None}
        ],
        "offers": [
            {
                "accelerator": "a0",
                "available_from": None,
                "available_until": "2027Q2",
                "chips_per_instance": 2.0,
                "max_chips": 5.7,
                "min_chips": None,
                "offer": "o0",
                "provider": "p0",
                "region": "p0-r1",
                "usd_per_chip_hour": 6.98,
            },
            {
                "accelerator": "a1",
                "available_from": None,
                "available_until": None,
                "chips_per_instance": None,
                "max_chips": 8.7,
                "min_chips": 3.2,
                "offer": "o1",
                "provider": "p0",
                "region": "p0-r0",
                "usd_per_chip_hour": 0.62,
            },
            {
                "accelerator": "a0",
                "available_from": "2025Q4",
                "available_until": None,
                "chips_per_instance": None,
                "max_chips": 0.96,
                "min_chips": None,
                "offer": "o2",
                "provider": "p1",
                "region": "p1-r0",
                "usd_per_chip_hour": 5.53,
            },
            {
                "accelerator": "a2",
                "available_from": None,
                "available_until": "2027Q1",
                "chips_per_instance": 0.5,
                "max_chips": 0.76,
                "min_chips": None,
                "offer": "o3",
                "provider": "p0",
                "region": "p0-r0",
                "usd_per_chip_hour": 0.24,
            },
        ],
        "performance": [
            {
                "accelerator": "a1",
                "model": "m0",
                "port_quarters": None,
                "port_usd": None,
                "tokens_per_s_per_chip": 22.5,
                "ttft_ms": 168.2,
            },
            {
                "accelerator": "a2",
                "model": "m0",
                "port_quarters": None,
                "port_usd": None,
                "tokens_per_s_per_chip": 110.3,
                "ttft_ms": 26.6,
            },
            {
                "accelerator": "a3",
                "model": "m0",
                "port_quarters": None,
                "port_usd": None,
                "tokens_per_s_per_chip": 219.9,
                "ttft_ms": 29.7,
            },
            {
                "accelerator": "a0",
                "model": "m1",
                "port_quarters": None,
                "port_usd": None,
                "tokens_per_s_per_chip": 57.0,
                "ttft_ms": 35.0,
            },
            {
                "accelerator": "a1",
                "model": "m1",
                "port_quarters": 1,
                "port_usd": 0.0,
                "tokens_per_s_per_chip": 724.0,
                "ttft_ms": 17.7,
            },
            {
                "accelerator": "a2",
                "model": "m1",
                "port_quarters": None,
                "port_usd": None,
                "tokens_per_s_per_chip": 29.0,
                "ttft_ms": 76.2,
            },
            {
                "accelerator": "a3",
                "model": "m1",
                "port_quarters": None,
                "port_usd": None,
                "tokens_per_s_per_chip": 341.9,
                "ttft_ms": 151.0,
            },
        ],
        "spend_commitments": [{"first": "2026Q2", "last": "2027Q1", "provider": "p1", "usd": 1000000.0}],
        "workloads": [
            {
                "geography": "g0",
                "latency_slo_ms": 1000.0,
                "model": "m0",
                "quarter": "2026Q2",
                "tokens_per_s": 503.9,
                "workload": "w0",
            },
            {
                "geography": "g0",
                "latency_slo_ms": 248.8,
                "model": "m0",
                "quarter": "2027Q1",
                "tokens_per_s": 26.5,
                "workload": "w0",
            },
            {
                "geography": "g0",
                "latency_slo_ms": 155.3,
                "model": "m1",
                "quarter": "2026Q2",
                "tokens_per_s": 8.2,
                "workload": "w1",
            },
        ],
    },
    {
        "extra_share_bases": {
            "power": {
                "max_share": {"offer": 0.79, "provider": 0.6},
                "share_overrides": {"max_share": {"offer": {"o2": 0.65}}},
            }
        },
        "max_share": {"region": 0.49},
        "min_share": {"region": 0.08},
        "share_basis": "spend",
        "share_overrides": {
            "max_share": {"offer": {"o2": 0.58}, "region": {"p1-r0": 0.6}},
            "min_share": {"offer": {"o0": 0.03}, "provider": {"p0": 0.04}},
        },
        "unmet_penalty_usd_per_mtok": 400.0,
    },
)


@pytest.mark.xfail(
    strict=True,
    reason="known: the uniform ceiling of a supplier under spend-share floors can stop short of where a "
    "re-solve moves its volume",
)
def test_uniform_ceiling_under_spend_floors_equals_its_resolve():
    with tempfile.TemporaryDirectory() as scratch:
        folder = write_folder(
            Path(scratch) / "case", policy=SPEND_FLOOR_UNIFORM_CEILING.policy_text, **SPEND_FLOOR_UNIFORM_CEILING.tables
        )
        inputs = optimizer.load(folder)
    plan = optimizer.solve(inputs, integer=False)
    report = optimizer.leverage(inputs, plan, workers=1)
    table = Audit(inputs, plan, report, integer=False).run(("uniform_ceiling",), plan.ports)
    assert table["ok"].all(), table.to_string()


# On a spend basis with caps only (region p0-r0 at 17%, offer o2 at 56%, vendor amd at
# 82%), the report has provider p0, amd and google losing half their volume on any price
# rise (+0.0001%) and nvidia at +127.3%; from-scratch re-solves keep half at 1.005 x the
# first three and have lost it at 0.995 x nvidia's. Also wrong before issue 19 (checked at
# commit 4de4f97). Found by the leverage audit in CI.
SPEND_CAP_HALF_VOLUME = Case(
    {
        "accelerators": [
            {"accelerator": "a0", "power_kw": 1.9, "vendor": "amd"},
            {"accelerator": "a1", "power_kw": 3.6, "vendor": "google"},
            {"accelerator": "a2", "power_kw": 1.4, "vendor": "nvidia"},
        ],
        "latency": [{"geography": "g0", "region": "p0-r0", "rtt_ms": 88.9}],
        "offer_quarters": [
            {"max_chips": None, "min_chips": 5.3, "offer": "o3", "quarter": "2027Q1", "usd_per_chip_hour": 0.38},
            {"max_chips": 0.3, "min_chips": None, "offer": "o0", "quarter": "2026Q1", "usd_per_chip_hour": 4.01},
            {"max_chips": 10.8, "min_chips": None, "offer": "o0", "quarter": "2026Q4", "usd_per_chip_hour": 1.05},
        ],
        "offers": [
            {
                "accelerator": "a0",
                "available_from": "2025Q4",
                "available_until": None,
                "chips_per_instance": 1.0,
                "max_chips": 33.8,
                "min_chips": None,
                "offer": "o0",
                "provider": "p0",
                "region": "p0-r0",
                "usd_per_chip_hour": 2.56,
            },
            {
                "accelerator": "a0",
                "available_from": None,
                "available_until": None,
                "chips_per_instance": None,
                "max_chips": 0.5,
                "min_chips": 0.5,
                "offer": "o1",
                "provider": "p0",
                "region": "p0-r0",
                "usd_per_chip_hour": 1.0,
            },
            {
                "accelerator": "a1",
                "available_from": None,
                "available_until": None,
                "chips_per_instance": None,
                "max_chips": 12.7,
                "min_chips": None,
                "offer": "o2",
                "provider": "p0",
                "region": "p0-r1",
                "usd_per_chip_hour": 5.19,
            },
            {
                "accelerator": "a2",
                "available_from": None,
                "available_until": "2027Q2",
                "chips_per_instance": 0.5,
                "max_chips": 28.6,
                "min_chips": None,
                "offer": "o3",
                "provider": "p0",
                "region": "p0-r1",
                "usd_per_chip_hour": 0.73,
            },
        ],
        "performance": [
            {
                "accelerator": "a1",
                "model": "m0",
                "port_quarters": None,
                "port_usd": None,
                "tokens_per_s_per_chip": 63.4,
                "ttft_ms": 102.3,
            },
            {
                "accelerator": "a2",
                "model": "m0",
                "port_quarters": 1,
                "port_usd": 0.0,
                "tokens_per_s_per_chip": 822.8,
                "ttft_ms": 295.4,
            },
        ],
        "spend_commitments": [{"first": "2027Q1", "last": "2027Q1", "provider": "p0", "usd": 100000.0}],
        "workloads": [
            {
                "geography": "g0",
                "latency_slo_ms": 0.0,
                "model": "m0",
                "quarter": "2027Q1",
                "tokens_per_s": 2684.2,
                "workload": "w0",
            },
            {
                "geography": "g0",
                "latency_slo_ms": 1000.0,
                "model": "m0",
                "quarter": "2027Q1",
                "tokens_per_s": 12.9,
                "workload": "w1",
            },
        ],
    },
    {
        "discount_rate_per_year": 0.08,
        "extra_share_bases": {"power": {}},
        "max_share": {"region": 0.95},
        "share_basis": "spend",
        "share_overrides": {"max_share": {"offer": {"o2": 0.56}, "region": {"p0-r0": 0.17}, "vendor": {"amd": 0.82}}},
        "unmet_penalty_usd_per_mtok": 20.0,
    },
)


@pytest.mark.xfail(
    strict=True,
    reason="known: the half-volume rise of a supplier under spend-share caps can be off of where a "
    "re-solve loses half its volume",
)
def test_half_volume_under_spend_caps_equals_its_resolve():
    with tempfile.TemporaryDirectory() as scratch:
        folder = write_folder(
            Path(scratch) / "case", policy=SPEND_CAP_HALF_VOLUME.policy_text, **SPEND_CAP_HALF_VOLUME.tables
        )
        inputs = optimizer.load(folder)
    plan = optimizer.solve(inputs, integer=False)
    report = optimizer.leverage(inputs, plan, workers=1)
    table = Audit(inputs, plan, report, integer=False).run(("half_volume",), plan.ports)
    assert table["ok"].all(), table.to_string()
