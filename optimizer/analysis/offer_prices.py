"""Per offer: how far can its price rise before it loses volume (its price ceiling), or
how far must it fall to win some (its price to win)?"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from optimizer.analysis.context import Context, price_curve, price_handles, solves_of
from optimizer.analysis.price_pieces import SIDE_STEP


@dataclass(frozen=True)
class OfferPrices:
    table: pd.DataFrame  # offer_prices.csv
    solves: int


def price_offers(context: Context) -> OfferPrices:
    """Price ceiling or price to win of every offer, with chip-hours held and at risk.

    Each figure is a bracket: ``proven_keep`` is the price farthest from today's proven to
    leave the offer's volume as it is, ``proven_move`` the nearest proven to move it. The
    ceiling is the proven-keep price, the price to win the proven-move price. On
    mixed-integer plans the LP with integer decisions held finds the candidate and full
    re-solves confirm it (:meth:`PriceCurve.confirmed`); ``chip_hours_at_risk`` is read
    from that LP.
    """
    offers = context.plan.inputs.offers.set_index("offer")
    groups = {offer: [offer] for offer in sorted(set(context.terms["offer"]))}
    p0 = {o: float(offers.loc[o, "usd_per_chip_hour"]) for o in groups}
    # The handle's cost is the offer's price; each cost column weighs in by its cost / price
    # (hours, term length, and quarter prices relative to the offer's), so the handle's value
    # is V's slope: the chip-hours the offer sells, price-weighted.
    whatif, mip, handles, minimum = price_handles(context, groups, p0)
    terms_of = context.terms_of("offer")
    records = []
    for offer in sorted(groups):
        terms = terms_of[offer]
        curve = price_curve(context, whatif, handles[offer], [offer], p0[offer], mip)
        up = curve.beside(+1)
        holds = context.holds(curve.slope(up), minimum[offer])
        down = curve.beside(-1, ranging=not holds)
        ceiling = to_win = keep = move = None
        if not up.optimal:  # spend shares with take-or-pay: a dearer offer breaks a hard rule
            ceiling, method = p0[offer], "any price rise breaks a hard rule"
            keep = p0[offer]
        elif holds:
            end = curve.confirmed(curve.line_slope(up, +1), +1, curve.piece_end(up, +1))
            ceiling, method, keep, move = end.price, end.method, end.keep, end.move
        elif context.holds(curve.slope(down), minimum[offer]):
            # any cut wins the volume at risk (today's integer choice proves it)
            to_win, method = p0[offer], "tie at today's price"
            keep, move = p0[offer], p0[offer] * (1 - SIDE_STEP)
        else:
            end = curve.confirmed(curve.line_slope(down, -1), -1, curve.piece_end(down, -1))
            to_win, method, keep, move = end.price, end.method, end.keep, end.move
            if minimum[offer] > 0:
                method = f"take-or-pay; price to win by {method}"
        row = offers.loc[offer]
        records.append(
            {
                "offer": offer,
                "provider": row["provider"],
                "accelerator": row["accelerator"],
                "usd_per_chip_hour": p0[offer],
                "chip_hours": float(context.y_today[terms].sum() * context.hours),
                "chip_hours_at_risk": (
                    max(0.0, context.chip_hours(down, terms) - context.chip_hours(up, terms))
                    if up.optimal and down.optimal
                    else None
                ),
                "price_ceiling_usd_per_chip_hour": ceiling,
                "price_to_win_usd_per_chip_hour": to_win,
                "ceiling_pct": _percent(ceiling, p0[offer]),
                "price_to_win_pct": _percent(to_win, p0[offer]),
                "proven_keep_usd_per_chip_hour": keep,
                "proven_move_usd_per_chip_hour": move,
                "method": method,
                "rests_on_assumption": offer in context.assumed,
            }
        )
    columns = [
        "offer",
        "provider",
        "accelerator",
        "usd_per_chip_hour",
        "chip_hours",
        "chip_hours_at_risk",
        "price_ceiling_usd_per_chip_hour",
        "price_to_win_usd_per_chip_hour",
        "ceiling_pct",
        "price_to_win_pct",
        "proven_keep_usd_per_chip_hour",
        "proven_move_usd_per_chip_hour",
        "method",
        "rests_on_assumption",
    ]
    return OfferPrices(pd.DataFrame(records, columns=columns), solves_of(whatif, mip))


def _percent(price: float | None, today: float) -> float | None:
    return None if price is None or today <= 0 else (price / today - 1) * 100
