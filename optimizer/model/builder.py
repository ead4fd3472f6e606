"""The LP of the data contract, built as arrays: one ``add_<family>`` per constraint family.

Notation (contract, "Formulation"): w workload rows, o offers, q horizon quarters,
x[w,o] tokens/s served on an allowed pair, y[o,q] chips held, u[w] tokens/s left unserved,
H hours per quarter, P[w] what a token/s of row w left unserved for its quarter costs (its
lost revenue where ``revenue_usd_per_mtok`` is given, else the policy's penalty)::

    minimize   sum_{on-demand o,q} price[o,q] * H * y[o,q]
             + sum_{commitments o,s} price[o,s] * H * L_eff[o,s] * c[o,s]
             + sum_k shortfall[k]  +  sum_w P[w] * u[w]  +  sunk contract cost (a constant)
    demand     sum_o x[w,o] + u[w] = tokens_per_s[w]
    capacity   sum_{w: q(w)=q} x[w,o] / tokens_per_s_per_chip[w,o] <= y[o,q] + contract_chips[o,q]
    bounds     min_chips[o,q] <= y[o,q] <= max_chips[o,q]
    commitment y[o,q] = sum_{s <= q < s + L[o]} c[o,s]                   (1yr: L = 4, 3yr: L = 12)
    pools      sum_{o in pool} y[o,q] <= max_{o in pool} max_chips[o,q]
    shares     S_g <= max_share[d,g] * S ;  S_g >= min_share[d,g] * S    (every g that can hold chips in q)
    spend      spend(provider, first..last) + shortfall[k] >= usd[k]       (spend commitments)
    budget     spend(q) <= budget[q]

(spend and budget rows enter HiGHS divided by their amount: ``per_amount``).

c[o,s] are chips committed for L quarters from s (a quarter in which the offer is
available); L_eff is L, or with ``commitment_cost: in_horizon`` the term's quarters
inside the horizon. spend(...) is what is paid in those quarters: on-demand chips, the
running commitments' quarterly payments and signed contracts (a commitment running in
several quarters of a period counts in each). Without commitments, contracts, pools,
spend commitments or budgets, this is exactly the contract's v1 LP.

Share rows are written over x (volume), the payments (spend) or kW x chips held (power)
of the group, against one total column s[b,q] per basis with rules and quarter (S). In a
model that branches (ports, whole instances) volume share rows are written over an
auxiliary column v[o,q] per offer and quarter (the volume served there) instead.
Measured with HiGHS alone (benchmarks/run.py, median of three), dual simplex took 1.45x
and 2x as long with v at 1e6 pairs on the two LP families and was no faster at 1e5; on
the bundled MIP, branch and bound took 0.50 s with v against 0.77 s without (the whole
plan with its port paybacks 8.4 against 11.4 s).

Each family computes its coefficients from the index tables (pairs, terms, starts,
workloads) with numpy and pandas and adds them as one block through
:class:`~optimizer.model.arrays.LpArrays`; columns and rows are positions, and domain keys
live in the key tables (``LpModel.rows``), never in names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimizer import quarters
from optimizer.io.allowed import allowed_pairs, commitment_starts, offer_terms, tier_terms
from optimizer.io.schema import DIMENSIONS
from optimizer.io.tables import Inputs, named_rows
from optimizer.model.arrays import INF, LpArrays
from optimizer.model.moves import MOVE_KEYS, fleet_volume, move_index


def _no_columns() -> np.ndarray:
    return np.empty(0, dtype=np.int64)


@dataclass
class LpModel:
    """The LP's arrays and the tables that map its columns and rows to domain keys.

    ``pairs``, ``terms``, ``starts`` and ``workloads`` are aligned with the column
    positions ``x``, ``y``, ``c`` and ``u``; ``volume`` (by term position, a MIP only) and
    ``share_total`` (by basis and quarter) hold the auxiliary v and total s columns of the share rows,
    ``shortfall`` one column per spend commitment, ``recourse`` per outage its kept pairs
    and their x and u columns; ``rows`` maps each constraint family to a table of its keys
    with the row's position (``row``). ``price_links`` lists (row, column, coefficient)
    entries that are prices (spend rows), so a what-if on a price can move them too.
    """

    inputs: Inputs
    lp: LpArrays
    pairs: pd.DataFrame
    terms: pd.DataFrame
    starts: pd.DataFrame
    workloads: pd.DataFrame
    running: dict[int, list[int]]
    integer: bool = False
    x: np.ndarray = field(default_factory=_no_columns)
    y: np.ndarray = field(default_factory=_no_columns)
    c: np.ndarray = field(default_factory=_no_columns)
    u: np.ndarray = field(default_factory=_no_columns)
    shortfall: np.ndarray = field(default_factory=_no_columns)
    volume: dict[int, int] = field(default_factory=dict)
    share_total: dict[tuple[str, str], int] = field(default_factory=dict)  # (basis, quarter) -> s column
    objective_constant: float = 0.0  # sunk contract cost: added to HiGHS's objective, not passed to it
    ports: pd.DataFrame = field(default_factory=pd.DataFrame)  # model, accelerator, port_usd, port_quarters
    port_starts: pd.DataFrame = field(default_factory=pd.DataFrame)  # port (position), quarter
    z: np.ndarray = field(default_factory=_no_columns)  # binary: port started in that quarter
    instances: np.ndarray = field(default_factory=_no_columns)
    tiers: pd.DataFrame = field(default_factory=pd.DataFrame)  # allowed.tier_terms: one row per tier of a term
    tier_y: np.ndarray = field(default_factory=_no_columns)  # chips held in each tier's segment
    tier_b: np.ndarray = field(default_factory=_no_columns)  # binary: the tier (segment) is reached
    recourse: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    moves: pd.DataFrame = field(default_factory=pd.DataFrame)  # dimension, group, model, quarter, terms
    move_on: np.ndarray = field(default_factory=_no_columns)  # tokens/s moved onto the group (moves' order)
    move_off: np.ndarray = field(default_factory=_no_columns)
    move_entries: pd.DataFrame = field(default_factory=pd.DataFrame)  # r (moves row), pair, sign (+1 in q, -1 in q-1)
    discounts: pd.DataFrame = field(default_factory=pd.DataFrame)  # spend_discount_terms: one row per level
    discount_z: np.ndarray = field(default_factory=_no_columns)  # binary: the level is reached (discounts' order)
    discounted: pd.DataFrame = field(default_factory=pd.DataFrame)  # k (level), t, column (paying), weight (USD/h)
    discount_a: np.ndarray = field(default_factory=_no_columns)  # the paying column's part under the discount

    @property
    def rows(self) -> dict[str, pd.DataFrame]:
        return self.lp.rows

    @property
    def price_links(self) -> list[tuple[int, int, float]]:
        return self.lp.price_links

    @property
    def mixed_integer(self) -> bool:
        """Ports, whole instances, price tiers or spend discounts: HiGHS branches, and the
        LP's duals need integers fixed."""
        return bool(len(self.z) or len(self.instances) or len(self.tier_b) or len(self.discount_z))


def running_commitments(terms: pd.DataFrame, starts: pd.DataFrame) -> dict[int, list[int]]:
    """For each commitment term (position), the commitment starts still running in its quarter."""
    start_of: dict[str, list[tuple[int, int, int]]] = {}
    for s, (offer, quarter, length) in enumerate(
        zip(starts["offer"], starts["quarter"], starts["term_quarters"], strict=True)
    ):
        start_of.setdefault(offer, []).append((quarters.ordinal(quarter), int(length), s))
    running = {}
    for t, (offer, quarter, term) in enumerate(zip(terms["offer"], terms["quarter"], terms["term"], strict=True)):
        if term != "on-demand":
            q = quarters.ordinal(quarter)
            running[t] = [s for begin, length, s in start_of.get(offer, []) if begin <= q < begin + length]
    return running


def build(inputs: Inputs, integer: bool = False) -> LpModel:
    """Build the contract's LP for ``inputs`` (families in the order of the contract).

    ``integer``: offers with ``chips_per_instance`` are bought in whole instances (a MIP).
    Porting decisions are binary whenever a (model, accelerator) pair needs porting.
    """
    terms = offer_terms(inputs)
    starts = commitment_starts(terms, inputs.horizon)
    pairs = allowed_pairs(inputs, terms)
    term_index = pd.Series(np.arange(len(terms)), index=pd.MultiIndex.from_frame(terms[["offer", "quarter"]]))
    pairs["t"] = term_index.reindex(pd.MultiIndex.from_frame(pairs[["offer", "quarter"]])).to_numpy()
    model = LpModel(
        inputs=inputs,
        lp=LpArrays(),
        pairs=pairs,
        terms=terms,
        starts=starts,
        workloads=inputs.workloads.reset_index(drop=True),
        running=running_commitments(terms, starts),
        integer=integer,
    )
    model.ports = ports_needed(model)  # known before the families: whether the model branches shapes the share rows
    model.tiers = tier_terms(inputs, terms)
    add_decisions(model)
    add_tiers(model)
    add_demand(model)
    add_capacity(model)
    add_commitments(model)
    add_pools(model)
    add_shares(model)
    add_spend_commitments(model)
    add_spend_discounts(model)
    add_budgets(model)
    add_ports(model)
    add_ramps(model)
    add_workload_caps(model)
    add_moves(model)
    add_instances(model)
    add_power(model)
    add_resilience(model)
    return model


def add_decisions(model: LpModel) -> None:
    """The contract's columns with their objective costs (module docstring, "minimize"):
    x[w,o] >= 0 at no cost; min_chips <= y[o,q] <= max_chips at price * H when bought on
    demand (a commitment's chips are paid through its c); c[o,s] >= 0 at price * H * L_eff;
    u[w] >= 0 at P; shortfall f[k] >= 0 in units of its commitment's amount
    (``shortfall_unit_usd``). Signed contracts are sunk: the objective's constant. With a
    discount rate every cost is its present value, discounted from the quarter it is paid in
    (contract, "Extension: present value")."""
    lp, terms, inputs = model.lp, model.terms, model.inputs
    hours = inputs.policy.hours_per_quarter
    on_demand = (terms["term"] == "on-demand").to_numpy() & ~tiered_terms(model)  # tiered chips pay on their segments
    term_discount = inputs.discount_of(terms["quarter"])
    model.x = lp.add_columns("x", len(model.pairs))
    model.y = lp.add_columns(
        "y",
        len(terms),
        lower=terms["min_chips"].to_numpy(dtype=float),
        upper=terms["max_chips"].to_numpy(dtype=float),
        cost=np.where(on_demand, terms["usd_per_chip_hour"].to_numpy(dtype=float) * hours * term_discount, 0.0),
    )
    model.c = lp.add_columns(
        "c",
        len(model.starts),
        cost=model.starts["usd_per_chip_hour"].to_numpy(dtype=float) * hours * commitment_weight(model),
    )
    unserved = inputs.unserved_usd_per_token_s() * inputs.discount_of(model.workloads["quarter"])
    model.u = lp.add_columns("u", len(model.workloads), cost=unserved)
    model.shortfall = lp.add_columns(
        "f", len(inputs.spend_commitments), cost=shortfall_unit_usd(model) * shortfall_discount(model)
    )
    model.objective_constant = float((terms["contract_usd_per_hour"] * term_discount).sum() * hours)


def tiered_terms(model: LpModel) -> np.ndarray:
    """Which terms have price tiers (their chips are paid on the tier segments, not on y)."""
    mask = np.zeros(len(model.terms), dtype=bool)
    if not model.tiers.empty:
        mask[model.tiers["t"].to_numpy(dtype=np.int64)] = True
    return mask


def add_tiers(model: LpModel) -> None:
    """Volume price tiers (contract, "Extension: price tiers"): the chips held y[o,q] of a
    tiered term are split into segments y_k, k = 0..K, each paid at its tier's price:
    y[o,q] = sum_k y_k (row ``tier_chips``), with binaries b_k (``add_all_units_tiers``,
    ``add_incremental_tiers``). The y column itself then costs nothing (``add_decisions``)."""
    tiers = model.tiers
    if tiers.empty:
        return
    lp, inputs = model.lp, model.inputs
    t = tiers["t"].to_numpy(dtype=np.int64)
    discount = inputs.discount_of(model.terms["quarter"].to_numpy()[t])
    price = tiers["usd_per_chip_hour"].to_numpy(dtype=float)
    first = (tiers["tier"] == 0).to_numpy() & (tiers["kind"] == "incremental").to_numpy()
    model.tier_y = lp.add_columns("tier_y", len(tiers), cost=price * inputs.policy.hours_per_quarter * discount)
    model.tier_b = lp.add_columns("tier_b", len(tiers), lower=first.astype(float), upper=1.0, integer=True)
    used = np.unique(t)
    lp.add_rows(
        "tier_chips",
        model.terms.loc[used, ["offer", "quarter"]].assign(t=used),
        row=np.concatenate([np.arange(len(used)), np.searchsorted(used, t)]),
        column=np.concatenate([model.y[used], model.tier_y]),
        value=np.concatenate([np.ones(len(used)), -np.ones(len(t))]),
        lower=0.0,
        upper=0.0,
    )
    add_all_units_tiers(model, np.flatnonzero((tiers["kind"] == "all_units").to_numpy()))
    add_incremental_tiers(model, np.flatnonzero((tiers["kind"] == "incremental").to_numpy()))


def minimum_on_segments(model: LpModel) -> np.ndarray:
    """Chips of each term's take-or-pay minimum (min_chips) on each tier segment of
    ``model.tiers``: incremental, the part of [0, min_chips] inside the segment; all_units,
    min_chips on the one tier that min_chips reaches."""
    tiers = model.tiers
    if tiers.empty:
        return np.zeros(0)
    low = tiers["from_chips"].to_numpy(dtype=float)
    high = tiers["next_chips"].to_numpy(dtype=float)
    minimum = model.terms["min_chips"].to_numpy(dtype=float)[tiers["t"].to_numpy(dtype=np.int64)]
    incremental = np.clip(minimum - low, 0.0, np.maximum(high - low, 0.0))
    last = tiers["t"].ne(tiers["t"].shift(-1)).to_numpy()
    reached = (low <= minimum) & ((minimum < high) | last)
    return np.where((tiers["kind"] == "incremental").to_numpy(), incremental, np.where(reached, minimum, 0.0))


def last_tier_edits(model: LpModel, t: int, step: float) -> dict[tuple[int, int], tuple[float, float]]:
    """Matrix edits that let term ``t``'s last tier segment hold ``step`` chips more than
    max_chips (its ceiling row caps it at max_chips): what raising max_chips needs besides
    y's bound. Empty for an untiered term."""
    tiers = model.tiers
    if tiers.empty or t not in set(tiers["t"]):
        return {}
    k = int(np.flatnonzero(tiers["t"].to_numpy() == t)[-1])
    family = "tier_ceiling" if tiers["kind"].iat[k] == "all_units" else "tier_fill"
    rows = model.rows[family]
    offer, quarter = model.terms.at[t, "offer"], model.terms.at[t, "quarter"]
    same = (rows["offer"] == offer) & (rows["quarter"] == quarter) & (rows["tier"] == tiers["tier"].iat[k])
    floor = 0.0 if family == "tier_ceiling" else tiers["from_chips"].to_numpy(dtype=float)[k]
    now = -max(0.0, tiers["next_chips"].to_numpy(dtype=float)[k] - floor)
    return {(int(rows.loc[same, "row"].to_numpy()[0]), int(model.tier_b[k])): (now - step, now)}


def _tier_keys(model: LpModel, k: np.ndarray) -> pd.DataFrame:
    """(offer, quarter, tier) of the tier rows ``k`` of ``model.tiers``."""
    t = model.tiers["t"].to_numpy(dtype=np.int64)[k]
    return pd.DataFrame(
        {
            "offer": model.terms["offer"].to_numpy()[t],
            "quarter": model.terms["quarter"].to_numpy()[t],
            "tier": model.tiers["tier"].to_numpy()[k],
        }
    )


def add_all_units_tiers(model: LpModel, k: np.ndarray) -> None:
    """All-units tiers: every chip at the price of the tier reached. One tier per term,
    sum_k b_k = 1 (``tier_pick``); from_k * b_k <= y_k <= next_k * b_k (``tier_floor``,
    ``tier_ceiling``; next_k is the next tier's from_chips, max_chips for the last)."""
    if not len(k):
        return
    tiers, lp = model.tiers, model.lp
    t = tiers["t"].to_numpy(dtype=np.int64)[k]
    used = np.unique(t)
    lp.add_rows(
        "tier_pick",
        model.terms.loc[used, ["offer", "quarter"]].assign(t=used),
        row=np.searchsorted(used, t),
        column=model.tier_b[k],
        value=np.ones(len(k)),
        lower=1.0,
        upper=1.0,
    )
    count = np.arange(len(k))
    for family, edge, lower, upper in (
        ("tier_floor", "from_chips", 0.0, INF),
        ("tier_ceiling", "next_chips", -INF, 0.0),
    ):
        lp.add_rows(
            family,
            _tier_keys(model, k),
            row=np.concatenate([count, count]),
            column=np.concatenate([model.tier_y[k], model.tier_b[k]]),
            value=np.concatenate([np.ones(len(k)), -tiers[edge].to_numpy(dtype=float)[k]]),
            lower=lower,
            upper=upper,
        )


def add_incremental_tiers(model: LpModel, k: np.ndarray) -> None:
    """Incremental tiers: segment k holds at most width_k = next_k - from_k chips at its own
    price and fills in order, so a price falling with volume cannot be taken early:
    y_k <= width_k * b_k (``tier_fill``), y_{k-1} >= width_{k-1} * b_k (``tier_full``),
    b_k <= b_{k-1} (``tier_order``); b_0 = 1."""
    if not len(k):
        return
    tiers, lp = model.tiers, model.lp
    width = np.maximum(0.0, (tiers["next_chips"] - tiers["from_chips"]).to_numpy(dtype=float))[k]
    count = np.arange(len(k))
    lp.add_rows(
        "tier_fill",
        _tier_keys(model, k),
        row=np.concatenate([count, count]),
        column=np.concatenate([model.tier_y[k], model.tier_b[k]]),
        value=np.concatenate([np.ones(len(k)), -width]),
        lower=-INF,
        upper=0.0,
    )
    later = np.flatnonzero(tiers["tier"].to_numpy()[k] > 0)  # positions in k whose previous tier is k - 1
    above, below = k[later], k[later - 1]
    rows = np.arange(len(later))
    for family, columns, values, lower, upper in (
        ("tier_full", (model.tier_y[below], model.tier_b[above]), (1.0, -width[later - 1]), 0.0, INF),
        ("tier_order", (model.tier_b[above], model.tier_b[below]), (1.0, -1.0), -INF, 0.0),
    ):
        lp.add_rows(
            family,
            _tier_keys(model, above),
            row=np.concatenate([rows, rows]),
            column=np.concatenate(columns),
            value=np.concatenate([np.broadcast_to(values[0], len(later)), np.broadcast_to(values[1], len(later))]),
            lower=lower,
            upper=upper,
        )


def commitment_weight(model: LpModel, whole: bool | None = None) -> np.ndarray:
    """Quarters of each commitment start the objective pays for, as present values of one
    quarter's payment: L, or the L_eff quarters inside the horizon (``commitment_cost``),
    each discounted from the quarter it is paid in. Without a discount rate: L or L_eff.

    Paid per quarter: sum_{k < L_eff} d(s + k). Paid upfront (``payment: upfront``): L * d(s)
    at the start; with ``in_horizon`` less the terminal value of the quarters after the
    horizon, (L - L_eff) * d(N), N the first quarter after it: the chips left then are
    worth what they cost (contract, "Terminal value"). ``whole`` overrides the policy's rule."""
    starts, inputs = model.starts, model.inputs
    if starts.empty:
        return np.zeros(0)
    whole = inputs.policy.commitment_cost == "whole" if whole is None else whole
    length = starts["term_quarters"].to_numpy(dtype=np.int64)
    counted = length if whole else starts["inside"].to_numpy(dtype=np.int64)
    first = starts["quarter"].map(quarters.ordinal).to_numpy(dtype=np.int64)
    upfront = upfront_starts(model)
    after = quarters.ordinal(inputs.horizon[-1]) + 1
    per_quarter = np.array(
        [inputs.discount(np.arange(s, s + n)).sum() for s, n in zip(first, counted, strict=True)], dtype=float
    )
    at_start = length * inputs.discount(first) - (
        0.0 if whole else (length - counted) * inputs.discount(np.array([after]))[0]
    )
    return np.where(upfront, at_start, per_quarter)


def upfront_starts(model: LpModel) -> np.ndarray:
    """Which commitment starts are paid upfront (aligned with ``model.starts``)."""
    if model.starts.empty:
        return np.zeros(0, dtype=bool)
    payment = model.starts["offer"].map(model.inputs.offers.set_index("offer")["payment"])
    return (payment == "upfront").to_numpy()


def shortfall_due(model: LpModel) -> list[str]:
    """The quarter each spend commitment's shortfall is paid in: the last of its period
    inside the horizon."""
    return [q[-1] if q else model.inputs.horizon[0] for q in spend_commitment_terms(model)["quarters"]]


def shortfall_discount(model: LpModel) -> np.ndarray:
    """Present value of a dollar of each spend commitment's shortfall."""
    return model.inputs.discount_of(shortfall_due(model))


def _serve_rows(
    model: LpModel, family: str, keys: pd.DataFrame, pair_row: np.ndarray, x: np.ndarray, u: np.ndarray
) -> None:
    """sum_o x[w,o] + u[w] = tokens_per_s[w]: ``pair_row`` is each x column's workload row."""
    demand = model.workloads["tokens_per_s"].to_numpy(dtype=float)
    model.lp.add_rows(
        family,
        keys,
        row=np.concatenate([pair_row, np.arange(len(u))]),
        column=np.concatenate([x, u]),
        value=np.ones(len(x) + len(u)),
        lower=demand,
        upper=demand,
    )


def _chip_rows(
    model: LpModel, family: str, pair_term: np.ndarray, inverse: np.ndarray, x: np.ndarray, **labels
) -> None:
    """sum_w x[w,o] / tokens_per_s_per_chip - y[o,q] <= contract_chips[o,q] for each term some x serves."""
    used = np.unique(pair_term)
    keys = model.terms.loc[used, ["offer", "quarter"]].assign(t=used, **labels)
    model.lp.add_rows(
        family,
        keys,
        row=np.concatenate([np.searchsorted(used, pair_term), np.arange(len(used))]),
        column=np.concatenate([x, model.y[used]]),
        value=np.concatenate([inverse, -np.ones(len(used))]),
        lower=-INF,
        upper=model.terms["contract_chips"].to_numpy(dtype=float)[used],
    )


def add_demand(model: LpModel) -> None:
    """sum_o x[w,o] + u[w] = tokens_per_s[w] for every workload row."""
    keys = model.workloads[["workload", "quarter"]].assign(w=np.arange(len(model.workloads)))
    _serve_rows(model, "demand", keys, model.pairs["w"].to_numpy(), model.x, model.u)


def add_capacity(model: LpModel) -> None:
    """sum_w x[w,o] / tokens_per_s_per_chip <= y[o,q] + contract_chips[o,q] where o can serve."""
    pairs = model.pairs
    _chip_rows(
        model, "capacity", pairs["t"].to_numpy(), 1.0 / pairs["tokens_per_s_per_chip"].to_numpy(dtype=float), model.x
    )


def _running_pairs(model: LpModel) -> tuple[np.ndarray, np.ndarray]:
    """(commitment term, start) for every commitment start running in the term's quarter."""
    held = np.array(sorted(model.running), dtype=np.int64)
    counts = np.array([len(model.running[t]) for t in held], dtype=np.int64)
    started = [np.asarray(model.running[t], dtype=np.int64) for t in held]
    return np.repeat(held, counts), np.concatenate([np.empty(0, np.int64), *started])


def add_commitments(model: LpModel) -> None:
    """y[o,q] = sum of the commitments c[o,s] running in q (started in the last L quarters)."""
    if not model.running:
        return
    held = np.array(sorted(model.running), dtype=np.int64)
    term, start = _running_pairs(model)
    model.lp.add_rows(
        "commitment",
        model.terms.loc[held, ["offer", "quarter"]].assign(t=held),
        row=np.concatenate([np.arange(len(held)), np.searchsorted(held, term)]),
        column=np.concatenate([model.y[held], model.c[start]]),
        value=np.concatenate([np.ones(len(held)), -np.ones(len(term))]),
        lower=0.0,
        upper=0.0,
    )


def add_pools(model: LpModel) -> None:
    """Offers sharing a pool hold, together, at most the pool's largest max_chips in a quarter:
    sum_{o in pool} y[o,q] <= max_{o in pool} max_chips[o,q], for pools of two offers or more."""
    pooled = model.terms[model.terms["pool"].notna()].assign(t=lambda frame: frame.index.to_numpy())
    by_pool = pooled.groupby(["pool", "quarter"], sort=True)
    pooled = pooled[by_pool["offer"].transform("nunique").to_numpy() >= 2]
    if pooled.empty:
        return
    grouped = pooled.groupby(["pool", "quarter"], sort=True)
    keys = grouped["max_chips"].max().astype(float).reset_index()
    model.lp.add_rows(
        "pool",
        keys,
        row=grouped.ngroup().to_numpy(),
        column=model.y[pooled["t"].to_numpy()],
        value=np.ones(len(pooled)),
        lower=-INF,
        upper=keys["max_chips"].to_numpy(),
    )


def payments(model: LpModel) -> pd.DataFrame:
    """What each term pays per hour: (t, column, usd_per_hour). An on-demand term pays its
    price on its y, or with price tiers each tier's price on its segment y_k; a commitment
    term the price of each commitment c running in its quarter. Signed contracts add
    ``terms.contract_usd_per_hour``, a constant."""
    on_demand = np.flatnonzero((model.terms["term"] == "on-demand").to_numpy() & ~tiered_terms(model))
    term, start = _running_pairs(model)
    tier_t = model.tiers["t"].to_numpy(dtype=np.int64) if not model.tiers.empty else _no_columns()
    tier_price = model.tiers["usd_per_chip_hour"].to_numpy(dtype=float) if not model.tiers.empty else np.zeros(0)
    return pd.DataFrame(
        {
            "t": np.concatenate([on_demand, term, tier_t]),
            "column": np.concatenate([model.y[on_demand], model.c[start], model.tier_y]),
            "usd_per_hour": np.concatenate(
                [
                    model.terms["usd_per_chip_hour"].to_numpy(dtype=float)[on_demand],
                    model.starts["usd_per_chip_hour"].to_numpy(dtype=float)[start],
                    tier_price,
                ]
            ),
        }
    )


def _amounts(members: pd.DataFrame, amounts: pd.DataFrame, constant: np.ndarray, count: int):
    """(row, column, weight) entries and per-row constants of rows summing the amounts of
    their member terms; ``members`` holds (r, t), ``constant`` one value per term."""
    entries = members.merge(amounts, on="t")
    sunk = np.bincount(
        members["r"].to_numpy(dtype=np.int64), weights=constant[members["t"].to_numpy(dtype=np.int64)], minlength=count
    )
    return (
        entries["r"].to_numpy(dtype=np.int64),
        entries["column"].to_numpy(dtype=np.int64),
        entries["weight"].to_numpy(dtype=float),
        sunk,
    )


def share_rules(model: LpModel) -> pd.DataFrame:
    """Every share row the contract asks for: (dimension, group, quarter, kind, limit, basis).

    One row per group that can hold chips in the quarter (an offer on sale, a commitment
    still running or a signed contract: every row of ``model.terms``), when its cap is
    below 1 (kind max) or its floor above 0 (kind min), on each basis with rules. Groups
    with nothing on sale count too (contract v5): otherwise running commitments and signed
    chips escape the caps.
    """
    policy = model.inputs.policy
    terms = model.terms.assign(offer_group=lambda t: t["offer"])
    records = []
    for basis in policy.share_bases():
        on_basis = policy.share_rules(basis)
        for dimension in DIMENSIONS:
            column = "offer_group" if dimension == "offer" else dimension
            for quarter, group in terms[["quarter", column]].drop_duplicates().itertuples(index=False):
                cap, floor = on_basis.cap(dimension, group), on_basis.floor(dimension, group)
                if cap < 1:
                    records.append((dimension, group, quarter, "max", cap, basis))
                if floor > 0:
                    records.append((dimension, group, quarter, "min", floor, basis))
    rules = pd.DataFrame(records, columns=["dimension", "group", "quarter", "kind", "limit", "basis"])
    order = ["basis", "dimension", "group", "quarter", "kind"]
    return rules.sort_values(order, kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class ShareAmounts:
    """What each term adds to S_g on one basis: ``entries`` (t, column, weight) over LP
    columns, plus a constant per term (signed contracts); ``priced`` when the weights are
    prices (a what-if on a price moves them)."""

    entries: pd.DataFrame
    constant: np.ndarray
    priced: bool


def share_amounts(model: LpModel, basis: str) -> ShareAmounts:
    """The amounts shares are measured in, per term of ``model.terms``.

    volume (tokens/s): the term's x (in a MIP, its v[o,q] = sum_w x[w,o]: module docstring);
    spend (USD per hour): its payments, signed contracts as a constant;
    power (kW): power_kw x chips held y[o,q], signed chips x power_kw as a constant.
    """
    terms = model.terms
    if basis == "spend":
        entries = payments(model).rename(columns={"usd_per_hour": "weight"})
        return ShareAmounts(entries, terms["contract_usd_per_hour"].to_numpy(dtype=float), True)
    if basis == "power":
        kw = chip_kw(model)
        entries = pd.DataFrame({"t": np.arange(len(terms)), "column": model.y, "weight": kw})
        return ShareAmounts(entries, kw * terms["contract_chips"].to_numpy(dtype=float), False)
    pair_term, no_constant = model.pairs["t"].to_numpy(), np.zeros(len(terms))
    if not model.integer and model.ports.empty:  # an LP: the volume on a term is its pairs' x
        return ShareAmounts(pd.DataFrame({"t": pair_term, "column": model.x, "weight": 1.0}), no_constant, False)
    used = np.unique(pair_term)
    volume = model.lp.add_columns("v", len(used))
    model.volume = dict(zip(used.tolist(), volume.tolist(), strict=True))
    model.lp.add_rows(
        "volume",
        terms.loc[used, ["offer", "quarter"]],
        row=np.concatenate([np.arange(len(used)), np.searchsorted(used, pair_term)]),
        column=np.concatenate([volume, model.x]),
        value=np.concatenate([np.ones(len(used)), -np.ones(len(pair_term))]),
        lower=0.0,
        upper=0.0,
    )
    return ShareAmounts(pd.DataFrame({"t": used, "column": volume, "weight": 1.0}), no_constant, False)


def chip_kw(model: LpModel) -> np.ndarray:
    """power_kw of each term's accelerator (NaN where accelerators.csv gives none)."""
    power = model.inputs.accelerators.set_index("accelerator")["power_kw"]
    return model.terms["accelerator"].map(power).to_numpy(dtype=float)


def add_shares(model: LpModel) -> None:
    """S_g <= cap * S and S_g >= floor * S per (basis, dimension, group, quarter).

    S_g sums the group's amounts in the quarter on the rule's basis (``share_amounts``):
    tokens/s, USD per hour or kW. S = s[b,q], one column per basis and quarter, defined by
    s[b,q] = the same sum over every term of q (row ``total``).
    """
    rules = share_rules(model)
    for basis in dict.fromkeys(rules["basis"]):
        _add_basis_shares(model, basis, rules[rules["basis"] == basis].reset_index(drop=True))


def _add_basis_shares(model: LpModel, basis: str, rules: pd.DataFrame) -> None:
    """The total and share rows of one basis (``add_shares``)."""
    lp, terms = model.lp, model.terms
    amounts = share_amounts(model, basis)
    quarters_used = sorted(set(rules["quarter"]))
    block = "s" if basis == model.inputs.policy.share_basis else f"s_{basis}"  # names in --write-model files
    total = lp.add_columns(block, len(quarters_used))
    model.share_total.update({(basis, q): int(column) for q, column in zip(quarters_used, total, strict=True)})
    quarter_of_term = terms["quarter"].to_numpy()
    in_quarter = pd.DataFrame({"r": pd.Index(quarters_used).get_indexer(quarter_of_term), "t": np.arange(len(terms))})
    in_quarter = in_quarter[in_quarter["r"] >= 0]
    row, column, weight, sunk = _amounts(in_quarter, amounts.entries, amounts.constant, len(quarters_used))
    count = len(quarters_used)
    lp.add_rows(
        "total",
        pd.DataFrame({"quarter": quarters_used, "basis": basis}),
        row=np.concatenate([np.arange(count), row]),
        column=np.concatenate([total, column]),
        value=np.concatenate([np.ones(count), -weight]),
        lower=sunk,
        upper=sunk,
        price=np.concatenate([np.zeros(count, bool), np.full(len(row), amounts.priced)]),
    )
    membership = pd.concat(
        [
            pd.DataFrame(
                {
                    "dimension": dimension,
                    "group": terms["offer" if dimension == "offer" else dimension].to_numpy(),
                    "quarter": quarter_of_term,
                    "t": np.arange(len(terms)),
                }
            )
            for dimension in DIMENSIONS
        ]
    )
    members = (
        rules[["dimension", "group", "quarter"]]
        .assign(r=np.arange(len(rules)))
        .merge(membership, on=["dimension", "group", "quarter"])[["r", "t"]]
    )
    row, column, weight, sunk = _amounts(members, amounts.entries, amounts.constant, len(rules))
    limit = rules["limit"].to_numpy(dtype=float)
    is_max = (rules["kind"] == "max").to_numpy()
    lp.add_rows(
        "share",
        rules,
        row=np.concatenate([row, np.arange(len(rules))]),
        column=np.concatenate([column, total[pd.Index(quarters_used).get_indexer(rules["quarter"])]]),
        value=np.concatenate([weight, -limit]),
        lower=np.where(is_max, -INF, -sunk),
        upper=np.where(is_max, -sunk, INF),
        price=np.concatenate([np.full(len(row), amounts.priced), np.zeros(len(rules), bool)]),
    )


def _spend_rows(model: LpModel, members: pd.DataFrame, count: int, unit: np.ndarray):
    """(row, column, coefficient) entries and sunk USD of rows summing everything paid in
    their member terms (r, t) over the quarter, each row multiplied by its ``unit``."""
    hours = model.inputs.policy.hours_per_quarter
    amounts = payments(model).rename(columns={"usd_per_hour": "weight"})
    constant = model.terms["contract_usd_per_hour"].to_numpy(dtype=float)
    row, column, weight, sunk = _amounts(members, amounts, constant, count)
    return row, column, weight * hours * unit[row], sunk * hours


def shortfall_unit_usd(model: LpModel) -> np.ndarray:
    """Dollars per unit of each shortfall column f[k]: f counts the commitment's amount
    (``1 / per_amount``), so its coefficient in its scaled row is 1. Written in dollars,
    it would enter that row as 1 / amount, which HiGHS drops as zero below 1e-9 (a $10B
    commitment), leaving a walk-away from the provider with no feasible plan."""
    amounts = spend_commitment_terms(model)["usd_in_horizon"].to_numpy(dtype=float)
    return 1.0 / np.array([per_amount(a) for a in amounts], dtype=float)


def per_amount(usd: float) -> float:
    """The factor a money row (spend commitment, budget) is multiplied by: one over its amount.

    HiGHS checks rows against an absolute tolerance (1e-7, and 1e-6 for the solutions of
    a MIP). A row written in dollars with a $10B right-hand side cannot meet it: one
    rounding step of 1e10 is 1.9e-6, so HiGHS rejected every good MIP solution as
    infeasible after presolve and either reported "Solve error" or returned a worse one as
    optimal (two draws of the bundled Monte Carlo sweep). Written as a fraction of its
    amount, the row's tolerance is relative, the measure the verifier uses.
    """
    return 1.0 / max(1.0, abs(usd))


def spend_commitment_terms(model: LpModel) -> pd.DataFrame:
    """Each spend commitment with the part of its amount that falls in the horizon.

    A period reaching outside the horizon keeps the share of its amount of the quarters
    inside (pro rata): the plan can only consume what falls within it.
    """
    horizon = model.inputs.horizon
    rows = []
    for k, item in enumerate(named_rows(model.inputs.spend_commitments)):
        period_length = quarters.period_length(item.first, item.last)
        inside = quarters.within(item.first, item.last, horizon)
        rows.append(
            {
                "k": k,
                "provider": item.provider,
                "first": item.first,
                "last": item.last,
                "usd": item.usd,
                "usd_in_horizon": item.usd * len(inside) / period_length,
                "quarters": inside,
            }
        )
    return pd.DataFrame(rows, columns=["k", "provider", "first", "last", "usd", "usd_in_horizon", "quarters"])


def add_spend_commitments(model: LpModel) -> None:
    """spend(provider, period) + shortfall[k] >= usd[k]: what is not consumed is paid anyway."""
    commitments = spend_commitment_terms(model)
    if commitments.empty:
        return
    period = commitments[["k", "provider", "quarters"]].explode("quarters").rename(columns={"quarters": "quarter"})
    terms = pd.DataFrame(
        {
            "t": np.arange(len(model.terms)),
            "provider": model.terms["provider"].to_numpy(),
            "quarter": model.terms["quarter"].to_numpy(),
        }
    )
    members = period.dropna(subset=["quarter"]).merge(terms, on=["provider", "quarter"]).rename(columns={"k": "r"})
    count = len(commitments)
    due = commitments["usd_in_horizon"].to_numpy(dtype=float)
    unit = np.array([per_amount(amount) for amount in due], dtype=float)
    row, column, value, sunk = _spend_rows(model, members[["r", "t"]], count, unit)
    model.lp.add_rows(
        "spend_commitment",
        commitments[["k", "provider", "first", "last", "usd_in_horizon"]],
        row=np.concatenate([row, np.arange(count)]),
        column=np.concatenate([column, model.shortfall]),
        value=np.concatenate([value, np.ones(count)]),  # f in units of 1 / unit
        lower=(due - sunk) * unit,
        upper=INF,
        price=np.concatenate([np.ones(len(row), bool), np.zeros(count, bool)]),
    )


def spend_discount_terms(model: LpModel) -> pd.DataFrame:
    """Each minimum-spend discount level with the part of its threshold in the horizon
    (pro rata, as for spend commitments) and ``g``, the position of its (provider, first,
    last) period among the periods: at most one level of a period applies."""
    horizon = model.inputs.horizon
    columns = ["k", "g", "provider", "first", "last", "from_usd", "from_in_horizon_usd", "discount", "quarters"]
    rows: list[list] = []
    periods: dict[tuple[str, str, str], int] = {}
    for k, item in enumerate(named_rows(model.inputs.spend_discounts)):
        inside = quarters.within(item.first, item.last, horizon)
        if not inside:
            continue
        g = periods.setdefault((item.provider, item.first, item.last), len(periods))
        share = len(inside) / quarters.period_length(item.first, item.last)
        threshold = item.from_usd * share
        rows.append([k, g, item.provider, item.first, item.last, item.from_usd, threshold, item.discount, inside])
    return pd.DataFrame(rows, columns=columns)


def add_spend_discounts(model: LpModel) -> None:
    """Minimum-spend discounts (contract, "Extension: minimum-spend discounts"). Per level
    k, a binary z_k; sum_k z_k <= 1 per period (``discount_pick``); the spend of the period
    (everything paid to the provider in its quarters, as for spend commitments) reaches
    from_k when z_k = 1 (``discount_reach``, per amount). Each paying column j of the
    period (chips on demand, a tier segment, a running commitment) gets a part
    a_kj <= col_j (``discount_split``) and a_kj <= 2 max_chips z_k (``discount_cap``),
    costing -discount_k times col_j's price: the rebate, exact in the prices, so a what-if
    on a price moves it too. The cap is in chips, twice what the term can hold, so
    capacity what-ifs keep it slack. Signed contracts' spend is rebated through z_k."""
    levels = spend_discount_terms(model)
    model.discounts = levels
    if levels.empty:
        return
    lp, inputs, terms = model.lp, model.inputs, model.terms
    hours = inputs.policy.hours_per_quarter
    period = levels[["k", "provider", "quarters"]].assign(r=np.arange(len(levels)))
    period = period.explode("quarters").rename(columns={"quarters": "quarter"})
    members = period.merge(
        pd.DataFrame({"t": np.arange(len(terms)), "provider": terms["provider"], "quarter": terms["quarter"]}),
        on=["provider", "quarter"],
    )
    rate = levels["discount"].to_numpy(dtype=float)
    contract_usd = terms["contract_usd_per_hour"].to_numpy(dtype=float) * hours * inputs.discount_of(terms["quarter"])
    sunk_worth = np.bincount(members["r"], weights=contract_usd[members["t"]], minlength=len(levels))
    model.discount_z = lp.add_columns("discount_z", len(levels), upper=1.0, cost=-rate * sunk_worth, integer=True)
    groups = levels["g"].to_numpy(dtype=np.int64)
    lp.add_rows(
        "discount_pick",
        levels.drop_duplicates("g")[["provider", "first", "last"]],
        row=groups,
        column=model.discount_z,
        value=np.ones(len(levels)),
        lower=0.0,
        upper=1.0,
    )
    threshold = levels["from_in_horizon_usd"].to_numpy(dtype=float)
    unit = np.array([per_amount(amount) for amount in threshold], dtype=float)
    row, column, value, sunk = _spend_rows(model, members[["r", "t"]], len(levels), unit)
    lp.add_rows(
        "discount_reach",
        levels[["k", "provider", "first", "last", "from_in_horizon_usd"]],
        row=np.concatenate([row, np.arange(len(levels))]),
        column=np.concatenate([column, model.discount_z]),
        value=np.concatenate([value, -threshold * unit]),
        lower=-sunk * unit,
        upper=INF,
        price=np.concatenate([np.ones(len(row), bool), np.zeros(len(levels), bool)]),
    )
    _add_discount_parts(model, members, rate)


def _add_discount_parts(model: LpModel, members: pd.DataFrame, rate: np.ndarray) -> None:
    """The a_kj columns of ``add_spend_discounts`` with their split and cap rows."""
    lp, terms = model.lp, model.terms
    entries = members[["r", "t"]].merge(payments(model), on="t")
    entries = entries[entries["usd_per_hour"] > 0].reset_index(drop=True)
    k, t = entries["r"].to_numpy(dtype=np.int64), entries["t"].to_numpy(dtype=np.int64)
    paying = entries["column"].to_numpy(dtype=np.int64)
    worth = entries["usd_per_hour"].to_numpy(dtype=float) * model.inputs.policy.hours_per_quarter
    worth = worth * model.inputs.discount_of(terms["quarter"].to_numpy()[t])
    model.discounted = pd.DataFrame({"k": k, "t": t, "column": paying, "weight": entries["usd_per_hour"]})
    model.discount_a = lp.add_columns("discount_a", len(entries), cost=-rate[k] * worth)
    keys = pd.DataFrame(
        {"k": k, "offer": terms["offer"].to_numpy()[t], "quarter": terms["quarter"].to_numpy()[t], "column": paying}
    )
    count = np.arange(len(entries))
    lp.add_rows(
        "discount_split",
        keys,
        row=np.concatenate([count, count]),
        column=np.concatenate([model.discount_a, paying]),
        value=np.concatenate([np.ones(len(entries)), -np.ones(len(entries))]),
        lower=-INF,
        upper=0.0,
    )
    lp.add_rows(
        "discount_cap",
        keys,
        row=np.concatenate([count, count]),
        column=np.concatenate([model.discount_a, model.discount_z[k]]),
        value=np.concatenate([np.ones(len(entries)), -2.0 * terms["max_chips"].to_numpy(dtype=float)[t]]),
        lower=-INF,
        upper=0.0,
    )


def add_budgets(model: LpModel) -> None:
    """Everything paid in a quarter (on demand, commitments running, contracts) <= its budget."""
    policy = model.inputs.policy
    budgets = [(quarter, policy.budget(quarter)) for quarter in model.inputs.horizon]
    keys = pd.DataFrame([item for item in budgets if item[1] is not None], columns=["quarter", "budget_usd"])
    if keys.empty:
        return
    r = pd.Index(keys["quarter"]).get_indexer(model.terms["quarter"])
    members = pd.DataFrame({"r": r, "t": np.arange(len(model.terms))})[r >= 0]
    budget = keys["budget_usd"].to_numpy(dtype=float)
    unit = np.array([per_amount(amount) for amount in budget], dtype=float)
    row, column, value, sunk = _spend_rows(model, members, len(keys), unit)
    model.lp.add_rows(
        "budget",
        keys,
        row=row,
        column=column,
        value=value,
        lower=-INF,
        upper=(budget - sunk) * unit,
        price=np.ones(len(row), bool),
    )


def _port_of(model: LpModel, pairs: pd.DataFrame) -> np.ndarray:
    """For each of ``pairs``, the position of the port its (model, accelerator) needs, or -1."""
    if model.ports.empty or pairs.empty:
        return np.full(len(pairs), -1, dtype=np.int64)
    needed = pd.MultiIndex.from_frame(model.ports[["model", "accelerator"]])
    served = pd.MultiIndex.from_arrays(
        [
            model.workloads["model"].to_numpy()[pairs["w"].to_numpy()],
            model.terms["accelerator"].to_numpy()[pairs["t"].to_numpy()],
        ]
    )
    return needed.get_indexer(served)


def ports_needed(model: LpModel) -> pd.DataFrame:
    """(model, accelerator, port_usd, port_quarters) of every pair that needs porting and has
    an allowed pair to serve: one binary decision each (``add_ports``)."""
    performance = model.inputs.performance
    needs = performance[(performance["port_usd"] > 0) | (performance["port_quarters"] > 0)]
    served = pd.MultiIndex.from_arrays(
        [
            model.workloads["model"].to_numpy()[model.pairs["w"].to_numpy()],
            model.terms["accelerator"].to_numpy()[model.pairs["t"].to_numpy()],
        ]
    )
    needs = needs[pd.MultiIndex.from_frame(needs[["model", "accelerator"]]).isin(served)]
    return needs[["model", "accelerator", "port_usd", "port_quarters"]].reset_index(drop=True)


def add_ports(model: LpModel) -> None:
    """Binary port decisions z[p,q] at port_usd each: sum_q z[p,q] <= 1, and a pair not yet
    ported serves nothing: sum_{w in q, its pairs} x <= D(model, q) * sum_{s: s + lead <= q} z[p,s]."""
    if model.ports.empty:  # set by build (ports_needed)
        return
    horizon = model.inputs.horizon
    port = np.repeat(np.arange(len(model.ports)), len(horizon))
    model.port_starts = pd.DataFrame(
        {"port": port, "quarter": np.tile(np.asarray(horizon, dtype=object), len(model.ports))}
    )
    model.z = model.lp.add_columns(
        "z",
        len(port),
        lower=0.0,
        upper=1.0,
        cost=model.ports["port_usd"].to_numpy(dtype=float)[port]
        * model.inputs.discount_of(model.port_starts["quarter"]),
        integer=True,
    )
    model.lp.add_rows(
        "port_once",
        model.ports[["model", "accelerator"]],
        row=port,
        column=model.z,
        value=np.ones(len(port)),
        lower=-INF,
        upper=1.0,
    )
    _add_readiness(model, model.pairs, model.x, "port_ready")


def _add_readiness(model: LpModel, pairs: pd.DataFrame, x: np.ndarray, family: str) -> None:
    """Rows holding unported pairs at zero: sum_{o on the chip} x[w,o] <= D[w] * (ported by then),
    one per workload row. Per row rather than per model and quarter: the LP relaxation is
    then tight enough for HiGHS to settle the port decisions with little branching."""
    port = _port_of(model, pairs)
    needing = pd.DataFrame(
        {"port": port, "quarter": pairs["quarter"].to_numpy(), "w": pairs["w"].to_numpy(), "column": x}
    )[port >= 0]
    if needing.empty:
        return
    keys = needing[["port", "quarter", "w"]].drop_duplicates().sort_values(["port", "quarter", "w"])
    keys = keys.reset_index(drop=True).assign(r=lambda frame: np.arange(len(frame)))
    entries = needing.merge(keys, on=["port", "quarter", "w"])
    horizon = model.inputs.horizon
    ordinal = np.array([quarters.ordinal(q) for q in horizon])
    lead = model.ports["port_quarters"].to_numpy(dtype=np.int64)[keys["port"].to_numpy()]
    ready_by = keys["quarter"].map(quarters.ordinal).to_numpy() - lead  # a port started by then is ready
    r, k = np.nonzero(ordinal[None, :] <= ready_by[:, None])
    z = model.z[keys["port"].to_numpy()[r] * len(horizon) + k]
    demand = model.workloads["tokens_per_s"].to_numpy(dtype=float)[keys["w"].to_numpy()[r]]
    labels = pd.DataFrame(
        {
            "model": model.ports["model"].to_numpy()[keys["port"].to_numpy()],
            "accelerator": model.ports["accelerator"].to_numpy()[keys["port"].to_numpy()],
            "quarter": keys["quarter"].to_numpy(),
            "workload": model.workloads["workload"].to_numpy()[keys["w"].to_numpy()],
        }
    )
    model.lp.add_rows(
        family,
        labels,
        row=np.concatenate([entries["r"].to_numpy(), r]),
        column=np.concatenate([entries["column"].to_numpy(), z]),
        value=np.concatenate([np.ones(len(entries)), -demand]),
        lower=-INF,
        upper=0.0,
    )


def add_ramps(model: LpModel) -> None:
    """Volume of a provider, vendor or accelerator in q+1 <= factor x its volume in q + allowance:
    sum_{pairs of g in q+1} x - factor * sum_{pairs of g in q} x <= allowance, where g has pairs in q+1.
    With a starting fleet the first quarter ramps from it too: its volume <= factor x the
    fleet's tokens/s on g + allowance."""
    inputs = model.inputs
    horizon = inputs.horizon
    quarter_of_pair = pd.Index(horizon).get_indexer(pd.Index(model.pairs["quarter"]))
    first = 0 if not inputs.fleet.empty else 1  # the first quarter a ramp row can limit
    labels, rows, columns, values, upper = [], [], [], [], []
    count = 0
    for dimension, limits in sorted(inputs.policy.ramp_limits.items()):
        group_of_pair = model.terms[dimension].to_numpy()[model.pairs["t"].to_numpy()]
        fleet = fleet_volume(inputs, dimension).groupby(level="group").sum() if first == 0 else pd.Series()
        for group, limit in sorted(limits.items()):
            mine = group_of_pair == group
            afters = np.unique(quarter_of_pair[mine & (quarter_of_pair >= first)])  # quarters q+1 with pairs
            later = np.flatnonzero(mine & (quarter_of_pair >= first))
            now = np.flatnonzero(mine & np.isin(quarter_of_pair + 1, afters))
            rows += [
                count + np.searchsorted(afters, quarter_of_pair[later]),
                count + np.searchsorted(afters, quarter_of_pair[now] + 1),
            ]
            columns += [model.x[later], model.x[now]]
            values += [np.ones(len(later)), np.full(len(now), -float(limit.factor))]
            labels += [(dimension, group, horizon[a], limit.factor, limit.allowance_tokens_per_s) for a in afters]
            before = [limit.factor * float(fleet.get(group, 0.0)) if a == 0 else 0.0 for a in afters]
            upper += [float(limit.allowance_tokens_per_s) + b for b in before]
            count += len(afters)
    if count:
        keys = pd.DataFrame(labels, columns=["dimension", "group", "quarter", "factor", "allowance_tokens_per_s"])
        model.lp.add_rows(
            "ramp",
            keys,
            row=np.concatenate(rows),
            column=np.concatenate(columns),
            value=np.concatenate(values),
            lower=-INF,
            upper=np.array(upper),
        )


def add_workload_caps(model: LpModel) -> None:
    """``workload_rules`` caps: for each named workload row w and group g of a capped
    dimension with pairs of w, sum_{o in g} x[w,o] <= cap x sum_o x[w,o] (of w's served
    tokens/s; exclusions drop pairs in ``allowed_pairs``)."""
    inputs = model.inputs
    names = model.workloads["workload"].to_numpy()
    quarter = model.workloads["quarter"].to_numpy()
    w = model.pairs["w"].to_numpy()
    t = model.pairs["t"].to_numpy()
    labels, rows, columns, values = [], [], [], []
    count = 0
    for k, rule in enumerate(inputs.policy.workload_rules):
        for dimension, cap in sorted(rule.max_share.items()):
            group = model.terms[dimension].to_numpy()[t]
            for row in np.flatnonzero(np.isin(names, rule.workloads)):
                mine = np.flatnonzero(w == row)
                for name in sorted(set(group[mine])):
                    rows.append(np.full(len(mine), count))
                    columns.append(model.x[mine])
                    values.append((group[mine] == name).astype(float) - cap)
                    labels.append((k, names[row], quarter[row], dimension, name, cap))
                    count += 1
    if count:
        model.lp.add_rows(
            "workload_share",
            pd.DataFrame(labels, columns=["rule", "workload", "quarter", "dimension", "group", "max_share"]),
            row=np.concatenate(rows),
            column=np.concatenate(columns),
            value=np.concatenate(values),
            lower=-INF,
            upper=0.0,
        )


def add_moves(model: LpModel) -> None:
    """Moving between consecutive quarters (``optimizer.model.moves``): per model, group and
    quarter, V[m,g,q] - V[m,g,q-1] = on - off, on and off >= 0 at the group's onto and off
    costs per token/s (discounted at q); V before the horizon is the starting fleet's, a
    constant. Continuity, per group and quarter where set: sum_m off <= max_off_share x
    V[g,q-1] + allowance, and sum_m on <= max_onto_share x V[g,q-1] + allowance."""
    if not model.inputs.policy.switching:
        return
    pairs, terms = model.pairs, model.terms
    term = pairs["t"].to_numpy()
    keys, entries = move_index(
        model.inputs,
        model.workloads["model"].to_numpy()[pairs["w"].to_numpy()],
        {dimension: terms[dimension].to_numpy()[term] for dimension in ("provider", "vendor", "accelerator")},
        pd.Index(model.inputs.horizon).get_indexer(pd.Index(pairs["quarter"])),
    )
    if keys.empty:
        return
    lp = model.lp
    at = model.inputs.discount_of(keys["quarter"])
    model.moves, model.move_entries = keys, entries
    model.move_on = _move_columns(model, "onto", at)
    model.move_off = _move_columns(model, "off", at)
    on, off = model.move_on >= 0, model.move_off >= 0
    measured = np.flatnonzero(on | off)  # a key with neither a cost nor a limit needs no row
    row_of = np.full(len(keys), -1, dtype=np.int64)
    row_of[measured] = np.arange(len(measured))
    entries = entries[row_of[entries["r"].to_numpy(dtype=np.int64)] >= 0]
    before = keys["before"].to_numpy(dtype=float)[measured]
    lp.add_rows(
        "move",
        keys.loc[measured, MOVE_KEYS],
        row=row_of[np.concatenate([entries["r"].to_numpy(dtype=np.int64), np.flatnonzero(on), np.flatnonzero(off)])],
        column=np.concatenate(
            [model.x[entries["pair"].to_numpy(dtype=np.int64)], model.move_on[on], model.move_off[off]]
        ),
        value=np.concatenate([entries["sign"].to_numpy(dtype=float), -np.ones(int(on.sum())), np.ones(int(off.sum()))]),
        lower=np.where(off[measured], before, -INF),  # without an off column: V[q] - V[q-1] - on <= 0
        upper=np.where(on[measured], before, INF),  # without an on column: off >= V[q-1] - V[q]
    )
    earlier = entries[entries["sign"].to_numpy() < 0]
    for direction, moved in (("off", model.move_off), ("onto", model.move_on)):
        _add_continuity(model, direction, moved, earlier)


def _move_columns(model: LpModel, direction: str, at: np.ndarray) -> np.ndarray:
    """The on (``onto``) or off columns, one per move key that has a cost or a limit that way,
    at that cost discounted; -1 for the keys without. A column at no cost and without a limit
    only makes the LP degenerate: the dual simplex then took minutes on the bundled data."""
    keys = model.moves
    cost = keys[f"{direction}_usd_per_token_s"].to_numpy(dtype=float)
    needed = np.flatnonzero((cost > 0) | keys[f"max_{direction}_share"].notna().to_numpy())
    columns = np.full(len(keys), -1, dtype=np.int64)
    columns[needed] = model.lp.add_columns(f"mv_{direction}", len(needed), cost=(cost * at)[needed])
    return columns


def _add_continuity(model: LpModel, direction: str, moved: np.ndarray, earlier: pd.DataFrame) -> None:
    """sum_m moved[m,g,q] - share x V[g,q-1] <= allowance + share x fleet[g] (first quarter)."""
    keys = model.moves
    share = pd.to_numeric(keys[f"max_{direction}_share"], errors="coerce").to_numpy(dtype=float)
    limited = ~np.isnan(share)
    if not limited.any():
        return
    groups = keys[limited].groupby(["dimension", "group", "quarter"], sort=True)
    row_of = np.full(len(keys), -1, dtype=np.int64)
    row_of[limited] = groups.ngroup().to_numpy()
    limits = groups.agg(
        share=(f"max_{direction}_share", "first"),
        allowance_tokens_per_s=("allowance_tokens_per_s", "first"),
        before=("before", "sum"),
    ).reset_index()
    previous = earlier[row_of[earlier["r"].to_numpy(dtype=np.int64)] >= 0]
    previous_row = row_of[previous["r"].to_numpy(dtype=np.int64)]
    limit_share = limits["share"].to_numpy(dtype=float)
    model.lp.add_rows(
        f"move_{direction}_limit",
        limits[["dimension", "group", "quarter", "share", "allowance_tokens_per_s"]],
        row=np.concatenate([row_of[limited], previous_row]),
        column=np.concatenate([moved[limited], model.x[previous["pair"].to_numpy(dtype=np.int64)]]),
        value=np.concatenate([np.ones(int(limited.sum())), -limit_share[previous_row]]),
        lower=-INF,
        upper=limits["allowance_tokens_per_s"].to_numpy(dtype=float) + limit_share * limits["before"].to_numpy(),
    )


def add_instances(model: LpModel) -> None:
    """With ``integer``: chips of offers with chips_per_instance come in whole instances:
    y[o,q] = size * n (on-demand, buyable) and c[o,s] = size * n, n integer >= 0."""
    if not model.integer:
        return
    terms, starts = model.terms, model.starts
    bought = np.flatnonzero(((terms["term"] == "on-demand") & terms["buyable"].astype(bool)).to_numpy())
    targets = pd.DataFrame(
        {
            "column": np.concatenate([model.y[bought], model.c]),
            "offer": np.concatenate([terms["offer"].to_numpy()[bought], starts["offer"].to_numpy()]),
            "quarter": np.concatenate([terms["quarter"].to_numpy()[bought], starts["quarter"].to_numpy()]),
        }
    )
    size = pd.to_numeric(
        targets["offer"].map(model.inputs.offers.set_index("offer")["chips_per_instance"]), errors="coerce"
    ).to_numpy(dtype=float, na_value=np.nan)
    whole = ~np.isnan(size)
    if not whole.any():
        return
    targets = targets[whole].assign(chips_per_instance=size[whole])
    model.instances = model.lp.add_columns("n", len(targets), integer=True)
    count = len(targets)
    model.lp.add_rows(
        "instance",
        targets[["offer", "quarter", "chips_per_instance"]],
        row=np.tile(np.arange(count), 2),
        column=np.concatenate([targets["column"].to_numpy(), model.instances]),
        value=np.concatenate([np.ones(count), -size[whole]]),
        lower=0.0,
        upper=0.0,
    )


def add_power(model: LpModel) -> None:
    """sum of chips held x power_kw <= megawatts x 1000 per power cap and quarter (signed chips too):
    sum_{o of the cap's provider/region} kw[o] * y[o,q] <= 1000 MW - sum kw[o] * contract_chips[o,q]."""
    power = model.inputs.power
    if power.empty:
        return
    terms = model.terms
    kw = chip_kw(model)
    horizon = list(model.inputs.horizon)
    caps = pd.DataFrame(
        {
            "cap": power.index,
            "provider": power["provider"].to_numpy(),
            "region": power["region"].to_numpy(),
            "megawatts": power["megawatts"].to_numpy(),
            "quarter": [horizon if pd.isna(q) else [q] for q in power["quarter"]],
        }
    )
    caps = caps.explode("quarter", ignore_index=True).assign(e=lambda frame: np.arange(len(frame)))
    hit = caps[["e", "quarter", "provider", "region"]].merge(
        pd.DataFrame(
            {
                "t": np.arange(len(terms)),
                "quarter": terms["quarter"].to_numpy(),
                "term_provider": terms["provider"].to_numpy(),
                "term_region": terms["region"].to_numpy(),
            }
        ),
        on="quarter",
    )
    hit = hit[
        (hit["provider"].isna() | (hit["provider"] == hit["term_provider"]))
        & (hit["region"].isna() | (hit["region"] == hit["term_region"]))
    ]
    used = np.unique(hit["e"].to_numpy(dtype=np.int64))
    if not len(used):
        return
    r = np.searchsorted(used, hit["e"].to_numpy(dtype=np.int64))
    t = hit["t"].to_numpy(dtype=np.int64)
    signed = np.bincount(r, weights=kw[t] * terms["contract_chips"].to_numpy(dtype=float)[t], minlength=len(used))
    keys = caps.loc[used, ["cap", "provider", "region", "quarter", "megawatts"]]
    model.lp.add_rows(
        "power",
        keys,
        row=r,
        column=model.y[t],
        value=kw[t],
        lower=-INF,
        upper=keys["megawatts"].to_numpy(dtype=float) * 1000 - signed,
    )


def add_resilience(model: LpModel) -> None:
    """For every single outage (one provider or region lost), a re-allocation of the chips held
    elsewhere that strands at most the allowed share of each quarter's demand:
    sum_o x^g[w,o] + u^g[w] = D[w];  sum_w x^g / tp <= y + signed (o outside g);
    sum_{w in q} u^g[w] <= max_stranded_share x D(q)."""
    resilience = model.inputs.policy.resilience
    if resilience is None:
        return
    dimension = resilience.dimension
    workloads, pairs = model.workloads, model.pairs
    demand_of_quarter = workloads.groupby("quarter")["tokens_per_s"].sum()
    group_of_pair = model.terms[dimension].to_numpy()[pairs["t"].to_numpy()]
    inverse = 1.0 / pairs["tokens_per_s_per_chip"].to_numpy(dtype=float)
    quarter_of_row = workloads["quarter"].to_numpy()
    stranded = sorted(set(quarter_of_row))
    for k, group in enumerate(resilience.outages(model.terms[dimension])):
        kept = np.flatnonzero(group_of_pair != group)
        x = model.lp.add_columns(f"r{k}x", len(kept))
        u = model.lp.add_columns(f"r{k}u", len(workloads))
        model.recourse[group] = (kept, x, u)
        _serve_rows(
            model,
            "outage_demand",
            workloads[["workload", "quarter"]].assign(outage=group),
            pairs["w"].to_numpy()[kept],
            x,
            u,
        )
        _chip_rows(model, "outage_capacity", pairs["t"].to_numpy()[kept], inverse[kept], x, outage=group)
        model.lp.add_rows(
            "stranded",
            pd.DataFrame({"quarter": stranded, "outage": group}),
            row=pd.Index(stranded).get_indexer(quarter_of_row),
            column=u,
            value=np.ones(len(u)),
            lower=-INF,
            upper=resilience.max_stranded_share * demand_of_quarter.reindex(stranded).to_numpy(dtype=float),
        )
        if len(model.z):
            _add_readiness(model, pairs.iloc[kept].reset_index(drop=True), x, "outage_port_ready")
