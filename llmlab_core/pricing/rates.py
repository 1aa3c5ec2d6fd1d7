"""Price shapes shared by providers and the cost engine, and the arithmetic that applies them.

All prices are USD per MILLION tokens as `Decimal`; costs are `Decimal` USD. The arithmetic follows
genai-prices' rules so a dataset-backed price and an override are billed the same way:

- `input_tokens` is total input: uncached input = input - cache_read - cache_write.
- `cache_write_tokens` is every cache write; `cache_write_1h_tokens`, the part of it written to
  Anthropic's 1-hour cache, is billed at the 1-hour price and the rest at the (5-minute)
  cache-write price.
- A kind without its own price is billed as the dataset does: cache reads and writes at the
  input price, 1-hour writes at the cache-write price. (Claude models the dataset lists without
  a 1-hour price get one from the overlay's `one_hour_write_rules`: 2x input.)
- Tiers are cliffs: when `input_tokens` exceeds a tier's threshold the tier's prices apply to
  every token of the request.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from llmlab_core.usage import Usage

MILLION = Decimal(1_000_000)
BREAKDOWN_KINDS = ("input", "cache_read", "cache_write", "output")

ServiceTier = Literal["standard", "batch", "flex", "priority"]
SERVICE_TIERS: tuple[ServiceTier, ...] = ("standard", "batch", "flex", "priority")

PerMillion = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]


@dataclass(frozen=True, slots=True)
class PriceResult:
    """The cost of one call, with where its price came from.

    `cost_usd` is None exactly when `unpriced` is True: an unknown model is never billed $0.
    `breakdown` splits the cost into uncached input, cache reads, cache writes (both cache
    lifetimes) and output.
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
    cache_write_1h: PerMillion | None = None
    output: PerMillion | None = None


class ModelPrices(BaseModel):
    """Per-million-token prices of one model in one price period and service tier (None where
    it has none). `cache_write` is the 5-minute cache-write price, `cache_write_1h` the 1-hour
    one."""

    model_config = ConfigDict(frozen=True)

    provider: str
    canonical_model: str
    price_source: str
    input: PerMillion | None = None
    cache_read: PerMillion | None = None
    cache_write: PerMillion | None = None
    cache_write_1h: PerMillion | None = None
    output: PerMillion | None = None
    tiers: tuple[PriceTier, ...] = ()
    period_start: date | None = None
    service_tier: ServiceTier = "standard"


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
    cache_write_1h: Decimal
    output: Decimal


def _rates(prices: ModelPrices | PriceTier) -> _Rates:
    input_rate = (prices.input or Decimal(0)) / MILLION
    cache_write = input_rate if prices.cache_write is None else prices.cache_write / MILLION
    return _Rates(
        input=input_rate,
        cache_read=input_rate if prices.cache_read is None else prices.cache_read / MILLION,
        cache_write=cache_write,
        cache_write_1h=cache_write
        if prices.cache_write_1h is None
        else prices.cache_write_1h / MILLION,
        output=(prices.output or Decimal(0)) / MILLION,
    )


class TokenPricer:
    """Prices usages against one `ModelPrices`: a bisect and a few Decimal products per call."""

    __slots__ = ("_bands", "_thresholds")

    def __init__(self, prices: ModelPrices) -> None:
        tiers = sorted(prices.tiers, key=lambda tier: tier.threshold)
        self._thresholds = [tier.threshold for tier in tiers]
        self._bands = [_rates(prices)] + [_rates(tier) for tier in tiers]

    def breakdown(self, usage: Usage) -> dict[str, Decimal]:
        """The cost of `usage` split by kind (keys: input, cache_read, cache_write, output);
        `cache_write` covers both cache lifetimes."""
        input_tokens = usage.input_tokens
        if self._thresholds:
            # A tier applies when input_tokens is strictly above its threshold.
            rates = self._bands[bisect_left(self._thresholds, input_tokens)]
        else:
            rates = self._bands[0]
        cache_read = usage.cache_read_tokens
        cache_write = usage.cache_write_tokens
        one_hour = usage.cache_write_1h_tokens
        if one_hour:
            writes = rates.cache_write * (cache_write - one_hour) + rates.cache_write_1h * one_hour
        else:
            writes = rates.cache_write * cache_write
        return {
            "input": rates.input * (input_tokens - cache_read - cache_write),
            "cache_read": rates.cache_read * cache_read,
            "cache_write": writes,
            "output": rates.output * usage.output_tokens,
        }

    def cost(
        self,
        input_tokens: int,
        cache_read_tokens: int,
        cache_write_tokens: int,
        cache_write_1h_tokens: int,
        output_tokens: int,
    ) -> Decimal:
        """`cost_of(self.breakdown(usage))` from the counts, the same operations in the same
        order (so the same Decimal), without the breakdown."""
        if self._thresholds:
            rates = self._bands[bisect_left(self._thresholds, input_tokens)]
        else:
            rates = self._bands[0]
        if cache_write_1h_tokens:
            writes = (
                rates.cache_write * (cache_write_tokens - cache_write_1h_tokens)
                + rates.cache_write_1h * cache_write_1h_tokens
            )
        else:
            writes = rates.cache_write * cache_write_tokens
        return (
            rates.input * (input_tokens - cache_read_tokens - cache_write_tokens)
            + rates.cache_read * cache_read_tokens
            + writes
            + rates.output * output_tokens
        )

    def breakdown_totals(
        self,
        input_tokens: Decimal | int,
        cache_read_tokens: Decimal | int,
        cache_write_tokens: Decimal | int,
        output_tokens: Decimal | int,
        *,
        tier_input_tokens: Decimal | int,
        cache_write_1h_tokens: Decimal | int = 0,
    ) -> dict[str, Decimal]:
        """Cost of token totals over many calls, with the tier chosen by `tier_input_tokens`
        (typically the average input per call)."""
        rates = self._bands[0]
        if self._thresholds:
            rates = self._bands[bisect_left(self._thresholds, tier_input_tokens)]
        return {
            "input": rates.input * (input_tokens - cache_read_tokens - cache_write_tokens),
            "cache_read": rates.cache_read * cache_read_tokens,
            "cache_write": rates.cache_write * (cache_write_tokens - cache_write_1h_tokens)
            + rates.cache_write_1h * cache_write_1h_tokens,
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


def unpriced_result(
    model: str, provider: str | None, canonical_model: str | None = None
) -> PriceResult:
    """The result for a call nobody knows a price for: cost None, never $0."""
    return PriceResult(
        provider=provider,
        model=model,
        canonical_model=canonical_model,
        cost_usd=None,
        unpriced=True,
        price_source=None,
        breakdown={},
    )
