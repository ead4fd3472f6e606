"""Per supplier (provider or vendor), used today or not: how far must all its prices fall
together, by one factor, before it wins any volume, or 10% of the volume?

Volume is tokens/s summed over every quarter of the horizon, as ``price_response.csv``
counts it; the 10% is of today's plan's total. A cut is a bracket of re-solves: the
deepest cut proven not to win (``*_not_pct``) and the shallowest proven to win
(``*_pct``, the figure to quote), both negative percentages.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from optimizer.analysis.context import Context
from optimizer.analysis.price_pieces import BEYOND, MAX_PIECES, SIDE_STEP, PriceCurve, search_volume
from optimizer.errors import SolveError
from optimizer.solver.whatif import Outcome

WIN_SHARE = 0.10  # the "wins a real share" threshold: 10% of today's total tokens/s
DEEPEST_CUT = 1e-3  # searches stop at factor 0.001 (-99.9%): below, a price is noise to the LP
WIN_COLUMNS = [
    "dimension",
    "supplier",
    "volume_tokens_per_s",
    "share_pct",
    "win_any_pct",
    "win_any_not_pct",
    "win_any_method",
    "win_share_pct",
    "win_share_not_pct",
    "win_share_method",
]

Cut = tuple[float | None, float | None, str]


def prices_to_win(context: Context, dimension: str, curves: dict[str, PriceCurve]) -> pd.DataFrame:
    """supplier_price_to_win.csv's rows for one dimension (``curves``: each supplier's V of
    one factor on all its prices, anchored at factor 1).

    Winning means at least ``target`` tokens/s: for "any volume" more than rounding
    (1e-9 of the total), for the share 10% of today's total less that rounding.
    """
    total = float(context.x_today.sum())
    noise = 1e-9 * max(1.0, total)
    rows = []
    for supplier, terms in sorted(context.terms_of(dimension).items()):
        pairs = context.pairs_of(terms)
        today = float(context.x_today[pairs].sum())

        def volume(outcome: Outcome, pairs=pairs) -> float:
            return context.volume(outcome, pairs) if outcome.optimal else 0.0

        any_cut = _cut(curves[supplier], volume, noise, today)
        share_cut = _cut(curves[supplier], volume, WIN_SHARE * total - noise, today)
        rows.append(
            {
                "dimension": dimension,
                "supplier": supplier,
                "volume_tokens_per_s": today,
                "share_pct": 100 * today / total if total > 0 else None,
                "win_any_pct": any_cut[0],
                "win_any_not_pct": any_cut[1],
                "win_any_method": any_cut[2],
                "win_share_pct": share_cut[0],
                "win_share_not_pct": share_cut[1],
                "win_share_method": share_cut[2],
            }
        )
    return pd.DataFrame(rows, columns=WIN_COLUMNS)


def _cut(curve: PriceCurve, volume: Callable[[Outcome], float], target: float, today: float) -> Cut:
    """(shallowest cut % proven to win ``target`` tokens/s, deepest proven not to, method)."""
    if today >= target:
        return 0.0, None, "already wins"

    def wins(outcome: Outcome) -> bool:
        return volume(outcome) >= target

    try:
        if curve.mip is None and curve.exact:
            return _walk_down(curve, wins)
        return _search_down(curve, wins, 1.0, "bisection on MIP re-solves" if curve.mip else "bisection")
    except SolveError as error:
        return None, None, f"a re-solve failed: {error}"


def _walk_down(curve: PriceCurve, wins: Callable[[Outcome], bool]) -> Cut:
    """On an LP: walk V's pieces down from today's factor by cost ranging; the winning
    volume starts at a piece end, proven by the optimum just below it. Every factor on a
    piece has the same optimal plan, so its left end is proven not to win."""
    outcome = curve.beside(-1)
    if not outcome.optimal:  # a cut breaks a hard rule (spend shares): ranging has no piece
        return _search_down(curve, wins, 1.0, "bisection")
    if wins(outcome):
        return -SIDE_STEP * 100, 0.0, "tie at today's price"
    for _ in range(MAX_PIECES):
        assert outcome.cost_range is not None, "an exact curve ranges its outcomes"
        bound = outcome.cost_range[0]
        if bound <= DEEPEST_CUT:
            return None, None, f"no cut down to {_pct(DEEPEST_CUT):.1f}% wins: ranging"
        outcome = curve.at(bound * (1 - BEYOND), ranging=True)
        if wins(outcome):
            return _pct(bound * (1 - BEYOND)), _pct(bound), "ranging"
        if not outcome.optimal:
            return _search_down(curve, wins, bound, "bisection")
    return _search_down(curve, wins, 1.0, "bisection")


def _search_down(curve: PriceCurve, wins: Callable[[Outcome], bool], start: float, method: str) -> Cut:
    """Full re-solves, halving the factor from ``start`` (not winning) then bisecting: the
    search of :func:`search_volume` on 1 / factor, where winning is the drop it brackets."""
    floor = max(DEEPEST_CUT, curve.floor / curve.p0 if curve.p0 else 0.0)
    found = search_volume(lambda g: 0.0 if wins(curve.full_at(1 / g)) else 1.0, 0.5, 1 / start, 1 / floor)
    if found is None:
        return None, None, f"no cut down to {_pct(floor):.1f}% wins: {method}"
    not_winning, winning = found
    return _pct(1 / winning), _pct(1 / not_winning), method


def _pct(factor: float) -> float:
    return (factor - 1) * 100
