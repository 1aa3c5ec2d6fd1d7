"""Find token usage in what an LLM call returned, and normalise it to LLMLab's five counts.

LLMLab's convention (shared with ``llmlab_core.Usage``): ``input_tokens`` is the TOTAL input,
cache reads and writes included; ``output_tokens`` includes reasoning/thinking tokens.

Works on the official clients' response objects and on their raw JSON (dicts), so a function
that calls a provider's REST API directly can be tracked too:

- OpenAI Chat Completions (``usage.prompt_tokens``, ``prompt_tokens_details.cached_tokens``,
  ``completion_tokens_details.reasoning_tokens``) and Responses (``usage.input_tokens``,
  ``input_tokens_details``, ``output_tokens_details``);
- Anthropic Messages, whose ``input_tokens`` EXCLUDES cache reads and writes;
- Google ``google-genai`` (``usage_metadata`` / ``usageMetadata``), whose candidates count
  excludes thinking tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

OPENAI = "openai"
ANTHROPIC = "anthropic"
GOOGLE = "google"


class TokenUsage(TypedDict):
    """Token counts in LLMLab's convention (the fields of ``llmlab_core.Usage``)."""

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    # Only when some writes went to Anthropic's 1-hour cache (part of cache_write_tokens).
    cache_write_1h_tokens: NotRequired[int]


@dataclass(slots=True)
class ExtractedUsage:
    """Usage found in a response, with the provider and model when the response names them."""

    usage: TokenUsage
    provider: str | None = None
    model: str | None = None
    response_id: str | None = None
    # The rates the provider says it billed: "batch", "flex", "priority" (None: standard).
    service_tier: str | None = None


def _get(source: Any, *names: str) -> Any:
    """The first of ``names`` present (and not None) on an object or a dict."""
    if source is None:
        return None
    if isinstance(source, dict):
        for name in names:
            value = source.get(name)
            if value is not None:
                return value
        return None
    for name in names:
        value = getattr(source, name, None)
        if value is not None:
            return value
    return None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def _usage(
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    reasoning_tokens: int = 0,
    cache_write_1h_tokens: int = 0,
) -> TokenUsage:
    usage: TokenUsage = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_tokens": cache_read_tokens,
        "cache_write_tokens": cache_write_tokens,
        "reasoning_tokens": reasoning_tokens,
    }
    if cache_write_1h_tokens:
        usage["cache_write_1h_tokens"] = cache_write_1h_tokens
    return usage


def openai_chat_usage(usage: Any) -> TokenUsage:
    """Chat Completions usage: ``prompt_tokens`` already includes cached tokens."""
    prompt_details = _get(usage, "prompt_tokens_details")
    completion_details = _get(usage, "completion_tokens_details")
    return _usage(
        input_tokens=_int(_get(usage, "prompt_tokens")),
        output_tokens=_int(_get(usage, "completion_tokens")),
        cache_read_tokens=_int(_get(prompt_details, "cached_tokens")),
        cache_write_tokens=_int(_get(prompt_details, "cache_write_tokens")),
        reasoning_tokens=_int(_get(completion_details, "reasoning_tokens")),
    )


def openai_responses_usage(usage: Any) -> TokenUsage:
    """Responses API usage: ``input_tokens`` already includes cached tokens."""
    input_details = _get(usage, "input_tokens_details")
    output_details = _get(usage, "output_tokens_details")
    return _usage(
        input_tokens=_int(_get(usage, "input_tokens")),
        output_tokens=_int(_get(usage, "output_tokens")),
        cache_read_tokens=_int(_get(input_details, "cached_tokens")),
        cache_write_tokens=_int(_get(input_details, "cache_write_tokens")),
        reasoning_tokens=_int(_get(output_details, "reasoning_tokens")),
    )


def anthropic_usage(usage: Any) -> TokenUsage:
    """Anthropic usage: its ``input_tokens`` excludes cache reads and writes, so add them back.
    ``cache_creation`` splits the writes between the 5-minute and the 1-hour cache."""
    cache_read = _int(_get(usage, "cache_read_input_tokens"))
    cache_write = _int(_get(usage, "cache_creation_input_tokens"))
    one_hour = _int(_get(_get(usage, "cache_creation"), "ephemeral_1h_input_tokens"))
    return _usage(
        input_tokens=_int(_get(usage, "input_tokens")) + cache_read + cache_write,
        output_tokens=_int(_get(usage, "output_tokens")),
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        cache_write_1h_tokens=min(one_hour, cache_write),
        reasoning_tokens=_int(_get(_get(usage, "output_tokens_details"), "thinking_tokens")),
    )


# What providers call their tiers -> LLMLab's `service_tier` (OpenAI's "default"/"auto" and
# Anthropic's "standard" are the standard rates).
_SERVICE_TIERS = {"flex": "flex", "priority": "priority", "batch": "batch"}


def service_tier_of(*sources: Any) -> str | None:
    """The billed tier a response (or its usage, as Anthropic reports it) names, if not
    standard."""
    for source in sources:
        tier = _get(source, "service_tier")
        if isinstance(tier, str) and tier in _SERVICE_TIERS:
            return _SERVICE_TIERS[tier]
    return None


def google_usage(metadata: Any) -> TokenUsage:
    """Gemini usage metadata: prompt includes cached content; thoughts are billed as output."""
    thoughts = _int(_get(metadata, "thoughts_token_count", "thoughtsTokenCount"))
    return _usage(
        input_tokens=_int(_get(metadata, "prompt_token_count", "promptTokenCount"))
        + _int(_get(metadata, "tool_use_prompt_token_count", "toolUsePromptTokenCount")),
        output_tokens=_int(_get(metadata, "candidates_token_count", "candidatesTokenCount"))
        + thoughts,
        cache_read_tokens=_int(
            _get(metadata, "cached_content_token_count", "cachedContentTokenCount")
        ),
        reasoning_tokens=thoughts,
    )


def _llmlab_usage(usage: Any) -> TokenUsage:
    """Usage already in LLMLab's own convention (e.g. a dict the user built)."""
    return _usage(
        input_tokens=_int(_get(usage, "input_tokens")),
        output_tokens=_int(_get(usage, "output_tokens")),
        cache_read_tokens=_int(_get(usage, "cache_read_tokens")),
        cache_write_tokens=_int(_get(usage, "cache_write_tokens")),
        cache_write_1h_tokens=_int(_get(usage, "cache_write_1h_tokens")),
        reasoning_tokens=_int(_get(usage, "reasoning_tokens")),
    )


Normaliser = Callable[[Any], TokenUsage]

# Each usage dialect: how to normalise it and which provider speaks it.
_DIALECTS: dict[str, tuple[Normaliser, str | None]] = {
    "openai_chat": (openai_chat_usage, OPENAI),
    "openai_responses": (openai_responses_usage, OPENAI),
    "anthropic": (anthropic_usage, ANTHROPIC),
    "google": (google_usage, GOOGLE),
    "llmlab": (_llmlab_usage, None),
}


def _dialect_of_fields(has: Callable[[str], bool], provider: str | None) -> str | None:
    if has("prompt_tokens"):
        return "openai_chat"
    if has("prompt_token_count") or has("promptTokenCount"):
        return "google"
    if has("input_tokens"):
        if (
            provider == ANTHROPIC
            or has("cache_creation_input_tokens")
            or has("cache_read_input_tokens")
        ):
            return "anthropic"
        if has("input_tokens_details"):
            return "openai_responses"
        return "llmlab"
    return None


# Usage classes of the official clients always have the same fields, so a class's dialect is
# worked out once from its declared fields (values may be None, which says nothing).
_class_dialects: dict[type, str | None] = {}


def _dialect_of(usage: Any, provider: str | None) -> str | None:
    if isinstance(usage, dict):
        return _dialect_of_fields(lambda name: usage.get(name) is not None, provider)
    cls = type(usage)
    if cls in _class_dialects:
        return _class_dialects[cls]
    declared = getattr(cls, "model_fields", None) or getattr(cls, "__dataclass_fields__", None)
    if isinstance(declared, dict):
        dialect = _dialect_of_fields(declared.__contains__, None)
        _class_dialects[cls] = dialect
        return dialect
    return _dialect_of_fields(lambda name: getattr(usage, name, None) is not None, provider)


def usage_from_usage_object(usage: Any, provider: str | None = None) -> ExtractedUsage | None:
    """Normalise a bare usage object or dict, telling its dialect from the fields it has."""
    dialect = _dialect_of(usage, provider)
    if dialect is None:
        return None
    normalise, dialect_provider = _DIALECTS[dialect]
    return ExtractedUsage(normalise(usage), dialect_provider or provider)


_SCALARS = (str, bytes, int, float, bool)
_CLIENT_PACKAGES = frozenset({"openai", "anthropic", "google"})
# Raw JSON whose ``id`` is the provider's id for the response (not, say, a user's own row id).
_OPENAI_RESPONSE_OBJECTS = frozenset(
    {"chat.completion", "chat.completion.chunk", "response", "text_completion"}
)
# Which attribute of a response class holds the provider's response id (None: none does);
# worked out once per class, as a missing attribute is slow to look up on pydantic models.
_class_id_attributes: dict[type, str | None] = {}


def _id_attribute_of_class(cls: type) -> str | None:
    if cls.__module__.partition(".")[0] not in _CLIENT_PACKAGES:
        return None
    declared = getattr(cls, "model_fields", None) or getattr(cls, "__dataclass_fields__", None)
    if not isinstance(declared, dict):
        return None
    for name in ("response_id", "id"):
        if name in declared:
            return name
    return None


def response_id_of(result: Any) -> str | None:
    """The provider's id for this response (``chatcmpl-…``, ``resp_…``, ``msg_…``, Gemini's
    ``response_id``), when ``result`` is a provider response that carries one."""
    if isinstance(result, dict):
        if result.get("object") in _OPENAI_RESPONSE_OBJECTS or result.get("type") == "message":
            found = result.get("id")
        else:
            found = result.get("responseId") or result.get("response_id")
    else:
        cls = type(result)
        if cls in _class_id_attributes:
            attribute = _class_id_attributes[cls]
        else:
            attribute = _class_id_attributes[cls] = _id_attribute_of_class(cls)
        found = getattr(result, attribute, None) if attribute else None
    return found if isinstance(found, str) and found else None


def extract_usage(result: Any, provider: str | None = None) -> ExtractedUsage | None:
    """Usage, provider and model found in ``result``, or None when it carries no usage.

    ``result`` may be a response object or raw JSON from OpenAI, Anthropic or Google, a bare
    usage object, or a tuple/list holding one of those (``return text, response.usage``).
    """
    if result is None or isinstance(result, _SCALARS):
        return None
    if isinstance(result, tuple | list):
        for item in result:
            found = extract_usage(item, provider)
            if found is not None:
                return found
        return None
    # ``usage`` first: it is what most responses carry, and a missing attribute is slow to
    # look up on pydantic models.
    usage = _get(result, "usage")
    if usage is not None:
        found = usage_from_usage_object(usage, provider)
        if found is not None:
            found.model = _get(result, "model")
            found.response_id = response_id_of(result)
            found.service_tier = service_tier_of(result, usage)
        return found
    metadata = _get(result, "usage_metadata", "usageMetadata")
    if metadata is not None:
        model = _get(result, "model_version", "modelVersion")
        return ExtractedUsage(google_usage(metadata), GOOGLE, model, response_id_of(result))
    return usage_from_usage_object(result, provider)


_RESPONSE_DONE_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})
_ANTHROPIC_USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "service_tier",
)


class StreamUsageAccumulator:
    """Collects usage while a stream is read, chunk by chunk.

    OpenAI puts usage on the final chunk (with ``stream_options={"include_usage": True}``) or on
    the ``response.completed`` event; Anthropic splits it between ``message_start`` and
    ``message_delta`` (whose counts are cumulative); Gemini repeats cumulative
    ``usage_metadata`` on every chunk. The latest complete figure wins.
    """

    __slots__ = (
        "_anthropic_fields",
        "_anthropic_thinking",
        "_latest",
        "model",
        "provider",
        "response_id",
        "service_tier",
    )

    def __init__(self, provider: str | None = None) -> None:
        self.provider = provider
        self.model: str | None = None
        self.response_id: str | None = None
        self._latest: ExtractedUsage | None = None
        self.service_tier: str | None = None
        self._anthropic_fields: dict[str, Any] | None = None
        self._anthropic_thinking: int | None = None

    def observe(self, chunk: Any) -> None:
        """Look at one item of the stream (never raises on unexpected shapes)."""
        if chunk is None or isinstance(chunk, _SCALARS):
            return
        kind = _get(chunk, "type")
        if kind == "message_start":
            message = _get(chunk, "message")
            self.provider = ANTHROPIC
            self.model = _get(message, "model") or self.model
            self.response_id = response_id_of(message) or self.response_id
            self._anthropic_fields = {}
            self._merge_anthropic(_get(message, "usage"))
            return
        if kind == "message_delta":
            self._merge_anthropic(_get(chunk, "usage"))
            return
        if kind in _RESPONSE_DONE_EVENTS:
            found = extract_usage(_get(chunk, "response"), self.provider)
        else:
            found = extract_usage(chunk, self.provider)
            if found is None:
                self.model = self.model or _get(chunk, "model", "model_version", "modelVersion")
                self.response_id = self.response_id or response_id_of(chunk)
                self.service_tier = self.service_tier or service_tier_of(chunk)
                return
        if found is not None:
            self._latest = found
            self.provider = found.provider or self.provider
            self.model = found.model or self.model
            self.response_id = found.response_id or self.response_id

    def _merge_anthropic(self, usage: Any) -> None:
        if usage is None:
            return
        fields = self._anthropic_fields if self._anthropic_fields is not None else {}
        for name in _ANTHROPIC_USAGE_FIELDS:
            value = _get(usage, name)
            if isinstance(value, int | str):
                fields[name] = value
        self._anthropic_fields = fields
        thinking = _get(_get(usage, "output_tokens_details"), "thinking_tokens")
        if isinstance(thinking, int):
            self._anthropic_thinking = thinking
        one_hour = _get(_get(usage, "cache_creation"), "ephemeral_1h_input_tokens")
        if isinstance(one_hour, int):
            fields["cache_creation"] = {"ephemeral_1h_input_tokens": one_hour}

    def result(self) -> ExtractedUsage | None:
        """The usage seen so far, or None when the stream carried none."""
        if self._anthropic_fields:
            fields: dict[str, Any] = dict(self._anthropic_fields)
            if self._anthropic_thinking is not None:
                fields["output_tokens_details"] = {"thinking_tokens": self._anthropic_thinking}
            return ExtractedUsage(
                anthropic_usage(fields),
                ANTHROPIC,
                self.model,
                self.response_id,
                service_tier_of(fields),
            )
        if self._latest is not None:
            return ExtractedUsage(
                self._latest.usage,
                self._latest.provider or self.provider,
                self.model,
                self.response_id,
                self._latest.service_tier or self.service_tier,
            )
        return None
