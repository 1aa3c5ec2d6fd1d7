"""A provider whose prices come from the genai-prices dataset (the built-ins use it)."""

from __future__ import annotations

from datetime import UTC, datetime

from llmlab_core import dataset
from llmlab_core.errors import UnknownModelError
from llmlab_core.prices import ModelPrices, PriceResult, cost_of
from llmlab_core.providers.base import BaseProvider
from llmlab_core.usage import Usage


class DatasetProvider(BaseProvider):
    """Prices one genai-prices provider id, memoised per (model, price period)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def models(self) -> list[str]:
        """Model ids the dataset lists for this provider."""
        return dataset.provider_model_ids(self.name)

    def matches(self, model: str) -> bool:
        """A listed model, or a name following the provider's pattern (e.g. `gpt-*`)."""
        return dataset.provider_claims(self.name, model)

    def resolve(self, model: str) -> dataset.ResolvedModel:
        """The dataset model behind `model`; raises `UnknownModelError`."""
        resolved = dataset.resolve(self.name, model)
        if resolved is None:
            raise UnknownModelError(model, self.name)
        return resolved

    def canonical_model(self, model: str) -> str | None:
        """The dataset id `model` resolves to (`gpt-4o-2024-08-06` -> `gpt-4o`), or None."""
        resolved = dataset.resolve(self.name, model)
        return resolved.canonical_model if resolved else None

    def get_prices(self, model: str, *, at: datetime | None = None) -> ModelPrices:
        """Prices of `model` in force at `at` (default: now)."""
        return self.resolve(model).period_at(at or datetime.now(UTC)).prices

    def get_cost(self, model: str, usage: Usage, *, at: datetime | None = None) -> PriceResult:
        """Cost of one call, on the memoised per-token rates."""
        resolved = self.resolve(model)
        period = resolved.period_at(at or datetime.now(UTC))
        breakdown = period.breakdown(usage)
        return PriceResult(
            provider=self.name,
            model=model,
            canonical_model=resolved.canonical_model,
            cost_usd=cost_of(breakdown),
            unpriced=False,
            price_source=period.prices.price_source,
            breakdown=breakdown,
        )

    def batch_prices(self, model: str, *, at: datetime | None = None) -> ModelPrices | None:
        """Prices through the batch API, or None if the dataset has none for `model`."""
        return self.resolve(model).batch_prices(at or datetime.now(UTC))
