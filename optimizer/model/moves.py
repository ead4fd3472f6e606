"""Which volumes moving between consecutive quarters is measured on (contract, "Extension:
starting fleet and the cost of moving"), as index tables for the builder.

For each dimension with ``switching`` terms, each model m and group g (a provider, vendor or
accelerator) and each horizon quarter q after the first (the first too when a starting fleet
is given), the volume V[m,g,q] is the tokens/s of m's workload rows served on g's offers in
q; before the horizon it is the fleet's. What moves onto g is the rise of V from q-1 to q,
what moves off its fall.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.io.tables import Inputs

MOVE_KEYS = ["dimension", "group", "model", "quarter"]


def fleet_volume(inputs: Inputs, dimension: str) -> pd.Series:
    """Tokens/s the starting fleet serves, by (model, group) of ``dimension``."""
    offers = inputs.offers.merge(inputs.accelerators[["accelerator", "vendor"]], on="accelerator", how="left")
    fleet = inputs.fleet.merge(offers[["offer", dimension]], on="offer")
    return fleet.groupby(["model", dimension])["tokens_per_s"].sum().rename_axis(["model", "group"])


def move_index(
    inputs: Inputs, pair_model: np.ndarray, pair_group: dict[str, np.ndarray], pair_quarter: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(keys, entries) of the move rows.

    ``keys``: one row per (dimension, group, model, quarter) with ``before`` (the fleet's
    tokens/s where q is the first quarter, else 0) and the group's terms (``MoveTerms``
    fields, its costs times the model's ``model_factors``). ``entries``: (key row,
    pair position, sign): +1 where the pair serves m on g in q, -1 where it does in q-1.
    ``pair_quarter`` is each pair's position in the horizon. Needs ``policy.switching``.
    """
    horizon = inputs.horizon
    first = 0 if not inputs.fleet.empty else 1
    key_frames, entry_frames = [], []
    count = 0
    for dimension, switching in sorted(inputs.policy.switching.items()):
        served = pd.DataFrame({"model": pair_model, "group": pair_group[dimension], "k": pair_quarter})
        served["pair"] = np.arange(len(served))
        before = fleet_volume(inputs, dimension)
        combos = pd.concat([served[["model", "group"]], before.index.to_frame(index=False)]).drop_duplicates()
        combos = combos.sort_values(["group", "model"]).reset_index(drop=True)
        quarters = np.arange(first, len(horizon))
        keys = combos.loc[combos.index.repeat(len(quarters))].reset_index(drop=True)
        keys["k"] = np.tile(quarters, len(combos))
        keys["quarter"] = [horizon[k] for k in keys["k"]]
        keys["dimension"] = dimension
        start = pd.MultiIndex.from_frame(keys[["model", "group"]])
        keys["before"] = np.where(keys["k"] == 0, before.reindex(start, fill_value=0.0).to_numpy(dtype=float), 0.0)
        keys["r"] = count + np.arange(len(keys))
        for name, values in _terms(switching, keys["group"]).items():
            keys[name] = values
        factor = keys["model"].map(pd.Series(switching.model_factors, dtype=float)).fillna(1.0).to_numpy(dtype=float)
        keys["onto_usd_per_token_s"] *= factor
        keys["off_usd_per_token_s"] *= factor
        at = keys.set_index(["model", "group", "k"])["r"]
        now = served.join(at, on=["model", "group", "k"], how="inner").assign(sign=1.0)
        later = served.assign(k=served["k"] + 1).join(at, on=["model", "group", "k"], how="inner").assign(sign=-1.0)
        entry_frames += [now[["r", "pair", "sign"]], later[["r", "pair", "sign"]]]
        key_frames.append(keys)
        count += len(keys)
    return pd.concat(key_frames, ignore_index=True), pd.concat(entry_frames, ignore_index=True)


def _terms(switching, groups: pd.Series) -> dict[str, list]:
    """Each key row's move terms (``Switching.terms_of`` its group), with 0 and no limit for blanks."""
    resolved = {group: switching.terms_of(group) for group in groups.unique()}
    return {
        "onto_usd_per_token_s": [resolved[g].onto_usd_per_token_s or 0.0 for g in groups],
        "off_usd_per_token_s": [resolved[g].off_usd_per_token_s or 0.0 for g in groups],
        "max_onto_share": [resolved[g].max_onto_share for g in groups],
        "max_off_share": [resolved[g].max_off_share for g in groups],
        "allowance_tokens_per_s": [resolved[g].allowance_tokens_per_s or 0.0 for g in groups],
    }
