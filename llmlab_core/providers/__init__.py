"""Providers: the `BaseProvider` extension point, the built-ins and the registry."""

from llmlab_core.providers.base import BaseProvider
from llmlab_core.providers.registry import (
    SUPPORTED_PROVIDERS,
    get_provider,
    infer_provider,
    register_provider,
)

__all__ = [
    "SUPPORTED_PROVIDERS",
    "BaseProvider",
    "get_provider",
    "infer_provider",
    "register_provider",
]
