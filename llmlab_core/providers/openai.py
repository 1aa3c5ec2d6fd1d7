"""OpenAI, priced from the genai-prices dataset (provider id 'openai')."""

from __future__ import annotations

from llmlab_core.providers.dataset import DatasetProvider


class OpenAIProvider(DatasetProvider):
    """OpenAI models, including dated and aliased names."""

    def __init__(self) -> None:
        super().__init__("openai")
