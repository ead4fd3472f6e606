"""Per supplier (provider or vendor), all its prices moving together: how far can they
rise before it loses volume, at what rise does it keep only half, and how do its volume
and our cost respond from -50% to +100%?"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.analysis.context import Context, price_curve, price_handles, solves_of
from optimizer.analysis.price_pieces import (
    BEYOND,
    MAX_PIECES,
    MAX_SWITCHES,
    RESOLUTION,
    SIDE_STEP,
    PriceCurve,
    search_volume,
)
from optimizer.analysis.price_to_win import prices_to_win
from optimizer.errors import SolveError
from optimizer.solver.whatif import Outcome

PRICE_STEPS = [round(-0.5 + 0.1 * k, 1) for k in range(16)]  # -50% ... +100%
HALF_VOLUME_LIMIT = 11.0  # search price rises up to +1000%
RESPONSE_COLUMNS = [
    "dimension",
    "supplier",
    "price_change_pct",
    "volume_tokens_per_s",
    "supplier_revenue_usd",
    "total_cost_usd",
    "method",
]
SUPPLIER_PRICE_COLUMNS = [
    "dimension",
    "supplier",
    "uniform_ceiling_pct",
    "uniform_ceiling_moves_pct",
    "uniform_ceiling_method",
    "half_volume_pct",
    "half_volume_above_pct",
    "half_volume_method",
    "revenue_peak_pct",
    "revenue_peak_usd",
    "revenue_peak_method",
]
REVENUE_PEAK_LIMIT = 11.0  # search price rises for the revenue peak up to +1000%
BEYOND_GRID = [1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 11.0]  # re-solves past +100% where pieces cannot be walked


@dataclass(frozen=True)
class SupplierPrices:
    suppliers: pd.DataFrame  # SUPPLIER_PRICE_COLUMNS, joined onto suppliers.csv
    response: pd.DataFrame  # price_response.csv
    to_win: pd.DataFrame  # supplier_price_to_win.csv (WIN_COLUMNS), every supplier with offers
    solves: int


def price_suppliers(context: Context, dimension: str) -> SupplierPrices:
    """Uniform price ceiling, half-volume price and price response of every supplier in use.

    Brackets as for offers: ``uniform_ceiling_pct`` is the highest rise proven to keep every
    chip-hour, ``uniform_ceiling_moves_pct`` the lowest proven to move some;
    ``half_volume_pct`` the lowest rise proven to leave at most half of today's volume,
    ``half_volume_above_pct`` the highest proven to leave more. On mixed-integer plans each
    point of the price response is a full re-solve (method ``MIP re-solve``).
    """
    groups = context.offers_of(dimension)
    whatif, mip, handles, minimum = price_handles(context, groups, {g: 1.0 for g in groups})
    rows, response_rows = [], []
    factors = [1 + step for step in PRICE_STEPS]
    curves = {s: price_curve(context, whatif, handles[s], groups[s], 1.0, mip) for s in groups}
    for supplier, _, pairs in context.in_use(dimension):
        curve = curves[supplier]
        up = curve.beside(+1)
        ceiling = moves = None
        ceiling_method = "no volume beyond take-or-pay"
        if not up.optimal:  # no rise keeps the hard rules feasible
            ceiling, moves, ceiling_method = 0.0, 0.0, "any price rise breaks a hard rule"
        elif context.holds(curve.slope(up), minimum[supplier]):
            end = curve.confirmed(curve.line_slope(up, +1), +1, curve.piece_end(up, +1))
            ceiling = None if end.keep is None or end.price is None else (end.keep - 1) * 100
            moves = None if end.move is None else (end.move - 1) * 100
            ceiling_method = end.method
        if mip is None:
            response = dict(zip(factors, curve.sweep(factors), strict=True))
            response_method = "LP re-solve or ranging interval"
        else:
            response = dict(zip(factors, curve.sweep_full(factors), strict=True))
            response_method = "MIP re-solve"
        for factor, outcome in response.items():
            response_rows.append(
                {
                    "dimension": dimension,
                    "supplier": supplier,
                    "price_change_pct": round((factor - 1) * 100, 6),
                    "volume_tokens_per_s": context.volume(outcome, pairs),
                    "supplier_revenue_usd": factor * curve.slope(outcome),
                    "total_cost_usd": outcome.objective if outcome.optimal else math.nan,
                    "method": response_method,
                }
            )
        try:
            half = (
                _half_volume(curve, context.held_today(groups[supplier]), response) if up.optimal else (None, None, "")
            )
        except SolveError as error:
            half = (None, None, f"a re-solve failed: {error}")
        try:
            peak = _revenue_peak(curve, response) if up.optimal else (None, None, "")
        except SolveError as error:
            peak = (None, None, f"a re-solve failed: {error}")
        rows.append(
            {
                "dimension": dimension,
                "supplier": supplier,
                "uniform_ceiling_pct": ceiling,
                "uniform_ceiling_moves_pct": moves,
                "uniform_ceiling_method": ceiling_method,
                "half_volume_pct": half[0],
                "half_volume_above_pct": half[1],
                "half_volume_method": half[2],
                "revenue_peak_pct": peak[0],
                "revenue_peak_usd": peak[1],
                "revenue_peak_method": peak[2],
            }
        )
    to_win = prices_to_win(context, dimension, curves)
    return SupplierPrices(
        suppliers=pd.DataFrame(rows, columns=SUPPLIER_PRICE_COLUMNS),
        response=pd.DataFrame(response_rows, columns=RESPONSE_COLUMNS),
        to_win=to_win,
        solves=solves_of(whatif, mip),
    )


def _half_volume(
    curve: PriceCurve, volume_today: float, response: dict[float, Outcome]
) -> tuple[float | None, float | None, str]:
    """Price rise (%) on all the supplier's offers at which its volume falls to half of today's:
    (lowest rise proven at or below half, highest rise proven above half, method).

    Volume is the supplier's price-weighted chip-hours, the handle's value: without spend
    rows moving with the price it is V's slope, so the same at every optimum except at the
    piece ends (``volume_today``: today's plan's; on a tie at today's price V's right slope
    is already lower, and half may be lost on any rise). Served tokens/s are
    not: with whole instances, several optimal plans serve different tokens/s at one cost,
    and the returned plan's tokens/s need not even fall as the price rises.

    Volume is constant on each piece of V, so the answer is a piece end: starting from the
    highest response point still above half (or today's price, tested just beside it: a tie
    can lose everything on any rise), walk the LP's pieces up to the first one at or below
    half. On mixed-integer plans the walk follows the LP of the integer choice optimal at
    the start, and full re-solves on both sides of the piece end confirm it; when they
    disagree the walk restarts from the later point, or bisects on full re-solves.
    """
    if volume_today <= 0:
        return None, None, ""
    target = volume_today / 2

    def volume(outcome: Outcome) -> float:
        return curve.slope(outcome)

    rises = sorted(f for f in response if f > 1)
    first_below = next((f for f in rises if volume(response[f]) <= target), None)
    start = max(
        [f for f in rises if volume(response[f]) > target and (first_below is None or f < first_below)], default=1.0
    )
    outcome = curve.full_at(start * (1 + SIDE_STEP)) if start == 1.0 else response[start]
    if start == 1.0 and volume(outcome) <= target:
        return SIDE_STEP * 100, 0.0, "tie at today's price"
    if curve.mip is None:
        above, below, method = _volume_walk(curve, volume, target, start)
        if below is None:
            return None, None, f"{method}: above half up to +{(HALF_VOLUME_LIMIT - 1) * 100:.0f}%"
        return (below - 1) * 100, (above - 1) * 100, method
    # Mixed-integer: a bracket [a, b] of full re-solves, above half at a, at or below at b.
    a, at_a = start, outcome
    if first_below is None:
        b, at_b = HALF_VOLUME_LIMIT, curve.full_at(HALF_VOLUME_LIMIT)
        if volume(at_b) > target:
            return None, None, f"MIP re-solve: above half up to +{(HALF_VOLUME_LIMIT - 1) * 100:.0f}%"
    else:
        b, at_b = first_below, response[first_below]
    for _ in range(MAX_SWITCHES):
        lp_a = curve.with_integers(at_a.values)
        keep, move, method = _volume_walk(lp_a, volume, target, a, limit=b)
        if move is None and not at_b.optimal:  # no plan at b (hard rules): bisect on full re-solves
            while b - a > RESOLUTION * a:
                middle = (a + b) / 2
                at_middle = curve.full_at(middle)
                if volume(at_middle) > target:
                    a, at_a = middle, at_middle
                else:
                    b, at_b = middle, at_middle
            break
        if move is None:  # a's integer choice holds above half up to b: the switch to b's does it
            keep, move = _switch_point(lp_a, curve.with_integers(at_b.values), a, b)
            method = "integer decisions switch"
        at_keep, at_move = curve.full_at(keep), curve.full_at(move)
        if volume(at_keep) <= target:
            b, at_b = keep, at_keep
        elif volume(at_move) > target:
            a, at_a = move, at_move
        else:
            return (move - 1) * 100, (keep - 1) * 100, f"{method}, confirmed by MIP re-solves"
        if b - a <= RESOLUTION * a:
            break
    return (b - 1) * 100, (a - 1) * 100, "bracket of MIP re-solves"


def _revenue_peak(curve: PriceCurve, response: dict[float, Outcome]) -> tuple[float | None, float | None, str]:
    """(price change %, supplier revenue USD, method) where the supplier's revenue from us,
    factor x V's slope, is highest for a uniform factor from -50% up to +1000%.

    V's slope (the supplier's chip-hours at today's prices) is constant on each piece of
    V, so revenue is linear and rising on a piece and highest at its right end, a
    breakpoint: on an LP the pieces are walked by cost ranging from the first response
    point and each right end is a candidate (method ``breakpoints by ranging``). Where the
    pieces cannot be walked (mixed-integer plans, spend rows moving with the price) the
    response points plus a grid of re-solves past +100% are the candidates (method
    ``grid of re-solves``): a lower bound on the peak, located to the grid. A peak on the
    last piece, which ends beyond the limit, is reported as still rising.
    """
    limit = REVENUE_PEAK_LIMIT
    rising = f"still rising at +{(limit - 1) * 100:.0f}%"
    if curve.mip is None and curve.exact:
        candidates = _piece_right_ends(curve, min(response), limit)
        method = "breakpoints by ranging"
    else:
        grid = dict(response) | {f: curve.full_at(f) for f in BEYOND_GRID if f not in response}
        candidates = [(f, f * curve.slope(o)) for f, o in sorted(grid.items()) if o.optimal]
        method = "grid of re-solves"
    if not candidates:
        return None, None, "no plan meets the hard rules on the range"
    factor, revenue = max(candidates, key=lambda c: (c[1], -c[0]))
    if revenue <= 0:
        return None, None, "no volume on the range"
    if factor >= limit:
        return None, None, rising
    return (factor - 1) * 100, revenue, method


def _piece_right_ends(curve: PriceCurve, start: float, limit: float) -> list[tuple[float, float]]:
    """(right end, revenue there) of each LP piece of V from ``start`` up to ``limit`` (the
    last piece cut at it), by cost ranging; a walk longer than ``MAX_PIECES`` is an error,
    since a partial walk proves no peak."""
    found: list[tuple[float, float]] = []
    price = start
    for _ in range(MAX_PIECES):
        outcome = curve.at(price, ranging=True)
        if not outcome.optimal:  # no plan meets the hard rules from here up
            return found
        assert outcome.cost_range is not None, "an exact curve ranges its outcomes"
        bound = min(outcome.cost_range[1], limit)
        found.append((bound, bound * curve.slope(outcome)))
        if bound >= limit:
            return found
        price = bound * (1 + BEYOND)
    raise SolveError(f"more than {MAX_PIECES} pieces of V below +{(limit - 1) * 100:.0f}%")


def _switch_point(first: PriceCurve, second: PriceCurve, low: float, high: float) -> tuple[float, float]:
    """Bracket (first cheaper, second cheaper) of the price where two integer choices' LPs
    cost the same, ``first`` cheaper at ``low`` and ``second`` at ``high``; to 1e-7."""

    def first_cheaper(price: float) -> bool:
        one, two = first.at(price), second.at(price)
        return not two.optimal or (one.optimal and one.objective <= two.objective)

    while high - low > BEYOND * low:
        middle = (low + high) / 2
        if first_cheaper(middle):
            low = middle
        else:
            high = middle
    return low, high


def _volume_walk(
    curve: PriceCurve, volume, target: float, start: float, limit: float = HALF_VOLUME_LIMIT
) -> tuple[float, float | None, str]:
    """On one LP: (highest price proven above ``target``, lowest proven at or below, method),
    from ``start`` (above target) up; None when still above at ``limit``."""
    outcome = curve.at(start * (1 + SIDE_STEP), ranging=True)
    if volume(outcome) <= target:
        return start, start * (1 + SIDE_STEP), "ranging"
    for _ in range(MAX_PIECES if curve.exact else 0):
        assert outcome.cost_range is not None, "an exact curve ranges its outcomes"
        bound = outcome.cost_range[1]
        if not np.isfinite(bound) or bound > limit:
            return start, None, "ranging"
        beyond = bound * (1 + BEYOND)
        outcome = curve.at(beyond, ranging=True)
        if volume(outcome) <= target:
            return bound, beyond, "ranging"
    found = search_volume(lambda f: volume(curve.at(f)), target, start, limit)
    return (start, None, "bisection") if found is None else (found[0], found[1], "bisection")
