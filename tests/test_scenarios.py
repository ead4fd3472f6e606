"""Scenario overlays on small hand-built data: each change type, order, selectors, ranges, errors.

Costs are worked by hand on the base below: serving one token/s for a quarter costs
2 x 2190 / 100 = 43.8 on o1 (aws) and 3 x 2190 / 200 = 32.85 on o2 (gcp); with each
provider capped at 700 of the 1000 tok/s, the base plan is gcp 700 and aws 300 in each of
three quarters: 3 x (22,995 + 13,140) = 108,405.
"""

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


SPEND = [
    {"provider": "aws", "first": "2026Q1", "last": "2026Q3", "usd": 60000},
    {"provider": "gcp", "first": "2026Q1", "last": "2026Q3", "usd": 50000},
]


def folder_with(folder: Path, **tables: list[dict]) -> Path:
    """The base folder written from scratch, with ``tables`` added or replacing its own."""
    own = dict(accelerators=ACCELERATORS, performance=PERFORMANCE, latency=LATENCY, offers=OFFERS, workloads=WORKLOADS)
    return write_folder(folder, policy="max_share:\n  provider: 0.7\n", **{**own, **tables})


@pytest.fixture
def base(tmp_path) -> Path:
    return folder_with(tmp_path / "data")


def scenario(tmp_path: Path, base: Path, changes: str, name: str = "s") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\ndescription: test\nbase: {base}\nchanges:\n{changes}", encoding="utf-8")
    return path


def inputs_of(tmp_path, base, changes):
    return apply(read_scenario(scenario(tmp_path, base, changes)))


def total_cost(inputs) -> float:
    return float(optimizer.solve(inputs).totals["total_cost_usd"])


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


def test_remove_a_spend_commitment(tmp_path):
    """A renewal not signed. With aws owed 60,000, aws serves 60,000 / 43.8 = 1,369.9 of the
    3,000 tok/s-quarters already paid for, gcp the rest: 60,000 + 32.85 x 1,630.1 = 113,550
    (gcp's 53,550 cover its 50,000). Without it, the base plan: 108,405 (gcp's 68,985 cover
    its 50,000), as a folder written without that row gives."""
    base = folder_with(tmp_path / "data", spend_commitments=SPEND)
    assert total_cost(optimizer.load(base)) == pytest.approx(113_550)
    renewed = inputs_of(tmp_path, base, "  - remove: spend_commitments\n    where: {provider: aws}\n")
    assert list(renewed.spend_commitments["provider"]) == ["gcp"]
    assert total_cost(renewed) == pytest.approx(108_405)
    without = folder_with(tmp_path / "without", spend_commitments=SPEND[1:])
    assert total_cost(renewed) == pytest.approx(total_cost(optimizer.load(without)), rel=1e-9)


def test_add_a_contract_to_a_base_without_contracts(tmp_path, base):
    """10 chips of o1 signed for the three quarters: 10 x 2 x 2190 = 43,800 sunk a quarter.
    aws serves its 700 tok/s cap on them, gcp the other 300 at 32.85: 3 x (43,800 + 9,855)."""
    assert not (base / "contracts.csv").exists()
    path = scenario(
        tmp_path, base, "  - add: contracts\n    rows:\n      - {offer: o1, chips: 10, start: 2026Q1, end: 2026Q3}\n"
    )
    signed = apply(read_scenario(path))
    assert signed.contracts[["offer", "_file", "_line"]].values.tolist() == [["o1", str(path), 5]]
    assert total_cost(signed) == pytest.approx(160_965)
    written = folder_with(
        tmp_path / "signed", contracts=[{"offer": "o1", "chips": 10, "start": "2026Q1", "end": "2026Q3"}]
    )
    assert total_cost(signed) == pytest.approx(total_cost(optimizer.load(written)), rel=1e-9)


def test_scale_a_power_cap(tmp_path):
    """gcp's 2.5 kW holds 2.5 chips of b (1 kW each): 500 tok/s, aws the other 500,
    3 x (16,425 + 21,900) = 114,975. Scaled by 1.2, 3 chips: gcp 600, aws 400,
    3 x (19,710 + 17,520) = 111,690, as a folder written with 0.003 MW gives."""
    powered = [{**row, "power_kw": 1.0} for row in ACCELERATORS]
    base = folder_with(tmp_path / "data", accelerators=powered, power=[{"provider": "gcp", "megawatts": 0.0025}])
    assert total_cost(optimizer.load(base)) == pytest.approx(114_975)
    changes = "  - scale: power\n    where: {provider: gcp}\n    column: megawatts\n    by: 1.2\n"
    scaled = inputs_of(tmp_path, base, changes)
    assert total_cost(scaled) == pytest.approx(111_690)
    written = folder_with(tmp_path / "written", accelerators=powered, power=[{"provider": "gcp", "megawatts": 0.003}])
    assert total_cost(scaled) == pytest.approx(total_cost(optimizer.load(written)), rel=1e-9)


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
        (
            "  - remove: spend_commitments\n    where: {provider: aws}\n",
            5,
            "no spend_commitments row matches {'provider': 'aws'}: the base folder has no spend_commitments.csv",
        ),
        ("  - scale: power\n    column: megawatts\n    by: 2\n", 5, "the base folder has no power.csv"),
        ("  - scale: power\n    where: {vendor: nvidia}\n    column: megawatts\n    by: 2\n", 5, "no column 'vendor'"),
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


@pytest.mark.parametrize(
    "where,selected",
    [
        ({"assumed": True}, lambda offers: offers["assumed"]),  # a flag: YAML true is CSV "true"
        ({"assumed": "yes"}, lambda offers: offers["assumed"]),
        ({"max_chips": 16000}, lambda offers: offers["max_chips"] == 16000),  # a number: 16000 is "16000"
        ({"max_chips": "1.6e4"}, lambda offers: offers["max_chips"] == 16000),
    ],
    ids=["flag-true", "flag-yes", "number", "number-as-text"],
)
def test_selectors_compare_flags_and_numbers_as_the_schema_reads_them(where, selected):
    """The rows a selector scales are those the loaded table says match, counted from it."""
    base = optimizer.load(optimizer.bundled_data()).offers
    scaled = optimizer.apply(
        optimizer.Scenario(name="s", changes=[optimizer.Scale(scale="offers", where=where, column="max_chips", by=2.0)])
    ).offers
    doubled = scaled.set_index("offer")["max_chips"] == 2 * base.set_index("offer")["max_chips"]
    assert (base["max_chips"] > 0).all()  # so that doubled means scaled
    expected = selected(base).to_numpy()
    assert doubled.reindex(base["offer"]).to_numpy().tolist() == expected.tolist()
    assert expected.any()
