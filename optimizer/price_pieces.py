"""Where the linear pieces of V(p) end: price ceilings, prices to win, response curves.

V(p) is the optimal total cost when one group of offers (an offer, or every offer of a
supplier) is priced at p, everything else fixed. V is concave and piecewise linear in p;
its slope is the group's (price-weighted) chip-hours. A *price handle* column carries the
group's whole cost, so p is a single cost coefficient of the LP (see
:mod:`optimizer.whatif`), and HiGHS's cost ranging of that column tells how far p can move
before the optimal basis changes.

Method ``ranging`` walks the pieces exactly: solve just beside p, read the ranging bound,
solve just beyond it; if V's slope changed there, the bound is the breakpoint, otherwise
(a degenerate basis change, same slope) walk on from there. Method ``bisection`` is the
fallback when ranging makes no progress: re-solves of V, doubling then halving, until
the breakpoint is bracketed within 0.5%; the bracket's midpoint is reported, so V 0.5%
inside lies on the piece and V 0.5% outside does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .whatif import Change, Outcome, WhatIf

RESOLUTION = 0.005      # bisection closes brackets to 0.5% of the price
SIDE_STEP = 1e-6        # "just beside" a price, relative
BEYOND = 1e-7           # "just beyond" a ranging bound, relative
MAX_PIECES = 60         # pieces walked before falling back to bisection
MAX_DOUBLINGS = 40
# Going left, bisection halves the price at most this often (down to p0 / 1e6). Far below,
# spend rows scaled by the price become noise to HiGHS: entries under 1e-9 are dropped, and
# re-solves mixing dropped and kept entries end in status Unknown.
MAX_HALVINGS = 20


@dataclass
class PieceEnd:
    price: float | None          # None: the piece never ends, or no price wins volume
    method: str


class PriceCurve:
    """V(p) of one price handle on a :class:`WhatIf` copy, anchored at today's optimum V(p0)."""

    def __init__(self, whatif: WhatIf, handle: int, p0: float, v0: float, tolerance: float,
                 links: list[tuple[int, int, float]] | None = None):
        """``links``: (row, column, coefficient) entries of spend rows (budgets, spend
        commitments, spend shares) that are prices of this group: they move with p, which
        a cost ranging cannot follow, so such curves are walked by bisection only."""
        self.whatif = whatif
        self.handle = handle
        self.p0 = p0
        self.v0 = v0
        self.tolerance = tolerance
        self.links = links or []
        self.exact = not self.links

    def at(self, price: float, ranging: bool = False) -> Outcome:
        scale = price / self.p0 if self.p0 else 1.0
        change = Change(cost={self.handle: price},
                        coefficients={(row, col): (value * scale, value) for row, col, value in self.links})
        return self.whatif.solve(change, range_column=self.handle if ranging and self.exact else None)

    def slope(self, outcome: Outcome) -> float:
        """V's slope at an outcome: NaN where the hard rules cannot hold (no plan)."""
        return float(outcome.values[self.handle]) if outcome.optimal else math.nan

    def beside(self, direction: int, ranging: bool = True) -> Outcome:
        """The optimum just right (+1) or left (-1) of p0 (ranged unless told otherwise)."""
        step = SIDE_STEP * max(self.p0, 1e-3)
        return self.at(max(0.0, self.p0 + direction * step), ranging=ranging)

    def _bound(self, outcome: Outcome, direction: int) -> float:
        low, high = outcome.cost_range
        return high if direction > 0 else low

    def _differs(self, slope: float, other: float) -> bool:
        if math.isnan(slope) or math.isnan(other):
            return True
        return abs(slope - other) > 1e-9 * max(1.0, abs(slope)) + 1e-6

    def piece_end(self, start: Outcome, direction: int) -> PieceEnd:
        """End of the piece of ``start`` (an optimum beside p0) going right (+1) or left (-1).

        Going left, the end is the highest price below which the slope rises; going right,
        the lowest price above which it falls. None when the piece never ends (right) or
        reaches price 0 (left).
        """
        slope = self.slope(start)
        if not self.exact:
            return self._confirmed_or_bisected(slope, direction)
        outcome = start
        previous = None
        for _ in range(MAX_PIECES):
            bound = self._bound(outcome, direction)
            if direction > 0 and not math.isfinite(bound):
                return PieceEnd(None, "ranging")
            if direction < 0 and (not math.isfinite(bound) or bound <= 0):
                return self._left_end_near_zero(slope)
            if previous is not None and abs(bound - previous) <= 1e-12 * max(1.0, abs(bound)):
                break  # no progress: a degenerate stall, let bisection decide
            previous = bound
            beyond = bound * (1 + direction * BEYOND) if bound else direction * BEYOND
            outcome = self.at(beyond, ranging=True)
            if self._differs(slope, self.slope(outcome)):
                return PieceEnd(bound, "ranging")
        return self._bisection(slope, direction)

    def _confirmed_or_bisected(self, slope: float, direction: int) -> PieceEnd:
        """With spend rows moving with the price, ranging is only a guess: take the piece end
        the cost alone would give, and keep it if V re-solved 0.5% inside and outside agrees."""
        unlinked = PriceCurve(self.whatif, self.handle, self.p0, self.v0, self.tolerance)
        guess = unlinked.piece_end(unlinked.beside(direction), direction)
        if guess.price is not None and guess.price > 0:
            inside = guess.price * (1 - direction * RESOLUTION)
            outside = guess.price * (1 + direction * RESOLUTION)
            if self.on_piece(inside, slope) and not self.on_piece(outside, slope):
                return PieceEnd(guess.price, "ranging, confirmed by re-solves")
        return self._bisection(slope, direction)

    def _left_end_near_zero(self, slope: float) -> PieceEnd:
        """Ranging says the piece reaches price 0: confirm, or bisect if V bends before."""
        if self.on_piece(0.0, slope):
            return PieceEnd(None, "no volume at any price")
        return self._bisection(slope, -1)

    def on_piece(self, price: float, slope: float) -> bool:
        """V(price) lies on the line through (p0, V(p0)) with ``slope``.

        Without links V is concave, so never above the line. With spend rows moving with
        the price it need not be: V above the line means the piece's plan broke a rule at
        this price (a spend cap, a budget), so the offer's volume moved: off the piece too.
        """
        outcome = self.at(price)
        if not outcome.optimal:
            return False
        line = self.v0 + slope * (price - self.p0)
        above = outcome.objective > line + self.tolerance
        return outcome.objective >= line - self.tolerance and (self.exact or not above)

    def _bisection(self, slope: float, direction: int) -> PieceEnd:
        inside = self.p0
        outside = max(2 * self.p0, 1e-3) if direction > 0 else self.p0 / 2
        for _ in range(MAX_DOUBLINGS if direction > 0 else MAX_HALVINGS):
            if not self.on_piece(outside, slope):
                break
            inside, outside = outside, (2 * outside if direction > 0 else outside / 2)
        else:
            return PieceEnd(None, "bisection")
        while abs(outside - inside) > RESOLUTION * min(inside, outside):
            middle = (inside + outside) / 2
            if self.on_piece(middle, slope):
                inside = middle
            else:
                outside = middle
        return PieceEnd((inside + outside) / 2, "bisection")

    def sweep(self, prices: list[float]) -> list[Outcome]:
        """V at each price (ascending), solving only where the last basis stops being optimal.

        Within a ranging interval the optimal solution is unchanged, so V moves along the
        line and the group's volume and chip-hours stay as they are.
        """
        results: list[Outcome] = []
        current: Outcome | None = None
        anchor = low = high = 0.0
        for price in prices:
            if not self.exact:
                results.append(self.at(price))
                continue
            if current is None or not (low <= price <= high):
                current = self.at(price, ranging=True)
                anchor = price
                low, high = self._bound(current, -1), self._bound(current, +1)
            shift = self.slope(current) * (price - anchor)
            results.append(Outcome(current.optimal, current.objective + shift, current.values))
        return results


def search_volume(volume_at, target: float, start: float, limit: float) -> float | None:
    """Smallest factor f >= start with volume_at(f) <= target, to 0.5%; None beyond ``limit``.

    The fallback of the piece walk: ``volume_at`` is non-increasing in the group's own
    price (V is concave), so a doubling then a bisection brackets the drop.
    """
    low, high = start, start * 1.25
    while volume_at(high) > target:
        low, high = high, high * 2
        if high > limit:
            return None
    while high - low > RESOLUTION * low:
        middle = (low + high) / 2
        if volume_at(middle) > target:
            low = middle
        else:
            high = middle
    return (low + high) / 2
