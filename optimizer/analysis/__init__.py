"""How strong is our hand: leverage figures from exact re-solves of a verified plan.

``negotiation`` runs the leverage report: one module per analysis (``walk_away``,
``offer_prices``, ``supplier_prices``, ``capacity``, ``rules``, ``outage``,
``port_break_even``), each reading one plan's index sets from ``context``;
``price_pieces`` walks a supplier's piecewise-linear cost as its price changes.
"""
