"""The cost engine: how a model name resolves, its prices, and what a call cost at the price in
force when it was made."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from llmlab_core.errors import UnknownModelError, UnpricedTierError
from llmlab_core.pricing import dataset
from llmlab_core.pricing.names import lookup_candidates
from llmlab_core.pricing.rates import (
    ModelPrices,
    PriceOverride,
    PriceResult,
    ServiceTier,
    TokenPricer,
    price_with,
    unpriced_result,
)
from llmlab_core.providers import registry
from llmlab_core.providers.base import BaseProvider
from llmlab_core.providers.dataset import DatasetProvider
from llmlab_core.providers.registry import (
    SUPPORTED_PROVIDERS,
    find_provider,
    forget_dataset_providers,
    infer_provider,
)
from llmlab_core.usage import Usage

SourceKind = Literal["dataset", "prices file", "overlay", "provider"]


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """How a model name resolves: one identity per model.

    `canonical_model` is the dataset's id (`gpt-4o-2024-08-06`, `openai/gpt-4o` -> `gpt-4o`), the
    key to group a model's calls by. `prices` is the entry in force at the time and service tier
    asked for (None when that tier has no price); `source` says where it comes from: the bundled
    dataset, a prices file (`LLMLAB_PRICES_FILE`), the reviewed overlay, or a provider plugin.
    `lookup_name` is the name the provider was asked for (a provider prefix stripped).
    """

    name: str
    provider: str
    canonical_model: str
    lookup_name: str
    prices: ModelPrices | None
    source: SourceKind


@dataclass(frozen=True, slots=True)
class _Located:
    provider_name: str | None  # as given, inferred or named by a prefix
    found: BaseProvider | None  # the first registered or dataset provider of that name
    lookup_name: str | None  # set when `found` prices the model under this name
    dataset_model: dataset.DatasetModel | None = None  # when `found` is dataset-backed


def _is_provider_name(name: str) -> bool:
    return name in SUPPORTED_PROVIDERS or dataset.is_provider_id(name)


# Names arrive from clients on every call: resolving one is memoised (bounded), and dropped when
# the registry or the dataset changes (`registry.generation`).
_located: dict[tuple[str, str | None], _Located] = {}
_located_generation = -1
_MAX_LOCATED = 20_000


def _locate(model: str, provider: str | None) -> _Located:
    global _located_generation
    if registry.generation != _located_generation:
        _located.clear()
        _located_generation = registry.generation
    key = (model, provider)
    found = _located.get(key)
    if found is None:
        if len(_located) >= _MAX_LOCATED:
            _located.clear()
        found = _located[key] = _locate_uncached(model, provider)
    return found


def _locate_uncached(model: str, provider: str | None) -> _Located:
    candidates = lookup_candidates(
        model, provider, infer=infer_provider, known_provider=_is_provider_name
    )
    first: BaseProvider | None = None
    for candidate in candidates:
        if candidate.provider is None:
            continue
        found = find_provider(candidate.provider)
        if found is None:
            continue
        first = first or found
        if isinstance(found, DatasetProvider):
            resolved = dataset.resolve(found.name, candidate.name)
            if resolved is not None:
                return _Located(candidate.provider, found, candidate.name, resolved)
        elif _plugin_knows(found, candidate.name):
            return _Located(candidate.provider, found, candidate.name)
    return _Located(candidates[0].provider, first, None)


def _plugin_knows(provider: BaseProvider, model: str) -> bool:
    try:
        return provider.canonical_model(model) is not None
    except Exception:  # a plugin's own error for a model it does not price
        return False


def price_usage(
    model: str,
    usage: Usage,
    *,
    provider: str | None = None,
    at: datetime | None = None,
    overrides: Sequence[PriceOverride] = (),
    service_tier: ServiceTier = "standard",
) -> PriceResult:
    """Cost of one call to `model` with `usage`, at the price in force at `at` (default: now)
    in `service_tier` (`standard`, `batch`, `flex`, `priority`).

    The provider is inferred from the model name (or its `provider/` prefix) when not given. A
    matching override (see `PriceOverride`) wins over the dataset and its corrections, in every
    service tier. Never raises for an unknown model, provider or tier price: the result is then
    `unpriced=True` with `cost_usd=None`. Naive datetimes are taken as UTC.
    """
    if at is None:
        at = datetime.now(UTC)
    located = _locate(model, provider)
    if overrides:
        override = _applicable_override(
            model, located, at, overrides, provider_given=provider is not None
        )
        if override is not None:
            return _price_override(override, model, usage, located)
    found, name = located.found, located.lookup_name
    if found is None:
        return unpriced_result(model, located.provider_name)
    if name is None:
        return unpriced_result(model, found.name)
    if located.dataset_model is not None:
        return located.dataset_model.price(found.name, model, usage, at, service_tier)
    try:
        if service_tier == "standard":
            result = found.get_cost(name, usage, at=at)
        else:
            return unpriced_result(model, found.name, found.canonical_model(name))
    except LookupError:  # UnknownModelError, or a plugin's own KeyError for a missing model
        return unpriced_result(model, found.name)
    return result if result.model == model else replace(result, model=model)


@dataclass(frozen=True, slots=True)
class DayPrice:
    """What `price_usage` charges every call to one model on one UTC day (no overrides):
    `pricer` prices a usage (None: unpriced), `provider` and `price_source` as in its result."""

    provider: str | None
    pricer: TokenPricer | None
    price_source: str | None


def day_price(
    model: str, *, provider: str | None, at: datetime, service_tier: ServiceTier = "standard"
) -> DayPrice | None:
    """`price_usage`'s price for calls without overrides to `model` on `at`'s UTC day, to
    price many calls with one lookup: `pricer.cost(...)` is exactly `price_usage(...).cost_usd`.
    None when the price may change within the day or needs more than the token counts
    (time-of-day prices, a provider plugin, a period genai-prices itself computes): then
    call `price_usage`."""
    located = _locate(model, provider)
    found, name = located.found, located.lookup_name
    if found is None:
        return DayPrice(located.provider_name, None, None)
    if name is None:
        return DayPrice(found.name, None, None)
    priced = located.dataset_model
    if priced is None or priced.dynamic:
        return None
    period = priced.period_at(at, service_tier)
    if period is None:
        return DayPrice(found.name, None, None)
    if period.pricer is None:
        return None
    return DayPrice(found.name, period.pricer, period.prices.price_source)


def model_prices(
    model: str,
    *,
    provider: str | None = None,
    at: datetime | None = None,
    service_tier: ServiceTier = "standard",
) -> ModelPrices:
    """Per-million-token prices of `model` in force at `at` (default: now) in `service_tier`.

    Raises `UnknownModelError` when no provider prices `model` (`UnpricedTierError`, a subclass,
    when the model is known but the tier has no price).
    """
    located = _locate(model, provider)
    if located.found is None or located.lookup_name is None:
        raise UnknownModelError(model, located.found.name if located.found else provider)
    return _prices_of(located.found, located.lookup_name, model, at, service_tier)


def _prices_of(
    found: BaseProvider,
    name: str,
    model: str,
    at: datetime | None,
    service_tier: ServiceTier,
) -> ModelPrices:
    at = at or datetime.now(UTC)
    if isinstance(found, DatasetProvider):
        prices = found.get_prices(name, at=at, service_tier=service_tier)
    elif service_tier == "standard":
        prices = found.get_prices(name, at=at)
    else:
        prices = None
    if prices is None:
        raise UnpricedTierError(model, found.name, service_tier)
    return prices


def resolve_model(
    name: str,
    provider: str | None = None,
    *,
    at: datetime | None = None,
    service_tier: ServiceTier = "standard",
) -> ResolvedModel | None:
    """How `name` resolves (see `ResolvedModel`), or None when nothing prices it.

    A name that resolves to nothing is unpriced, never approximated by a similar model.
    """
    located = _locate(name, provider)
    found, lookup_name = located.found, located.lookup_name
    if found is None or lookup_name is None:
        return None
    try:
        prices: ModelPrices | None = _prices_of(found, lookup_name, name, at, service_tier)
    except UnpricedTierError:
        prices = None
    canonical = prices.canonical_model if prices else found.canonical_model(lookup_name)
    if canonical is None:
        return None
    return ResolvedModel(
        name=name,
        provider=found.name,
        canonical_model=canonical,
        lookup_name=lookup_name,
        prices=prices,
        source=_source_kind(found, prices),
    )


def _source_kind(found: BaseProvider, prices: ModelPrices | None) -> SourceKind:
    if not isinstance(found, DatasetProvider):
        return "provider"
    if prices is not None and prices.price_source.startswith("overlay:"):
        return "overlay"
    return dataset.dataset_info().kind


def canonical_model(model: str, *, provider: str | None = None) -> str | None:
    """The dataset's canonical id for `model` (`gpt-4o-2024-08-06` -> `gpt-4o`), or None."""
    located = _locate(model, provider)
    if located.found is None or located.lookup_name is None:
        return None
    return located.found.canonical_model(located.lookup_name)


def list_models(
    *, search: str | None = None, provider: str | None = None, at: datetime | None = None
) -> list[ModelPrices]:
    """Standard prices of every model of the registered providers (or of `provider`, which may
    be any dataset provider id), whose id contains `search`, sorted by provider and id.

    Models the dataset lists without a token price (moderation, some open models) are left out.
    """
    at = at or datetime.now(UTC)
    if provider is not None:
        found = find_provider(provider)
        sources = [found] if found is not None else []
    else:
        sources = list(SUPPORTED_PROVIDERS.values())
    wanted = search.lower() if search else None
    listed: list[ModelPrices] = []
    for source in sources:
        seen: set[str] = set()
        for model in source.models():
            if (wanted and wanted not in model.lower()) or model in seen:
                continue
            seen.add(model)
            try:
                prices = source.get_prices(model, at=at)
            except LookupError:
                continue
            if prices.canonical_model != model and prices.canonical_model in seen:
                continue  # an id the dataset shadows with an earlier model's match rule
            if prices.input is None and prices.output is None:
                continue
            listed.append(prices)
    return sorted(listed, key=lambda prices: (prices.provider, prices.canonical_model))


def use_prices_file(path: Path | None) -> dataset.DatasetInfo:
    """Price from a genai-prices data file (`LLMLAB_PRICES_FILE`); None: the bundled dataset.

    Raises `PricesFileError` (and keeps the dataset in use) when the file cannot be used.
    """
    info = dataset.use_prices_file(path)
    forget_dataset_providers()
    return info


def _applicable_override(
    model: str,
    located: _Located,
    at: datetime,
    overrides: Sequence[PriceOverride],
    *,
    provider_given: bool,
) -> PriceOverride | None:
    """The latest override in force at `at` for `model` (as sent, without its provider prefix,
    or canonical).

    It must be for the call's provider, except when the provider was only inferred and does not
    price the model: then the model name alone decides, which is how a self-hosted
    `gpt-oss-local` gets its override even though `gpt-*` looks like OpenAI.
    """
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    names = {model.lower()}
    canonical = None
    if located.found is not None and located.lookup_name is not None:
        names.add(located.lookup_name.lower())
        canonical = located.found.canonical_model(located.lookup_name)
        if canonical:
            names.add(canonical.lower())
    candidates = [o for o in overrides if o.model.lower() in names and o.valid_from <= at]
    provider = located.provider_name
    if provider:
        same_provider = [o for o in candidates if o.provider.lower() == provider.lower()]
        if same_provider or provider_given or canonical:
            candidates = same_provider
    return max(candidates, key=lambda o: o.valid_from, default=None)


def _price_override(
    override: PriceOverride, model: str, usage: Usage, located: _Located
) -> PriceResult:
    canonical = None
    if located.found is not None and located.lookup_name is not None:
        canonical = located.found.canonical_model(located.lookup_name)
    return price_with(override.to_model_prices(canonical or override.model), model, usage)
