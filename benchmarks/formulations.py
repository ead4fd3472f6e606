"""HiGHS alone on the tool's share rows (over v[o,q] and s[q]) against share rows over x.

The plain LP is the tool's with every auxiliary v[o,q] replaced by the x it sums (its
volume rows and columns dropped; s[q] kept), so both LPs have the same optimum. Prints one
JSON line: sizes, the median HiGHS run time of ``--repeats`` dual simplex solves and one
interior point solve of each, and their objectives. ``--wide`` first writes the second
instance family into FOLDER: generate.py's instance of 1e6 pairs (600 offers) cut to 30
workloads, with offer caps and provider floors (about 1e5 pairs).

    python benchmarks/formulations.py benchmarks/instances/100000
    python benchmarks/formulations.py --wide benchmarks/instances/wide
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

import optimizer
from optimizer import model as lp_model

sys.path.insert(0, str(Path(__file__).parent))
from raw_highs import solve_raw  # noqa: E402  (a script beside it, as benchmarks/run.py imports it)

WIDE_POLICY = "max_share:\n  provider: 0.35\n  vendor: 0.5\n  region: 0.2\n  offer: 0.05\nmin_share:\n  provider: 0.02\n"


def write_wide(folder: Path) -> None:
    from generate import generate

    generate(1_000_000, folder)
    workloads = pd.read_csv(folder / "workloads.csv")
    kept = sorted(set(workloads["workload"]), key=lambda name: int(name[1:]))[:30]
    workloads[workloads["workload"].isin(kept)].to_csv(folder / "workloads.csv", index=False)
    (folder / "policy.yaml").write_text(WIDE_POLICY, encoding="utf-8")


def _highs_lp(matrix: sp.csc_matrix, cost, lower, upper, row_lower, row_upper) -> highspy.HighsLp:
    lp = highspy.HighsLp()
    lp.num_row_, lp.num_col_ = matrix.shape
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lower, upper
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    return lp


def both_lps(model: lp_model.LpModel) -> tuple[highspy.HighsLp, highspy.HighsLp]:
    """The tool's LP and the plain one, both as LPs (integrality dropped)."""
    lp = model.lp.highs_lp()
    matrix = sp.csc_matrix((np.asarray(lp.a_matrix_.value_), np.asarray(lp.a_matrix_.index_),
                            np.asarray(lp.a_matrix_.start_)), shape=(lp.num_row_, lp.num_col_))
    cost, lower, upper = (np.asarray(a) for a in (lp.col_cost_, lp.col_lower_, lp.col_upper_))
    row_lower, row_upper = np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)
    tool = _highs_lp(matrix, cost, lower, upper, row_lower, row_upper)
    volume_rows = model.rows["volume"]["row"].to_numpy()
    volume_columns = np.array(list(model.volume.values()))
    x = model.x
    over_x = matrix[:, x] + matrix[:, volume_columns] @ (-matrix[volume_rows][:, x])   # v = sum of its x
    others = np.setdiff1d(np.arange(lp.num_col_), np.concatenate([x, volume_columns]))
    rows = np.setdiff1d(np.arange(lp.num_row_), volume_rows)
    plain = sp.hstack([over_x, matrix[:, others]]).tocsr()[rows].tocsc()
    plain.eliminate_zeros()
    columns = np.concatenate([x, others])
    return tool, _highs_lp(plain, cost[columns], lower[columns], upper[columns], row_lower[rows], row_upper[rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--wide", action="store_true", help="write the wide instance family into FOLDER first")
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    if arguments.wide:
        write_wide(arguments.folder)
    model = lp_model.build(optimizer.load(arguments.folder).canonical())
    if "volume" not in model.rows:
        parser.error("the instance has no volume share rules: both formulations are the same")
    result = {"folder": str(arguments.folder), "pairs": len(model.pairs)}
    for name, lp in zip(("tool", "plain"), both_lps(model), strict=True):
        result[f"{name}_columns_rows_nonzeros"] = [lp.num_col_, lp.num_row_, len(lp.a_matrix_.value_)]
        for method, repeats in (("simplex", arguments.repeats), ("ipm", 1)):
            runs = [solve_raw(lp, method) for _ in range(repeats)]
            result[f"{name}_{method}_s"] = round(statistics.median(seconds for _, seconds in runs), 2)
            result[f"{name}_{method}_objective"] = runs[0][0]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
