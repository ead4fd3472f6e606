"""Where the linear pieces of V(p) end: price ceilings and prices to win.

V(p) is the optimal total cost when one group of offers (an offer, or all offers of a
supplier) is priced at p, everything else fixed. V is concave and piecewise linear in p,
its slope is the group's (price-weighted) chip-hours. A *price handle* column carries the
group's whole cost, so p is one cost coefficient of the LP (see :mod:`optimizer.whatif`).

Two methods, and the report says which one gave each number:
- ``ranging``: HiGHS's cost ranging of the handle, at an optimum just beside p0 (so the
  basis is the one of the piece on that side). Accepted only when V re-solved 0.5% inside
  and 0.5% outside the reported end confirms it: at a degenerate optimum the basis can
  change while V's slope does not, and then ranging stops short.
- ``bisection``: re-solves of V, doubling then halving, until the end is bracketed within
  0.5%; the midpoint of the bracket is reported, so V 0.5% inside is on the piece and
  V 0.5% outside is off it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .whatif import Change, Outcome, WhatIf

RESOLUTION = 0.005      # brackets are closed to 0.5% of the price
SIDE_STEP = 1e-6        # "just beside p0", relative
MAX_DOUBLINGS = 40


@dataclass
class PieceEnd:
    price: float | None          # None: the piece never ends (unbounded) or no price wins
    method: str


class PriceCurve:
    """V(p) of one price handle on a :class:`WhatIf` copy, with today's optimum V(p0)."""

    def __init__(self, whatif: WhatIf, handle: int, p0: float, v0: float, tolerance: float):
        self.whatif = whatif
        self.handle = handle
        self.p0 = p0
        self.v0 = v0
        self.tolerance = tolerance

    def at(self, price: float) -> Outcome:
        return self.whatif.solve(Change(cost={self.handle: price}))

    def slope_at(self, outcome: Outcome) -> float:
        return float(outcome.values[self.handle])

    def beside(self, direction: int) -> Outcome:
        """The optimum just right (+1) or left (-1) of p0, with HiGHS's cost ranging there."""
        step = SIDE_STEP * max(self.p0, 1e-3)
        price = max(0.0, self.p0 + direction * step)
        return self.whatif.solve(Change(cost={self.handle: price}), ranging=True)

    def on_piece(self, price: float, slope: float) -> bool:
        """V(price) lies on the line through (p0, V(p0)) with ``slope``."""
        outcome = self.at(price)
        if not outcome.optimal:
            return False
        line = self.v0 + slope * (price - self.p0)
        return outcome.objective >= line - self.tolerance

    def ceiling(self, slope: float, candidate: float) -> PieceEnd:
        """End of the piece starting at p0 to the right, with the piece's ``slope``."""
        if math.isfinite(candidate) and candidate > self.p0 * (1 + RESOLUTION):
            if self.on_piece(candidate * (1 - RESOLUTION), slope) and not self.on_piece(
                candidate * (1 + RESOLUTION), slope
            ):
                return PieceEnd(candidate, "ranging")
        low, high = self.p0, max(2 * self.p0, 1e-3)
        for _ in range(MAX_DOUBLINGS):
            if not self.on_piece(high, slope):
                break
            low, high = high, 2 * high
        else:
            return PieceEnd(None, "bisection")
        return PieceEnd(self._bisect(inside=low, outside=high, slope=slope), "bisection")

    def floor(self, slope: float, candidate: float) -> PieceEnd:
        """Start of the piece ending at p0 from the left: below it the group gains volume."""
        if math.isfinite(candidate) and 0 < candidate < self.p0 * (1 - RESOLUTION):
            if self.on_piece(candidate * (1 + RESOLUTION), slope) and not self.on_piece(
                candidate * (1 - RESOLUTION), slope
            ):
                return PieceEnd(candidate, "ranging")
        if self.on_piece(0.0, slope):
            return PieceEnd(None, "no volume at any price")
        high, low = self.p0, self.p0 / 2
        while self.on_piece(low, slope):
            high, low = low, low / 2
        return PieceEnd(self._bisect(inside=high, outside=low, slope=slope), "bisection")

    def _bisect(self, inside: float, outside: float, slope: float) -> float:
        """Close the bracket (inside on the piece, outside off it) to RESOLUTION; its midpoint."""
        while abs(outside - inside) > RESOLUTION * min(inside, outside):
            middle = (inside + outside) / 2
            if self.on_piece(middle, slope):
                inside = middle
            else:
                outside = middle
        return (inside + outside) / 2


def search_volume(volume_at: Callable[[float], float], target: float, start: float, limit: float) -> float | None:
    """Smallest factor f >= start with volume_at(f) <= target, to 0.5%; None if beyond ``limit``.

    ``volume_at`` is non-increasing in the group's own price factor (V is concave).
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
