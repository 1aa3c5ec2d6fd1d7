"""Model names as clients report them, and the provider a prefix names.

OpenTelemetry instrumentations, LiteLLM, OpenRouter-style gateways and the google-genai client
report `openai/gpt-4o`, `gemini/gemini-2.5-pro` or `models/gemini-2.5-flash`. The prefix says
whose model it is; the dataset's match rules are written for the bare name, and a loose rule
(`contains: gemini-1.5-flash`) would otherwise decide on the prefixed one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

# Prefixes that are not a dataset provider id but name one (LiteLLM's and google-genai's).
PREFIX_ALIASES = {
    "gemini": "google",
    "models": "google",
    "vertex_ai": "google",
    "vertex": "google",
    "google-vertex": "google",
}

# OpenTelemetry's `gen_ai.provider.name` / `gen_ai.system` values (current and deprecated,
# semantic conventions 1.37) and what instrumentations send besides, by dataset provider id.
SEMCONV_PROVIDERS = {
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "gemini": "google",
    "vertex_ai": "google",
    "vertexai": "google",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "az.ai.openai": "azure",
    "az.ai.inference": "azure",
    "aws.bedrock": "aws",
    "bedrock": "aws",
    "x_ai": "x-ai",
    "xai": "x-ai",
    "mistral_ai": "mistral",
    "mistralai": "mistral",
}


def provider_for_semconv(name: str) -> str:
    """The provider id an OpenTelemetry GenAI provider name means (`gcp.vertex_ai` ->
    `google`); a name with no alias is kept, lower-cased (`OpenAI` -> `openai`)."""
    key = name.strip().lower()
    return SEMCONV_PROVIDERS.get(key, key)


def display_name(canonical: str, recorded_as: Sequence[str]) -> str:
    """A model as the user knows it: the one name their calls used, or the canonical id with
    the recorded names when there are several, so nothing shown names a model the user's data
    does not have."""
    names = tuple(recorded_as)
    if not names or names == (canonical,):
        return canonical
    if len(names) == 1:
        return names[0]
    return f"{canonical} ({', '.join(names)})"


class Candidate(NamedTuple):
    """One (provider, name) pair to look a model up under."""

    provider: str | None
    name: str


def split_provider_prefix(
    name: str, known_provider: Callable[[str], bool]
) -> tuple[str, str] | None:
    """(provider, bare name) when `name` starts with `<provider>/`, else None.

    `known_provider(prefix)` says whether a prefix is a provider id (the registry's or the
    dataset's); `PREFIX_ALIASES` adds the ones that are not.
    """
    prefix, slash, bare = name.partition("/")
    if not slash or not bare:
        return None
    key = prefix.strip().lower()
    provider = PREFIX_ALIASES.get(key) or (key if known_provider(key) else None)
    if provider is None:
        return None
    if key in PREFIX_ALIASES and "/" in bare:
        # `gemini/models/gemini-2.5-pro`: the google-genai prefix after LiteLLM's.
        nested = split_provider_prefix(bare, known_provider)
        if nested is not None and nested[0] == provider:
            bare = nested[1]
    return provider, bare


def lookup_candidates(
    name: str,
    provider: str | None,
    *,
    infer: Callable[[str], str | None],
    known_provider: Callable[[str], bool],
) -> list[Candidate]:
    """Where to look `name` up, in order.

    A prefix that names the provider (or names one when none is given) is stripped first and the
    bare name alone is tried, so a looser rule never decides on the prefixed name. A provider
    given explicitly that differs from the prefix (a gateway such as OpenRouter or Groq lists
    `openai/gpt-oss-120b` as its own id) is asked for the name as sent first.
    """
    split = split_provider_prefix(name, known_provider)
    if split is None:
        return [Candidate(provider or infer(name), name)]
    prefix_provider, bare = split
    if provider is None or provider.lower() == prefix_provider:
        return [Candidate(provider or prefix_provider, bare)]
    return [Candidate(provider, name), Candidate(provider, bare)]
