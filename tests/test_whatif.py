"""Warm re-solves: changes are undone, and one column's cost range equals HiGHS's ranging."""

from __future__ import annotations

import numpy as np
import pytest

import optimizer
from optimizer.analysis.context import Context, price_handles
from optimizer.solver.whatif import Change, WhatIf


@pytest.fixture(scope="module")
def plan():
    from optimizer.io.loading import bundled_data

    return optimizer.solve(optimizer.load(bundled_data()))


def test_change_is_undone(plan):
    whatif = WhatIf(plan)
    column = int(plan.solution.columns["y"][0])
    changed = whatif.solve(Change(cost={column: 1e6}))
    assert changed.optimal
    again = whatif.solve(Change())
    assert again.objective == pytest.approx(plan.solution.objective, rel=1e-9)


@pytest.mark.parametrize("dimension", ["offer", "provider", "vendor"])
def test_single_column_cost_range_matches_highs_ranging(plan, dimension):
    """For every price handle: our one-column ranging equals HiGHS's getRanging."""
    context = Context(plan)
    groups = context.offers_of(dimension)
    whatif, _, handles, _ = price_handles(context, groups, {g: 1.0 for g in groups})
    whatif.highs.run()
    status, ranging = whatif.highs.getRanging()
    up = np.asarray(ranging.col_cost_up.value_)
    down = np.asarray(ranging.col_cost_dn.value_)
    for handle in handles.values():
        low, high = whatif.cost_range(handle, 1.0)
        assert low == pytest.approx(down[handle], rel=1e-7, abs=1e-9) or (low < -1e29 and down[handle] < -1e29)
        assert high == pytest.approx(up[handle], rel=1e-7, abs=1e-9) or (high > 1e29 and up[handle] > 1e29)
