"""Price shapes shared by providers and the cost engine, and the arithmetic that applies them.

All prices are USD per MILLION tokens as `Decimal`; costs are `Decimal` USD. The arithmetic follows
genai-prices' rules so a dataset-backed price and an override are billed the same way:

- `input_tokens` is total input: uncached input = input - cache_read - cache_write.
- A kind without its own price is billed at the input price (e.g. a model without cache prices
  bills cached reads as plain input), as the dataset does.
- Tiers are cliffs: when `input_tokens` exceeds a tier's threshold the tier's prices apply to
  every token of the request.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from llmlab_core.usage import Usage

MILLION = Decimal(1_000_000)
BREAKDOWN_KINDS = ("input", "cache_read", "cache_write", "output")

PerMillion = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]


@dataclass(frozen=True, slots=True)
class PriceResult:
    """The cost of one call, with where its price came from.

    `cost_usd` is None exactly when `unpriced` is True: an unknown model is never billed $0.
    `breakdown` splits the cost into uncached input, cache reads, cache writes and output.
    """

    provider: str | None
    model: str
    canonical_model: str | None
    cost_usd: Decimal | None
    unpriced: bool
    price_source: str | None
    breakdown: dict[str, Decimal] = field(default_factory=dict)


class PriceTier(BaseModel):
    """Prices that replace the base prices for the whole request above `threshold` input tokens."""

    model_config = ConfigDict(frozen=True)

    threshold: int
    input: PerMillion | None = None
    cache_read: PerMillion | None = None
    cache_write: PerMillion | None = None
    output: PerMillion | None = None


class ModelPrices(BaseModel):
    """Per-million-token prices of one model in one price period (None where it has none)."""

    model_config = ConfigDict(frozen=True)

    provider: str
    canonical_model: str
    price_source: str
    input: PerMillion | None = None
    cache_read: PerMillion | None = None
    cache_write: PerMillion | None = None
    output: PerMillion | None = None
    tiers: tuple[PriceTier, ...] = ()
    period_start: date | None = None


class PriceOverride(BaseModel):
    """A per-account price (negotiated discount, fine-tune, self-hosted model).

    It wins over the dataset for calls to `model` (case-insensitive; the name as sent or its
    canonical name) at or after `valid_from`. Cache kinds left None are billed at `input`.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    provider: str
    model: str
    input: PerMillion
    cache_read: PerMillion | None = None
    cache_write: PerMillion | None = None
    output: PerMillion
    valid_from: datetime = datetime(1970, 1, 1, tzinfo=UTC)

    @field_validator("valid_from")
    @classmethod
    def _as_utc(cls, value: datetime) -> datetime:
        # Naive datetimes (e.g. read back from SQLite) are UTC by convention.
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def to_model_prices(self, canonical_model: str | None = None) -> ModelPrices:
        """These prices as `ModelPrices` with `price_source` `override:<id>`."""
        return ModelPrices(
            provider=self.provider,
            canonical_model=canonical_model or self.model,
            price_source=f"override:{self.id}",
            input=self.input,
            cache_read=self.cache_read,
            cache_write=self.cache_write,
            output=self.output,
            period_start=self.valid_from.date(),
        )


@dataclass(frozen=True, slots=True)
class _Rates:
    """Per-TOKEN USD rates of one tier."""

    input: Decimal
    cache_read: Decimal
    cache_write: Decimal
    output: Decimal


def _rates(
    input_: Decimal | None,
    cache_read: Decimal | None,
    cache_write: Decimal | None,
    output: Decimal | None,
) -> _Rates:
    input_rate = (input_ or Decimal(0)) / MILLION
    return _Rates(
        input=input_rate,
        cache_read=input_rate if cache_read is None else cache_read / MILLION,
        cache_write=input_rate if cache_write is None else cache_write / MILLION,
        output=(output or Decimal(0)) / MILLION,
    )


class TokenPricer:
    """Prices usages against one `ModelPrices`: a bisect and four Decimal products per call."""

    __slots__ = ("_bands", "_thresholds")

    def __init__(self, prices: ModelPrices) -> None:
        base = _rates(prices.input, prices.cache_read, prices.cache_write, prices.output)
        tiers = sorted(prices.tiers, key=lambda tier: tier.threshold)
        self._thresholds = [tier.threshold for tier in tiers]
        self._bands = [base] + [
            _rates(tier.input, tier.cache_read, tier.cache_write, tier.output) for tier in tiers
        ]

    def breakdown(self, usage: Usage) -> dict[str, Decimal]:
        """The cost of `usage` split by kind (keys: input, cache_read, cache_write, output)."""
        input_tokens = usage.input_tokens
        if self._thresholds:
            # A tier applies when input_tokens is strictly above its threshold.
            rates = self._bands[bisect_left(self._thresholds, input_tokens)]
        else:
            rates = self._bands[0]
        cache_read = usage.cache_read_tokens
        cache_write = usage.cache_write_tokens
        return {
            "input": rates.input * (input_tokens - cache_read - cache_write),
            "cache_read": rates.cache_read * cache_read,
            "cache_write": rates.cache_write * cache_write,
            "output": rates.output * usage.output_tokens,
        }

    def breakdown_totals(
        self,
        input_tokens: Decimal | int,
        cache_read_tokens: Decimal | int,
        cache_write_tokens: Decimal | int,
        output_tokens: Decimal | int,
        *,
        tier_input_tokens: Decimal | int,
    ) -> dict[str, Decimal]:
        """Cost of token totals over many calls, with the tier chosen by `tier_input_tokens`
        (typically the average input per call)."""
        rates = self._bands[0]
        if self._thresholds:
            rates = self._bands[bisect_left(self._thresholds, tier_input_tokens)]
        return {
            "input": rates.input * (input_tokens - cache_read_tokens - cache_write_tokens),
            "cache_read": rates.cache_read * cache_read_tokens,
            "cache_write": rates.cache_write * cache_write_tokens,
            "output": rates.output * output_tokens,
        }


def cost_of(breakdown: dict[str, Decimal]) -> Decimal:
    """Total of a cost breakdown."""
    return (
        breakdown["input"]
        + breakdown["cache_read"]
        + breakdown["cache_write"]
        + breakdown["output"]
    )


def price_with(
    prices: ModelPrices, model: str, usage: Usage, *, pricer: TokenPricer | None = None
) -> PriceResult:
    """Price `usage` with explicit `prices` (used for overrides and custom providers)."""
    breakdown = (pricer or TokenPricer(prices)).breakdown(usage)
    return PriceResult(
        provider=prices.provider,
        model=model,
        canonical_model=prices.canonical_model,
        cost_usd=cost_of(breakdown),
        unpriced=False,
        price_source=prices.price_source,
        breakdown=breakdown,
    )


def unpriced_result(model: str, provider: str | None) -> PriceResult:
    """The result for a call nobody knows a price for: cost None, never $0."""
    return PriceResult(
        provider=provider,
        model=model,
        canonical_model=None,
        cost_usd=None,
        unpriced=True,
        price_source=None,
        breakdown={},
    )
