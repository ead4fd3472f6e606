"""Small mixed-integer instances for the re-solve audit (tests/test_leverage_audit.py).

:func:`mip_cases` draws an instance of :func:`instances.instances` and makes it a MIP:
some (model, accelerator) pairs need a port (``port_usd`` and/or ``port_quarters`` on
their performance row: binary porting decisions, always), some offers come in whole
instances (``chips_per_instance``, which bind only when solved with ``integer``). Port
costs are drawn on the scale of the instances' costs (up to a million USD) and a ported
pair serves up to ten times faster, so that ports are sometimes chosen, sometimes not, and
sometimes switch when a price moves. Some offers' ``max_chips`` are cut to a twentieth,
so that capacity binds and has a value. Some instances owe a provider a spend commitment
over the horizon: spend rows that move with the prices, so V's slope is not the volume
and the LP with integer decisions held need not be concave in a price (the bundled data's
Azure and GCP commitments). Some give an on-demand offer volume price tiers (all-units or
incremental breaks at a share of its max_chips), some a provider minimum-spend discount
levels over the horizon.

Returns (Case, integer). Nothing here imports the optimizer package.
"""

from __future__ import annotations

from hypothesis import strategies as st
from instances import Case, instances

PORT_USD = [0.0, 50.0, 500.0, 5_000.0, 50_000.0, 1_000_000.0]
INSTANCE_SIZES = [1.0, 2.0, 4.0, 8.0, 0.5]
SPEND_USD = [1e3, 1e5, 1e6, 1e7]


@st.composite
def mip_cases(draw, max_offers: int = 4) -> tuple[Case, bool]:
    case = draw(instances(max_offers=max_offers))
    ports = 0
    for row in case.tables["performance"]:
        if draw(st.integers(0, 2)) == 0:
            row["port_usd"] = draw(st.sampled_from(PORT_USD))
            row["port_quarters"] = draw(st.integers(0, 2))
            # a port worth considering: the ported chip serves several times faster
            row["tokens_per_s_per_chip"] = round(row["tokens_per_s_per_chip"] * draw(st.sampled_from([1, 4, 10])), 1)
            if row["port_usd"] == 0 and row["port_quarters"] == 0:
                row["port_quarters"] = 1
            ports += 1
        else:
            row["port_usd"], row["port_quarters"] = None, None
    if ports == 0:  # every example a MIP: the first pair needs porting
        first = case.tables["performance"][0]
        first["port_usd"], first["port_quarters"] = draw(st.sampled_from(PORT_USD[1:])), draw(st.integers(0, 1))
    integer = draw(st.booleans())
    for row in case.tables["offers"]:
        if draw(st.integers(0, 2)) == 0:  # scarce capacity: max_chips binds, capacity values appear
            for chips in [row] + [q for q in case.tables["offer_quarters"] if q["offer"] == row["offer"]]:
                for column in ("max_chips", "min_chips"):  # scaled together: min <= max still holds
                    if chips.get(column) is not None:
                        chips[column] = chips[column] / 20
        row["chips_per_instance"] = draw(st.sampled_from(INSTANCE_SIZES)) if draw(st.booleans()) else None
    if draw(st.integers(0, 2)) == 0:
        horizon = sorted({w["quarter"] for w in case.tables["workloads"]})
        provider = draw(st.sampled_from(sorted({o["provider"] for o in case.tables["offers"]})))
        case.tables["spend_commitments"] = [
            {"provider": provider, "first": horizon[0], "last": horizon[-1], "usd": draw(st.sampled_from(SPEND_USD))}
        ]
    if draw(st.integers(0, 2)) == 0:  # volume price tiers on an on-demand offer: binaries too
        tiers = price_tiers(draw, case)
        if tiers:
            case.tables["price_tiers"] = tiers
    if draw(st.integers(0, 2)) == 0:  # a minimum-spend discount: its levels' binaries and rebate columns
        horizon = sorted({w["quarter"] for w in case.tables["workloads"]})
        provider = draw(st.sampled_from(sorted({o["provider"] for o in case.tables["offers"]})))
        levels = sorted(draw(st.lists(st.sampled_from(SPEND_USD), min_size=1, max_size=2, unique=True)))
        case.tables["spend_discounts"] = [
            {"provider": provider, "first": horizon[0], "last": horizon[-1], "from_usd": usd, "discount": rate}
            for usd, rate in zip(levels, [0.05, 0.2], strict=False)
        ]
    if draw(st.integers(0, 3)) == 0:  # present value: the audit's re-solves count discounted costs too
        case.policy["discount_rate_per_year"] = draw(st.sampled_from([0.08, 0.35]))
    return case, integer


def price_tiers(draw, case: Case) -> list[dict]:
    """One or two price breaks on one on-demand offer: from a share of its max_chips, at
    falling prices for all_units (the contract's rule), falling or rising for incremental."""
    offers = case.tables["offers"]
    on_demand = [o for o in offers if (o.get("term") or "on-demand") == "on-demand" and o["max_chips"] > 0.02]
    if not on_demand:
        return []
    chosen = draw(st.sampled_from(on_demand))
    kind = draw(st.sampled_from(["all_units", "incremental"]))
    shares = sorted(draw(st.lists(st.sampled_from([0.05, 0.2, 0.5]), min_size=1, max_size=2, unique=True)))
    factors = [0.9, 0.75] if kind == "all_units" else draw(st.sampled_from([[0.85, 0.7], [1.1, 1.3], [0.8, 1.2]]))
    # all_units breaks lower the price in every quarter: below the offer's lowest override too
    overrides = [q["usd_per_chip_hour"] for q in case.tables["offer_quarters"] if q["offer"] == chosen["offer"]]
    lowest = min([chosen["usd_per_chip_hour"], *(p for p in overrides if p is not None)])
    base = lowest if kind == "all_units" else chosen["usd_per_chip_hour"]
    return [
        {
            "offer": chosen["offer"],
            "quarter": None,
            "from_chips": round(share * chosen["max_chips"], 3),
            "usd_per_chip_hour": round(base * factor, 4),
            "kind": kind,
        }
        for share, factor in zip(shares, factors, strict=False)
    ]
