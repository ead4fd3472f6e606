"""Pydantic models of one input row per file and of the policy: the contract's types and ranges.

Rows are validated in strict mode. CSV cells arrive as text, so numbers and booleans are
parsed explicitly before the strict check; nothing else is coerced (a YAML ``true`` is
never a number, a ``"0.5"`` string in the policy is never a share).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
QUARTER_PATTERN = r"^\d{4}Q[1-4]$"
DIMENSIONS = ("provider", "vendor", "region", "offer")

Dimension = Literal["provider", "vendor", "region", "offer"]


def _parse_number(value: Any) -> Any:
    """Turn CSV text into a float; leave native YAML/Python values to the strict check."""
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            raise ValueError("expected a number") from None
        if not math.isfinite(number):
            raise ValueError("expected a finite number (not NaN or infinity)")
        return number
    return value


_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def _parse_bool(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("expected true or false")
    return value


Number = Annotated[float, BeforeValidator(_parse_number), Field(allow_inf_nan=False)]
NonNegative = Annotated[float, BeforeValidator(_parse_number), Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, BeforeValidator(_parse_number), Field(gt=0, allow_inf_nan=False)]
Fraction = Annotated[float, BeforeValidator(_parse_number), Field(ge=0, le=1, allow_inf_nan=False)]
Flag = Annotated[bool, BeforeValidator(_parse_bool)]
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
    power_kw: NonNegative | None = None
    source: str = ""


class OfferRow(_Row):
    offer: Id
    provider: Id
    region: Id
    accelerator: Id
    usd_per_chip_hour: NonNegative
    max_chips: NonNegative
    term: Literal["on-demand", "1yr", "3yr"] = "on-demand"
    min_chips: NonNegative = 0.0
    available_from: Quarter | None = None
    available_until: Quarter | None = None
    assumed: Flag = False
    source: str = ""
    pool: Id | None = None
    chips_per_instance: Positive | None = None


TERM_QUARTERS = {"on-demand": 1, "1yr": 4, "3yr": 12}


class OfferQuarterRow(_Row):
    offer: Id
    quarter: Quarter
    usd_per_chip_hour: NonNegative | None = None
    max_chips: NonNegative | None = None
    min_chips: NonNegative | None = None


def _whole(value: Any) -> Any:
    number = _parse_number(value)
    if isinstance(number, float) and number.is_integer():
        return int(number)
    if isinstance(number, float):
        raise ValueError("expected a whole number of quarters")
    return number


Quarters = Annotated[int, BeforeValidator(_whole), Field(ge=0)]


class PerformanceRow(_Row):
    model: Id
    accelerator: Id
    tokens_per_s_per_chip: Positive
    ttft_ms: NonNegative
    assumed: Flag = False
    source: str = ""
    port_usd: NonNegative = 0.0       # one-time cost of making the pair production-ready
    port_quarters: Quarters = 0       # lead time: ported in q, it serves from q + port_quarters


class WorkloadRow(_Row):
    workload: Id
    model: Id
    geography: Id
    quarter: Quarter
    tokens_per_s: NonNegative
    latency_slo_ms: NonNegative
    utilization: Annotated[
        float, BeforeValidator(_parse_number), Field(gt=0, le=1, allow_inf_nan=False)
    ] = 1.0


class ContractRow(_Row):
    """Capacity already signed for: sunk, usable, paid whatever the plan does."""

    offer: Id
    chips: NonNegative
    start: Quarter
    end: Quarter
    usd_per_chip_hour: NonNegative | None = None
    source: str = ""


class SpendCommitmentRow(_Row):
    """Spend owed to a provider over a period: consumed by purchases, the shortfall paid anyway."""

    provider: Id
    first: Quarter
    last: Quarter
    usd: NonNegative
    source: str = ""


class PowerRow(_Row):
    """A power cap: chips held x their power_kw within megawatts (provider and/or region)."""

    provider: Id | None = None
    region: Id | None = None
    quarter: Quarter | None = None      # blank: every quarter
    megawatts: NonNegative
    source: str = ""


class LatencyRow(_Row):
    geography: Id
    region: Id
    rtt_ms: NonNegative


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)


PolicyFraction = Annotated[float, Field(ge=0, le=1)]


class MaxShare(_Strict):
    """Largest share of a quarter's volume (or spend) any one group may take."""

    provider: PolicyFraction = 1.0
    vendor: PolicyFraction = 1.0
    region: PolicyFraction = 1.0
    offer: PolicyFraction = 1.0


class MinShare(_Strict):
    """Smallest share of a quarter's volume (or spend) every group must take."""

    provider: PolicyFraction = 0.0
    vendor: PolicyFraction = 0.0
    region: PolicyFraction = 0.0
    offer: PolicyFraction = 0.0


class ShareOverrides(_Strict):
    max_share: dict[Dimension, dict[Id, PolicyFraction]] = Field(default_factory=dict)
    min_share: dict[Dimension, dict[Id, PolicyFraction]] = Field(default_factory=dict)


class RampLimit(_Strict):
    """Growth cap: volume in q+1 <= factor x volume in q + allowance (tokens/s)."""

    factor: Annotated[float, Field(ge=0)]
    allowance_tokens_per_s: Annotated[float, Field(ge=0)] = 0.0


class Resilience(_Strict):
    """Losing any one provider (or region) strands at most this share of each quarter's demand."""

    dimension: Literal["provider", "region"] = "provider"
    max_stranded_share: PolicyFraction


class Policy(_Strict):
    """The whole-plan settings of ``policy.yaml``; every key optional."""

    hours_per_quarter: Annotated[float, Field(gt=0)] = 2190.0
    unmet_penalty_usd_per_mtok: Annotated[float, Field(ge=0)] = 100.0
    share_basis: Literal["volume", "spend"] = "volume"
    max_share: MaxShare = Field(default_factory=MaxShare)
    min_share: MinShare = Field(default_factory=MinShare)
    share_overrides: ShareOverrides = Field(default_factory=ShareOverrides)
    budget_usd_per_quarter: Annotated[float, Field(ge=0)] | dict[
        Annotated[str, StringConstraints(pattern=QUARTER_PATTERN)], Annotated[float, Field(ge=0)]
    ] | None = None
    commitment_cost: Literal["whole", "in_horizon"] = "whole"
    ramp_limits: dict[Literal["provider", "vendor", "accelerator"], dict[Id, RampLimit]] = Field(default_factory=dict)
    resilience: Resilience | None = None

    def budget(self, quarter: str) -> float | None:
        """The compute budget of a quarter (None: no budget)."""
        if isinstance(self.budget_usd_per_quarter, dict):
            return self.budget_usd_per_quarter.get(quarter)
        return self.budget_usd_per_quarter

    @property
    def penalty_usd_per_token_s(self) -> float:
        """P: the cost of one token/s left unserved for a whole quarter."""
        return self.unmet_penalty_usd_per_mtok * self.hours_per_quarter * 3600 / 1e6

    def cap(self, dimension: str, group: str) -> float:
        override = self.share_overrides.max_share.get(dimension, {})  # type: ignore[call-overload]
        return override.get(group, getattr(self.max_share, dimension))

    def floor(self, dimension: str, group: str) -> float:
        override = self.share_overrides.min_share.get(dimension, {})  # type: ignore[call-overload]
        return override.get(group, getattr(self.min_share, dimension))
