"""A provider whose prices come from the genai-prices dataset (the built-ins use it)."""

from __future__ import annotations

from datetime import UTC, datetime

from llmlab_core.errors import UnknownModelError, UnpricedTierError
from llmlab_core.pricing import dataset
from llmlab_core.pricing.rates import ModelPrices, PriceResult, ServiceTier
from llmlab_core.providers.base import BaseProvider
from llmlab_core.usage import Usage


class DatasetProvider(BaseProvider):
    """Prices one genai-prices provider id (corrections applied), memoised per (model, price
    period, service tier)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def models(self) -> list[str]:
        """Model ids the dataset lists for this provider."""
        return dataset.provider_model_ids(self.name)

    def matches(self, model: str) -> bool:
        """A listed model, or a name following the provider's pattern (e.g. `gpt-*`)."""
        return dataset.provider_claims(self.name, model)

    def resolve(self, model: str) -> dataset.DatasetModel:
        """The dataset model behind `model`; raises `UnknownModelError`."""
        resolved = dataset.resolve(self.name, model)
        if resolved is None:
            raise UnknownModelError(model, self.name)
        return resolved

    def canonical_model(self, model: str) -> str | None:
        """The dataset id `model` resolves to (`gpt-4o-2024-08-06` -> `gpt-4o`), or None."""
        resolved = dataset.resolve(self.name, model)
        return resolved.canonical_model if resolved else None

    def get_prices(
        self,
        model: str,
        *,
        at: datetime | None = None,
        service_tier: ServiceTier = "standard",
    ) -> ModelPrices:
        """Prices of `model` in force at `at` (default: now) in `service_tier`; raises
        `UnknownModelError` (`UnpricedTierError` when the tier has no price)."""
        period = self.resolve(model).period_at(at or datetime.now(UTC), service_tier)
        if period is None:
            raise UnpricedTierError(model, self.name, service_tier)
        return period.prices

    def get_cost(
        self,
        model: str,
        usage: Usage,
        *,
        at: datetime | None = None,
        service_tier: ServiceTier = "standard",
    ) -> PriceResult:
        """Cost of one call, on the memoised per-token rates (unpriced when the service tier
        has no price)."""
        return self.resolve(model).price(
            self.name, model, usage, at or datetime.now(UTC), service_tier
        )
