"""Anthropic, priced from the genai-prices dataset (provider id 'anthropic')."""

from __future__ import annotations

from llmlab_core.providers.dataset import DatasetProvider


class AnthropicProvider(DatasetProvider):
    """Anthropic models, including dated and aliased names."""

    def __init__(self) -> None:
        super().__init__("anthropic")
