"""Scenario overlays on small hand-built data: each change type, order, selectors, ranges, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import offer, workload, write_folder

import optimizer
from optimizer.scenarios.overlays import Scale, Scenario, Set, apply, base_records, read_scenario

ACCELERATORS = [{"accelerator": "a", "vendor": "nvidia"}, {"accelerator": "b", "vendor": "google"}]
PERFORMANCE = [
    {"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100},
    {"model": "m", "accelerator": "b", "tokens_per_s_per_chip": 200, "ttft_ms": 100},
]
LATENCY = [{"geography": "g", "region": "r1", "rtt_ms": 50}, {"geography": "g", "region": "r2", "rtt_ms": 50}]
OFFERS = [offer("o1", "aws", "r1", "a", 2.0, 10), offer("o2", "gcp", "r2", "b", 3.0, 10)]
WORKLOADS = [workload("w", q, 1000) for q in ("2026Q1", "2026Q2", "2026Q3")]


@pytest.fixture
def base(tmp_path) -> Path:
    return write_folder(
        tmp_path / "data",
        policy="max_share:\n  provider: 0.7\n",
        accelerators=ACCELERATORS,
        performance=PERFORMANCE,
        latency=LATENCY,
        offers=OFFERS,
        workloads=WORKLOADS,
    )


def scenario(tmp_path: Path, base: Path, changes: str, name: str = "s") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\ndescription: test\nbase: {base}\nchanges:\n{changes}", encoding="utf-8")
    return path


def inputs_of(tmp_path, base, changes):
    return apply(read_scenario(scenario(tmp_path, base, changes)))


def value(table, key, column, **where):
    rows = table
    for k, v in where.items():
        rows = rows[rows[k] == v]
    return rows.set_index(key)[column]


def test_scale_with_vendor_selector(tmp_path, base):
    inputs = inputs_of(
        tmp_path, base, "  - scale: offers\n    where: {vendor: nvidia}\n    column: usd_per_chip_hour\n    by: 1.5\n"
    )
    assert value(inputs.offers, "offer", "usd_per_chip_hour").to_dict() == {"o1": 3.0, "o2": 3.0}


def test_set_workloads_in_a_quarter_range(tmp_path, base):
    inputs = inputs_of(tmp_path, base, "  - set: workloads\n    column: tokens_per_s\n    value: 5\n    from: 2026Q2\n")
    assert value(inputs.workloads, "quarter", "tokens_per_s").to_dict() == {"2026Q1": 1000, "2026Q2": 5, "2026Q3": 5}


def test_order_of_changes(tmp_path, base):
    scale_then_set = (
        "  - scale: offers\n    where: {offer: o1}\n    column: max_chips\n    by: 2\n"
        "  - set: offers\n    where: {offer: o1}\n    column: max_chips\n    value: 5\n"
    )
    set_then_scale = (
        "  - set: offers\n    where: {offer: o1}\n    column: max_chips\n    value: 5\n"
        "  - scale: offers\n    where: {offer: o1}\n    column: max_chips\n    by: 2\n"
    )
    assert value(inputs_of(tmp_path, base, scale_then_set).offers, "offer", "max_chips")["o1"] == 5
    assert value(inputs_of(tmp_path, base, set_then_scale).offers, "offer", "max_chips")["o1"] == 10


def test_add_and_remove_rows(tmp_path, base):
    changes = (
        "  - add: offers\n    rows:\n      - {offer: o3, provider: gcp, region: r2, accelerator: a,"
        " usd_per_chip_hour: 1.0, max_chips: 4}\n"
        "  - remove: offers\n    where: {offer: [o1]}\n"
        "  - remove: latency\n    where: {region: r1}\n"
    )
    inputs = inputs_of(tmp_path, base, changes)
    assert sorted(inputs.offers["offer"]) == ["o2", "o3"]
    assert list(inputs.latency["region"]) == ["r2"]


def test_quarter_range_on_offers_writes_overrides(tmp_path, base):
    """Price x 0.5 from 2026Q2 on o2: overrides of 1.5 in Q2 and Q3, base price untouched."""
    inputs = inputs_of(
        tmp_path,
        base,
        "  - scale: offers\n    where: {offer: o2}\n    column: usd_per_chip_hour\n    by: 0.5\n    from: 2026Q2\n",
    )
    assert value(inputs.offers, "offer", "usd_per_chip_hour")["o2"] == 3.0
    overrides = inputs.offer_quarters.set_index("quarter")["usd_per_chip_hour"].to_dict()
    assert overrides == {"2026Q2": 1.5, "2026Q3": 1.5}


def test_unranged_scale_follows_existing_overrides(tmp_path, base):
    (base / "offer_quarters.csv").write_text("offer,quarter,max_chips\no1,2026Q3,40\n")
    inputs = inputs_of(
        tmp_path, base, "  - scale: offers\n    where: {offer: o1}\n    column: max_chips\n    by: 0.5\n"
    )
    assert value(inputs.offers, "offer", "max_chips")["o1"] == 5
    assert inputs.offer_quarters["max_chips"].tolist() == [20]


def test_policy_merge_keeps_other_keys(tmp_path, base):
    inputs = inputs_of(tmp_path, base, "  - policy:\n      max_share: {vendor: 0.9}\n")
    assert inputs.policy.max_share.vendor == 0.9 and inputs.policy.max_share.provider == 0.7


def test_scenario_built_in_python(base):
    cheap = Scenario(
        name="cheap",
        base=base,
        changes=[
            Scale(scale="offers", where={"offer": "o1"}, column="usd_per_chip_hour", by=0.5),
            Set(set="workloads", column="tokens_per_s", value=10, first="2026Q3"),
        ],
    )
    inputs = apply(cheap)
    assert value(inputs.offers, "offer", "usd_per_chip_hour")["o1"] == 1.0
    assert value(inputs.workloads, "quarter", "tokens_per_s")["2026Q3"] == 10


def test_base_read_once_until_its_files_change(base):
    """Points of a sweep share the base's records; an edited file is read again."""
    first = base_records(base)
    assert base_records(base) is first
    cheaper = Scenario(
        name="cheaper",
        base=base,
        changes=[Scale(scale="offers", where={"offer": "o1"}, column="usd_per_chip_hour", by=0.5)],
    )
    assert value(apply(cheaper).offers, "offer", "usd_per_chip_hour")["o1"] == 1.0
    assert value(apply(Scenario(name="same", base=base)).offers, "offer", "usd_per_chip_hour")["o1"] == 2.0
    write_folder(
        base,
        policy="max_share:\n  provider: 0.7\n",
        accelerators=ACCELERATORS,
        performance=PERFORMANCE,
        latency=LATENCY,
        offers=[offer("o1", "aws", "r1", "a", 5.25, 10), OFFERS[1]],
        workloads=WORKLOADS,
    )
    assert value(apply(Scenario(name="edited", base=base)).offers, "offer", "usd_per_chip_hour")["o1"] == 5.25


@pytest.mark.parametrize(
    "changes,line,message",
    [
        ("  - scael: offers\n    by: 2\n", 5, "exactly one of"),
        ("  - scale: offers\n    where: {offer: nope}\n    column: max_chips\n    by: 2\n", 5, "no offers row matches"),
        ("  - scale: offers\n    where: {offer: o1}\n    column: max_chip\n    by: 2\n", 5, "has no column 'max_chip'"),
        ("  - scale: offers\n    where: {colour: red}\n    column: max_chips\n    by: 2\n", 5, "no column 'colour'"),
        ("  - scale: offers\n    where: {offer: o1}\n    column: max_chips\n    by: lots\n", 8, "expected a number"),
        (
            "  - set: offers\n    where: {offer: o1}\n    column: usd_per_chip_hour\n    value: free\n",
            5,
            "'free': expected a number",
        ),
        (
            "  - scale: latency\n    column: rtt_ms\n    by: 2\n    from: 2026Q1\n",
            5,
            "from/until apply only to offers, offer_quarters, workloads, not to latency",
        ),
        (
            "  - remove: spend_commitment\n    where: {}\n",
            5,
            "expected an input table: accelerators, offers, offer_quarters, performance, workloads, latency, "
            "contracts, spend_commitments, power",
        ),
        ("  - policy:\n      max_shares: {provider: 0.5}\n", 6, "unknown key 'max_shares'"),
    ],
)
def test_errors_name_file_and_line(tmp_path, base, changes, line, message):
    path = scenario(tmp_path, base, changes)
    with pytest.raises(optimizer.InputError) as caught:
        apply(read_scenario(path))
    problems = caught.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    assert problems[0].file == str(path)
    assert problems[0].line == line
    assert message in problems[0].message


def test_unknown_top_level_key(tmp_path, base):
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nbase: {base}\nchnages: []\n")
    with pytest.raises(optimizer.InputError) as caught:
        read_scenario(path)
    assert caught.value.problems[0].line == 3


def test_bundled_scenarios_all_apply():
    root = Path(__file__).parents[1] / "scenarios"
    names = set()
    for path in sorted(root.glob("*.yaml")):
        spec = read_scenario(path)
        assert spec.description, path
        apply(spec)
        names.add(spec.name)
    assert {
        "base",
        "maia-200-pilot",
        "maia-200-at-scale",
        "nvidia-price-rise",
        "tpu-capacity-cut",
        "vera-rubin-2027",
        "single-cloud",
        "demand-surge",
    } <= names
