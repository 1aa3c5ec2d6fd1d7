"""Google, priced from the genai-prices dataset (provider id 'google')."""

from __future__ import annotations

from llmlab_core.providers.dataset import DatasetProvider


class GoogleProvider(DatasetProvider):
    """Google models, including dated and aliased names."""

    def __init__(self) -> None:
        super().__init__("google")
