"""Cross-file checks: references, keys across files, bounds, and rules that cannot all hold.

Errors make the inputs unusable; warnings describe demand that cannot be served or
rules that cannot all hold, which the LP handles (as unserved demand) but a planner
should hear about before reading the plan.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from optimizer import quarters
from optimizer.errors import Problem, warning
from optimizer.io.allowed import allowed_pairs, offer_terms, tier_terms
from optimizer.io.schema import DIMENSIONS, MAX_HORIZON_QUARTERS, Policy, ShareBasis
from optimizer.io.tables import Inputs
from optimizer.tolerances import INPUT_SUM_SLACK, LATENCY_SLACK_MS

Origins = dict[tuple[Any, ...], tuple[str, int | None]]  # (file, line) of each policy key, by path


def check(
    inputs: Inputs,
    policy_origins: dict[tuple[Any, ...], tuple[str, int | None]],
    known: dict[str, set[str]] | None = None,
    broken: set[str] | None = None,
    check_policy: bool = True,
) -> tuple[list[Problem], list[Problem]]:
    """Cross-file problems and warnings.

    ``known`` adds ids from rows that failed validation (so they are not reported as
    unknown again); references into a ``broken`` table (unreadable file) are skipped.
    Warnings are computed only when there is no problem at all.
    """
    known = known or {}
    broken = broken or set()
    problems: list[Problem] = _horizon_length(inputs)
    if problems:  # every later check walks the horizon
        return problems, []
    problems += _references(inputs, known, broken)
    problems += _regions(inputs)
    problems += _workload_identity(inputs)
    problems += _bounds(inputs)
    problems += _commitments(inputs, known, broken)
    problems += _power(inputs, broken)
    problems += _fleet(inputs, known, broken)
    problems += _price_tiers(inputs, known, broken)
    if check_policy and "offers" not in broken and "accelerators" not in broken:
        problems += _policy_groups(inputs, policy_origins)
    if problems or broken or not check_policy:
        return problems, []
    terms = offer_terms(inputs)
    problems += _budgets(inputs, terms, policy_origins)
    problems += _rising_all_units(inputs, terms)
    if problems:
        return problems, []
    pairs = allowed_pairs(inputs, terms)
    warnings = (
        _outside_horizon(inputs)
        + _unservable_demand(inputs, terms, pairs)
        + _rules_that_cannot_hold(inputs, terms, pairs)
    )
    return problems, warnings


def _horizon_length(inputs: Inputs) -> list[Problem]:
    """At most MAX_HORIZON_QUARTERS from the first to the last quarter of demand."""
    workloads = inputs.workloads
    if workloads.empty:
        return []
    ordinals = workloads["quarter"].map(quarters.ordinal).to_numpy()
    first, last = workloads.iloc[int(ordinals.argmin())], workloads.iloc[int(ordinals.argmax())]
    length = quarters.period_length(first["quarter"], last["quarter"])
    if length <= MAX_HORIZON_QUARTERS:
        return []
    message = (
        f"the horizon runs from {first['quarter']} (line {first['_line']}) to {last['quarter']}: "
        f"{length:,} quarters, above the limit of {MAX_HORIZON_QUARTERS}; is this year right?"
    )
    return [Problem(last["_file"], message, last["_line"], "quarter")]


def _missing(table: pd.DataFrame, column: str, known: set[str], what: str, where: str) -> list[Problem]:
    bad = table[~table[column].isin(known)]
    return [
        Problem(row["_file"], f"value {row[column]!r}: unknown {what} (not in {where})", row["_line"], column)
        for _, row in bad.iterrows()
    ]


def _references(inputs: Inputs, known: dict[str, set[str]], broken: set[str]) -> list[Problem]:
    accelerators = set(inputs.accelerators["accelerator"]) | known.get("accelerator", set())
    regions = set(inputs.offers["region"]) | known.get("region", set())
    offers = set(inputs.offers["offer"]) | known.get("offer", set())
    problems: list[Problem] = []
    if "accelerators" not in broken:
        problems += _missing(inputs.offers, "accelerator", accelerators, "accelerator", "accelerators.csv")
        problems += _missing(inputs.performance, "accelerator", accelerators, "accelerator", "accelerators.csv")
    if "offers" not in broken:
        problems += _missing(inputs.latency, "region", regions, "region", "offers.csv")
        problems += _missing(inputs.offer_quarters, "offer", offers, "offer", "offers.csv")
    return problems


def _regions(inputs: Inputs) -> list[Problem]:
    """A region id belongs to one provider: the same id under two providers is an error."""
    offers = inputs.offers
    first_provider = offers.drop_duplicates("region").set_index("region")["provider"]
    clash = offers[offers["provider"] != offers["region"].map(first_provider)]
    return [
        Problem(
            row["_file"],
            f"region {row['region']!r} is listed under provider {row['provider']!r} here and under "
            f"{first_provider[row['region']]!r} elsewhere: a region belongs to one provider",
            row["_line"],
            "region",
        )
        for _, row in clash.iterrows()
    ]


def _workload_identity(inputs: Inputs) -> list[Problem]:
    workloads = inputs.workloads
    problems = []
    for column in ("model", "geography"):
        first = workloads.drop_duplicates("workload").set_index("workload")[column]
        changed = workloads[workloads[column] != workloads["workload"].map(first)]
        problems += [
            Problem(
                row["_file"],
                f"workload {row['workload']!r} has {column} {row[column]!r} in {row['quarter']} but "
                f"{first[row['workload']]!r} in its first row: a workload keeps its {column}",
                row["_line"],
                column,
            )
            for _, row in changed.iterrows()
        ]
    return problems


def _bounds(inputs: Inputs) -> list[Problem]:
    offers = inputs.offers
    problems = [
        Problem(
            row["_file"],
            f"min_chips {row['min_chips']:g} is above max_chips {row['max_chips']:g}",
            row["_line"],
            "min_chips",
        )
        for _, row in offers[offers["min_chips"] > offers["max_chips"]].iterrows()
    ]
    dated = offers.dropna(subset=["available_from", "available_until"])
    late = dated[dated["available_from"].map(quarters.ordinal) > dated["available_until"].map(quarters.ordinal)]
    problems += [
        Problem(
            row["_file"],
            f"available_from {row['available_from']} is after available_until {row['available_until']}",
            row["_line"],
            "available_from",
        )
        for _, row in late.iterrows()
    ]
    overrides = inputs.offer_quarters.merge(
        offers[["offer", "min_chips", "max_chips"]], on="offer", how="inner", suffixes=("", "_offer")
    )
    low = overrides["min_chips"].fillna(overrides["min_chips_offer"])
    high = overrides["max_chips"].fillna(overrides["max_chips_offer"])
    for _, row in overrides[low > high].iterrows():
        problems.append(
            Problem(
                row["_file"],
                f"in {row['quarter']} min_chips {low.at[row.name]:g} is above max_chips {high.at[row.name]:g}",
                row["_line"],
                "min_chips",
            )
        )
    return problems


def _commitments(inputs: Inputs, known: dict[str, set[str]], broken: set[str]) -> list[Problem]:
    """Contracts name known offers, periods run forwards, a pool is one supply, only a
    1yr or 3yr term is paid upfront."""
    problems: list[Problem] = []
    if "offers" not in broken:
        offers = set(inputs.offers["offer"]) | known.get("offer", set())
        problems += _missing(inputs.contracts, "offer", offers, "offer", "offers.csv")
        providers = set(inputs.offers["provider"])
        problems += [
            Problem(r["_file"], f"provider {r['provider']!r} has no offers in offers.csv", r["_line"], "provider")
            for table in (inputs.spend_commitments, inputs.spend_discounts)
            for _, r in table.iterrows()
            if r["provider"] not in providers
        ]
    periods = (
        ("contracts", "start", "end"),
        ("spend_commitments", "first", "last"),
        ("spend_discounts", "first", "last"),
    )
    for table, first, last in periods:
        frame = inputs.table(table)
        for _, row in frame.iterrows():
            if quarters.ordinal(row[first]) > quarters.ordinal(row[last]):
                problems.append(
                    Problem(row["_file"], f"{first} {row[first]} is after {last} {row[last]}", row["_line"], first)
                )
    problems += _discount_periods(inputs.spend_discounts)
    pooled = inputs.offers[inputs.offers["pool"].notna()]
    for pool, block in pooled.groupby("pool"):
        kinds = block[["provider", "region", "accelerator"]].drop_duplicates()
        if len(kinds) > 1:
            row = block.iloc[1]
            problems.append(
                Problem(
                    row["_file"],
                    f"pool {pool!r} mixes offers of different providers, regions or "
                    "accelerators: a pool is one supply sold under several terms",
                    row["_line"],
                    "pool",
                )
            )
    upfront_on_demand = inputs.offers[(inputs.offers["payment"] == "upfront") & (inputs.offers["term"] == "on-demand")]
    problems += [
        Problem(
            r["_file"], "payment upfront needs a 1yr or 3yr term (on-demand is paid as used)", r["_line"], "payment"
        )
        for _, r in upfront_on_demand.iterrows()
    ]
    return problems


def _power(inputs: Inputs, broken: set[str]) -> list[Problem]:
    """A power cap names a known provider and/or region; the chips it covers have power_kw.
    (One lookup per cap: the accelerators without power_kw are grouped once.)"""
    problems: list[Problem] = []
    if "offers" in broken or "accelerators" in broken:
        return problems
    offers = inputs.offers.merge(inputs.accelerators[["accelerator", "power_kw"]], on="accelerator")
    known = {column: set(offers[column]) for column in ("provider", "region")}
    unpowered = offers[offers["power_kw"].isna()]
    without_power: dict[tuple[str, ...], dict[Any, set[str]]] = {
        key: unpowered.groupby(list(key))["accelerator"].agg(set).to_dict()
        for key in (("provider",), ("region",), ("provider", "region"))
    }
    power = inputs.power
    rows = zip(power["provider"], power["region"], power["_file"], power["_line"], strict=True)
    for provider, region, file, line in rows:
        given = {column: value for column, value in (("provider", provider), ("region", region)) if not pd.isna(value)}
        if not given:
            problems.append(Problem(file, "a power cap names a provider, a region or both", line, "provider"))
            continue
        for column, value in given.items():
            if value not in known[column]:
                problems.append(Problem(file, f"{column} {value!r} has no offers in offers.csv", line, column))
        values = tuple(given.values())
        covered = without_power[tuple(given)].get(values if len(values) > 1 else values[0], set())
        for accelerator in sorted(covered):
            problems.append(
                Problem(
                    file,
                    f"accelerator {accelerator!r} has no power_kw in "
                    "accelerators.csv, but this power cap covers its offers",
                    line,
                    "megawatts",
                )
            )
    return problems


def _fleet(inputs: Inputs, known: dict[str, set[str]], broken: set[str]) -> list[Problem]:
    """Each starting-fleet row names a known offer and a model of the workloads, and its chips
    can serve its tokens/s at the (model, accelerator) throughput of performance.csv."""
    fleet = inputs.fleet
    if fleet.empty or {"offers", "performance", "workloads"} & broken:
        return []
    problems = _missing(fleet, "offer", set(inputs.offers["offer"]) | known.get("offer", set()), "offer", "offers.csv")
    problems += _missing(fleet, "model", set(inputs.workloads["model"]), "model", "workloads.csv")
    rated = fleet.merge(inputs.offers[["offer", "accelerator"]], on="offer").merge(
        inputs.performance[["model", "accelerator", "tokens_per_s_per_chip"]], on=["model", "accelerator"], how="left"
    )
    known_models = rated["model"].isin(set(inputs.workloads["model"]))
    for _, row in rated[rated["tokens_per_s_per_chip"].isna() & known_models].iterrows():
        chip, offer = row["accelerator"], row["offer"]
        message = f"model {row['model']!r} has no performance row on {chip!r}, the chip of offer {offer!r}"
        problems.append(Problem(row["_file"], message, row["_line"], "model"))
    rated = rated[rated["tokens_per_s_per_chip"].notna()]
    beyond = rated["tokens_per_s"] > rated["chips"] * rated["tokens_per_s_per_chip"] * (1 + 1e-9)
    for _, row in rated[beyond].iterrows():
        per_chip = row["tokens_per_s_per_chip"]
        message = (
            f"{row['tokens_per_s']:,.6g} tokens/s is more than {row['chips']:,.6g} chips serve "
            f"({row['chips'] * per_chip:,.6g} at {per_chip:g} per chip in performance.csv)"
        )
        problems.append(Problem(row["_file"], message, row["_line"], "tokens_per_s"))
    return problems


def _price_tiers(inputs: Inputs, known: dict[str, set[str]], broken: set[str]) -> list[Problem]:
    """A price tier names a known on-demand offer (a 1yr or 3yr offer's price is already its
    term's), one kind per offer, and one tier per from_chips in every quarter (a row with a
    blank quarter applies in all of them)."""
    tiers = inputs.price_tiers
    if tiers.empty or "offers" in broken:
        return []
    offers = set(inputs.offers["offer"]) | known.get("offer", set())
    problems = _missing(tiers, "offer", offers, "offer", "offers.csv")
    term = tiers["offer"].map(inputs.offers.drop_duplicates("offer").set_index("offer")["term"])
    problems += [
        Problem(
            row["_file"],
            f"offer {row['offer']!r} has term {term.at[i]}: price tiers apply to on-demand offers only "
            "(a 1yr or 3yr offer's price is already its term's discount)",
            row["_line"],
            "offer",
        )
        for i, row in tiers[term.notna() & (term != "on-demand")].iterrows()
    ]
    first_kind = tiers.drop_duplicates("offer").set_index("offer")
    kind_of, line_of = first_kind["kind"].to_dict(), first_kind["_line"].to_dict()
    problems += [
        Problem(
            row["_file"],
            f"offer {row['offer']!r} has {kind_of[row['offer']]} tiers at line "
            f"{line_of[row['offer']]}: one kind of tiers per offer",
            row["_line"],
            "kind",
        )
        for _, row in tiers[tiers["kind"] != tiers["offer"].map(first_kind["kind"])].iterrows()
    ]
    every = tiers[tiers["quarter"].isna()][["offer", "from_chips", "_line"]]
    clash = tiers[tiers["quarter"].notna()].merge(every, on=["offer", "from_chips"], suffixes=("", "_every"))
    problems += [
        Problem(
            row["_file"],
            f"offer {row['offer']!r} already has a tier from {row['from_chips']:g} chips in every quarter "
            f"(line {row['_line_every']}): one tier per from_chips",
            row["_line"],
            "from_chips",
        )
        for _, row in clash.iterrows()
    ]
    return problems


def _rising_all_units(inputs: Inputs, terms: pd.DataFrame) -> list[Problem]:
    """An all_units price break must not raise the price: at exactly a break the chips
    qualify for both tiers, and the plan would take the cheaper one, not the one the break
    names (contract, "Extension: price tiers")."""
    tiers = tier_terms(inputs, terms)
    tiers = tiers[tiers["kind"] == "all_units"]
    if tiers.empty:
        return []
    before = tiers.groupby("t")["usd_per_chip_hour"].cummax().groupby(tiers["t"]).shift(1)
    rising = tiers[tiers["usd_per_chip_hour"] > before]
    problems, seen = [], set()
    for t, from_chips, price in zip(rising["t"], rising["from_chips"], rising["usd_per_chip_hour"], strict=True):
        offer, quarter = str(terms["offer"].iat[t]), str(terms["quarter"].iat[t])
        rows = inputs.price_tiers[
            (inputs.price_tiers["offer"] == offer)
            & (inputs.price_tiers["from_chips"] == from_chips)
            & (inputs.price_tiers["quarter"].isna() | (inputs.price_tiers["quarter"] == quarter))
        ]
        row = rows.iloc[0]
        if (row["_file"], row["_line"]) in seen:
            continue
        seen.add((row["_file"], row["_line"]))
        problems.append(
            Problem(
                row["_file"],
                f"all_units price {price:g} from {from_chips:g} chips is above a lower tier's price "
                f"in {quarter}: an all_units break lowers the price (use kind incremental for rising prices)",
                row["_line"],
                "usd_per_chip_hour",
            )
        )
    return problems


def _budgets(inputs: Inputs, terms: pd.DataFrame, origins: dict) -> list[Problem]:
    """A quarter's signed contracts alone must fit in its budget (otherwise no plan exists)."""
    policy = inputs.policy
    problems = []
    sunk = terms.groupby("quarter")["contract_usd_per_hour"].sum() * policy.hours_per_quarter
    for quarter, amount in sunk.items():
        budget = policy.budget(str(quarter))
        if budget is not None and amount > budget * (1 + INPUT_SUM_SLACK):
            file, line = origins.get(("budget_usd_per_quarter", quarter)) or origins.get(
                ("budget_usd_per_quarter",), ("policy.yaml", None)
            )
            problems.append(
                Problem(
                    file,
                    f"the budget of {quarter} ({budget:,.0f} USD) is below what signed "
                    f"contracts already cost then ({amount:,.0f} USD)",
                    line,
                    "budget_usd_per_quarter",
                )
            )
    return problems


def _discount_periods(discounts: pd.DataFrame) -> list[Problem]:
    """A provider's minimum-spend discounts over different periods must not overlap: a
    dollar is discounted by one level at most (levels share one period)."""
    problems = []
    seen: dict[str, list[tuple[int, int, str, str]]] = {}
    for _, row in discounts.drop_duplicates(["provider", "first", "last"]).iterrows():
        first, last = quarters.ordinal(row["first"]), quarters.ordinal(row["last"])
        for begin, end, a, b in seen.get(row["provider"], []):
            if first <= end and begin <= last:
                problems.append(
                    Problem(
                        row["_file"],
                        f"discount period {row['first']}..{row['last']} of {row['provider']} overlaps its period "
                        f"{a}..{b}: give the levels of one period the same first and last",
                        row["_line"],
                        "first",
                    )
                )
                break
        seen.setdefault(row["provider"], []).append((first, last, row["first"], row["last"]))
    return problems


def _outside_horizon(inputs: Inputs) -> list[Problem]:
    horizon = set(inputs.horizon)
    warnings = []
    budgets = inputs.policy.budget_usd_per_quarter
    if isinstance(budgets, dict):
        warnings += [
            warning("policy.yaml", f"budget for {q} is outside the horizon: ignored")
            for q in budgets
            if q not in horizon
        ]
    periods = ((inputs.spend_commitments, "spend commitment to"), (inputs.spend_discounts, "spend discount of"))
    for frame, what in periods:
        for _, row in frame.iterrows():
            if not quarters.within(row["first"], row["last"], inputs.horizon):
                message = f"{what} {row['provider']} falls outside the horizon: ignored"
                warnings.append(warning(row["_file"], message, row["_line"]))
    return warnings


def groups_of(inputs: Inputs) -> dict[str, set[str]]:
    """Every group of each share dimension that has at least one offer."""
    offers = inputs.offers.merge(inputs.accelerators[["accelerator", "vendor"]], on="accelerator")
    return {dimension: set(offers[dimension]) for dimension in DIMENSIONS}


def _policy_groups(inputs: Inputs, origins: dict[tuple[Any, ...], tuple[str, int | None]]) -> list[Problem]:
    policy = inputs.policy
    groups = groups_of(inputs)
    problems = []
    groups["accelerator"] = set(inputs.offers["accelerator"])
    named: list[tuple[tuple[str, ...], Any]] = [
        (("ramp_limits", dimension), values) for dimension, values in policy.ramp_limits.items()
    ]
    named += [(("switching", dimension, "groups"), terms.groups) for dimension, terms in policy.switching.items()]
    models = set(inputs.workloads["model"])
    for dimension, terms in policy.switching.items():
        for model in sorted(set(terms.model_factors) - models):
            key = ("switching", dimension, "model_factors", model)
            file, line = origins.get(key, ("policy.yaml", None))
            problems.append(Problem(file, f"model {model!r} has no rows in workloads.csv", line, ".".join(key)))
    for prefix, values in named:
        for group in values:
            if group not in groups[prefix[1]]:
                path: tuple[str, ...] = (*prefix, group)
                file, line = origins.get(path, ("policy.yaml", None))
                message = f"{prefix[1]} {group!r} has no offers in offers.csv"
                problems.append(Problem(file, message, line, ".".join(path)))
    problems += _workload_rules_named(inputs, groups, origins)
    problems += _resilience_named(inputs, groups, origins)
    problems += _share_bases_named(inputs, origins)
    for basis in policy.share_bases():
        problems += _share_groups(policy, basis, groups, origins)
    return problems


def _resilience_named(inputs: Inputs, groups: dict[str, set[str]], origins: Origins) -> list[Problem]:
    """The suppliers named for N-1 resilience have offers (a supplier without any would
    make the rule say nothing)."""
    resilience = inputs.policy.resilience
    if resilience is None or resilience.suppliers is None:
        return []
    problems = []
    for i, name in enumerate(resilience.suppliers):
        if name not in groups[resilience.dimension]:
            key = ("resilience", "suppliers", i)
            file, line = origins.get(key, ("policy.yaml", None))
            message = f"{resilience.dimension} {name!r} has no offers in offers.csv"
            problems.append(Problem(file, message, line, ".".join(str(part) for part in key)))
    return problems


def _workload_rules_named(inputs: Inputs, groups: dict[str, set[str]], origins: Origins) -> list[Problem]:
    """Each workload rule names workloads of workloads.csv and groups with offers."""
    problems = []
    workloads = set(inputs.workloads["workload"])
    for k, rule in enumerate(inputs.policy.workload_rules):
        named: list[tuple[tuple[Any, ...], str, bool]] = [
            (
                ("workload_rules", k, "workloads", i),
                f"workload {name!r} has no rows in workloads.csv",
                name in workloads,
            )
            for i, name in enumerate(rule.workloads)
        ]
        named += [
            (
                ("workload_rules", k, "exclude", dimension, i),
                f"{dimension} {name!r} has no offers in offers.csv",
                name in groups[dimension],
            )
            for dimension, names in rule.exclude.items()
            for i, name in enumerate(names)
        ]
        for path, message, known in named:
            if not known:
                file, line = origins.get(path, ("policy.yaml", None))
                problems.append(Problem(file, message, line, ".".join(str(part) for part in path)))
    return problems


def _share_groups(policy: Policy, basis: ShareBasis, groups: dict[str, set[str]], origins: Origins) -> list[Problem]:
    """The overrides of one basis name groups with offers; no floor is above its cap."""
    rules = policy.share_rules(basis)
    problems = []
    for kind in ("max_share", "min_share"):
        named = getattr(rules.share_overrides, kind)
        for dimension, values in named.items():
            for group in values:
                if group not in groups[dimension]:
                    path = policy.share_setting(basis, "share_overrides", kind, dimension, group)
                    file, line = origins.get(path, ("policy.yaml", None))
                    problems.append(
                        Problem(file, f"{dimension} {group!r} has no offers in offers.csv", line, ".".join(path))
                    )
    for dimension in DIMENSIONS:
        candidates = groups[dimension] | set(rules.share_overrides.max_share.get(dimension, {}))
        candidates |= set(rules.share_overrides.min_share.get(dimension, {}))
        for group in sorted(candidates):
            floor, cap = rules.floor(dimension, group), rules.cap(dimension, group)
            if floor > cap:
                path = policy.share_setting(basis, "share_overrides", "min_share", dimension, group)
                default = policy.share_setting(basis, "min_share", dimension)
                file, line = origins.get(path) or origins.get(default) or ("policy.yaml", None)
                problems.append(
                    Problem(
                        file,
                        f"{dimension} {group!r}: floor {floor:g} is above its cap {cap:g}",
                        line,
                        ".".join(default),
                    )
                )
    return problems


def _share_bases_named(inputs: Inputs, origins: Origins) -> list[Problem]:
    """``extra_share_bases`` holds the other bases only (the rules on ``share_basis`` are
    the policy's own keys: two places for one rule would leave which one holds unclear);
    rules on power need the power_kw of every accelerator sold."""
    policy = inputs.policy
    problems = []
    if policy.share_basis in policy.extra_share_bases:
        path: tuple[str, ...] = ("extra_share_bases", policy.share_basis)
        file, line = origins.get(path, ("policy.yaml", None))
        message = (
            f"{policy.share_basis!r} is already the share_basis: write its rules as the top-level "
            "max_share, min_share and share_overrides, and list only other bases here"
        )
        problems.append(Problem(file, message, line, ".".join(path)))
    if "power" in policy.share_bases() and policy.share_rules("power").sets_rules():
        path = policy.share_setting("power") if policy.share_basis != "power" else ("share_basis",)
        file, line = origins.get(path, ("policy.yaml", None))
        sold = inputs.accelerators[inputs.accelerators["accelerator"].isin(inputs.offers["accelerator"])]
        for accelerator in sorted(sold.loc[sold["power_kw"].isna(), "accelerator"]):
            message = f"share rules on power count chips x power_kw, but accelerator {accelerator!r} has no power_kw"
            problems.append(Problem(file, message, line, ".".join(path)))
    return problems


def _unservable_demand(inputs: Inputs, terms: pd.DataFrame, pairs: pd.DataFrame) -> list[Problem]:
    """Demand that no allowed pair can serve, with the first reason that rules it out."""
    workloads = inputs.workloads.reset_index(drop=True)
    unservable = workloads[~workloads.index.isin(pairs["w"]) & (workloads["tokens_per_s"] > 0)]
    messages: dict[tuple[str, str], list[str]] = {}
    for workload, quarter, reason in zip(
        unservable["workload"], unservable["quarter"], unservable_reasons(inputs, terms, unservable), strict=True
    ):
        messages.setdefault((workload, reason), []).append(quarter)
    return [
        warning("", f"demand of workload {workload!r} cannot be served in {', '.join(qs)}: {reason}")
        for (workload, reason), qs in messages.items()
    ]


def unservable_reasons(inputs: Inputs, terms: pd.DataFrame, rows: pd.DataFrame) -> list[str]:
    """The first reason why no allowed pair exists, for each workload row of ``rows`` (rows
    that have none), from one set of joins: linear in the rows, not a search per row."""
    models = set(rows["model"])
    performance = inputs.performance.loc[inputs.performance["model"].isin(models), ["model", "accelerator", "ttft_ms"]]
    runs = set(performance["model"])
    sold = set(performance.loc[performance["accelerator"].isin(inputs.offers["accelerator"]), "model"])
    available = terms[["quarter", "accelerator", "region"]].merge(performance, on="accelerator")
    available_in = set(zip(available["model"], available["quarter"], strict=True))
    reach = available.merge(inputs.latency[["geography", "region", "rtt_ms"]], on="region")
    fastest = (reach["rtt_ms"] + reach["ttft_ms"]).groupby([reach["model"], reach["quarter"], reach["geography"]]).min()
    best = dict(zip(fastest.index, fastest.to_numpy(), strict=True))
    ruled = {name for rule in inputs.policy.workload_rules if rule.exclude for name in rule.workloads}
    reasons = []
    lines = rows["_line"] if "_line" in rows else [None] * len(rows)
    for workload, model, quarter, geography, slo, line in zip(
        rows["workload"], rows["model"], rows["quarter"], rows["geography"], rows["latency_slo_ms"], lines, strict=True
    ):
        if model not in runs:
            reasons.append(f"no accelerator runs model {model!r} (performance.csv)")
        elif model not in sold:
            reasons.append(f"no offer sells an accelerator that runs model {model!r}")
        elif (model, quarter) not in available_in:
            reasons.append(f"no offer running model {model!r} is available in {quarter} (availability)")
        elif (model, quarter, geography) not in best:
            reasons.append(f"no latency row links geography {geography!r} to a region selling it (latency)")
        elif best[model, quarter, geography] <= slo + LATENCY_SLACK_MS and workload in ruled:
            reasons.append("policy.yaml workload_rules exclude every offer within its latency SLO")
        elif best[model, quarter, geography] <= slo + LATENCY_SLACK_MS:  # a pair exists: the caller asked wrongly
            raise RuntimeError(f"workload row {line} has an allowed pair; it is not unservable")
        else:
            fast = best[model, quarter, geography]
            reasons.append(f"latency: the fastest option takes {fast:g} ms (rtt + ttft), above the SLO of {slo:g} ms")
    return reasons


def _rules_that_cannot_hold(inputs: Inputs, terms: pd.DataFrame, pairs: pd.DataFrame) -> list[Problem]:
    """Caps that cannot all hold: the groups able to serve some demand have caps summing < 1
    (on every basis); floors summing above 1, or (volume) on groups that serve nothing."""
    if pairs.empty:
        return []
    pairs = pairs.merge(terms[["offer", "quarter", "provider", "region", "vendor"]], on=["offer", "quarter"])
    pairs["offer_group"] = pairs["offer"]
    terms = terms.assign(offer_group=terms["offer"])
    warnings = []
    for basis in inputs.policy.share_bases():
        for dimension in DIMENSIONS:
            warnings += _dimension_rules_that_cannot_hold(inputs, basis, dimension, terms, pairs)
    return warnings


def _dimension_rules_that_cannot_hold(
    inputs: Inputs, basis: ShareBasis, dimension: str, terms: pd.DataFrame, pairs: pd.DataFrame
) -> list[Problem]:
    rules = inputs.policy.share_rules(basis)
    workloads = inputs.workloads.reset_index(drop=True)
    warnings = []
    column = "offer_group" if dimension == "offer" else dimension
    floor_of = {group: rules.floor(dimension, group) for group in terms[column].unique()}  # type: ignore[arg-type]
    per_quarter = terms[["quarter", column]].drop_duplicates()
    if basis == "volume":
        warnings += _floors_without_volume(inputs, terms, pairs, dimension, column, floor_of)
    floors = per_quarter[column].map(floor_of).groupby(per_quarter["quarter"]).sum()
    for quarter, total in floors[floors > 1 + INPUT_SUM_SLACK].items():
        warnings.append(
            warning(
                "",
                f"in {quarter} the {dimension} floors on {basis} of the groups with offers sum to {total:.3g} > 1: "
                "they cannot all hold, so that quarter can serve nothing",
            )
        )
    cap_of = {group: rules.cap(dimension, group) for group in terms[column].unique()}  # type: ignore[arg-type]
    if min(cap_of.values(), default=1.0) >= 1:
        return warnings
    totals = per_quarter[column].map(cap_of).groupby(per_quarter["quarter"]).sum()
    overridden = rules.share_overrides.max_share.get(dimension, {})  # type: ignore[call-overload]
    for quarter, total in totals[totals < 1 - INPUT_SUM_SLACK].items():
        groups = sorted(per_quarter.loc[per_quarter["quarter"] == quarter, column])
        named = ", ".join(
            f"{g} {cap_of[g]:g} ({_setting(inputs, basis, 'max_share', dimension, g if g in overridden else None)})"
            for g in groups
        )
        warnings.append(
            warning(
                "",
                f"in {quarter} the {dimension} caps on {basis} ({named}) of all groups that can "
                f"hold chips sum to {total:.3g} < 1: the shares of a served quarter add up to 1, so nothing "
                "can be served and 100% of that quarter's demand goes unserved",
            )
        )
    reach = pairs[["w", column]].drop_duplicates()
    by_workload = reach[column].map(cap_of).groupby(reach["w"]).sum()
    flagged: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for w in by_workload.index[by_workload < 1 - INPUT_SUM_SLACK]:
        reachable = tuple(sorted(reach.loc[reach["w"] == w, column]))
        row = workloads.loc[w]
        flagged.setdefault((row["workload"], reachable), []).append(row["quarter"])
    for (workload, reachable), qs in sorted(flagged.items()):
        total = sum(cap_of[g] for g in reachable)
        warnings.append(
            warning(
                "",
                f"workload {workload!r} can only be served by {dimension} {', '.join(reachable)} whose caps "
                f"on {basis} sum to {total:.3g} < 1 ({', '.join(sorted(qs))}): it is fully served only if other demand "
                f"fills the rest of those quarters",
            )
        )
    return warnings


def _setting(inputs: Inputs, basis: ShareBasis, kind: str, dimension: str, group: str | None = None) -> str:
    """The policy.yaml line a cap or floor comes from: its override, or the default."""
    keys = ("share_overrides", kind, dimension, group) if group is not None else (kind, dimension)
    return ".".join(inputs.policy.share_setting(basis, *keys))


def _floors_without_volume(
    inputs: Inputs, terms: pd.DataFrame, pairs: pd.DataFrame, dimension: str, column: str, floor_of: dict[str, float]
) -> list[Problem]:
    """Floors (volume basis) on a group that can hold chips in a quarter but serve nothing
    there: S_g = 0 >= floor x S forces S = 0, so the floor alone leaves the whole quarter unserved."""
    reached = pairs[["quarter", column]].drop_duplicates()
    serving = set(zip(reached["quarter"], reached[column], strict=True))
    demand = inputs.workloads.groupby("quarter")["tokens_per_s"].sum()
    named = inputs.policy.share_rules("volume").share_overrides.min_share.get(dimension, {})  # type: ignore[call-overload]
    warnings = []
    for quarter, group in sorted(set(zip(terms["quarter"], terms[column], strict=True))):
        floor = floor_of[group]
        if floor <= 0 or (quarter, group) in serving or demand.get(quarter, 0.0) <= 0:
            continue
        setting = _setting(inputs, "volume", "min_share", dimension, group if group in named else None)
        warnings.append(
            warning(
                "",
                f"in {quarter} {dimension} {group} has a floor of {floor:g} ({setting}) but can serve no demand "
                "(no allowed pair on its offers): the floor cannot be met, so nothing can be served and 100% of "
                "that quarter's demand goes unserved",
            )
        )
    return warnings
