"""How strong is our hand: leverage figures from exact re-solves of a verified plan.

``negotiation`` runs the leverage report (walk-away costs, price ceilings, prices to
win, rule costs, outages, port break-evens); ``price_pieces`` walks a supplier's
piecewise-linear cost as its price changes.
"""
