"""Which providers exist: the built-ins, ones registered in code, and entry-point plugins.

Third-party packages expose a provider through the entry-point group `llmlab.providers`; the value
is a `BaseProvider` subclass (instantiated without arguments) or an instance. Plugins are loaded
once, on first use of the registry, so importing llmlab_core stays cheap.
"""

from __future__ import annotations

import logging
from collections.abc import ItemsView, Iterator, KeysView, ValuesView
from functools import lru_cache
from typing import Any

from llmlab_core.errors import UnknownProviderError
from llmlab_core.pricing import dataset
from llmlab_core.providers.anthropic import AnthropicProvider
from llmlab_core.providers.base import BaseProvider
from llmlab_core.providers.dataset import DatasetProvider
from llmlab_core.providers.google import GoogleProvider
from llmlab_core.providers.openai import OpenAIProvider

ENTRY_POINT_GROUP = "llmlab.providers"

logger = logging.getLogger(__name__)

_entry_points_loaded = False
# Bumped whenever what a name resolves to may change (providers registered or removed, another
# dataset loaded), so callers can memoise lookups and drop them when it moves.
generation = 0


def _changed() -> None:
    global generation
    generation += 1
    infer_provider.cache_clear()
    _fallbacks.clear()


class _ProviderRegistry(dict[str, BaseProvider]):
    """A dict that loads entry-point providers before its first read."""

    def __getitem__(self, name: str) -> BaseProvider:
        _load_entry_points()
        return super().__getitem__(name)

    def __contains__(self, name: object) -> bool:
        _load_entry_points()
        return super().__contains__(name)

    def __iter__(self) -> Iterator[str]:
        _load_entry_points()
        return super().__iter__()

    def __len__(self) -> int:
        _load_entry_points()
        return super().__len__()

    def get(self, name: str, default: Any = None) -> Any:
        _load_entry_points()
        return super().get(name, default)

    def keys(self) -> KeysView[str]:
        _load_entry_points()
        return super().keys()

    def values(self) -> ValuesView[BaseProvider]:
        _load_entry_points()
        return super().values()

    def items(self) -> ItemsView[str, BaseProvider]:
        _load_entry_points()
        return super().items()


SUPPORTED_PROVIDERS: dict[str, BaseProvider] = _ProviderRegistry()
for _builtin in (OpenAIProvider(), AnthropicProvider(), GoogleProvider()):
    dict.__setitem__(SUPPORTED_PROVIDERS, _builtin.name, _builtin)


def register_provider(provider: BaseProvider) -> BaseProvider:
    """Add `provider` (replacing one of the same name) and return it."""
    if not isinstance(provider, BaseProvider):
        raise TypeError(f"expected a BaseProvider instance, got {provider!r}")
    dict.__setitem__(SUPPORTED_PROVIDERS, provider.name, provider)
    _changed()
    return provider


def unregister_provider(name: str) -> None:
    """Remove a provider registered under `name` (no error if absent)."""
    dict.pop(SUPPORTED_PROVIDERS, name, None)
    _changed()


def get_provider(name: str) -> BaseProvider:
    """The registered provider `name`; raises `UnknownProviderError`."""
    provider = SUPPORTED_PROVIDERS.get(name)
    if provider is None:
        raise UnknownProviderError(name)
    return provider


_fallbacks: dict[str, BaseProvider | None] = {}


def find_provider(name: str) -> BaseProvider | None:
    """A registered provider (exact name, then lower case), else one backed by any provider id
    genai-prices knows (e.g. 'azure', 'groq', 'mistral'), else None."""
    provider = SUPPORTED_PROVIDERS.get(name) or SUPPORTED_PROVIDERS.get(name.lower())
    if provider is not None:
        return provider
    key = name.lower()
    if key not in _fallbacks:
        _fallbacks[key] = DatasetProvider(key) if dataset.knows_provider(key) else None
    return _fallbacks[key]


def forget_dataset_providers() -> None:
    """Drop what was derived from the dataset (after a prices file replaced it)."""
    _changed()


@lru_cache(maxsize=4096)
def infer_provider(model: str) -> str | None:
    """The name of the registered provider `model` belongs to, or None.

    Providers are asked in registration order (built-ins first), so a plugin cannot silently
    take over a built-in provider's model names.
    """
    for provider in SUPPORTED_PROVIDERS.values():
        try:
            if provider.matches(model):
                return provider.name
        except Exception:
            # A broken plugin must not stop pricing for everyone else.
            logger.exception("provider %r failed to match model %r", provider.name, model)
    return None


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    from importlib.metadata import entry_points

    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry_point.load()
            provider = loaded() if isinstance(loaded, type) else loaded
            register_provider(provider)
        except Exception:
            logger.exception("could not load LLMLab provider plugin %r", entry_point.name)
