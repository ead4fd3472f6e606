"""What each rule costs us: binding share rules, spend commitments and budgets lifted one
at a time, every share rule at once (the diversification premium), and each share line
of policy.yaml removed (share lines, and each part of a workload rule)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, cast

import pandas as pd

from optimizer.analysis.context import Context
from optimizer.errors import SolveError
from optimizer.io.schema import DIMENSIONS, Dimension, Policy, ShareBasis, ShareRules, WorkloadDimension
from optimizer.io.tables import named_rows
from optimizer.model.builder import build
from optimizer.solver.lp import solve_lp
from optimizer.solver.whatif import INF, Change, ReSolver

SETTING_COLUMNS = [
    "setting",
    "dimension",
    "group",
    "kind",
    "limit",
    "basis",
    "limit_without",
    "cost_of_setting_usd",
    "workloads",
]
RULE_COLUMNS = ["dimension", "group", "quarter", "kind", "limit", "basis", "cost_of_rule_usd", "usd_per_share_point"]
RULE_KEY = ["dimension", "group", "quarter", "kind", "basis"]
DEFAULT_LIMIT = {"max_share": 1.0, "min_share": 0.0}


@dataclass(frozen=True)
class RuleCosts:
    """Rule costs on a copy the caller owns (and counts the solves of)."""

    table: pd.DataFrame  # rules.csv
    premium: float | None  # the diversification premium: every share rule lifted at once


@dataclass(frozen=True)
class PolicySettings:
    table: pd.DataFrame  # policy_rules.csv
    solves: int


def rule_costs(context: Context, plain: ReSolver) -> RuleCosts:
    """Cost of each binding rule, lifted alone (share rules also per point), and the
    diversification premium (every share rule lifted at once). Spend commitments and
    binding budgets are priced the same way: what lifting each would save."""
    records = _money_rules(context, plain)
    if not len(context.share_rows):
        return RuleCosts(pd.DataFrame(records, columns=RULE_COLUMNS), 0.0)
    plan, v0 = context.plan, context.v0
    free = plain.solve(Change(row_bounds=context.rules_lifted()))
    premium = v0 - free.objective if free.optimal else None
    rules = plan.model.rows["share"].merge(plan.binding_rules[RULE_KEY], on=RULE_KEY)
    totals = sorted(plan.model.share_total)
    for rule in named_rows(rules):
        lifted = plain.solve(Change(row_bounds={int(rule.row): (-INF, INF)}))
        relaxed_limit = min(1.0, rule.limit + 0.01) if rule.kind == "max" else max(0.0, rule.limit - 0.01)
        total_column = int(context.columns["s"][totals.index((rule.basis, rule.quarter))])
        relaxed = plain.solve(Change(coefficients={(int(rule.row), total_column): (-relaxed_limit, -rule.limit)}))
        points = abs(relaxed_limit - rule.limit) * 100
        records.append(
            {
                "dimension": rule.dimension,
                "group": rule.group,
                "quarter": rule.quarter,
                "kind": rule.kind,
                "limit": rule.limit,
                "basis": rule.basis,
                "cost_of_rule_usd": v0 - lifted.objective if lifted.optimal else None,
                "usd_per_share_point": (v0 - relaxed.objective) / points if relaxed.optimal and points else None,
            }
        )
    return RuleCosts(pd.DataFrame(records, columns=RULE_COLUMNS), premium)


def _money_rules(context: Context, plain: ReSolver) -> list[dict[str, Any]]:
    """Spend commitments (kind min: spend at least) and binding budgets (kind max), lifted alone."""
    model, records = context.plan.model, []
    commitments = model.rows.get("spend_commitment")
    for item in [] if commitments is None else named_rows(commitments):
        lifted = plain.solve(Change(row_bounds={int(item.row): (-INF, INF)}))
        records.append(
            {
                "dimension": "spend_commitment",
                "group": item.provider,
                "quarter": f"{item.first}-{item.last}",
                "kind": "min",
                "limit": item.usd_in_horizon,
                "cost_of_rule_usd": context.v0 - lifted.objective if lifted.optimal else None,
                "usd_per_share_point": None,
            }
        )
    budgets = model.rows.get("budget")
    binding = set(context.plan.budgets.loc[context.plan.budgets["binding"], "quarter"])
    for item in [] if budgets is None else named_rows(budgets):
        if item.quarter not in binding:
            continue
        lifted = plain.solve(Change(row_bounds={int(item.row): (-INF, INF)}))
        records.append(
            {
                "dimension": "budget",
                "group": "all",
                "quarter": item.quarter,
                "kind": "max",
                "limit": item.budget_usd,
                "cost_of_rule_usd": context.v0 - lifted.objective if lifted.optimal else None,
                "usd_per_share_point": None,
            }
        )
    return records


@dataclass(frozen=True)
class Setting:
    """One share line of policy.yaml that sets a rule, and the policy with it removed."""

    setting: str  # the line, as a dotted path
    dimension: Dimension | WorkloadDimension
    group: str  # ``*`` for a default line
    kind: str  # max_share or min_share; for a workload rule exclude or max_share
    limit: float | None
    basis: ShareBasis
    removed: Policy
    workloads: str = ""  # a workload rule's workloads


def share_settings(policy: Policy) -> list[Setting]:
    """Every share line of policy.yaml that sets a rule, on every basis. A default line
    (group ``*``: every group without its own override) falls back to no rule; an override
    line to the default."""
    settings: list[Setting] = []
    for basis in policy.share_bases():
        rules = policy.share_rules(basis)
        for kind in ("max_share", "min_share"):
            settings += _basis_settings(policy, basis, rules, kind)
    return settings


def _basis_settings(policy: Policy, basis: ShareBasis, rules: ShareRules, kind: str) -> list[Setting]:
    """The lines of one kind (max_share or min_share) on one basis (``share_settings``)."""
    settings = []
    defaults = getattr(rules, kind)
    for dimension in DIMENSIONS:
        limit = getattr(defaults, dimension)
        if limit != DEFAULT_LIMIT[kind]:
            lifted = rules.model_copy(update={kind: defaults.model_copy(update={dimension: DEFAULT_LIMIT[kind]})})
            line = ".".join(policy.share_setting(basis, kind, dimension))
            settings.append(Setting(line, dimension, "*", kind, limit, basis, policy.with_share_rules(basis, lifted)))
    named = getattr(rules.share_overrides, kind)
    for dimension in sorted(named):
        for group, limit in sorted(named[dimension].items()):
            kept = {d: {g: v for g, v in groups.items() if (d, g) != (dimension, group)} for d, groups in named.items()}
            lifted = rules.model_copy(update={"share_overrides": rules.share_overrides.model_copy(update={kind: kept})})
            line = ".".join(policy.share_setting(basis, "share_overrides", kind, dimension, group))
            settings.append(Setting(line, dimension, group, kind, limit, basis, policy.with_share_rules(basis, lifted)))
    return settings


def workload_rule_settings(policy: Policy) -> list[Setting]:
    """Each part of each workload rule: an ``exclude`` or a ``max_share`` entry of one
    dimension, and the policy with that entry removed (the rest of the rule kept)."""
    settings = []
    for k, rule in enumerate(policy.workload_rules):
        names = ", ".join(rule.workloads)
        for part in ("exclude", "max_share"):
            entries = getattr(rule, part)
            for dimension in sorted(entries):
                kept = {d: v for d, v in entries.items() if d != dimension}
                rules = list(policy.workload_rules)
                rules[k] = rule.model_copy(update={part: kept})
                removed = policy.model_copy(update={"workload_rules": rules})
                group = ", ".join(entries[dimension]) if part == "exclude" else "*"
                limit = None if part == "exclude" else float(entries[dimension])
                line = f"workload_rules.{k}.{part}.{dimension}"
                settings.append(Setting(line, dimension, group, part, limit, "volume", removed, names))
    return settings


def policy_setting_costs(context: Context) -> PolicySettings:
    """What each share line and each part of a workload rule in policy.yaml costs:
    V(today) - V(the line removed), the line lifted in every quarter at once (a planner
    edits the file, not one (rule, quarter) row).

    Each figure is a from-scratch solve of the changed inputs (built and solved as the plan
    was, integer decisions free): a removed line can add rows as well as lift them (an
    override at 1.0 removed brings the default cap back), which no bound change expresses.
    None when the changed rules cannot all hold (spend basis against take-or-pay).
    """
    plan = context.plan
    rows = []
    for item in share_settings(plan.inputs.policy) + workload_rule_settings(plan.inputs.policy):
        changed = replace(plan.inputs, policy=item.removed)
        try:
            objective = solve_lp(build(changed, integer=plan.model.integer)).objective
        except SolveError:
            objective = None
        rows.append(
            {
                "setting": item.setting,
                "dimension": item.dimension,
                "group": item.group,
                "kind": _kind(item),
                "limit": item.limit,
                "basis": item.basis,
                "limit_without": _limit_without(item),
                "cost_of_setting_usd": None if objective is None else context.v0 - objective,
                "workloads": item.workloads,
            }
        )
    return PolicySettings(pd.DataFrame(rows, columns=SETTING_COLUMNS), solves=len(rows))


def _kind(item: Setting) -> str:
    if item.kind == "exclude":
        return "exclude"
    return "max" if item.kind == "max_share" else "min"


def _limit_without(item: Setting) -> float | None:
    """The limit once the line is removed: no rule for a default, the default for an
    override; a workload rule's exclusion leaves none, its cap 1."""
    if item.workloads:
        return None if item.kind == "exclude" else 1.0
    if item.group == "*":
        return DEFAULT_LIMIT[item.kind]
    rules = item.removed.share_rules(item.basis)
    return (rules.cap if item.kind == "max_share" else rules.floor)(cast(Dimension, item.dimension), item.group)
