"""The genai-prices dataset behind the built-in providers, resolved once per (provider, model).

One genai-prices `calc_price` costs ~60 µs (a generic unit-decomposition engine). For the usage
kinds LLMLab records (input, cache read, cache write, output) that engine reduces to a few
per-token rates, so each (provider, model) is resolved once into its price periods, and each
period's dataset `ModelPrice` is compiled into a `TokenPricer` holding those rates and the tier
thresholds. The dataset stays the single source of truth; tests/core/test_dataset_equivalence.py
proves the pricer equal to `calc_price`.

A period whose `ModelPrice` prices something our usage cannot express exactly (a per-request fee,
a unit that would need usage we do not record) is priced by genai-prices itself (slow path).

genai_prices is imported lazily: it pulls httpx and a 1.5 MB data module, and importing
llmlab_core must stay cheap.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache
from typing import Any

from llmlab_core.prices import ModelPrices, PriceTier, TokenPricer
from llmlab_core.usage import Usage

# price key in the dataset -> our usage kind
_CORE_PRICE_KEYS = {
    "input_mtok": "input",
    "cache_read_mtok": "cache_read",
    "cache_write_mtok": "cache_write",
    "output_mtok": "output",
}
_REPORTED_USAGE_KEYS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")
BATCH_CONTEXT = {"processing": "batch"}
_MAX_MEMO = 20_000


@cache
def dataset_version() -> str:
    """Version of the installed genai-prices dataset."""
    from importlib.metadata import version

    return version("genai-prices")


@cache
def price_source() -> str:
    """`price_source` recorded on dataset-priced results, e.g. `genai-prices 0.2.3`."""
    return f"genai-prices {dataset_version()}"


def _snapshot() -> Any:
    from genai_prices import data_snapshot

    return data_snapshot.get_snapshot()


def utc_date(at: datetime) -> date:
    """The UTC calendar date of `at` (naive datetimes are taken as UTC)."""
    if at.tzinfo is None or at.tzinfo is UTC:
        return at.date()
    return at.astimezone(UTC).date()


@dataclass(frozen=True, slots=True)
class PricePeriod:
    """One price period of a model: its prices and the compiled pricer (None = slow path)."""

    prices: ModelPrices
    pricer: TokenPricer | None
    raw: Any  # genai_prices.types.ModelPrice

    def breakdown(self, usage: Usage) -> dict[str, Decimal]:
        """Cost of `usage` by kind in this period."""
        if self.pricer is not None:
            return self.pricer.breakdown(usage)
        return _slow_breakdown(self.raw, usage)


def _slow_breakdown(raw: Any, usage: Usage) -> dict[str, Decimal]:
    # genai-prices only splits input from output, so cache kinds are folded into input here.
    from genai_prices import Usage as DatasetUsage

    result = raw.calc_price(DatasetUsage(**to_dataset_usage(usage)))
    zero = Decimal(0)
    return {
        "input": result["input_price"],
        "cache_read": zero,
        "cache_write": zero,
        "output": result["output_price"],
    }


def to_dataset_usage(usage: Usage) -> dict[str, int]:
    """Our usage as genai-prices usage keywords (reasoning is already inside output)."""
    return {key: getattr(usage, key) for key in _REPORTED_USAGE_KEYS}


class ResolvedModel:
    """A dataset model resolved for one provider, with its price periods compiled."""

    __slots__ = ("_dynamic", "_info", "_periods", "_starts", "canonical_model", "provider")

    def __init__(self, provider: str, info: Any) -> None:
        from genai_prices import types

        self.provider = provider
        self.canonical_model: str = info.id
        self._info = info
        self._periods: dict[int, PricePeriod] = {}
        prices = info.prices
        constraints = [] if isinstance(prices, types.ModelPrice) else [p.constraint for p in prices]
        # Time-of-day prices (off-peak discounts) change within a day: resolve them per call.
        self._dynamic = any(isinstance(c, types.TimeOfDateConstraint) for c in constraints)
        self._starts: list[date] = sorted(
            {c.start_date for c in constraints if isinstance(c, types.StartDateConstraint)}
        )
        if not self._dynamic:
            for start in [None, *self._starts]:
                self._period_for(info.get_prices(_start_timestamp(start)), start)

    def period_at(self, at: datetime) -> PricePeriod:
        """The price period in force at `at`."""
        if self._dynamic:
            raw = self._info.get_prices(at)
            return self._periods.get(id(raw)) or self._period_for(raw, None)
        index = bisect_right(self._starts, utc_date(at))
        start = self._starts[index - 1] if index else None
        return self._periods[_period_key(start)]

    def batch_prices(self, at: datetime) -> ModelPrices | None:
        """Prices through the provider's batch API at `at`, or None if the dataset has none."""
        variants = self._info.price_variants or ()
        if not any(variant.when == BATCH_CONTEXT for variant in variants):
            return None
        raw = self._info.get_prices(at, BATCH_CONTEXT)
        return model_prices_from(raw, self.provider, self.canonical_model, None)

    def _period_for(self, raw: Any, start: date | None) -> PricePeriod:
        prices = model_prices_from(raw, self.provider, self.canonical_model, start)
        period = PricePeriod(prices=prices, pricer=_compile(raw, prices), raw=raw)
        self._periods[id(raw) if self._dynamic else _period_key(start)] = period
        return period


def _period_key(start: date | None) -> int:
    return start.toordinal() if start else 0


def _start_timestamp(start: date | None) -> datetime:
    return datetime.combine(start or date(1970, 1, 1), time(), UTC)


def _price_at(value: Any, input_tokens: int) -> Decimal | None:
    """A dataset price (flat or tiered) for a request of `input_tokens`, per genai-prices rules."""
    from genai_prices.types import TieredPrices

    if not isinstance(value, TieredPrices):
        return value
    for tier in reversed(value.tiers):
        if input_tokens > tier.start:
            return tier.price
    return value.base


def model_prices_from(
    raw: Any, provider: str, canonical_model: str, start: date | None
) -> ModelPrices:
    """A dataset `ModelPrice` as our per-million `ModelPrices` (tiers flattened per threshold)."""
    from genai_prices.types import TieredPrices

    values = {kind: getattr(raw, key, None) for key, kind in _CORE_PRICE_KEYS.items()}
    thresholds = sorted(
        {
            tier.start
            for value in values.values()
            if isinstance(value, TieredPrices)
            for tier in value.tiers
        }
    )
    tiers = tuple(
        PriceTier(
            threshold=threshold,
            **{kind: _price_at(value, threshold + 1) for kind, value in values.items()},
        )
        for threshold in thresholds
    )
    return ModelPrices(
        provider=provider,
        canonical_model=canonical_model,
        price_source=price_source(),
        tiers=tiers,
        period_start=start,
        **{kind: _price_at(value, 0) for kind, value in values.items()},
    )


def _compile(raw: Any, prices: ModelPrices) -> TokenPricer | None:
    """A fast pricer for `raw`, or None when some priced unit would make it differ from the dataset.

    With only our four usage keys reported, a priced unit outside them contributes nothing unless
    it is 'requests' (a per-call fee) or an ancestor of a reported key (genai-prices would then
    demand that usage explicitly).
    """
    from genai_prices.units import _get_registry

    registry = _get_registry()
    reported = [registry.units[key] for key in _REPORTED_USAGE_KEYS]
    for key, value in raw.__dict__.items():
        if value is None or key.startswith("_") or key in _CORE_PRICE_KEYS:
            continue
        try:
            unit = registry.unit_for_price_key(key)
        except KeyError:
            return None
        if unit.usage_key == "requests":
            return None
        if any(unit.dimensions.items() <= other.dimensions.items() for other in reported):
            return None
    return TokenPricer(prices)


_resolved: dict[tuple[str, str], ResolvedModel | None] = {}


def resolve(provider: str, model: str) -> ResolvedModel | None:
    """The dataset model `model` resolves to for `provider` (aliases, dated names), memoised."""
    key = (provider, model)
    try:
        return _resolved[key]
    except KeyError:
        pass
    try:
        _, info = _snapshot().find_provider_model(model, None, provider, None)
    except LookupError:
        resolved = None
    else:
        resolved = ResolvedModel(provider, info)
    if len(_resolved) >= _MAX_MEMO:
        # Unknown names arrive from clients: bound the memo instead of growing forever.
        _resolved.clear()
    _resolved[key] = resolved
    return resolved


def _dataset_provider(provider: str) -> Any | None:
    from genai_prices.data_snapshot import find_provider_by_id

    return find_provider_by_id(_snapshot().providers, provider)


def knows_provider(provider: str) -> bool:
    """Whether the dataset has a provider with this id."""
    return _dataset_provider(provider) is not None


def provider_model_ids(provider: str) -> list[str]:
    """Model ids the dataset lists for `provider` (no fallbacks to other providers)."""
    found = _dataset_provider(provider)
    return [model.id for model in found.models] if found else []


def provider_claims(provider: str, model: str) -> bool:
    """Whether `model` looks like one of `provider`'s: a listed model or its naming pattern."""
    found = _dataset_provider(provider)
    if found is None:
        return False
    ref = model.lower()
    if found.model_match is not None and found.model_match.is_match(ref):
        return True
    return any(candidate.is_match(ref) for candidate in found.models)
