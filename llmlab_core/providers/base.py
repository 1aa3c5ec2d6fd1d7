"""The provider extension point: subclass `BaseProvider`, then `register_provider(instance)`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from llmlab_core.pricing.rates import ModelPrices, PriceResult, price_with
from llmlab_core.usage import Usage


class BaseProvider(ABC):
    """A source of prices for one provider's models.

    A subclass sets `name` and implements `models()` and `get_prices()`; `get_cost()` and
    `matches()` have defaults built on those (override them for speed or looser matching).
    `get_prices` and `get_cost` raise `UnknownModelError` for a model they do not price.
    """

    name: str

    @abstractmethod
    def models(self) -> list[str]:
        """Ids of the models this provider prices."""

    @abstractmethod
    def get_prices(self, model: str, *, at: datetime | None = None) -> ModelPrices:
        """Per-million-token prices of `model` in force at `at` (default: now)."""

    def get_cost(self, model: str, usage: Usage, *, at: datetime | None = None) -> PriceResult:
        """Cost of one call to `model` with `usage` at `at` (default: now)."""
        return price_with(self.get_prices(model, at=at), model, usage)

    def canonical_model(self, model: str) -> str | None:
        """The provider's own id for `model` (aliases and dated names resolved), or None."""
        try:
            return self.get_prices(model).canonical_model
        except LookupError:
            return None

    def matches(self, model: str) -> bool:
        """Whether `model` (as a client sends it) belongs to this provider."""
        wanted = model.lower()
        return any(known.lower() == wanted for known in self.models())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
