"""The array builder, and the LP it holds for a small instance worked out by hand.

The instance (docs/data-contract.md, "Formulation"): one quarter, H = 1000 hours, the
penalty 100 USD per Mtok, so P = 100 * 1000 * 3600 / 1e6 = 360 USD per token/s; one
workload row w of 500 tokens/s; offers a (provider p1, region r1, 2 USD per chip-hour, at most
100 chips) and b (p2, r2, 3 USD, at most 50) of one chip serving 10 tokens/s; max_share of a
provider 0.6 (volume). Columns, in natural order: x0 = x[w,a], x1 = x[w,b], y0 = y[a],
y1 = y[b], u0 = u[w], s0 = S. The optimum serves 300 tokens/s on
a (30 chips, 60,000 USD) and 200 on b (20 chips, 60,000 USD): 120,000 USD.
"""

from __future__ import annotations

import highspy
import numpy as np
import pandas as pd
import pytest
from conftest import offer, workload, write_folder

import optimizer
from optimizer.model import builder as lp_model
from optimizer.model.arrays import INF, LpArrays
from optimizer.solver.highs import new_highs

POLICY = "hours_per_quarter: 1000\nunmet_penalty_usd_per_mtok: 100\nmax_share:\n  provider: 0.6\n"

#                  x0    x1    y0  y1  u0   s0
EXPECTED = np.array(
    [
        [1.0, 1.0, 0, 0, 1, 0],  # demand:    x0 + x1 + u0 = 500
        [0.1, 0.0, -1, 0, 0, 0],  # capacity:  x0 / 10 - y0 <= 0
        [0.0, 0.1, 0, -1, 0, 0],  # capacity:  x1 / 10 - y1 <= 0
        [-1.0, -1.0, 0, 0, 0, 1],  # total:     s0 - x0 - x1 = 0
        [1.0, 0.0, 0, 0, 0, -0.6],  # share p1:  x0 - 0.6 s0 <= 0
        [0.0, 1.0, 0, 0, 0, -0.6],  # share p2:  x1 - 0.6 s0 <= 0
    ]
)


def dense(lp: highspy.HighsLp) -> np.ndarray:
    matrix = np.zeros((lp.num_row_, lp.num_col_))
    start, index, value = (np.asarray(a) for a in (lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_))
    for j in range(lp.num_col_):
        matrix[index[start[j] : start[j + 1]], j] = value[start[j] : start[j + 1]]
    return matrix


@pytest.fixture
def hand_inputs(tmp_path):
    folder = write_folder(
        tmp_path / "hand",
        policy=POLICY,
        accelerators=[{"accelerator": "chip", "vendor": "v"}],
        offers=[offer("a", "p1", "r1", "chip", 2.0, 100), offer("b", "p2", "r2", "chip", 3.0, 50)],
        performance=[{"model": "m", "accelerator": "chip", "tokens_per_s_per_chip": 10, "ttft_ms": 100}],
        workloads=[workload("w", "2026Q1", 500)],
        latency=[{"geography": "g", "region": "r1", "rtt_ms": 10}, {"geography": "g", "region": "r2", "rtt_ms": 10}],
    )
    return optimizer.load(folder).canonical()


def test_the_hand_worked_lp(hand_inputs):
    model = lp_model.build(hand_inputs)
    assert list(model.pairs["offer"]) == ["a", "b"]
    lp = model.lp.highs_lp()
    assert lp.a_matrix_.format_ == highspy.MatrixFormat.kColwise
    np.testing.assert_allclose(dense(lp), EXPECTED)
    np.testing.assert_allclose(lp.col_cost_, [0, 0, 2000, 3000, 360, 0])
    np.testing.assert_allclose(lp.col_lower_, np.zeros(6))
    np.testing.assert_array_equal(lp.col_upper_, [INF, INF, 100, 50, INF, INF])
    np.testing.assert_array_equal(lp.row_lower_, [500, -INF, -INF, 0, -INF, -INF])
    np.testing.assert_array_equal(lp.row_upper_, [500, 0, 0, 0, 0, 0])
    assert list(lp.integrality_) == []
    assert (model.x.tolist(), model.y.tolist(), model.u.tolist()) == ([0, 1], [2, 3], [4])
    assert model.share_total == {("volume", "2026Q1"): 5}
    assert model.rows["share"][["group", "kind", "row"]].values.tolist() == [["p1", "max", 4], ["p2", "max", 5]]
    assert model.price_links == []  # volume shares: no prices in the rows
    assert optimizer.solve(hand_inputs).totals["total_cost_usd"] == pytest.approx(120_000, rel=1e-12)


def test_the_model_written_by_position_names_reads_back(hand_inputs, tmp_path):
    lp, columns, rows = lp_model.build(hand_inputs).lp.named_lp()
    assert columns == ["x0", "x1", "y0", "y1", "u0", "s0"]
    assert rows == ["demand0", "capacity1", "capacity2", "total3", "share4", "share5"]
    highs = new_highs()
    highs.passModel(lp)
    path = str(tmp_path / "hand.mps")
    highs.writeModel(path)
    again = new_highs()
    again.readModel(path)
    again.run()
    assert again.getInfo().objective_function_value == pytest.approx(120_000, rel=1e-12)


def test_repeated_entries_are_summed_and_price_links_follow():
    """A commitment running in two quarters of a spend period is paid in both: its two
    entries in the period's row add up (they do not replace each other)."""
    lp = LpArrays()
    y = lp.add_columns("y", 2, lower=[0, 1], upper=[5, INF], cost=[1.0, 2.0])
    n = lp.add_columns("n", 1, integer=True)
    rows = lp.add_rows(
        "spend",
        pd.DataFrame({"k": [0]}),
        row=[0, 0, 0],
        column=[y[1], y[0], y[1]],
        value=[3.0, 1.0, 4.0],
        lower=2.0,
        upper=INF,
        price=[True, False, True],
    )
    lp.add_rows(
        "instance", pd.DataFrame({"k": [0]}), row=[0, 0], column=[y[0], n[0]], value=[1.0, -2.0], lower=0.0, upper=0.0
    )
    out = lp.highs_lp()
    np.testing.assert_allclose(dense(out), [[1.0, 7.0, 0.0], [1.0, 0.0, -2.0]])
    assert list(out.a_matrix_.start_) == [0, 2, 3, 4]
    assert list(out.integrality_) == [highspy.HighsVarType.kContinuous] * 2 + [highspy.HighsVarType.kInteger]
    assert lp.price_links == [(0, 1, 7.0)]
    assert rows.tolist() == [0] and lp.rows["instance"]["row"].tolist() == [1]
    with pytest.raises(ValueError):
        lp.add_rows("bad", pd.DataFrame({"k": [0]}), row=[1], column=[0], value=[1.0], lower=0.0, upper=0.0)
    with pytest.raises(ValueError):
        lp.add_columns("y", 1)
