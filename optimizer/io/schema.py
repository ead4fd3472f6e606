"""Pydantic models of one input row per file and of the policy: the contract's types and ranges.

Rows are validated in strict mode. CSV cells arrive as text, so numbers and booleans are
parsed explicitly before the strict check; nothing else is coerced (a YAML ``true`` is
never a number, a ``"0.5"`` string in the policy is never a share).

Value ranges: every quantity that enters the LP has an upper limit (and throughputs a lower
one) far beyond real use but well inside what the solver can represent. HiGHS reads
bounds and costs from 1e20 up as infinite and drops matrix entries below 1e-9, so a price
of 1e30 or a throughput of 1e-300 would make the plan meaningless, not just expensive.
With these limits the largest cost coefficient, price x hours / throughput, stays below
1e6 x 1e4 / 1e-3 = 1e13 and every capacity coefficient 1 / throughput between 1e-7 and
1e3. Latencies are only compared, never enter the LP, and have no upper limit.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
# Years 2000 to 2199 (FIRST_YEAR, LAST_YEAR). Not \d: it also matches fullwidth and other
# scripts' digits.
QUARTER_PATTERN = r"^2[01][0-9]{2}Q[1-4]$"
FIRST_YEAR, LAST_YEAR = 2000, 2199
# 25 years of quarters: the bundled horizon is 8 and the model grows with each quarter, so a
# mistyped year (4026Q4) is stopped here rather than building an LP of 8,000 quarters.
MAX_HORIZON_QUARTERS = 100
Dimension = Literal["provider", "vendor", "region", "offer"]
DIMENSIONS: tuple[Dimension, ...] = ("provider", "vendor", "region", "offer")
# What a share is measured on: served tokens/s, compute USD per hour, or kW of chips held.
ShareBasis = Literal["volume", "spend", "power"]
SHARE_BASES: tuple[ShareBasis, ...] = ("volume", "spend", "power")


MAX_USD_PER_CHIP_HOUR = 1e6  # bundled prices: 0.68 to 38; a whole rack-hour is about 1e3
MAX_CHIPS = 1e9  # all accelerators ever shipped are of the order of 1e8
MIN_TOKENS_PER_S_PER_CHIP = 1e-3  # bundled: 22 to 44,186
MAX_TOKENS_PER_S_PER_CHIP = 1e7
MAX_TOKENS_PER_S = 1e10  # demand; bundled at most 9e6, benchmarks 1e6
MAX_USD = 1e13  # spend commitments, ports, budgets; bundled at most 1e10
MAX_KW_PER_CHIP = 1e3  # bundled 0.3 to 3.1
MAX_MEGAWATTS = 1e6  # all data centres on earth draw of the order of 1e5
MAX_CHIPS_PER_INSTANCE = 1e6
MIN_CHIPS_PER_INSTANCE = 1e-3  # fractional GPUs exist; smaller would vanish from the matrix
MAX_PORT_QUARTERS = 400  # a century
MAX_DISCOUNT_RATE = 1.0  # per year; cost-of-capital figures are of the order of 0.1
MAX_OUTAGE_DAYS = 92.0  # a quarter: the drill's outage happens within one
MAX_HOURS_PER_QUARTER = 1e4  # a quarter has at most 2,208 hours (and at least 1 is asked)
MAX_PENALTY_USD_PER_MTOK = 1e9  # above any serving cost the price limits allow
MAX_RAMP_FACTOR = 1e6
MAX_USD_PER_TOKEN_S = 1e7  # moving one token/s; a token/s of a 405B model costs about 500 USD a quarter

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NOT_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


def parse_number(value: Any) -> Any:
    """Turn CSV text into a float; leave native YAML/Python values to the strict check.

    Only plain ASCII decimals: Python's ``float`` would also take ``1_000`` and fullwidth or
    other scripts' digits, which a spreadsheet would not read as the same number.
    """
    if isinstance(value, str):
        text = value.strip()
        if _NOT_FINITE.fullmatch(text):
            raise ValueError("expected a finite number (not NaN or infinity)")
        if not _DECIMAL.fullmatch(text):
            raise ValueError("expected a number (digits, '.' for decimals, e.g. 1234.5 or 1.5e6)")
        number = float(text)
        if not math.isfinite(number):
            raise ValueError("expected a finite number: too large to represent")
        return number
    return value


_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def parse_flag(value: Any) -> Any:
    """Turn CSV text (true/yes/1, false/no/0, any case) into a bool; leave other values."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("expected true or false")
    return value


_Csv = BeforeValidator(parse_number)
NonNegative = Annotated[float, _Csv, Field(ge=0, allow_inf_nan=False)]
Price = Annotated[float, _Csv, Field(ge=0, le=MAX_USD_PER_CHIP_HOUR, allow_inf_nan=False)]
Chips = Annotated[float, _Csv, Field(ge=0, le=MAX_CHIPS, allow_inf_nan=False)]
Throughput = Annotated[
    float, _Csv, Field(ge=MIN_TOKENS_PER_S_PER_CHIP, le=MAX_TOKENS_PER_S_PER_CHIP, allow_inf_nan=False)
]
InstanceSize = Annotated[float, _Csv, Field(ge=MIN_CHIPS_PER_INSTANCE, le=MAX_CHIPS_PER_INSTANCE, allow_inf_nan=False)]
Demand = Annotated[float, _Csv, Field(ge=0, le=MAX_TOKENS_PER_S, allow_inf_nan=False)]
Usd = Annotated[float, _Csv, Field(ge=0, le=MAX_USD, allow_inf_nan=False)]
Flag = Annotated[bool, BeforeValidator(parse_flag)]
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Quarter = Annotated[str, StringConstraints(pattern=QUARTER_PATTERN)]


class _Row(BaseModel):
    """A CSV record: unknown columns are reported as warnings by the loader, not here."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class AcceleratorRow(_Row):
    accelerator: Id
    vendor: Id
    name: str = ""
    hbm_gb: NonNegative | None = None
    power_kw: Annotated[float, _Csv, Field(ge=0, le=MAX_KW_PER_CHIP, allow_inf_nan=False)] | None = None
    source: str = ""


class OfferRow(_Row):
    offer: Id
    provider: Id
    region: Id
    accelerator: Id
    usd_per_chip_hour: Price
    max_chips: Chips
    term: Literal["on-demand", "1yr", "3yr"] = "on-demand"
    min_chips: Chips = 0.0
    available_from: Quarter | None = None
    available_until: Quarter | None = None
    assumed: Flag = False
    source: str = ""
    pool: Id | None = None
    chips_per_instance: InstanceSize | None = None
    payment: Literal["per_quarter", "upfront"] = "per_quarter"


TERM_QUARTERS = {"on-demand": 1, "1yr": 4, "3yr": 12}


class OfferQuarterRow(_Row):
    offer: Id
    quarter: Quarter
    usd_per_chip_hour: Price | None = None
    max_chips: Chips | None = None
    min_chips: Chips | None = None


def _whole(value: Any) -> Any:
    number = parse_number(value)
    if isinstance(number, float) and number.is_integer():
        return int(number)
    if isinstance(number, float):
        raise ValueError("expected a whole number of quarters")
    return number


Quarters = Annotated[int, BeforeValidator(_whole), Field(ge=0, le=MAX_PORT_QUARTERS)]


class PerformanceRow(_Row):
    model: Id
    accelerator: Id
    tokens_per_s_per_chip: Throughput
    ttft_ms: NonNegative
    assumed: Flag = False
    source: str = ""
    port_usd: Usd = 0.0  # one-time cost of making the pair production-ready
    port_quarters: Quarters = 0  # lead time: ported in q, it serves from q + port_quarters


class WorkloadRow(_Row):
    workload: Id
    model: Id
    geography: Id
    quarter: Quarter
    tokens_per_s: Demand
    latency_slo_ms: NonNegative
    utilization: Annotated[float, _Csv, Field(gt=0, le=1, allow_inf_nan=False)] = 1.0
    # What a million tokens of this workload earn (blank: not given, the policy's penalty
    # prices its unserved demand instead).
    revenue_usd_per_mtok: (
        Annotated[float, _Csv, Field(ge=0, le=MAX_PENALTY_USD_PER_MTOK, allow_inf_nan=False)] | None
    ) = None


class ContractRow(_Row):
    """Capacity already signed for: sunk, usable, paid whatever the plan does."""

    offer: Id
    chips: Chips
    start: Quarter
    end: Quarter
    usd_per_chip_hour: Price | None = None
    renewal: Flag = False  # up for renewal: the leverage report's renewal view removes it
    source: str = ""


class SpendCommitmentRow(_Row):
    """Spend owed to a provider over a period: consumed by purchases, the shortfall paid anyway."""

    provider: Id
    first: Quarter
    last: Quarter
    usd: Usd
    renewal: Flag = False  # up for renewal: the leverage report's renewal view removes it
    source: str = ""


class PowerRow(_Row):
    """A power cap: chips held x their power_kw within megawatts (provider and/or region)."""

    provider: Id | None = None
    region: Id | None = None
    quarter: Quarter | None = None  # blank: every quarter
    megawatts: Annotated[float, _Csv, Field(ge=0, le=MAX_MEGAWATTS, allow_inf_nan=False)]
    source: str = ""


class FleetRow(_Row):
    """What the lab runs today, the quarter before the horizon: chips of an offer serving a model."""

    offer: Id
    model: Id
    chips: Chips
    tokens_per_s: Demand
    source: str = ""


class PriceTierRow(_Row):
    """A volume price break of an on-demand offer: from ``from_chips`` chips held in a quarter
    the price is ``usd_per_chip_hour`` (all_units: on every chip; incremental: on the chips
    above the break). Tier 0 is the offer's own price from 0 chips."""

    offer: Id
    quarter: Quarter | None = None  # blank: every quarter the offer is available
    from_chips: Annotated[float, _Csv, Field(gt=0, le=MAX_CHIPS, allow_inf_nan=False)]
    usd_per_chip_hour: Price
    kind: Literal["all_units", "incremental"]
    source: str = ""


class SpendDiscountRow(_Row):
    """A minimum-spend discount offered by a provider: if what the lab pays it over the
    period reaches ``from_usd``, every dollar paid to it in the period costs
    ``1 - discount``. Rows of one (provider, first, last) are levels: at most one applies."""

    provider: Id
    first: Quarter
    last: Quarter
    from_usd: Annotated[float, _Csv, Field(gt=0, le=MAX_USD, allow_inf_nan=False)]
    discount: Annotated[float, _Csv, Field(gt=0, lt=1, allow_inf_nan=False)]
    source: str = ""


class LatencyRow(_Row):
    geography: Id
    region: Id
    rtt_ms: NonNegative


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)


PolicyFraction = Annotated[float, Field(ge=0, le=1)]
PolicyUsd = Annotated[float, Field(ge=0, le=MAX_USD)]


class MaxShare(_Strict):
    """Largest share of a quarter's volume (spend, power) any one group may take."""

    provider: PolicyFraction = 1.0
    vendor: PolicyFraction = 1.0
    region: PolicyFraction = 1.0
    offer: PolicyFraction = 1.0


class MinShare(_Strict):
    """Smallest share of a quarter's volume (spend, power) every group must take."""

    provider: PolicyFraction = 0.0
    vendor: PolicyFraction = 0.0
    region: PolicyFraction = 0.0
    offer: PolicyFraction = 0.0


class ShareOverrides(_Strict):
    max_share: dict[Dimension, dict[Id, PolicyFraction]] = Field(default_factory=dict)
    min_share: dict[Dimension, dict[Id, PolicyFraction]] = Field(default_factory=dict)


class ShareRules(_Strict):
    """The caps and floors measured on one basis: the policy's own keys for ``share_basis``,
    an ``extra_share_bases`` entry for each other basis."""

    max_share: MaxShare = Field(default_factory=MaxShare)
    min_share: MinShare = Field(default_factory=MinShare)
    share_overrides: ShareOverrides = Field(default_factory=ShareOverrides)

    def cap(self, dimension: Dimension, group: str) -> float:
        override = self.share_overrides.max_share.get(dimension, {})
        return override.get(group, getattr(self.max_share, dimension))

    def floor(self, dimension: Dimension, group: str) -> float:
        override = self.share_overrides.min_share.get(dimension, {})
        return override.get(group, getattr(self.min_share, dimension))

    def sets_rules(self) -> bool:
        """Whether any cap is below 1 or any floor above 0: rules that write share rows."""
        overrides = self.share_overrides
        caps = [*dict(self.max_share).values(), *(v for g in overrides.max_share.values() for v in g.values())]
        floors = [*dict(self.min_share).values(), *(v for g in overrides.min_share.values() for v in g.values())]
        return min(caps) < 1 or max(floors) > 0


class RampLimit(_Strict):
    """Growth cap: volume in q+1 <= factor x volume in q + allowance (tokens/s)."""

    factor: Annotated[float, Field(ge=0, le=MAX_RAMP_FACTOR)]
    allowance_tokens_per_s: Annotated[float, Field(ge=0, le=MAX_TOKENS_PER_S)] = 0.0


MoveUsd = Annotated[float, Field(ge=0, le=MAX_USD_PER_TOKEN_S)]
MoveTokens = Annotated[float, Field(ge=0, le=MAX_TOKENS_PER_S)]


class MoveTerms(_Strict):
    """What moving volume onto or off one group costs, and how much may move, per quarter.

    Blank (None) in a ``groups`` entry: the dimension's own value."""

    onto_usd_per_token_s: MoveUsd | None = None
    off_usd_per_token_s: MoveUsd | None = None
    max_onto_share: Annotated[float, Field(ge=0, le=MAX_RAMP_FACTOR)] | None = None
    max_off_share: PolicyFraction | None = None
    allowance_tokens_per_s: MoveTokens | None = None


class Switching(MoveTerms):
    """The cost of moving between consecutive quarters for every group of one dimension
    (provider, vendor or accelerator), with per-group overrides and per-model cost factors."""

    groups: dict[Id, MoveTerms] = Field(default_factory=dict)
    # Per model, a factor on both costs: a token/s of a small model takes fewer chips to move.
    model_factors: dict[Id, Annotated[float, Field(ge=0, le=MAX_RAMP_FACTOR)]] = Field(default_factory=dict)

    def terms_of(self, group: str) -> MoveTerms:
        """The group's terms: its override where given, else the dimension's, else none."""
        own = self.groups.get(group, MoveTerms())
        chosen = {name: getattr(own, name) for name in MoveTerms.model_fields}
        return MoveTerms(**{name: getattr(self, name) if value is None else value for name, value in chosen.items()})


class Resilience(_Strict):
    """Losing any one provider (or region), or one of the named ``suppliers``, strands at
    most this share of each quarter's demand."""

    dimension: Literal["provider", "region"] = "provider"
    max_stranded_share: PolicyFraction
    suppliers: Annotated[list[Id], Field(min_length=1)] | None = None  # None: any one

    def outages(self, groups) -> list[str]:
        """The groups whose loss the plan must survive, among ``groups`` (sorted)."""
        named = set(groups) if self.suppliers is None else set(self.suppliers) & set(groups)
        return sorted(named)


WorkloadDimension = Literal["provider", "vendor", "region", "offer", "accelerator"]


class WorkloadRule(_Strict):
    """Where named workloads may run: never on the ``exclude`` groups, and at most
    ``max_share`` of each of their rows' served tokens/s on any one group of a dimension."""

    workloads: Annotated[list[Id], Field(min_length=1)]
    exclude: dict[WorkloadDimension, list[Id]] = Field(default_factory=dict)
    max_share: dict[WorkloadDimension, PolicyFraction] = Field(default_factory=dict)


class Policy(_Strict):
    """The whole-plan settings of ``policy.yaml``; every key optional."""

    hours_per_quarter: Annotated[float, Field(ge=1, le=MAX_HOURS_PER_QUARTER)] = 2190.0
    unmet_penalty_usd_per_mtok: Annotated[float, Field(ge=0, le=MAX_PENALTY_USD_PER_MTOK)] = 100.0
    share_basis: ShareBasis = "volume"
    max_share: MaxShare = Field(default_factory=MaxShare)
    min_share: MinShare = Field(default_factory=MinShare)
    share_overrides: ShareOverrides = Field(default_factory=ShareOverrides)
    # Rules on other bases, each cap and floor measured on its own (consistency refuses
    # share_basis here: its rules are the keys above).
    extra_share_bases: dict[ShareBasis, ShareRules] = Field(default_factory=dict)
    budget_usd_per_quarter: (
        PolicyUsd | dict[Annotated[str, StringConstraints(pattern=QUARTER_PATTERN)], PolicyUsd] | None
    ) = None
    commitment_cost: Literal["whole", "in_horizon"] = "whole"
    discount_rate_per_year: Annotated[float, Field(ge=0, le=MAX_DISCOUNT_RATE)] | None = None
    ramp_limits: dict[Literal["provider", "vendor", "accelerator"], dict[Id, RampLimit]] = Field(default_factory=dict)
    resilience: Resilience | None = None
    outage_days: Annotated[float, Field(gt=0, le=MAX_OUTAGE_DAYS)] = 1.0  # the outage drill's duration
    switching: dict[Literal["provider", "vendor", "accelerator"], Switching] = Field(default_factory=dict)
    workload_rules: list[WorkloadRule] = Field(default_factory=list)

    def budget(self, quarter: str) -> float | None:
        """The compute budget of a quarter (None: no budget)."""
        if isinstance(self.budget_usd_per_quarter, dict):
            return self.budget_usd_per_quarter.get(quarter)
        return self.budget_usd_per_quarter

    @property
    def penalty_usd_per_token_s(self) -> float:
        """P: the cost of one token/s left unserved for a whole quarter."""
        return (
            self.unmet_penalty_usd_per_mtok * self.hours_per_quarter * 3600 / 1e6
        )  # quarters.mtok_per_quarter, this order

    def share_bases(self) -> list[ShareBasis]:
        """Every basis that can carry rules: ``share_basis`` first, then the extra ones."""
        extra = [basis for basis in SHARE_BASES if basis in self.extra_share_bases and basis != self.share_basis]
        return [self.share_basis, *extra]

    def shown_bases(self) -> list[ShareBasis]:
        """The bases reports show shares on: ``share_basis``, then every other basis with rules."""
        return [self.share_basis, *(b for b in self.share_bases()[1:] if self.share_rules(b).sets_rules())]

    def share_rules(self, basis: ShareBasis | None = None) -> ShareRules:
        """The caps and floors on ``basis`` (default: ``share_basis``); none on a basis not named."""
        if basis is None or basis == self.share_basis:
            return ShareRules.model_construct(
                max_share=self.max_share, min_share=self.min_share, share_overrides=self.share_overrides
            )
        return self.extra_share_bases.get(basis) or ShareRules()

    def share_setting(self, basis: ShareBasis, *keys: str) -> tuple[str, ...]:
        """The policy.yaml path of a share key on ``basis``: ``max_share.provider`` on
        ``share_basis``, ``extra_share_bases.spend.max_share.provider`` on another."""
        return keys if basis == self.share_basis else ("extra_share_bases", basis, *keys)

    def with_share_rules(self, basis: ShareBasis, rules: ShareRules) -> Policy:
        """A copy with the rules on ``basis`` replaced (for a what-if without one line)."""
        if basis == self.share_basis:
            return self.model_copy(update=dict(rules))
        return self.model_copy(update={"extra_share_bases": {**self.extra_share_bases, basis: rules}})

    def cap(self, dimension: Dimension, group: str, basis: ShareBasis | None = None) -> float:
        return self.share_rules(basis).cap(dimension, group)

    def floor(self, dimension: Dimension, group: str, basis: ShareBasis | None = None) -> float:
        return self.share_rules(basis).floor(dimension, group)
