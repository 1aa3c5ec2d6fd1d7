"""The cost engine: what a call cost, at the price in force when it was made."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from llmlab_core.errors import UnknownModelError
from llmlab_core.prices import (
    ModelPrices,
    PriceOverride,
    PriceResult,
    PriceTier,
    price_with,
    unpriced_result,
)
from llmlab_core.providers.base import BaseProvider
from llmlab_core.providers.registry import find_provider, infer_provider
from llmlab_core.usage import Usage

__all__ = [
    "ModelPrices",
    "PriceOverride",
    "PriceResult",
    "PriceTier",
    "canonical_model",
    "model_prices",
    "price_usage",
]


def price_usage(
    model: str,
    usage: Usage,
    *,
    provider: str | None = None,
    at: datetime | None = None,
    overrides: Sequence[PriceOverride] = (),
) -> PriceResult:
    """Cost of one call to `model` with `usage`, at the price in force at `at` (default: now).

    The provider is inferred from the model name when not given. A matching override (see
    `PriceOverride`) wins over the dataset. Never raises for an unknown model or provider: the
    result is then `unpriced=True` with `cost_usd=None`. Naive datetimes are taken as UTC.
    """
    if at is None:
        at = datetime.now(UTC)
    name = provider or infer_provider(model)
    if overrides:
        override = _applicable_override(
            model, name, at, overrides, provider_given=provider is not None
        )
        if override is not None:
            return _price_override(override, model, usage, name)
    found = find_provider(name) if name else None
    if found is None:
        return unpriced_result(model, name)
    try:
        return found.get_cost(model, usage, at=at)
    except LookupError:  # UnknownModelError, or a plugin's own KeyError for a missing model
        return unpriced_result(model, found.name)


def model_prices(
    model: str, *, provider: str | None = None, at: datetime | None = None
) -> ModelPrices:
    """Per-million-token prices of `model` in force at `at` (default: now).

    Raises `UnknownModelError` when no provider prices `model`.
    """
    name = provider or infer_provider(model)
    found = find_provider(name) if name else None
    if found is None:
        raise UnknownModelError(model, name)
    return found.get_prices(model, at=at or datetime.now(UTC))


def canonical_model(model: str, *, provider: str | None = None) -> str | None:
    """The dataset's canonical id for `model` (`gpt-4o-2024-08-06` -> `gpt-4o`), or None."""
    name = provider or infer_provider(model)
    return _canonical(model, find_provider(name)) if name else None


def _canonical(model: str, provider: BaseProvider | None) -> str | None:
    return provider.canonical_model(model) if provider else None


def _applicable_override(
    model: str,
    provider: str | None,
    at: datetime,
    overrides: Sequence[PriceOverride],
    *,
    provider_given: bool,
) -> PriceOverride | None:
    """The latest override in force at `at` for `model` (as sent or canonical).

    It must be for the call's provider, except when the provider was only inferred and does not
    price the model: then the model name alone decides, which is how a self-hosted
    `gpt-oss-local` gets its override even though `gpt-*` looks like OpenAI.
    """
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    names = {model.lower()}
    canonical = _canonical(model, find_provider(provider)) if provider else None
    if canonical:
        names.add(canonical.lower())
    candidates = [o for o in overrides if o.model.lower() in names and o.valid_from <= at]
    if provider:
        same_provider = [o for o in candidates if o.provider.lower() == provider.lower()]
        if same_provider or provider_given or canonical:
            candidates = same_provider
    return max(candidates, key=lambda o: o.valid_from, default=None)


def _price_override(
    override: PriceOverride, model: str, usage: Usage, provider: str | None
) -> PriceResult:
    canonical = _canonical(model, find_provider(provider)) if provider else None
    return price_with(override.to_model_prices(canonical or override.model), model, usage)
