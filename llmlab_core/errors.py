"""The exceptions llmlab_core raises; the API and CLI map them to status codes at the edge."""

from __future__ import annotations


class LLMLabError(Exception):
    """Base class of every error raised on purpose by LLMLab."""


class UnknownModelError(LLMLabError, LookupError):
    """No price is known for a model (the dataset and the provider both miss it)."""

    def __init__(self, model: str, provider: str | None = None) -> None:
        self.model = model
        self.provider = provider
        where = f" for provider {provider!r}" if provider else ""
        super().__init__(f"unknown model {model!r}{where}")


class UnpricedTierError(UnknownModelError):
    """The model is known but no price is known for the service tier asked for."""

    def __init__(self, model: str, provider: str | None, service_tier: str) -> None:
        super().__init__(model, provider)
        self.service_tier = service_tier
        where = f" for provider {provider!r}" if provider else ""
        self.args = (f"no {service_tier} price known for model {model!r}{where}",)


class UnknownProviderError(LLMLabError, LookupError):
    """No provider of that name is registered."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        super().__init__(f"unknown provider {provider!r}")


class InvalidUsageError(LLMLabError, ValueError):
    """Token counts that cannot describe a real call (e.g. more cached tokens than input)."""


class PricesFileError(LLMLabError, ValueError):
    """A prices file (`LLMLAB_PRICES_FILE`) that cannot be read as genai-prices data."""


class CorrectionsError(LLMLabError, ValueError):
    """The price corrections overlay does not fit the dataset it corrects."""
