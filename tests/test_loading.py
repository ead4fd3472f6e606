"""Validation: every rule of the contract gives one message naming file, line and column."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import offer, workload, write_csv, write_folder

import optimizer
from optimizer.io.tables import ORIGIN_COLUMNS, TABLES, Inputs

ACCELERATORS = [{"accelerator": "a", "vendor": "nvidia"}, {"accelerator": "b", "vendor": "google"}]
PERFORMANCE = [{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100}]
LATENCY = [{"geography": "g", "region": "r1", "rtt_ms": 50}]


def tables(**changes):
    base = {
        "accelerators": ACCELERATORS,
        "offers": [offer("o1", "aws", "r1", "a", 2.0, 100)],
        "performance": PERFORMANCE,
        "workloads": [workload("w", "2026Q1", 1000), workload("w", "2026Q2", 1000)],
        "latency": LATENCY,
    }
    base.update(changes)
    return base


def problems_of(tmp_path, policy="{}\n", **changes):
    folder = write_folder(tmp_path / "in", policy=policy, **tables(**changes))
    with pytest.raises(optimizer.InputError) as caught:
        optimizer.load(folder)
    return caught.value.problems


def only(problems, **expected):
    """The single problem, checked field by field (file by its name)."""
    assert len(problems) == 1, [str(p) for p in problems]
    problem = problems[0]
    for key, value in expected.items():
        actual = getattr(problem, key)
        if key == "file":
            assert actual.endswith(value)
        elif key == "message":
            assert value in actual, actual
        else:
            assert actual == value
    return problem


def test_valid_folder_loads(tmp_path):
    inputs = optimizer.load(write_folder(tmp_path / "in", **tables()))
    assert list(inputs.offers["offer"]) == ["o1"]
    assert inputs.horizon == ["2026Q1", "2026Q2"]


def test_inputs_hold_one_table_per_registry_entry(tmp_path):
    """Inputs' typed table fields are the registry's tables, in its order, with its columns."""
    inputs = optimizer.load(write_folder(tmp_path / "in", **tables()))
    fields = [f.name for f in dataclasses.fields(Inputs) if f.type == "pd.DataFrame"]
    assert fields == [spec.name for spec in TABLES]
    for spec in TABLES:
        assert list(inputs.table(spec.name).columns) == spec.columns + ORIGIN_COLUMNS


def test_missing_file(tmp_path):
    folder = write_folder(tmp_path / "in", **tables())
    (folder / "offers.csv").unlink()
    with pytest.raises(optimizer.InputError) as caught:
        optimizer.load(folder)
    assert any(p.file.endswith("offers.csv") and "file not found" in p.message for p in caught.value.problems)


def test_missing_column(tmp_path):
    rows = [{k: v for k, v in offer("o1", "aws", "r1", "a", 2.0, 100).items() if k != "max_chips"}]
    only(
        problems_of(tmp_path, offers=rows),
        file="offers.csv",
        line=1,
        column="max_chips",
        message="required column is missing",
    )


def test_wrong_type(tmp_path):
    only(
        problems_of(tmp_path, offers=[offer("o1", "aws", "r1", "a", "cheap", 100)]),
        file="offers.csv",
        line=2,
        column="usd_per_chip_hour",
        message="'cheap': expected a number",
    )


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN"])
def test_not_finite(tmp_path, value):
    only(
        problems_of(tmp_path, offers=[offer("o1", "aws", "r1", "a", value, 100)]),
        line=2,
        column="usd_per_chip_hour",
        message="finite number",
    )


def test_negative(tmp_path):
    only(
        problems_of(tmp_path, offers=[offer("o1", "aws", "r1", "a", 2.0, -5)]),
        line=2,
        column="max_chips",
        message="expected a number >= 0",
    )


def test_zero_throughput_is_rejected(tmp_path):
    perf = [{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 0, "ttft_ms": 100}]
    only(
        problems_of(tmp_path, performance=perf),
        file="performance.csv",
        column="tokens_per_s_per_chip",
        message=">= 0.001",
    )


def test_blank_required_value(tmp_path):
    only(
        problems_of(tmp_path, offers=[offer("o1", " ", "r1", "a", 2.0, 100)]),
        line=2,
        column="provider",
        message="required value is missing",
    )


def test_bad_id(tmp_path):
    only(
        problems_of(tmp_path, offers=[offer("AWS H100", "aws", "r1", "a", 2.0, 100)]),
        line=2,
        column="offer",
        message="lowercase id",
    )


def test_duplicate_offer(tmp_path):
    rows = [offer("o1", "aws", "r1", "a", 2.0, 100), offer("o1", "aws", "r1", "a", 3.0, 100)]
    only(problems_of(tmp_path, offers=rows), file="offers.csv", line=3, message="first defined at line 2")


def test_duplicate_workload_quarter(tmp_path):
    rows = [workload("w", "2026Q1", 1000), workload("w", "2026Q1", 500)]
    only(problems_of(tmp_path, workloads=rows), file="workloads.csv", line=3, column="workload/quarter")


def test_unknown_accelerator(tmp_path):
    only(
        problems_of(tmp_path, offers=[offer("o1", "aws", "r1", "zz", 2.0, 100)]),
        file="offers.csv",
        line=2,
        column="accelerator",
        message="unknown accelerator",
    )


def test_latency_row_for_unknown_region(tmp_path):
    latency = LATENCY + [{"geography": "g", "region": "nowhere", "rtt_ms": 5}]
    only(problems_of(tmp_path, latency=latency), file="latency.csv", line=3, column="region", message="unknown region")


def test_override_group_without_offers(tmp_path):
    policy = "share_overrides:\n  max_share:\n    provider:\n      azure: 0.3\n"
    only(
        problems_of(tmp_path, policy=policy),
        file="policy.yaml",
        line=4,
        column="share_overrides.max_share.provider.azure",
        message="has no offers",
    )


def test_region_under_two_providers(tmp_path):
    rows = [offer("o1", "aws", "r1", "a", 2.0, 100), offer("o2", "gcp", "r1", "a", 2.0, 100)]
    only(problems_of(tmp_path, offers=rows), line=3, column="region", message="belongs to one provider")


@pytest.mark.parametrize("column,value", [("model", "m2"), ("geography", "g2")])
def test_workload_keeps_model_and_geography(tmp_path, column, value):
    rows = [workload("w", "2026Q1", 1000), workload("w", "2026Q2", 1000, **{column: value})]
    perf = PERFORMANCE + [{"model": "m2", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100}]
    only(problems_of(tmp_path, workloads=rows, performance=perf), file="workloads.csv", line=3, column=column)


@pytest.mark.parametrize("quarter", ["2026Q5", "26Q1", "2026-Q1", "q1"])
def test_bad_quarter(tmp_path, quarter):
    only(
        problems_of(tmp_path, workloads=[workload("w", quarter, 1000)]),
        column="quarter",
        message="quarter such as 2026Q1",
    )


def test_min_above_max(tmp_path):
    only(
        problems_of(tmp_path, offers=[offer("o1", "aws", "r1", "a", 2.0, 10, min_chips=20)]),
        line=2,
        column="min_chips",
        message="above max_chips",
    )


def test_override_min_above_max(tmp_path):
    overrides = [{"offer": "o1", "quarter": "2026Q2", "max_chips": 5, "min_chips": 8}]
    only(problems_of(tmp_path, offer_quarters=overrides), file="offer_quarters.csv", line=2, column="min_chips")


def test_override_unknown_offer(tmp_path):
    overrides = [{"offer": "nope", "quarter": "2026Q2", "usd_per_chip_hour": 1.0}]
    only(problems_of(tmp_path, offer_quarters=overrides), file="offer_quarters.csv", line=2, column="offer")


def test_available_from_after_until(tmp_path):
    rows = [offer("o1", "aws", "r1", "a", 2.0, 100, available_from="2027Q1", available_until="2026Q1")]
    only(problems_of(tmp_path, offers=rows), line=2, column="available_from", message="after")


def test_term_other_than_on_demand(tmp_path):
    """v1 allowed only on-demand; commitments (1yr, 3yr) came with the contract's extension."""
    only(
        problems_of(tmp_path, offers=[offer("o1", "aws", "r1", "a", 2.0, 100, term="5yr")]),
        line=2,
        column="term",
        message="on-demand",
    )


@pytest.mark.parametrize(
    "policy,column",
    [
        ("max_share:\n  provider: 1.5\n", "max_share.provider"),
        ("min_share:\n  vendor: -0.1\n", "min_share.vendor"),
        ("max_share:\n  provider: '0.5'\n", "max_share.provider"),
        ("max_share:\n  provider: true\n", "max_share.provider"),
    ],
)
def test_share_out_of_range_or_wrong_type(tmp_path, policy, column):
    only(problems_of(tmp_path, policy=policy), file="policy.yaml", line=2, column=column)


def test_floor_above_cap(tmp_path):
    policy = "max_share:\n  vendor: 0.3\nmin_share:\n  vendor: 0.4\n"
    only(problems_of(tmp_path, policy=policy), file="policy.yaml", message="floor 0.4 is above its cap 0.3")


def test_unknown_policy_key(tmp_path):
    only(
        problems_of(tmp_path, policy="max_shares:\n  provider: 0.5\n"),
        file="policy.yaml",
        line=1,
        column="max_shares",
        message="unknown key 'max_shares'",
    )


def test_policy_keys_are_names_as_written(tmp_path):
    """Ids such as 1e5, no or 0x1f are valid; as YAML keys they stay text, never 100000.0 or False."""
    rows = [
        offer("o1", "1e5", "r1", "a", 2.0, 100),
        offer("o2", "no", "r2", "a", 2.0, 100),
        offer("o3", "0x1f", "r3", "a", 2.0, 100),
    ]
    latency = [{"geography": "g", "region": r, "rtt_ms": 50} for r in ("r1", "r2", "r3")]
    policy = "share_overrides:\n  max_share:\n    provider: {1e5: 0.3, no: 0.4, 0x1f: 0.5}\n"
    folder = write_folder(tmp_path / "in", policy=policy, **tables(offers=rows, latency=latency))
    caps = optimizer.load(folder).policy.share_overrides.max_share["provider"]
    assert caps == {"1e5": 0.3, "no": 0.4, "0x1f": 0.5}


def test_duplicate_policy_key(tmp_path):
    only(
        problems_of(tmp_path, policy="max_share:\n  provider: 0.5\nmax_share:\n  vendor: 0.5\n"),
        file="policy.yaml",
        line=3,
        message="duplicate key 'max_share'",
    )


def test_yaml_object_tag(tmp_path):
    only(
        problems_of(tmp_path, policy="hours_per_quarter: !!python/object/apply:os.getcwd []\n"),
        file="policy.yaml",
        line=1,
        message="not allowed",
    )


def test_row_with_wrong_field_count(tmp_path):
    folder = write_folder(tmp_path / "in", **tables())
    with (folder / "latency.csv").open("a") as handle:
        handle.write("g,r1\n")
    with pytest.raises(optimizer.InputError) as caught:
        optimizer.load(folder)
    only(caught.value.problems, file="latency.csv", line=3, message="2 fields")


def test_all_problems_at_once(tmp_path):
    """A bad price, an unknown accelerator and a bad policy key: three messages in one run."""
    rows = [offer("o1", "aws", "r1", "a", "x", 100), offer("o2", "aws", "r1", "zz", 1.0, 100)]
    problems = problems_of(tmp_path, policy="nope: 1\n", offers=rows)
    found = {(p.file.rsplit("/", 1)[-1], p.line, p.column) for p in problems}
    assert found == {
        ("offers.csv", 2, "usd_per_chip_hour"),
        ("offers.csv", 3, "accelerator"),
        ("policy.yaml", 1, "nope"),
    }


def test_byte_order_mark_is_accepted(tmp_path):
    folder = write_folder(tmp_path / "in", **tables())
    text = (folder / "offers.csv").read_text(encoding="utf-8")
    (folder / "offers.csv").write_text("\ufeff" + text, encoding="utf-8")
    assert list(optimizer.load(folder).offers["offer"]) == ["o1"]


def test_unknown_column_is_a_warning(tmp_path):
    rows = [dict(offer("o1", "aws", "r1", "a", 2.0, 100), notes="list price")]
    inputs = optimizer.load(write_folder(tmp_path / "in", **tables(offers=rows)))
    assert any("notes" in w for w in map(str, inputs.warnings))


def test_misspelled_optional_column_is_an_error(tmp_path):
    """min_chip would silently drop every take-or-pay minimum: refused, with the likely name."""
    rows = [dict(offer("o1", "aws", "r1", "a", 2.0, 100), min_chip=3)]
    only(
        problems_of(tmp_path, offers=rows),
        file="offers.csv",
        line=1,
        column="min_chip",
        message="did you mean 'min_chips'",
    )


def test_missing_column_does_not_hide_other_rows(tmp_path):
    """A header typo in workloads.csv and a bad quarter on a row: both reported at once."""
    rows = [{k if k != "latency_slo_ms" else "latency_slo_msec": v for k, v in workload("w", "2026Q5", 10).items()}]
    problems = problems_of(tmp_path, workloads=rows)
    found = {(p.line, p.column) for p in problems}
    assert {(1, "latency_slo_ms"), (1, "latency_slo_msec"), (2, "quarter")} <= found


@pytest.mark.parametrize(
    "change,reason",
    [
        (
            {"performance": [{"model": "other", "accelerator": "a", "tokens_per_s_per_chip": 1, "ttft_ms": 1}]},
            "no accelerator runs model 'm'",
        ),
        ({"offers": [offer("o1", "aws", "r1", "a", 2.0, 100, available_from="2027Q1")]}, "availability"),
        ({"latency": [{"geography": "g", "region": "r1", "rtt_ms": 5000}]}, "latency"),
        (
            {"performance": [{"model": "m", "accelerator": "b", "tokens_per_s_per_chip": 1, "ttft_ms": 1}]},
            "no offer sells an accelerator that runs model 'm'",
        ),
        (
            {"latency": [{"geography": "elsewhere", "region": "r1", "rtt_ms": 5}]},
            "no latency row links geography 'g' to a region selling it (latency)",
        ),
    ],
)
def test_unservable_demand_warns_with_reason(tmp_path, change, reason):
    inputs = optimizer.load(write_folder(tmp_path / "in", **tables(**change)))
    assert any("cannot be served" in w and reason in w for w in map(str, inputs.warnings)), inputs.warnings


def test_caps_summing_below_one_warn(tmp_path):
    inputs = optimizer.load(write_folder(tmp_path / "in", policy="max_share:\n  vendor: 0.6\n", **tables()))
    assert any("vendor caps" in w and "sum to 0.6" in w for w in map(str, inputs.warnings)), inputs.warnings


def test_csv_helper_round_trip(tmp_path):
    write_csv(tmp_path / "t.csv", [{"a": 1, "b": 2}])
    assert (tmp_path / "t.csv").read_text().splitlines() == ["a,b", "1,2"]


def test_floors_summing_above_one_warn(tmp_path):
    offers = [offer("o1", "aws", "r1", "a", 2.0, 100), offer("o2", "gcp", "r2", "b", 2.0, 100)]
    latency = LATENCY + [{"geography": "g", "region": "r2", "rtt_ms": 50}]
    inputs = optimizer.load(
        write_folder(tmp_path / "in", policy="min_share:\n  provider: 0.6\n", **tables(offers=offers, latency=latency))
    )
    assert any("floors" in w and "sum to 1.2 > 1" in w for w in map(str, inputs.warnings)), inputs.warnings


def test_contract_on_unknown_offer_and_backwards_periods(tmp_path):
    folder = write_folder(tmp_path / "in", **tables())
    (folder / "contracts.csv").write_text("offer,chips,start,end\nnope,2,2026Q1,2026Q2\no1,2,2026Q2,2026Q1\n")
    (folder / "spend_commitments.csv").write_text("provider,first,last,usd\nazure,2026Q1,2026Q2,100\n")
    with pytest.raises(optimizer.InputError) as caught:
        optimizer.load(folder)
    found = {(p.file.rsplit("/", 1)[-1], p.line, p.column) for p in caught.value.problems}
    assert found == {
        ("contracts.csv", 2, "offer"),
        ("contracts.csv", 3, "start"),
        ("spend_commitments.csv", 2, "provider"),
    }


def test_pool_must_be_one_supply(tmp_path):
    rows = [offer("o1", "aws", "r1", "a", 2.0, 100, pool="p"), offer("o2", "aws", "r1", "b", 2.0, 100, pool="p")]
    only(problems_of(tmp_path, offers=rows), file="offers.csv", line=3, column="pool", message="one supply")


def test_budget_below_signed_contracts(tmp_path):
    folder = write_folder(tmp_path / "in", policy="budget_usd_per_quarter: 1000\n", **tables())
    (folder / "contracts.csv").write_text("offer,chips,start,end\no1,10,2026Q1,2026Q1\n")
    with pytest.raises(optimizer.InputError) as caught:
        optimizer.load(folder)
    only(caught.value.problems, file="policy.yaml", line=1, message="below what signed contracts already cost")


def test_power_caps_name_known_suppliers_whose_chips_have_power(tmp_path):
    """Accelerator 'a' (the only one offered, by aws in r1) has no power_kw: every cap that
    covers it says so; a cap on an unknown provider or region covers nothing."""
    caps = [
        {"provider": "", "region": "", "megawatts": 1},  # line 2: names nothing
        {"provider": "azure", "region": "", "megawatts": 1},  # 3: unknown provider
        {"provider": "", "region": "r1", "megawatts": 1},  # 4: covers a
        {"provider": "aws", "region": "r1", "megawatts": 1},  # 5: covers a
        {"provider": "aws", "region": "r2", "megawatts": 1},  # 6: unknown region, covers nothing
        {"provider": "aws", "region": "", "megawatts": 1},  # 7: covers a
    ]
    uncovered = "accelerator 'a' has no power_kw in accelerators.csv, but this power cap covers its offers"
    assert sorted((p.line, p.column, p.message) for p in problems_of(tmp_path, power=caps)) == [
        (2, "provider", "a power cap names a provider, a region or both"),
        (3, "provider", "provider 'azure' has no offers in offers.csv"),
        (4, "megawatts", uncovered),
        (5, "megawatts", uncovered),
        (6, "region", "region 'r2' has no offers in offers.csv"),
        (7, "megawatts", uncovered),
    ]
