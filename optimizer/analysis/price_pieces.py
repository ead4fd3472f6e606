"""Where the linear pieces of V(p) end: price ceilings, prices to win, response curves.

V(p) is the optimal total cost when one group of offers (an offer, or every offer of a
supplier) is priced at p, everything else fixed. V is concave and piecewise linear in p;
its slope is the group's (price-weighted) chip-hours. A *price handle* column carries the
group's whole cost, so p is a single cost coefficient of the LP (see
:mod:`optimizer.solver.whatif`), and HiGHS's cost ranging of that column tells how far p can move
before the optimal basis changes.

Method ``ranging`` walks the pieces exactly: solve just beside p, read the ranging bound,
solve just beyond it; if V's slope changed there, the bound is the breakpoint, otherwise
(a degenerate basis change, same slope) walk on from there. Method ``bisection`` is the
fallback when ranging makes no progress: re-solves of V, doubling then halving, until
the breakpoint is bracketed within 0.5%. Every piece end carries its bracket: ``keep``,
the price farthest from p0 proven on the piece (V re-solved there lies on the piece's
line), and ``move``, the nearest price proven off it; a ceiling is reported as ``keep``,
a price to win as ``move`` (never a midpoint).

Mixed-integer plans. V(p) is the optimal cost with every decision free, integer ones
included: V(p) = min over integer choices z of V_z(p), where V_z is the LP with the
integers fixed at z, concave and piecewise linear in p. V is concave too, so the set of
prices where V lies on the line of today's piece is an interval from p0, and one full
(MIP) re-solve at a price proves the whole stretch back to p0. The pieces of V_z0 (today's
integer choice) give the candidate end; a MIP re-solve at its ``keep`` confirms it
(method suffix ``confirmed by MIP re-solves``). When the MIP finds a cheaper integer choice
z1 there, z1's plan is below the line, so V leaves the piece earlier: where V_z1 crosses
the line, found by Newton steps on z1's LP (V_z1 minus the line is concave, so the steps
approach the crossing from the far side and stop on it), is the next candidate, confirmed
the same way (method ``integer decisions switch, confirmed by MIP re-solves``). Below the
line, V_z0 proves V off the piece too (V <= V_z0); with spend rows moving with the price
V_z0 need not be concave and may leave the line upwards, so there a MIP re-solve at
``move`` confirms that side as well, and when V is still on the line the end is searched
on MIP re-solves (method ``bisection on MIP re-solves``).
Worked example (tests/test_leverage.py, "a port that switches"): o1 (a, 2 USD) serves 1000
tok/s for four quarters; porting to chip b (o2 at 1 USD, 80,000 USD, one quarter) is not
chosen. Today's LP piece of o2 says "no volume at any price"; the MIP at price 0 ports
(cost 43,800 + 80,000 < 175,200), and z1's line 43,800 + 80,000 + 3 x 1000 x 21.9 p crosses
175,200 at p = 0.7823: o2's price to win.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optimizer.errors import SolveError
from optimizer.solver.whatif import Change, Outcome, WhatIf

RESOLUTION = 0.005  # bisection closes brackets to 0.5% of the price
SIDE_STEP = 1e-6  # "just beside" a price, relative
CONFIRM_STEP = 1e-5  # first bracket tried around a guessed piece end (then RESOLUTION)
BEYOND = 1e-7  # "just beyond" a ranging bound, relative
MAX_PIECES = 60  # pieces walked before falling back to bisection
MAX_DOUBLINGS = 40
# Two optima that differ by less than this (relative) are equal to rounding. A secant over
# CONFIRM_STEP of such a pair is noise x 1e5 (bundled-size costs: 5e-10 USD / 1e-5 gave a
# slope of 5e-5, a line 0.003 USD off V at 65 x the price), so the slope is taken as 0.
FLOAT_NOISE = 1e-12
# Going left, bisection halves the price at most this often (down to p0 / 1e6). Far below,
# spend rows scaled by the price become noise to HiGHS: entries under 1e-9 are dropped, and
# re-solves mixing dropped and kept entries end in status Unknown.
MAX_HALVINGS = 20
# Entries of a spend row scale with the price (price x hours / the row's amount): a search
# never goes below the price where the smallest would be 100 x HiGHS's smallest matrix
# value (``solver.highs.SMALL_MATRIX_VALUE``), below which HiGHS drops it as zero and V is off by
# the spend it no longer counts (a few cents on a 10 M USD commitment, enough to fake a
# "price to win" at 5e-6 USD per chip-hour).
SMALLEST_ENTRY = 1e-10


FAR_FACTOR = 100.0  # a piece that never ends is checked by a MIP re-solve at 100 x p0
MAX_SWITCHES = 8  # integer choices tried, each cheaper than the last at its check
MAX_NEWTON = 30  # Newton steps on one integer choice's LP (each lands on a new piece)


@dataclass
class PieceEnd:
    price: float | None  # None: the piece never ends, or no price wins volume
    method: str
    keep: float | None = None  # farthest price from p0 proven on the piece
    move: float | None = None  # nearest price proven off it (None: none found)

    @classmethod
    def bracketed(cls, keep: float | None, move: float | None, direction: int, method: str) -> PieceEnd:
        """The figure to report from a bracket: a ceiling (right) is the price proven to keep
        the volume, a price to win (left) the price proven to gain it."""
        return cls(keep if direction > 0 else move, method, keep, move)


class PriceCurve:
    """V(p) of one price handle on a :class:`WhatIf` copy, anchored at today's optimum V(p0)."""

    def __init__(
        self,
        whatif: WhatIf,
        handle: int,
        p0: float,
        v0: float,
        tolerance: float,
        links: list[tuple[int, int, float]] | None = None,
        mip=None,
        fixed: dict[int, tuple[float, float]] | None = None,
    ):
        """``links``: (row, column, coefficient) entries of spend rows (budgets, spend
        commitments, spend shares) that are prices of this group: they move with p, which
        a cost ranging cannot follow, so such curves are walked by bisection only.
        ``mip``: for mixed-integer plans, a :class:`MipWhatIf` carrying the same handle, for
        the full re-solves that confirm each piece end (``whatif`` is then the LP with the
        integer decisions held); ``fixed``: column bounds holding those decisions at
        another integer choice (the curve V_z of that choice)."""
        self.whatif = whatif
        self.handle = handle
        self.p0 = p0
        self.v0 = v0
        self.tolerance = tolerance
        self.links = links or []
        self.exact = not self.links
        self.mip = mip
        self.fixed = fixed or {}
        # Below this price a spend row's entry of the group falls under HiGHS's smallest
        # matrix value and is dropped as zero: V is not known there (see SMALLEST_ENTRY).
        smallest = min((abs(value) for _, _, value in self.links if value), default=0.0)
        self.floor = p0 * SMALLEST_ENTRY / smallest if smallest else 0.0

    def _change(self, price: float) -> Change:
        scale = price / self.p0 if self.p0 else 1.0
        return Change(
            cost={self.handle: price},
            col_bounds=dict(self.fixed),
            coefficients={(row, col): (value * scale, value) for row, col, value in self.links},
        )

    def at(self, price: float, ranging: bool = False) -> Outcome:
        return self.whatif.solve(self._change(price), range_column=self.handle if ranging and self.exact else None)

    def full_at(self, price: float) -> Outcome:
        """V(price) of the full problem, integer decisions free (the LP itself without ``mip``)."""
        if self.mip is None:
            return self.at(price)
        return self.mip.solve(self._change(price))

    def with_integers(self, values: np.ndarray) -> PriceCurve:
        """The curve V_z of the integer choice in ``values`` (a full solution)."""
        columns = self.mip.integers
        fixed = {int(c): (float(v), float(v)) for c, v in zip(columns, np.round(values[columns]), strict=True)}
        return PriceCurve(self.whatif, self.handle, self.p0, self.v0, self.tolerance, self.links, self.mip, fixed)

    def slope(self, outcome: Outcome) -> float:
        """V's slope at an outcome: NaN where the hard rules cannot hold (no plan)."""
        return float(outcome.values[self.handle]) if outcome.optimal else math.nan

    def line_slope(self, start: Outcome, direction: int) -> float:
        """Slope of today's piece of V beside p0 (``start``: the optimum just beside it).

        Without spend rows moving with the price it is the handle's value, the group's
        price-weighted chip-hours (V's slope). With them it is not: a binding spend share
        (or budget) makes other spend move with the group's price, so V's own slope is
        taken, a secant of the LP over CONFIRM_STEP beside p0. The piece is then where V
        stays on that line: the group's chip-hours need not be unique there (several plans
        cost the same), nor even fixed by V, so they are not what decides.
        """
        if self.exact or not start.optimal:
            return self.slope(start)
        price = max(0.0, self.p0 + direction * CONFIRM_STEP * max(self.p0, 1e-3))
        anchor, near = self.at(self.p0), self.at(price)
        if price == self.p0 or not (anchor.optimal and near.optimal):
            return self.slope(start)
        rise = near.objective - anchor.objective
        if abs(rise) <= FLOAT_NOISE * max(1.0, abs(anchor.objective)):
            return 0.0  # V flat to rounding: the secant of two equal optima would be noise / step
        return rise / (price - self.p0)

    def beside(self, direction: int, ranging: bool = True) -> Outcome:
        """The optimum just right (+1) or left (-1) of p0 (ranged unless told otherwise)."""
        step = SIDE_STEP * max(self.p0, 1e-3)
        return self.at(max(0.0, self.p0 + direction * step), ranging=ranging)

    def _bound(self, outcome: Outcome, direction: int) -> float:
        assert outcome.cost_range is not None, "piece ends are walked on ranged outcomes (exact curves)"
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
        if not self.exact:
            return self._confirmed_or_bisected(self.line_slope(start, direction), direction)
        slope = self.slope(start)
        outcome = start
        previous = None
        for _ in range(MAX_PIECES):
            bound = self._bound(outcome, direction)
            if direction > 0 and not math.isfinite(bound):
                return PieceEnd(None, "ranging", None, None)
            if direction < 0 and (not math.isfinite(bound) or bound <= 0):
                return self._left_end_near_zero(slope)
            if previous is not None and abs(bound - previous) <= 1e-12 * max(1.0, abs(bound)):
                break  # no progress: a degenerate stall, let bisection decide
            previous = bound
            beyond = bound * (1 + direction * BEYOND) if bound else direction * BEYOND
            outcome = self.at(beyond, ranging=True)
            if self._differs(slope, self.slope(outcome)):
                return PieceEnd(bound, "ranging", bound, beyond)
        return self._bisection(slope, direction)

    def _confirmed_or_bisected(self, slope: float, direction: int) -> PieceEnd:
        """With spend rows moving with the price, ranging is only a guess: take the piece end
        the cost alone would give, and keep it if V re-solved 1e-5 (else 0.5%) inside and
        outside agrees."""
        unlinked = PriceCurve(self.whatif, self.handle, self.p0, self.v0, self.tolerance, fixed=self.fixed)
        guess = unlinked.piece_end(unlinked.beside(direction), direction)
        if guess.price is not None and guess.price > 0:
            for width in (CONFIRM_STEP, RESOLUTION):  # the tightest bracket that holds
                inside = guess.price * (1 - direction * width)
                outside = guess.price * (1 + direction * width)
                if self.on_piece(inside, slope) and not self.on_piece(outside, slope):
                    inside, outside = self._closed(slope, inside, outside)
                    return PieceEnd.bracketed(inside, outside, direction, "ranging, confirmed by re-solves")
        return self._bisection(slope, direction)

    def _closed(self, slope: float, inside: float, outside: float) -> tuple[float, float]:
        """A bracket (on the piece, off it) narrowed by bisection to CONFIRM_STEP of the price:
        the reported end is then the piece's own, not a bracket's edge up to 1% from it."""
        while abs(outside - inside) > 2 * CONFIRM_STEP * max(min(inside, outside), 1e-3 * self.p0):
            middle = (inside + outside) / 2
            if self.on_piece(middle, slope):
                inside = middle
            else:
                outside = middle
        return inside, outside

    def _left_end_near_zero(self, slope: float) -> PieceEnd:
        """Ranging says the piece reaches price 0: confirm, or bisect if V bends before."""
        if self.on_piece(0.0, slope):
            return PieceEnd(None, "no volume at any price", 0.0, None)
        return self._bisection(slope, -1)

    def on_piece(self, price: float, slope: float) -> bool:
        """V(price) lies on the line through (p0, V(p0)) with ``slope``.

        Without links V is concave, so never above the line. With spend rows moving with
        the price it need not be, and V's slope is not the group's volume: on the piece
        means V on the line of :meth:`line_slope`, neither above nor below it.
        """
        return self._on_line(self.at(price), price, slope)

    def _on_line(self, outcome: Outcome, price: float, slope: float) -> bool:
        """``outcome`` (at ``price``) lies on the line of today's piece (see :meth:`on_piece`)."""
        if not outcome.optimal:
            return False
        line = self.v0 + slope * (price - self.p0)
        tolerance = self.tolerance * max(1.0, abs(line) / max(1.0, abs(self.v0)))  # relative to V there
        return outcome.objective >= line - tolerance and (self.exact or outcome.objective <= line + tolerance)

    def confirmed(self, slope: float, direction: int, end: PieceEnd) -> PieceEnd:
        """``end``, the piece end of the LP with integer decisions held, answered for the
        full problem (module docstring, "Mixed-integer plans"); unchanged without ``mip``."""
        if self.mip is None:
            return end
        try:
            return self._confirmed(slope, direction, end)
        except SolveError as error:
            return PieceEnd(
                end.price, f"{end.method}; a MIP re-solve failed ({error}): LP with integers held", end.keep, end.move
            )

    def _confirmed(self, slope: float, direction: int, end: PieceEnd) -> PieceEnd:
        switched = False
        for _ in range(MAX_SWITCHES):
            if end.keep is None or (end.price is None and direction > 0):
                inside = self.p0 * FAR_FACTOR if direction > 0 else 0.0
            else:
                inside = end.keep
            outcome = self.full_at(inside)
            if self._on_line(outcome, inside, slope):
                method = ("integer decisions switch" if switched else end.method) + ", confirmed by MIP re-solves"
                if end.price is None and end.move is None:
                    return PieceEnd(None, method, inside, None)
                if self.exact or end.move is None or not self._on_line(self.full_at(end.move), end.move, slope):
                    return PieceEnd.bracketed(inside, end.move, direction, method)
                # With spend rows moving with the price V_z0 need not be concave: off its line
                # it may lie above it, and another integer choice keep V on the line.
                return self._mip_search(slope, direction, end.move)
            if not outcome.optimal:
                return PieceEnd(None, f"{end.method}; the MIP re-solve found no plan", None, None)
            switched = True
            other = self.with_integers(outcome.values)
            if not self.exact:
                return self._mip_bisection(slope, direction, inside)
            crossing, below = other._crossing(slope, direction, inside)
            if crossing is None:
                return self._mip_bisection(slope, direction, inside)
            keep = crossing * (1 - direction * SIDE_STEP)
            if direction * (keep - self.p0) <= 0:
                return PieceEnd.bracketed(
                    self.p0,
                    below,
                    direction,
                    "tie at today's price: integer decisions switch, confirmed by MIP re-solves",
                )
            end = PieceEnd(keep, "integer decisions switch", keep, below)
        return PieceEnd(None, "unresolved: integer decisions keep switching", None, end.move)

    def _crossing(self, slope: float, direction: int, start: float) -> tuple[float | None, float]:
        """Where this integer choice's V_z, below today's line at ``start``, meets the line
        on the way back to p0 (Newton steps on the concave V_z minus the line), and the
        nearest price beyond it proven below the line. (None, start) when the steps stall."""

        def gap(outcome: Outcome, price: float) -> float:
            return outcome.objective - (self.v0 + slope * (price - self.p0))

        price, outcome, below = start, self.at(start), start
        for _ in range(MAX_NEWTON):
            if not outcome.optimal:
                return None, below
            f = gap(outcome, price)
            if f >= -self.tolerance:
                break
            below = price
            rate = self.slope(outcome) - slope
            if direction * rate >= 0:  # no progress toward p0: not concave here
                return None, below
            price = price - f / rate
            if direction * (price - self.p0) <= 0:
                price = self.p0
            outcome = self.at(price)
        else:
            return None, below
        # The nearest price beyond the crossing where this plan is proven below the line.
        rate = abs(self.slope(outcome) - slope) if outcome.optimal else 0.0
        step = max(SIDE_STEP * max(price, 1e-3), 4 * self.tolerance / rate if rate > 0 else 0.0)
        near = price + direction * step
        if direction * (near - below) < 0 and near >= 0:
            tried = self.at(near)
            if tried.optimal and gap(tried, near) < -self.tolerance:
                below = near
        return price, below

    def _mip_search(self, slope: float, direction: int, inside: float) -> PieceEnd:
        """The piece end beyond ``inside`` (proven on the piece by a full re-solve), on full
        re-solves: its distance from p0 doubled until off the piece, then bisection."""
        for _ in range(MAX_DOUBLINGS if direction > 0 else MAX_HALVINGS):
            outside = max(0.0, self.p0 + 2 * (inside - self.p0))
            if direction < 0 and outside < self.floor:
                return PieceEnd(None, f"MIP re-solves: no volume won down to {self.floor:.3g}", inside, None)
            if not self._on_line(self.full_at(outside), outside, slope):
                return self._mip_bisection(slope, direction, outside, inside)
            if outside == 0.0:
                return PieceEnd(None, "no volume at any price, MIP re-solves", 0.0, None)
            inside = outside
        return PieceEnd(None, "MIP re-solves: the piece does not end", inside, None)

    def _mip_bisection(self, slope: float, direction: int, outside: float, inside: float | None = None) -> PieceEnd:
        """Bisection on full re-solves between ``inside`` (p0 unless given; on the piece) and
        ``outside`` (off it)."""
        inside = self.p0 if inside is None else inside
        while abs(outside - inside) > RESOLUTION * max(min(inside, outside), 1e-3 * self.p0):
            middle = (inside + outside) / 2
            if self._on_line(self.full_at(middle), middle, slope):
                inside = middle
            else:
                outside = middle
        return PieceEnd.bracketed(inside, outside, direction, "bisection on MIP re-solves")

    def _bisection(self, slope: float, direction: int) -> PieceEnd:
        inside = self.p0
        outside = max(2 * self.p0, 1e-3) if direction > 0 else self.p0 / 2
        for _ in range(MAX_DOUBLINGS if direction > 0 else MAX_HALVINGS):
            if direction < 0 and outside < self.floor:
                return PieceEnd(None, f"bisection: no volume won down to {self.floor:.3g}", inside, None)
            if not self.on_piece(outside, slope):
                break
            inside, outside = outside, (2 * outside if direction > 0 else outside / 2)
        else:
            return PieceEnd(None, "bisection", inside, None)
        while abs(outside - inside) > RESOLUTION * min(inside, outside):
            middle = (inside + outside) / 2
            if self.on_piece(middle, slope):
                inside = middle
            else:
                outside = middle
        return PieceEnd.bracketed(inside, outside, direction, "bisection")

    def sweep_full(self, prices: list[float]) -> list[Outcome]:
        """V of the full problem at each price (ascending), each a full re-solve or proven by two.

        When the plan optimal at one price costs, at a later price, what the full re-solve
        there finds, it is optimal at both, and (V concave, that plan's cost linear) at every
        price between: those points are read off it, not re-solved.
        """
        if self.mip is None or not self.exact:
            return [self.full_at(price) for price in prices]
        found: dict[int, Outcome] = {}

        def fill(i: int, j: int) -> None:
            if j - i < 2:
                return
            a, b = found[i], found[j]
            if a.optimal and b.optimal:
                shift = self.slope(a) * (prices[j] - prices[i])
                if abs(a.objective + shift - b.objective) <= self.tolerance:
                    for k in range(i + 1, j):
                        found[k] = Outcome(True, a.objective + self.slope(a) * (prices[k] - prices[i]), a.values)
                    return
            middle = (i + j) // 2
            found[middle] = self.full_at(prices[middle])
            fill(i, middle)
            fill(middle, j)

        if prices:
            found[0] = self.full_at(prices[0])
            found[len(prices) - 1] = self.full_at(prices[-1]) if len(prices) > 1 else found[0]
            fill(0, len(prices) - 1)
        return [found[k] for k in range(len(prices))]

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


def search_volume(volume_at, target: float, start: float, limit: float) -> tuple[float, float] | None:
    """The bracket (highest factor proven above ``target``, lowest proven at or below it) of
    the drop past ``start``, to 0.5%; None beyond ``limit``.

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
    return low, high
