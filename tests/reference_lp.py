"""The tests' reference formulation: the data contract's LP written from its text alone.

It reads the contract's "Formulation" section literally, from the raw rows of a
generated input folder (never from the optimizer package: ``test_reference_is_independent``
imports this module with the package blocked), builds the LP as scipy.sparse matrices in
plain loops (share rows written densely over the quarter's x or y, no auxiliary
variables for them; moving as one on and one off column per model, group and quarter,
whatever their cost) and solves it with scipy's ``linprog`` (HiGHS interior point with crossover,
where the tool uses dual simplex; dual simplex only when interior point reports
numerical trouble). ``test_crosscheck.py`` holds the tool to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_array

if TYPE_CHECKING:
    from instances import Case

DIMENSIONS = ("provider", "vendor", "region", "offer")  # the contract's share dimensions
HOURS_PER_QUARTER = 2190.0
LATENCY_SLACK_MS = 1e-9  # contract: rtt + ttft <= slo + 1e-9
ACTIVE = 1e-6  # a bound or row counts as binding within this (reporting only)


@dataclass
class Reference:
    """The reference's verdict: status, optimal cost, and which families were active."""

    status: str  # "optimal" or "infeasible"
    cost: float = float("nan")
    families: set[str] = field(default_factory=set)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


TERM_LENGTH = {"on-demand": 1, "1yr": 4, "3yr": 12}


def ordinal(quarter: str) -> int:
    return int(quarter[:4]) * 4 + int(quarter[5]) - 1


def reference(case: Case) -> Reference:
    """Build and solve the contract's v1 LP for ``case`` (contract, "Formulation"), with
    signed contracts and 1yr/3yr terms (v2: signed chips added to capacity, their cost
    sunk; commitments held for their term), v5's share groups (every group that can hold
    chips in the quarter: on sale, signed or still committed), share rules on several
    bases (volume, spend, power), each rule measured on its own, revenues, and present
    values with payment timing (contract, "Extension: present value and payment timing"),
    and a starting fleet with the cost of moving (contract, "Extension: starting fleet and
    the cost of moving": volume per model, group and quarter, on/off moves between
    consecutive quarters at discounted costs with group overrides and model factors, the
    first quarter measured from the fleet, continuity limits as rows), and workload rules
    (contract, "Extension: where workloads may run": excluded pairs dropped, per-workload
    caps as rows over each named row's x)."""
    tables, policy = case.tables, case.policy
    hours = float(policy.get("hours_per_quarter", HOURS_PER_QUARTER))
    penalty = float(policy.get("unmet_penalty_usd_per_mtok", 100.0)) * hours * 3600 / 1e6
    basis = policy.get("share_basis", "volume")
    demand_quarters = [ordinal(row["quarter"]) for row in tables["workloads"]]
    horizon = list(range(min(demand_quarters), max(demand_quarters) + 1))  # gaps included
    rate = policy.get("discount_rate_per_year")

    def worth(q: int) -> float:
        """Present value of a dollar paid at the start of quarter q (contract, "present value")."""
        return 1.0 if rate is None else (1.0 + float(rate)) ** (-(q - horizon[0]) / 4)

    vendor = {row["accelerator"]: row["vendor"] for row in tables["accelerators"]}
    performance = {(row["model"], row["accelerator"]): row for row in tables["performance"]}
    rtt = {(row["geography"], row["region"]): float(row["rtt_ms"]) for row in tables["latency"]}
    overrides = {(row["offer"], ordinal(row["quarter"])): row for row in tables["offer_quarters"]}
    contracts = tables.get("contracts", [])

    def available(offer: dict, q: int) -> bool:
        first = horizon[0] if _blank(offer["available_from"]) else ordinal(offer["available_from"])
        last = horizon[-1] if _blank(offer["available_until"]) else ordinal(offer["available_until"])
        return first <= q <= last

    def value(offer: dict, q: int, column: str) -> float:
        override = overrides.get((offer["offer"], q), {}).get(column)
        if not _blank(override):
            return float(override)
        return 0.0 if _blank(offer.get(column)) else float(offer[column])

    def signed(offer: dict, q: int) -> tuple[float, float]:
        """Signed chips of ``offer`` in quarter q and what they cost per hour."""
        chips = usd = 0.0
        for row in contracts:
            if row["offer"] == offer["offer"] and ordinal(row["start"]) <= q <= ordinal(row["end"]):
                rate = row.get("usd_per_chip_hour")
                rate = value(offer, q, "usd_per_chip_hour") if _blank(rate) else float(rate)
                chips += float(row["chips"])
                usd += float(row["chips"]) * rate
        return chips, usd

    def holds(offer: dict, q: int) -> bool:
        """Chips can be held: the offer is on sale, or chips of it are signed (contract v5)."""
        return available(offer, q) or signed(offer, q)[0] > 0 or (offer["offer"], q) in running

    def term_length(offer: dict) -> int:
        return TERM_LENGTH.get(offer.get("term") or "on-demand", 1)

    # Quarters a 1yr/3yr term started in a quarter it is on sale may still run in.
    running = {
        (offer["offer"], q)
        for offer in tables["offers"]
        if term_length(offer) > 1
        for start in horizon
        if available(offer, start)
        for q in range(start, start + term_length(offer))
    }

    def group(offer: dict, dimension: str) -> str:
        return vendor[offer["accelerator"]] if dimension == "vendor" else offer[dimension]

    # Contract, "where workloads may run": a rule's exclusions remove the pairs of its
    # workloads (every quarter's row) whose offer is in an excluded group.
    workload_rules = policy.get("workload_rules", [])

    def excluded(workload: str, offer: dict) -> bool:
        return any(
            workload in rule["workloads"] and group(offer, dimension) in names
            for rule in workload_rules
            for dimension, names in rule.get("exclude", {}).items()
        )

    # Contract, "share rules on several bases": the policy's own keys are the rules on
    # share_basis, each extra_share_bases entry the rules on its basis.
    rules_by_basis = {basis: policy, **policy.get("extra_share_bases", {})}
    kw = {row["accelerator"]: float(row.get("power_kw") or 0.0) for row in tables["accelerators"]}

    def share(rules: dict, kind: str, dimension: str, name: str) -> float:
        default = 1.0 if kind == "max_share" else 0.0
        named = rules.get("share_overrides", {}).get(kind, {}).get(dimension, {})
        return float(named.get(name, rules.get(kind, {}).get(dimension, default)))

    # columns: x[w,o] for allowed pairs, y[o,q] for available quarters, u[w]
    columns: list[tuple] = []
    cost: list[float] = []
    bounds: list[tuple[float, float | None]] = []
    x_of_row: dict[int, list[int]] = {}
    boundary = exclusions = 0
    for w, row in enumerate(tables["workloads"]):
        q = ordinal(row["quarter"])
        x_of_row[w] = []
        for offer in tables["offers"]:
            pair = performance.get((row["model"], offer["accelerator"]))
            link = rtt.get((row["geography"], offer["region"]))
            if pair is None or link is None or not holds(offer, q):
                continue
            if link + float(pair["ttft_ms"]) <= float(row["latency_slo_ms"]) + LATENCY_SLACK_MS:
                if excluded(row["workload"], offer):  # an allowed pair a workload rule removes
                    exclusions += 1
                    continue
                boundary += abs(link + float(pair["ttft_ms"]) - float(row["latency_slo_ms"])) <= 1e-6
                x_of_row[w].append(len(columns))
                columns.append(("x", w, offer, q, float(pair["tokens_per_s_per_chip"])))
                cost.append(0.0)
                bounds.append((0.0, None))
    # Chips held in (offer, q): y[o,q] on demand; for a 1yr/3yr term (contract v2) the sum
    # of the commitments c[o,s] still running, each paid at its start quarter's price.
    # held_of lists (column, USD per chip-hour of its payment) per (offer, q).
    y_of: dict[tuple[str, int], int] = {}
    held_of: dict[tuple[str, int], list[tuple[int, float]]] = {}
    term_rows: list[tuple[dict, int]] = []  # (offer, q) whose bounds are rows over running c
    whole = policy.get("commitment_cost", "whole") == "whole"
    for offer in tables["offers"]:
        length = term_length(offer)
        if length == 1:
            for q in horizon:
                if available(offer, q):
                    y_of[(offer["offer"], q)] = len(columns)
                    held_of[(offer["offer"], q)] = [(len(columns), value(offer, q, "usd_per_chip_hour"))]
                    columns.append(("y", offer, q))
                    cost.append(value(offer, q, "usd_per_chip_hour") * hours * worth(q))
                    bounds.append((value(offer, q, "min_chips"), value(offer, q, "max_chips")))
            continue
        for start in (q for q in horizon if available(offer, q)):
            price = value(offer, start, "usd_per_chip_hour")
            inside = min(length, horizon[-1] - start + 1)
            paid = length if whole else inside
            if offer.get("payment") == "upfront":  # all at the start, less the terminal value
                quarters_paid = length * worth(start) - (0.0 if whole else (length - inside) * worth(horizon[-1] + 1))
            else:
                quarters_paid = sum(worth(start + k) for k in range(paid))
            for q in range(start, start + length):
                held_of.setdefault((offer["offer"], q), []).append((len(columns), price))
            columns.append(("c", offer, start))
            cost.append(price * hours * quarters_paid)
            bounds.append((0.0, None))
        term_rows += [(offer, q) for q in horizon if (offer["offer"], q) in held_of]
    u_of = {}
    for w, row in enumerate(tables["workloads"]):
        u_of[w] = len(columns)
        columns.append(("u", w))
        # Contract: an unserved token/s costs its lost revenue, revenue x utilization x the
        # Mtok one token/s serves in a quarter, where the row gives a revenue; else P.
        revenue = row.get("revenue_usd_per_mtok")
        if _blank(revenue):
            cost.append(penalty * worth(ordinal(row["quarter"])))
        else:
            utilization = 1.0 if _blank(row.get("utilization")) else float(row["utilization"])
            cost.append(float(revenue) * utilization * hours * 3600 / 1e6 * worth(ordinal(row["quarter"])))
        bounds.append((0.0, None))

    # demand: sum_o x[w,o] + u[w] = tokens_per_s[w]
    eq_rows, eq_cols, eq_vals, b_eq = [], [], [], []
    for w, row in enumerate(tables["workloads"]):
        for j in x_of_row[w] + [u_of[w]]:
            eq_rows.append(w)
            eq_cols.append(j)
            eq_vals.append(1.0)
        b_eq.append(float(row["tokens_per_s"]))

    # Contract, "starting fleet and the cost of moving": per dimension with switching, model
    # m, group g and horizon quarter q after the first (the first too with a fleet),
    # V[m,g,q] - V[m,g,q-1] = on - off, V before the horizon the fleet's tokens/s (a
    # constant), on and off at d(q) f[m] times the group's costs; continuity per (g, q):
    # sum_m off <= max_off_share V[g,q-1] + allowance, the same for on with max_onto_share.
    switching = policy.get("switching", {})
    fleet = tables.get("fleet", [])
    models = sorted({row["model"] for row in tables["workloads"]})
    moves: list[tuple] = []  # (dimension, group, q, on column, off column, USD per token/s on, off)
    limits: list[tuple] = []  # (direction, dimension, group, q, share, allowance, moved, V[g,q-1], fleet[g])

    def volume(m: str, dimension: str, g: str, k: int) -> dict[int, float]:
        """V[m,g,horizon[k]] as {x column: 1}."""
        return {
            i: 1.0
            for i, c in enumerate(columns)
            if c[0] == "x"
            and c[3] == horizon[k]
            and tables["workloads"][c[1]]["model"] == m
            and group(c[2], dimension) == g
        }

    def fleet_volume(m: str, dimension: str, g: str) -> float:
        by_name = {o["offer"]: o for o in tables["offers"]}
        return sum(
            float(row["tokens_per_s"])
            for row in fleet
            if row["model"] == m and group(by_name[row["offer"]], dimension) == g
        )

    for dimension, terms in sorted(switching.items()):
        factors = terms.get("model_factors", {})
        for g in sorted({group(o, dimension) for o in tables["offers"]}):
            own = terms.get("groups", {}).get(g, {})

            def term(name: str, own=own, terms=terms):
                return own[name] if own.get(name) is not None else terms.get(name)

            onto, off = float(term("onto_usd_per_token_s") or 0.0), float(term("off_usd_per_token_s") or 0.0)
            allowance = float(term("allowance_tokens_per_s") or 0.0)
            for k in range(0 if fleet else 1, len(horizon)):
                moved: dict[str, list[int]] = {"onto": [], "off": []}
                previous: dict[int, float] = {}  # V[g,q-1] over the x columns of q-1
                before = 0.0  # ... and its constant part, the fleet's (first quarter)
                for m in models:
                    factor = float(factors.get(m, 1.0))
                    now = volume(m, dimension, g, k)
                    earlier = volume(m, dimension, g, k - 1) if k > 0 else {}
                    start = fleet_volume(m, dimension, g) if k == 0 else 0.0
                    on_j, off_j = len(columns), len(columns) + 1
                    for direction, usd in (("onto", onto), ("off", off)):
                        columns.append(("move", direction, dimension, g, m, horizon[k]))
                        cost.append(usd * factor * worth(horizon[k]))
                        bounds.append((0.0, None))
                        moved[direction].append(len(columns) - 1)
                    # V[m,g,q] - V[m,g,q-1] - on + off = fleet (first quarter) else 0
                    row_entries = dict(now)
                    for i in earlier:
                        row_entries[i] = row_entries.get(i, 0.0) - 1.0
                    row_entries[on_j], row_entries[off_j] = -1.0, 1.0
                    for j, v in row_entries.items():
                        eq_rows.append(len(b_eq))
                        eq_cols.append(j)
                        eq_vals.append(v)
                    b_eq.append(start)
                    moves.append((dimension, g, horizon[k], on_j, off_j, onto * factor, off * factor))
                    for i in earlier:
                        previous[i] = previous.get(i, 0.0) + 1.0
                    before += start
                for direction in ("off", "onto"):  # a limit only where its share is given
                    share_limit = term(f"max_{direction}_share")
                    if share_limit is not None:
                        kind = (direction, dimension, g, horizon[k])
                        limits.append((*kind, float(share_limit), allowance, moved[direction], previous, before))

    ub_rows, ub_cols, ub_vals, b_ub, kinds = [], [], [], [], []

    def add_row(entries: dict[int, float], kind: tuple, rhs: float = 0.0) -> None:
        """sum entries <= rhs; a row without entries is kept only when it can fail."""
        entries = {j: v for j, v in entries.items() if v != 0.0}
        if not entries and rhs >= 0.0:
            return
        for j, v in entries.items():
            ub_rows.append(len(kinds))
            ub_cols.append(j)
            ub_vals.append(v)
        kinds.append(kind)
        b_ub.append(rhs)

    # capacity: sum_{w: q(w)=q} x[w,o] / tokens_per_s_per_chip - y[o,q] <= signed chips
    sunk = 0.0
    for offer in tables["offers"]:
        for q in horizon:
            if not holds(offer, q):
                continue
            chips, usd = signed(offer, q)
            sunk += usd * hours * worth(q)
            entries = {
                i: 1.0 / c[4]
                for i, c in enumerate(columns)
                if c[0] == "x" and c[2]["offer"] == offer["offer"] and c[3] == q
            }
            for j, _ in held_of.get((offer["offer"], q), []):
                entries[j] = -1.0
            add_row(entries, ("capacity", offer["offer"], q), chips)

    # bounds on the chips a term holds: min_chips (in quarters it is on sale) <= held <= max_chips
    for offer, q in term_rows:
        held = {j: 1.0 for j, _ in held_of[(offer["offer"], q)]}
        add_row(held, ("term max", offer["offer"], q), value(offer, q, "max_chips"))
        if available(offer, q) and value(offer, q, "min_chips") > 0:
            add_row({j: -1.0 for j in held}, ("term min", offer["offer"], q), -value(offer, q, "min_chips"))

    # shares: (1[o in g] - limit) * amount summed over the quarter, <= 0 for a cap, >= 0 for a
    # floor, on each rule's basis: tokens/s served (x), USD per hour (price x y, signed
    # chips' USD per hour a constant) or kW (power_kw x y, signed chips' kW a constant)
    def basis_amounts(on: str, q: int, offered: list[dict]) -> tuple[list, list]:
        """(column, offer, weight) of the quarter's amounts on basis ``on``, and (offer,
        constant) of its signed chips."""
        if on == "volume":
            return [(i, c[2], 1.0) for i, c in enumerate(columns) if c[0] == "x" and c[3] == q], []
        amounts, constants = [], []
        for o in offered:
            chips, usd = signed(o, q)
            for j, price in held_of.get((o["offer"], q), []):
                amounts.append((j, o, price if on == "spend" else kw[o["accelerator"]]))
            constants.append((o, usd if on == "spend" else chips * kw[o["accelerator"]]))
        return amounts, constants

    for q in horizon:
        offered = [o for o in tables["offers"] if holds(o, q)]
        for on, rules in rules_by_basis.items():
            amounts, constants = basis_amounts(on, q, offered)
            for dimension in DIMENSIONS:
                for name in sorted({group(o, dimension) for o in offered}):
                    cap, floor = share(rules, "max_share", dimension, name), share(rules, "min_share", dimension, name)
                    inside = {j: float(group(o, dimension) == name) * weight for j, o, weight in amounts}
                    fixed = sum(amount for o, amount in constants if group(o, dimension) == name)
                    fixed_total = sum(amount for _, amount in constants)
                    if cap < 1.0:
                        add_row(
                            {j: inside[j] - cap * weight for j, _, weight in amounts},
                            ("cap", q, on),
                            cap * fixed_total - fixed,
                        )
                    if floor > 0.0:
                        add_row(
                            {j: floor * weight - inside[j] for j, _, weight in amounts},
                            ("floor", q, on),
                            fixed - floor * fixed_total,
                        )

    # workload caps: per named row w and group g of a capped dimension that w has pairs on,
    # sum_{o in g} x[w,o] - cap x sum_o x[w,o] <= 0
    for rule in workload_rules:
        for dimension, cap in sorted(rule.get("max_share", {}).items()):
            for w, row in enumerate(tables["workloads"]):
                if row["workload"] not in rule["workloads"]:
                    continue
                for name in sorted({group(columns[i][2], dimension) for i in x_of_row[w]}):
                    entries = {i: float(group(columns[i][2], dimension) == name) - float(cap) for i in x_of_row[w]}
                    add_row(entries, ("workload cap", row["workload"], dimension, name))

    # continuity: sum_m moved[m,g,q] - share V[g,q-1] <= allowance + share fleet[g]
    for direction, dimension, g, q, share_limit, allowance, moved_columns, previous, before in limits:
        entries = {j: 1.0 for j in moved_columns}
        for i, v in previous.items():
            entries[i] = entries.get(i, 0.0) - share_limit * v
        add_row(entries, (f"move_{direction}_limit", dimension, g, q), allowance + share_limit * before)

    n = len(columns)
    a_eq = coo_array((eq_vals, (eq_rows, eq_cols)), shape=(len(b_eq), n)).tocsr()
    a_ub = coo_array((ub_vals, (ub_rows, ub_cols)), shape=(len(kinds), n)).tocsr() if kinds else None
    problem = dict(
        c=np.array(cost),
        A_ub=a_ub,
        b_ub=np.array(b_ub) if kinds else None,
        A_eq=a_eq,
        b_eq=np.array(b_eq),
        bounds=bounds,
    )
    result = linprog(**problem, method="highs-ipm")
    if result.status not in (0, 2):  # interior point gave up (numerical trouble): dual simplex
        result = linprog(**problem, method="highs-ds")
    if result.status == 2:
        return Reference("infeasible", families={"infeasible", *rules_by_basis})
    assert result.status == 0, f"reference LP: {result.message}"

    values = result.x
    families = set(rules_by_basis)
    if len(rules_by_basis) > 1:
        families.add("several bases")
    if boundary:
        families.add("latency boundary")
    if exclusions:
        families.add("workload exclusion")
    if sum(values[j] for j in u_of.values()) > ACTIVE:
        families.add("unmet")
    if contracts:
        families.add("contracts")
    if rate:
        families.add("discounted")
    for j, column in enumerate(columns):
        if column[0] == "c" and values[j] > ACTIVE:
            families.add("upfront term bought" if column[1].get("payment") == "upfront" else "term bought")
    for (name, q), j in y_of.items():
        low = bounds[j][0]
        used = sum(
            values[i] / columns[i][4]
            for i in range(n)
            if columns[i][0] == "x" and columns[i][2]["offer"] == name and columns[i][3] == q
        )
        if low > 0 and values[j] <= low + ACTIVE and used < low - ACTIVE:
            families.add("min_chips binding")
    if fleet and switching:
        families.add("fleet")
    if any(values[on] * onto + values[off] * usd_off > ACTIVE for *_, on, off, onto, usd_off in moves):
        families.add("move")  # a moving cost is paid
        if rate:
            families.add("discounted move")
    activity = a_ub @ values if a_ub is not None else np.zeros(0)
    for r, kind in enumerate(kinds):
        if (
            kind[0] in ("cap", "floor")
            and activity[r] >= -ACTIVE
            and values @ np.abs(a_ub[[r], :].toarray()[0]) > ACTIVE
        ):
            families.add(f"{kind[0]} binding")
            families.add(f"{kind[0]} binding on {kind[2]}")
        if kind[0] in ("move_off_limit", "move_onto_limit") and abs(result.ineqlin.marginals[r]) > ACTIVE:
            families.add(kind[0])  # the limit holds the cost up (nonzero dual)
        if kind[0] == "workload cap" and abs(result.ineqlin.marginals[r]) > ACTIVE:
            families.add("workload cap binding")  # the same for a workload's cap
    return Reference("optimal", float(result.fun) + sunk, families)
