"""What the plan moves between consecutive quarters, and what moving costs (contract,
"Extension: starting fleet and the cost of moving").

Read from the allocation, not from the LP's on/off columns: what moves onto a group is the
rise of a model's tokens/s on it from the quarter before (the starting fleet's before the
horizon), what moves off its fall; where a cost is zero the LP may leave both columns
above these, at no cost, so they are not what moved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.model.builder import LpModel
from optimizer.model.moves import MOVE_KEYS
from optimizer.tolerances import VALUE_NOISE

MOVE_COLUMNS = [
    *MOVE_KEYS,
    "before_tokens_per_s",
    "after_tokens_per_s",
    "moved_onto_tokens_per_s",
    "moved_off_tokens_per_s",
    "cost_usd",
]


def moves_table(model: LpModel, x: np.ndarray) -> pd.DataFrame:
    """One row per (dimension, group, model, quarter) where something moved, with its cost
    (undiscounted, paid in the quarter of the move)."""
    keys = model.moves
    if keys.empty:
        return pd.DataFrame(columns=MOVE_COLUMNS)
    entries = model.move_entries
    r = entries["r"].to_numpy(dtype=np.int64)
    served = x[entries["pair"].to_numpy(dtype=np.int64)]
    now = entries["sign"].to_numpy() > 0
    after = np.bincount(r[now], weights=served[now], minlength=len(keys))
    before = keys["before"].to_numpy(dtype=float) + np.bincount(r[~now], weights=served[~now], minlength=len(keys))
    rise = after - before
    scale = np.maximum(1.0, np.maximum(after, before))
    rise = np.where(np.abs(rise) > VALUE_NOISE * scale, rise, 0.0)
    table = keys[MOVE_KEYS].assign(
        before_tokens_per_s=before,
        after_tokens_per_s=after,
        moved_onto_tokens_per_s=np.clip(rise, 0.0, None),
        moved_off_tokens_per_s=np.clip(-rise, 0.0, None),
    )
    table["cost_usd"] = table["moved_onto_tokens_per_s"] * keys["onto_usd_per_token_s"].to_numpy(dtype=float) + table[
        "moved_off_tokens_per_s"
    ] * keys["off_usd_per_token_s"].to_numpy(dtype=float)
    moved = (table["moved_onto_tokens_per_s"] > 0) | (table["moved_off_tokens_per_s"] > 0)
    return table[moved].reset_index(drop=True)[MOVE_COLUMNS]
