"""Token usage read from the provider's own answer, JSON or a stream of Server-Sent Events.

Usage JSON is read by genai-prices' per-provider extractors (the same dataset that prices the
call), called at the provider level so that a model unknown to the dataset, e.g. behind an
OpenAI-compatible upstream, still has its tokens read. Streams are read frame by frame as
they pass: only the few frames that can carry usage or the response id are decoded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, Protocol

from genai_prices.data_snapshot import get_snapshot

Flavor = Literal["chat", "responses", "embeddings", "anthropic"]

# (genai-prices provider id, its api_flavor) per kind of answer.
_EXTRACTORS: dict[Flavor, tuple[str, str]] = {
    "chat": ("openai", "chat"),
    "responses": ("openai", "responses"),
    "embeddings": ("openai", "embeddings"),
    "anthropic": ("anthropic", "default"),
}

_USAGE_OBJECT = re.compile(rb'"usage"\s*:\s*\{')


@dataclass
class ReadUsage:
    """What an answer said about itself; `tokens` None when it reported no usage."""

    response_id: str | None = None
    model: str | None = None
    tokens: dict[str, int] | None = None
    service_tier: str = "standard"

    def note_tier(self, value: Any) -> None:
        """Take the tier an answer reports (OpenAI `service_tier`: default, flex, priority...;
        Anthropic `usage.service_tier`: standard, priority, batch) in LLMLab's terms."""
        if isinstance(value, str) and value:
            self.service_tier = _TIERS.get(value, "standard")


# The tiers billed at other rates than the standard one; anything else is standard.
_TIERS = {"flex": "flex", "priority": "priority", "batch": "batch"}


@cache
def _provider(provider_id: str) -> Any:
    return get_snapshot().find_provider(None, provider_id, None)


def tokens_of(flavor: Flavor, answer: dict[str, Any]) -> dict[str, int] | None:
    """LLMLab's five counts (input total with cache included, output with reasoning) of an
    answer holding `usage`, or None when it holds none."""
    provider_id, api_flavor = _EXTRACTORS[flavor]
    try:
        _, usage = _provider(provider_id).extract_usage(answer, api_flavor=api_flavor)
    except (ValueError, TypeError):
        return None
    return {
        "input_tokens": int(usage.input_tokens or 0),
        "output_tokens": int(usage.output_tokens or 0),
        "cache_read_tokens": int(usage.cache_read_tokens or 0),
        "cache_write_tokens": int(usage.cache_write_tokens or 0),
        "reasoning_tokens": int(usage.output_reasoning_tokens or 0),
        "cache_write_1h_tokens": int(getattr(usage, "cache_write_1h_tokens", None) or 0),
    }


def read_answer(flavor: Flavor, body: bytes) -> ReadUsage:
    """Usage, id and model of a whole JSON answer (not JSON: nothing known)."""
    try:
        answer = json.loads(body)
    except ValueError:
        return ReadUsage()
    if not isinstance(answer, dict):
        return ReadUsage()
    found = ReadUsage(
        _text(answer.get("id")), _text(answer.get("model")), tokens_of(flavor, answer)
    )
    found.note_tier(answer.get("service_tier") or _tier_in_usage(answer))
    return found


def _tier_in_usage(answer: dict[str, Any]) -> Any:
    usage = answer.get("usage")
    return usage.get("service_tier") if isinstance(usage, dict) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _object(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class StreamReader(Protocol):
    found: ReadUsage

    def keep(self, event: str | None, data: bytes) -> bool:
        """Read one frame; False when the client must not see it."""
        ...


class ChatStreamReader:
    """OpenAI Chat Completions (and legacy Completions): the id and model on every chunk,
    usage on a last chunk with no choices, sent only with `stream_options.include_usage`.
    When the gateway added that option, the usage chunk is dropped (`hide_usage_chunk`)."""

    def __init__(self, hide_usage_chunk: bool) -> None:
        self.found = ReadUsage()
        self.hide_usage_chunk = hide_usage_chunk

    def keep(self, event: str | None, data: bytes) -> bool:
        if self.found.response_id is None and data.startswith(b"{"):
            chunk = _object(data)
            self.found.response_id = _text(chunk.get("id"))
            self.found.model = _text(chunk.get("model"))
        if not _USAGE_OBJECT.search(data):
            return True
        chunk = _object(data)
        tokens = tokens_of("chat", chunk)
        if tokens is None:
            return True
        self.found.tokens = tokens
        self.found.model = _text(chunk.get("model")) or self.found.model
        self.found.note_tier(chunk.get("service_tier"))
        return not (self.hide_usage_chunk and chunk.get("choices") == [])


_RESPONSE_ENDS = frozenset({"response.completed", "response.incomplete", "response.failed"})


class ResponsesStreamReader:
    """OpenAI Responses: `response.created` names the response, `response.completed` (or
    `.incomplete` / `.failed`) carries the usage."""

    def __init__(self, hide_usage_chunk: bool = False) -> None:
        self.found = ReadUsage()

    def keep(self, event: str | None, data: bytes) -> bool:
        if event == "response.created" or event in _RESPONSE_ENDS:
            response = _object(data).get("response")
            if isinstance(response, dict):
                self.found.response_id = _text(response.get("id")) or self.found.response_id
                self.found.model = _text(response.get("model")) or self.found.model
                if event in _RESPONSE_ENDS:
                    self.found.tokens = tokens_of("responses", response) or self.found.tokens
                    self.found.note_tier(response.get("service_tier"))
        return True


_ANTHROPIC_COUNTS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


class AnthropicStreamReader:
    """Anthropic Messages: `message_start` holds the id, model and input usage (cache
    buckets included, 5-minute and 1-hour writes apart), each `message_delta` the cumulative
    counts so far."""

    def __init__(self, hide_usage_chunk: bool = False) -> None:
        self.found = ReadUsage()
        self._usage: dict[str, Any] = {}

    def keep(self, event: str | None, data: bytes) -> bool:
        if event == "message_start":
            message = _object(data).get("message")
            if isinstance(message, dict):
                self.found.response_id = _text(message.get("id"))
                self.found.model = _text(message.get("model"))
                self._merge(message.get("usage"))
        elif event == "message_delta":
            self._merge(_object(data).get("usage"))
        return True

    def _merge(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        for name in _ANTHROPIC_COUNTS:
            if isinstance(usage.get(name), int):
                self._usage[name] = usage[name]
        for name in ("output_tokens_details", "cache_creation"):
            if isinstance(usage.get(name), dict):
                self._usage[name] = usage[name]
        self.found.note_tier(usage.get("service_tier"))
        self.found.tokens = tokens_of("anthropic", {"usage": self._usage})


class SSEFrames:
    """Splits a byte stream into complete Server-Sent Events frames as bytes arrive."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        """The frames completed by `chunk`, each with its blank-line terminator."""
        self._pending += chunk
        frames = []
        while True:
            end, size = _frame_end(self._pending)
            if end < 0:
                return frames
            frames.append(self._pending[: end + size])
            self._pending = self._pending[end + size :]

    def rest(self) -> bytes:
        """What arrived after the last complete frame."""
        rest, self._pending = self._pending, b""
        return rest


def _frame_end(buffer: bytes) -> tuple[int, int]:
    ends = [(i, len(sep)) for sep in (b"\n\n", b"\r\n\r\n") if (i := buffer.find(sep)) >= 0]
    return min(ends) if ends else (-1, 0)


def parse_frame(frame: bytes) -> tuple[str | None, bytes]:
    """The `event:` name and the `data:` lines (joined by newlines) of one frame."""
    event = None
    data: list[bytes] = []
    for line in frame.splitlines():
        if line.startswith(b"data:"):
            data.append(line[5:].removeprefix(b" "))
        elif line.startswith(b"event:"):
            event = line[6:].strip().decode("utf-8", "replace")
    return event, b"\n".join(data)
