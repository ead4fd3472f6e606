"""Infeasible rules in business terms: the smallest conflicting set, as rows of the inputs.

When the hard rules cannot all hold, HiGHS's irreducible infeasible subset (IIS) of the LP
(integer decisions relaxed) names a set of rows and bounds that conflict and that stops
conflicting if any one of them is dropped. Each one is translated back to the input that
wrote it: a policy key, an offer's min_chips or max_chips, a power cap, a budget, a spend
commitment, a demand row.
"""

from __future__ import annotations

import highspy
import pandas as pd

from optimizer.model.builder import LpModel
from optimizer.solver.highs import integer_columns, make_continuous, new_highs

IDENTITIES = {"volume", "total", "commitment", "instance"}  # definitions, never the cause by themselves


def explain(model: LpModel, highs: highspy.Highs) -> list[str]:
    """The conflicting rules, one sentence each with the file and line that set it."""
    relaxed = new_highs()  # the same options as the solve it explains
    relaxed.setOptionValue("presolve", "off")  # an infeasibility found by presolve leaves the IIS empty
    relaxed.passModel(highs.getLp())
    make_continuous(relaxed, integer_columns(relaxed))
    relaxed.run()
    if relaxed.getModelStatus() != highspy.HighsModelStatus.kInfeasible:
        return [
            "the rules hold in fractions of chips but not in whole instances or whole ports: "
            "check chips_per_instance against min_chips and max_chips, or run without --integer"
        ]
    iis = _irreducible_subset(relaxed)
    if iis is None:
        return ["HiGHS could not isolate the conflicting rules"]
    sentences = []
    rows = _row_index(model)
    for row in iis.row_index_:
        found = rows.get(int(row))
        if found is not None and found[0] not in IDENTITIES:
            sentences.append(_row_sentence(model, *found))
    columns = _column_index(model, highs)
    for col in iis.col_index_:
        item = columns.get(int(col))
        if item is not None:
            sentences.append(item)
    return list(dict.fromkeys(s for s in sentences if s)) or ["HiGHS found the conflict only among definitions"]


def _irreducible_subset(highs: highspy.Highs):
    """HiGHS's IIS; the default strategy can return an empty set (measured with HiGHS 1.16),
    so the LP-based strategies are tried in turn."""
    for strategy in (None, 2, 4):
        if strategy is not None:
            highs.setOptionValue("iis_strategy", strategy)
        status, iis = highs.getIis()
        if status == highspy.HighsStatus.kOk and iis.valid_ and (len(iis.row_index_) or len(iis.col_index_)):
            return iis
    return None


def _row_index(model: LpModel) -> dict[int, tuple[str, dict]]:
    index = {}
    for family, table in model.rows.items():
        for record in table.to_dict("records"):
            index[int(record["row"])] = (family, record)
    return index


def _where(file: str, line) -> str:
    return f"{file}, line {line}" if line is not None and not pd.isna(line) else file


def _policy(model: LpModel, *paths: tuple) -> str:
    origins = model.inputs.policy_origins
    for path in paths:
        if path in origins:
            return _where(*origins[path])
    return "policy.yaml"


def _row_of(table: pd.DataFrame, **keys) -> str:
    rows = table
    for column, value in keys.items():
        rows = rows[rows[column] == value]
    if rows.empty:
        return "the inputs"
    return _where(rows.iloc[0]["_file"], rows.iloc[0]["_line"])


def _row_sentence(model: LpModel, family: str, key: dict) -> str:
    inputs = model.inputs
    if family == "share":
        kind, basis = ("max_share" if key["kind"] == "max" else "min_share"), key["basis"]
        path = inputs.policy.share_setting
        where = _policy(
            model,
            path(basis, "share_overrides", kind, key["dimension"], key["group"]),
            path(basis, kind, key["dimension"]),
        )
        return (
            f"{where}: {kind} {key['limit']:g} for {key['dimension']} {key['group']} in {key['quarter']} "
            f"(share of {basis})"
        )
    if family in ("demand", "outage_demand"):
        return (
            f"{_row_of(inputs.workloads, workload=key['workload'], quarter=key['quarter'])}: demand of "
            f"{key['workload']} in {key['quarter']}"
        )
    if family in ("capacity", "outage_capacity"):
        return f"{_row_of(inputs.offers, offer=key['offer'])}: capacity of {key['offer']} in {key['quarter']}"
    if family == "pool":
        return (
            f"{_row_of(inputs.offers, pool=key['pool'])}: pool {key['pool']} holds at most "
            f"{key['max_chips']:g} chips in {key['quarter']}"
        )
    if family == "spend_commitment":
        row = inputs.spend_commitments.iloc[int(key["k"])]
        return f"{_where(row['_file'], row['_line'])}: spend commitment of {row['usd']:,.0f} USD to {row['provider']}"
    if family == "budget":
        where = _policy(model, ("budget_usd_per_quarter", key["quarter"]), ("budget_usd_per_quarter",))
        return f"{where}: budget of {key['budget_usd']:,.0f} USD in {key['quarter']}"
    if family == "power":
        row = inputs.power.loc[key["cap"]]
        return f"{_where(row['_file'], row['_line'])}: power cap of {row['megawatts']:g} MW in {key['quarter']}"
    if family == "ramp":
        where = _policy(model, ("ramp_limits", key["dimension"], key["group"]))
        return f"{where}: ramp limit of {key['dimension']} {key['group']} into {key['quarter']}"
    if family in ("move_off_limit", "move_onto_limit"):
        direction = family.split("_")[1]
        setting = f"max_{direction}_share"
        dimension, group = key["dimension"], key["group"]
        where = _policy(
            model,
            ("switching", dimension, "groups", group, setting),
            ("switching", dimension, setting),
            ("switching", dimension),
        )
        return (
            f"{where}: at most {key['share']:g} of {dimension} {group}'s volume (plus "
            f"{key['allowance_tokens_per_s']:g} tokens/s) may move {direction} it into {key['quarter']}"
        )
    if family in ("port_once", "port_ready", "outage_port_ready"):
        return (
            f"{_row_of(inputs.performance, model=key['model'], accelerator=key['accelerator'])}: "
            f"{key['model']} on {key['accelerator']} must be ported before it serves"
        )
    if family == "stranded":
        return (
            f"{_policy(model, ('resilience', 'max_stranded_share'), ('resilience',))}: resilience: losing "
            f"{key['outage']} may strand at most the allowed share of {key['quarter']}'s demand"
        )
    return f"{family} rule {key}"


def _column_index(model: LpModel, highs: highspy.Highs) -> dict[int, str]:
    """Bounds that can conflict: chips held on an offer (min_chips, max_chips)."""
    inputs = model.inputs
    overrides = inputs.offer_quarters
    index = {}
    for t, column in enumerate(model.y):
        term = model.terms.iloc[t]
        override = overrides[(overrides["offer"] == term["offer"]) & (overrides["quarter"] == term["quarter"])]
        source = (
            _where(override.iloc[0]["_file"], override.iloc[0]["_line"])
            if not override.empty
            else _row_of(inputs.offers, offer=term["offer"])
        )
        index[int(column)] = (
            f"{source}: min_chips {term['min_chips']:g} / max_chips {term['max_chips']:g} of "
            f"{term['offer']} in {term['quarter']}"
        )
    return index
