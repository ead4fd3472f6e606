"""Random instances in the data contract's format, shared by the cross-check and the properties.

``instances()`` draws a whole input folder as plain Python rows: several providers,
regions, vendors and offers; availability windows that start before, end inside or miss
the horizon; offer_quarters overrides; take-or-pay minimums; latency pairs missing,
inside, outside and exactly on the SLO; demand quarters with gaps; caps and floors on
every share dimension with per-group overrides; a volume, spend or power basis, and in
about half the instances rules on a second basis (``extra_share_bases``); penalties from
zero to far above any chip price; in about a quarter of the instances the cost of moving
(``switching`` on one or two of provider, vendor and accelerator: costs, group overrides,
model factors, continuity limits that sometimes bind or leave no plan), in half of those
with a starting fleet (``fleet.csv``); in about a quarter, ``workload_rules`` (exclusions
and per-workload caps on named workloads). Numbers are decimals with one or two places, so the
CSV text is exactly the float both formulations read.

Nothing here imports the optimizer package except :func:`tool_cost`, which runs the tool.
"""

from __future__ import annotations

import copy
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from conftest import write_folder
from hypothesis import settings
from hypothesis import strategies as st

import optimizer
from optimizer.io.yaml_reader import EXPONENT_FLOAT

# Costs of two solves of the same LP are compared with |a - b| <= REL_TOL * max(|a|, |b|)
# + ABS_TOL_USD. HiGHS (in the tool and behind scipy's linprog) stops at primal and dual
# feasibility tolerances of 1e-7 on a scaled model; on these instances (costs up to
# ~1e7 USD, coefficients within a few decades) that moves the optimal cost by far less
# than 1e-7 of itself, which the long run confirms (README). The absolute floor of one
# micro-dollar covers optima of exactly 0 (zero penalty, nothing bought), where a
# relative test alone would demand bit-identical zeros.
REL_TOL = 1e-7
ABS_TOL_USD = 1e-6

# Quarters offers may name; demand falls in the middle five, so windows can open before
# the horizon, close after it, or miss it altogether.
QUARTERS = ["2025Q4", "2026Q1", "2026Q2", "2026Q3", "2026Q4", "2027Q1", "2027Q2"]
DEMAND_QUARTERS = QUARTERS[1:-1]
DIMENSIONS = ("provider", "vendor", "region", "offer")
BASES = ("volume", "spend", "power")


def costs_agree(a: float, b: float) -> bool:
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b)) + ABS_TOL_USD


def relative_difference(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1.0)


def examples(fraction: float, least: int = 10) -> int:
    """A test's example count as a fraction of the loaded profile's (the cross-check's) count."""
    return max(least, round(settings.default.max_examples * fraction))


class _PolicyDumper(yaml.SafeDumper):
    """Quotes text such as 1e-3 that the tool's reader, unlike YAML 1.1, takes as a number."""


_PolicyDumper.add_implicit_resolver("tag:yaml.org,2002:float", EXPONENT_FLOAT, list("-+0123456789"))


def policy_yaml(policy: dict) -> str:
    """``policy`` as YAML text the tool reads back to the same values."""
    return yaml.dump(policy, Dumper=_PolicyDumper, sort_keys=False)


@dataclass
class Case:
    """One input folder: CSV tables as lists of row dicts (None = blank cell) and the policy."""

    tables: dict[str, list[dict]]
    policy: dict = field(default_factory=dict)

    @property
    def policy_text(self) -> str:
        return policy_yaml(self.policy) if self.policy else "{}\n"

    def copy(self) -> Case:
        return copy.deepcopy(self)

    def groups(self) -> dict[str, list[str]]:
        """Groups of each share dimension that have at least one offer (sorted)."""
        vendor = {a["accelerator"]: a["vendor"] for a in self.tables["accelerators"]}
        offers = self.tables["offers"]
        return {
            "provider": sorted({o["provider"] for o in offers}),
            "vendor": sorted({vendor[o["accelerator"]] for o in offers}),
            "region": sorted({o["region"] for o in offers}),
            "offer": sorted(o["offer"] for o in offers),
        }

    def cap(self, dimension: str, group: str) -> float:
        named = self.policy.get("share_overrides", {}).get("max_share", {}).get(dimension, {})
        return float(named.get(group, self.policy.get("max_share", {}).get(dimension, 1.0)))

    def floor(self, dimension: str, group: str) -> float:
        named = self.policy.get("share_overrides", {}).get("min_share", {}).get(dimension, {})
        return float(named.get(group, self.policy.get("min_share", {}).get(dimension, 0.0)))

    def set_override(self, kind: str, dimension: str, group: str, value: float) -> None:
        overrides = self.policy.setdefault("share_overrides", {}).setdefault(kind, {})
        overrides.setdefault(dimension, {})[group] = value


def tool_cost(case: Case):
    """The tool's optimal cost (plan.totals["total_cost_usd"], its present value under a
    discount rate) and plan, or (None, None) when it proves the rules infeasible (SolveError)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_folder(Path(tmp) / "case", policy=case.policy_text, **case.tables)
        inputs = optimizer.load(folder)
        try:
            plan = optimizer.solve(inputs)
        except optimizer.SolveError:
            return None, None
    present = plan.totals["total_cost_pv_usd"]
    return float(plan.totals["total_cost_usd"] if present is None else present), plan


def _decimal(low: int, high: int, places: int) -> st.SearchStrategy[float]:
    """Decimals low/10**places .. high/10**places whose CSV text is the float read back."""
    return st.integers(low, high).map(lambda k: k / 10**places)


def _sometimes(draw, chance_in_4: int = 1) -> bool:
    """True in about chance_in_4 of 4 draws (a little more: hypothesis favours 0)."""
    return draw(st.integers(0, 3)) < chance_in_4


def _rarely(draw) -> bool:
    """True in about one draw of eight."""
    return draw(st.integers(0, 7)) == 7


@st.composite
def instances(draw, max_offers: int = 6, revenue: bool = False) -> Case:
    """A random input folder in the contract's format (see the module docstring); with
    ``revenue``, about a quarter of the workload rows carry a revenue and a utilization, one
    policy in eight a discount rate, and one offer in eight is a 1yr or 3yr term (paid per
    quarter or upfront, under either ``commitment_cost``).
    (The leverage audit draws without: see tests/test_known_issues.py.)"""
    vendors = ["nvidia", "amd", "google"]
    accelerators = [
        {"accelerator": f"a{i}", "vendor": draw(st.sampled_from(vendors)), "power_kw": draw(_decimal(1, 40, 1))}
        for i in range(draw(st.integers(1, 4)))
    ]
    providers = [f"p{i}" for i in range(draw(st.integers(1, 3)))]
    regions = [(p, f"{p}-r{k}") for p in providers for k in range(draw(st.integers(1, 2)))]

    offers = []
    for i in range(draw(st.integers(1, max_offers))):
        provider, region = draw(st.sampled_from(regions))
        max_chips = draw(_decimal(0, 400, 1))
        row = {
            "offer": f"o{i}",
            "provider": provider,
            "region": region,
            "accelerator": draw(st.sampled_from(accelerators))["accelerator"],
            "usd_per_chip_hour": draw(_decimal(0, 800, 2)),
            "max_chips": max_chips,
            "min_chips": draw(_decimal(0, round(max_chips * 10), 1)) if _sometimes(draw) else None,
            "available_from": None,
            "available_until": None,
        }
        if _sometimes(draw, 2):
            window = sorted(draw(st.lists(st.sampled_from(QUARTERS), min_size=2, max_size=2)))
            row["available_from"] = window[0] if draw(st.booleans()) else None
            row["available_until"] = window[1] if draw(st.booleans()) else None
        offers.append(row)

    offer_quarters = []
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(offers), st.sampled_from(QUARTERS)),
            max_size=3,
            unique_by=lambda k: (k[0]["offer"], k[1]),
        )
    )
    for offer, quarter in keys:
        row = {
            "offer": offer["offer"],
            "quarter": quarter,
            "usd_per_chip_hour": None,
            "max_chips": None,
            "min_chips": None,
        }
        if draw(st.booleans()):
            row["usd_per_chip_hour"] = draw(_decimal(0, 800, 2))
        if draw(st.booleans()):
            row["max_chips"] = draw(_decimal(0, 400, 1))
        high = row["max_chips"] if row["max_chips"] is not None else offer["max_chips"]
        if draw(st.booleans()):
            row["min_chips"] = draw(_decimal(0, round(high * 10), 1))
        elif (offer["min_chips"] or 0.0) > high:  # the offer's minimum would exceed the maximum
            row["min_chips"] = high
        offer_quarters.append(row)

    models = [f"m{i}" for i in range(draw(st.integers(1, 2)))]
    geographies = [f"g{i}" for i in range(draw(st.integers(1, 2)))]
    performance = [
        {
            "model": m,
            "accelerator": a["accelerator"],
            "tokens_per_s_per_chip": draw(_decimal(200, 4000, 1)),
            "ttft_ms": draw(_decimal(0, 3000, 1)),
        }
        for m in models
        for a in accelerators
        if not _rarely(draw)
    ]
    latency = [
        {"geography": g, "region": r, "rtt_ms": draw(_decimal(0, 2000, 1))}
        for g in geographies
        for r in sorted({o["region"] for o in offers})
        if not _rarely(draw)
    ]
    # the tool refuses a performance or latency file without rows: keep one of each
    performance = performance or [
        {
            "model": models[0],
            "accelerator": accelerators[0]["accelerator"],
            "tokens_per_s_per_chip": 100.0,
            "ttft_ms": 50.0,
        }
    ]
    latency = latency or [{"geography": geographies[0], "region": offers[0]["region"], "rtt_ms": 20.0}]

    demand_quarters = sorted(draw(st.lists(st.sampled_from(DEMAND_QUARTERS), min_size=1, max_size=3, unique=True)))
    workloads = []
    for k in range(draw(st.integers(1, 3))):
        model, geography = draw(st.sampled_from(models)), draw(st.sampled_from(geographies))
        rows_quarters = (
            demand_quarters
            if k == 0
            else sorted(draw(st.lists(st.sampled_from(demand_quarters), min_size=1, unique=True)))
        )
        # latency of every (region, accelerator) this workload could use: SLOs land on them exactly
        edges = [
            round(link["rtt_ms"] + p["ttft_ms"], 1)
            for link in latency
            if link["geography"] == geography
            for p in performance
            if p["model"] == model
            if any(o["region"] == link["region"] and o["accelerator"] == p["accelerator"] for o in offers)
        ]
        for quarter in rows_quarters:
            choice = draw(st.integers(0, 3))
            if edges and choice < 2:  # exactly on the latency of some pair: it must be allowed
                slo = draw(st.sampled_from(edges))
            elif choice < 3:
                slo = draw(_decimal(0, 8000, 1))
            else:  # generous: latency rules nothing out
                slo = 1000.0
            row = {
                "workload": f"w{k}",
                "model": model,
                "geography": geography,
                "quarter": quarter,
                "tokens_per_s": draw(_decimal(0, 30000, 1)),
                "latency_slo_ms": slo,
            }
            if revenue and _sometimes(draw):  # the value of serving: lost revenue instead of the penalty
                row["revenue_usd_per_mtok"] = draw(st.sampled_from([0.0, 0.5, 3.0, 40.0, 900.0]))
                row["utilization"] = draw(st.sampled_from([1.0, 0.6, 0.05]))
            workloads.append(row)

    case = Case(
        dict(
            accelerators=accelerators,
            offers=offers,
            offer_quarters=offer_quarters,
            performance=performance,
            workloads=workloads,
            latency=latency,
        )
    )
    case.policy = draw(policies(case))
    if revenue and _sometimes(draw):  # present value: every cost discounted from its quarter
        case.policy["discount_rate_per_year"] = draw(st.sampled_from([0.0, 0.08, 0.35, 1.0]))
    if revenue:  # 1yr/3yr terms, paid per quarter or upfront, under either terminal-value rule
        for row in case.tables["offers"]:
            if _sometimes(draw):
                row["term"] = draw(st.sampled_from(["1yr", "3yr"]))
                row["payment"] = draw(st.sampled_from(["per_quarter", "upfront"]))
        if any(row.get("term") for row in case.tables["offers"]):
            case.policy["commitment_cost"] = draw(st.sampled_from(["whole", "in_horizon"]))
    if _sometimes(draw):  # a starting fleet and the cost of moving
        fleet = draw(fleets(case)) if _sometimes(draw, 2) else []
        if fleet:
            case.tables["fleet"] = fleet
        if not _rarely(draw):  # (rarely a fleet alone: it adds nothing)
            case.policy["switching"] = draw(switching(case))
            if revenue and "discount_rate_per_year" not in case.policy and _sometimes(draw):
                case.policy["discount_rate_per_year"] = draw(st.sampled_from([0.08, 0.35]))  # moves discounted
    if _sometimes(draw):  # where named workloads may run
        case.policy["workload_rules"] = draw(workload_rules(case))
    return case


@st.composite
def workload_rules(draw, case: Case) -> list[dict]:
    """One or two ``workload_rules``, each naming one or two workloads with an exclusion
    (one or two groups of one dimension), a cap (0.3 to 1 on one or two dimensions), or both."""
    groups = case.groups()
    groups["accelerator"] = sorted({o["accelerator"] for o in case.tables["offers"]})
    names = sorted({row["workload"] for row in case.tables["workloads"]})
    rules = []
    for _ in range(draw(st.integers(1, 2))):
        rule: dict = {"workloads": draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))}
        parts = draw(st.sampled_from([("exclude",), ("max_share",), ("exclude", "max_share")]))
        if "exclude" in parts:
            dimension = draw(st.sampled_from(sorted(groups)))
            rule["exclude"] = {
                dimension: draw(st.lists(st.sampled_from(groups[dimension]), min_size=1, max_size=2, unique=True))
            }
        if "max_share" in parts:
            # mostly on dimensions of two groups or more (on one group a cap below 1 serves nothing)
            several = [d for d in sorted(groups) if len(groups[d]) > 1]
            choices = several if several and not _rarely(draw) else sorted(groups)
            capped = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=2, unique=True))
            rule["max_share"] = {d: draw(st.sampled_from([0.5, 0.3]) | _decimal(30, 100, 2)) for d in capped}
        rules.append(rule)
    return rules


@st.composite
def fleets(draw, case: Case) -> list[dict]:
    """One to three fleet rows (offer, model): a model of the workloads on an offer whose
    chip serves it (on sale in the horizon or not), serving about what the model's first
    quarter asks (a factor of it, 0 to 1.5) on at least the chips that takes."""
    per_chip = {(p["model"], p["accelerator"]): p["tokens_per_s_per_chip"] for p in case.tables["performance"]}
    models = sorted({row["model"] for row in case.tables["workloads"]})
    first = min(row["quarter"] for row in case.tables["workloads"])
    today = {
        m: sum(row["tokens_per_s"] for row in case.tables["workloads"] if row["model"] == m and row["quarter"] == first)
        for m in models
    }
    pairs = [
        (o["offer"], m, per_chip[(m, o["accelerator"])])
        for o in case.tables["offers"]
        for m in models
        if (m, o["accelerator"]) in per_chip
    ]
    if not pairs:
        return []
    rows = []
    for offer, model, rate in draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=3, unique=True)):
        tokens = round(today[model] * draw(st.sampled_from([0.5, 1.0, 0.2]) | _decimal(0, 150, 2)), 1)
        chips = math.ceil(tokens / rate * 10) / 10 + draw(_decimal(0, 20, 1))  # what serves them, or more
        rows.append({"offer": offer, "model": model, "chips": round(chips, 1), "tokens_per_s": tokens})
    return rows


def _move_terms(draw) -> dict:
    """Costs per token/s moved (none, or 0 to 60 USD) and sometimes continuity limits: an
    off share, an onto multiple (either may be 0) and an allowance (often small or 0)."""
    terms: dict = {}
    for name in ("onto_usd_per_token_s", "off_usd_per_token_s"):
        if _sometimes(draw, 3):
            terms[name] = draw(st.sampled_from([0.5, 4.0, 25.0, 0.0]) | _decimal(0, 6000, 2))
    if _sometimes(draw, 2):  # volume that falls faster than this (and the allowance) leaves no plan
        terms["max_off_share"] = draw(st.sampled_from([0.5, 0.9, 0.25]) | _decimal(0, 100, 2))
    if _sometimes(draw):
        terms["max_onto_share"] = draw(st.sampled_from([0.2, 1.0, 0.0]) | _decimal(0, 300, 2))
    if _sometimes(draw, 2):
        terms["allowance_tokens_per_s"] = draw(st.sampled_from([100.0, 1000.0, 0.0]) | _decimal(0, 30000, 1))
    return terms


@st.composite
def switching(draw, case: Case) -> dict:
    """A ``switching`` block for ``case``: one or two of provider, vendor and accelerator,
    each with costs and limits (``_move_terms``), overrides on up to two of its groups and
    sometimes per-model factors (0 to 3)."""
    groups = case.groups()
    groups["accelerator"] = sorted({o["accelerator"] for o in case.tables["offers"]})
    models = sorted({row["model"] for row in case.tables["workloads"]})
    block: dict = {}
    for dimension in draw(
        st.lists(st.sampled_from(["provider", "vendor", "accelerator"]), min_size=1, max_size=2, unique=True)
    ):
        terms = _move_terms(draw)
        for group in draw(st.lists(st.sampled_from(groups[dimension]), max_size=2, unique=True)):
            terms.setdefault("groups", {})[group] = _move_terms(draw)
        if _sometimes(draw):
            named = draw(st.lists(st.sampled_from(models), min_size=1, unique=True))
            terms["model_factors"] = {m: draw(_decimal(0, 300, 2)) for m in named}
        block[dimension] = terms
    return block


@st.composite
def policies(draw, case: Case) -> dict:
    """A policy.yaml for ``case``: basis, penalty, caps and floors, overrides on real groups.

    Floors are drawn rarely and small: a floor on a group that cannot serve a quarter's
    demand empties the whole quarter, which is worth seeing, but not in most instances.
    """
    policy: dict = {}
    if _sometimes(draw):
        policy["hours_per_quarter"] = draw(st.sampled_from([730.0, 2184.0]))
    policy["unmet_penalty_usd_per_mtok"] = draw(st.sampled_from([100.0, 400.0, 20.0, 5.0, 0.5, 0.0]))
    policy["share_basis"] = draw(st.sampled_from(["volume", "spend", "power"]))
    groups = case.groups()
    # a cap below 1 on a dimension of one group empties every quarter: only where there are two
    caps = {d: draw(_decimal(40, 100, 2)) for d in DIMENSIONS if len(groups[d]) > 1 and _sometimes(draw, 2)}
    floors = {d: draw(_decimal(0, 15, 2)) for d in DIMENSIONS[:3] if not draw(st.integers(0, 7))}
    if caps:
        policy["max_share"] = caps
    if floors:
        policy["min_share"] = floors
    case.policy = policy
    named = [(d, g) for d, members in groups.items() for g in members]
    for dimension, group in draw(st.lists(st.sampled_from(named), max_size=3, unique=True)):
        case.set_override("max_share", dimension, group, draw(_decimal(10, 100, 2)))
    for dimension, group in draw(st.lists(st.sampled_from(named), max_size=2, unique=True)):
        case.set_override("min_share", dimension, group, draw(_decimal(0, 40, 2)))
    for dimension, group in named:
        if case.floor(dimension, group) > case.cap(dimension, group):  # the tool refuses floor > cap
            case.set_override("min_share", dimension, group, case.cap(dimension, group))
    if _sometimes(draw, 2):
        other = draw(st.sampled_from([b for b in BASES if b != policy["share_basis"]]))
        policy["extra_share_bases"] = {other: draw(rules_on_another_basis(groups))}
    return case.policy


@st.composite
def rules_on_another_basis(draw, groups: dict[str, list[str]]) -> dict:
    """Caps (defaults and up to two overrides, 0.3 and up) and rarely a small vendor floor
    (at most 0.15, so below every cap) for an ``extra_share_bases`` entry."""
    rules: dict = {}
    caps = {d: draw(_decimal(40, 100, 2)) for d in DIMENSIONS if len(groups[d]) > 1 and _sometimes(draw, 2)}
    if caps:
        rules["max_share"] = caps
    named = [(d, g) for d, members in groups.items() for g in members]
    for dimension, group in draw(st.lists(st.sampled_from(named), max_size=2, unique=True)):
        overrides = rules.setdefault("share_overrides", {}).setdefault("max_share", {})
        overrides.setdefault(dimension, {})[group] = draw(_decimal(30, 100, 2))
    if _rarely(draw):
        rules["min_share"] = {"vendor": draw(_decimal(0, 15, 2))}
    return rules
