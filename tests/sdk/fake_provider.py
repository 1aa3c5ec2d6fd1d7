"""A fake OpenAI + Anthropic + Gemini server answering with recorded-shape JSON and SSE streams.

The official clients are pointed at it (``base_url`` / ``http_options``), so tests exercise the
real client code paths. Asking for model ``"explode"`` gets a 400 error from any route; a
request with ``tools`` gets a tool call back; model ``"slow"`` streams its first event, then
waits (up to 10 s) for ``FakeProvider.release`` before the rest.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from .servers import JSONHandler, LocalServer

# Expected normalised usage for each canned response (LLMLab convention).
OPENAI_CHAT_MODEL = "gpt-4o-2024-08-06"
OPENAI_CHAT_USAGE = {
    "input_tokens": 1200,
    "output_tokens": 300,
    "cache_read_tokens": 1024,
    "cache_write_tokens": 0,
    "reasoning_tokens": 128,
}
OPENAI_RESPONSES_MODEL = "o3-2025-04-16"
OPENAI_RESPONSES_USAGE = {
    "input_tokens": 2000,
    "output_tokens": 900,
    "cache_read_tokens": 1500,
    "cache_write_tokens": 0,
    "reasoning_tokens": 700,
}
ANTHROPIC_MODEL = "claude-sonnet-4-20250514"
ANTHROPIC_USAGE = {
    "input_tokens": 100 + 2000 + 5000,
    "output_tokens": 250,
    "cache_read_tokens": 5000,
    "cache_write_tokens": 2000,
    "cache_write_1h_tokens": 500,
    "reasoning_tokens": 80,
}
GEMINI_MODEL = "gemini-2.5-flash"
GEMINI_USAGE = {
    "input_tokens": 1000,
    "output_tokens": 200 + 150,
    "cache_read_tokens": 600,
    "cache_write_tokens": 0,
    "reasoning_tokens": 150,
}

_CHAT_USAGE_JSON = {
    "prompt_tokens": 1200,
    "completion_tokens": 300,
    "total_tokens": 1500,
    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 128,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}
_RESPONSES_USAGE_JSON = {
    "input_tokens": 2000,
    "input_tokens_details": {"cached_tokens": 1500, "cache_write_tokens": 0},
    "output_tokens": 900,
    "output_tokens_details": {"reasoning_tokens": 700},
    "total_tokens": 2900,
}
_ANTHROPIC_USAGE_JSON = {
    "input_tokens": 100,
    "cache_creation_input_tokens": 2000,
    "cache_creation": {"ephemeral_5m_input_tokens": 1500, "ephemeral_1h_input_tokens": 500},
    "cache_read_input_tokens": 5000,
    "service_tier": "standard",
    "output_tokens": 250,
    "output_tokens_details": {"thinking_tokens": 80},
}
_GEMINI_USAGE_JSON = {
    "promptTokenCount": 1000,
    "cachedContentTokenCount": 600,
    "candidatesTokenCount": 200,
    "thoughtsTokenCount": 150,
    "totalTokenCount": 1350,
}


# Every answer gets its own response id, as from a real provider.
_response_numbers = itertools.count(1)


def chat_completion(
    response_id: str = "chatcmpl-1", service_tier: str = "default"
) -> dict[str, Any]:
    return {
        "id": response_id,
        "service_tier": service_tier,
        "object": "chat.completion",
        "created": 1_764_000_000,
        "model": OPENAI_CHAT_MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello there"},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": _CHAT_USAGE_JSON,
    }


def _chat_chunk(
    response_id: str, choices: list[dict[str, Any]], usage: Any = None
) -> dict[str, Any]:
    return {
        "id": response_id,
        "object": "chat.completion.chunk",
        "created": 1_764_000_000,
        "model": OPENAI_CHAT_MODEL,
        "choices": choices,
        "usage": usage,
    }


def chat_stream(
    include_usage: bool, response_id: str = "chatcmpl-1"
) -> list[tuple[str | None, Any]]:
    first = [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]
    last = [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}]
    events: list[tuple[str | None, Any]] = [
        (None, _chat_chunk(response_id, first)),
        (None, _chat_chunk(response_id, last)),
    ]
    if include_usage:
        events.append((None, _chat_chunk(response_id, [], _CHAT_USAGE_JSON)))
    events.append((None, "[DONE]"))
    return events


def response_object(
    status: str = "completed", usage: Any = _RESPONSES_USAGE_JSON, response_id: str = "resp_1"
) -> dict[str, Any]:
    return {
        "id": response_id,
        "object": "response",
        "created_at": 1_764_000_000,
        "model": OPENAI_RESPONSES_MODEL,
        "status": status,
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Hi", "annotations": []}],
            }
        ]
        if status == "completed"
        else [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": usage,
    }


def responses_stream(response_id: str = "resp_1") -> list[tuple[str | None, Any]]:
    item = {"type": "message", "id": "msg_1", "status": "in_progress", "role": "assistant"}
    part = {"type": "output_text", "text": "", "annotations": []}
    text = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    done_part = {**part, "text": "Hi"}
    done_item = {**item, "status": "completed", "content": [done_part]}
    events: list[dict[str, Any]] = [
        {
            "type": "response.created",
            "response": response_object("in_progress", None, response_id),
        },
        {"type": "response.output_item.added", "output_index": 0, "item": {**item, "content": []}},
        {"type": "response.content_part.added", **text, "part": part},
        {"type": "response.output_text.delta", **text, "delta": "Hi", "logprobs": []},
        {"type": "response.output_text.done", **text, "text": "Hi", "logprobs": []},
        {"type": "response.content_part.done", **text, "part": done_part},
        {"type": "response.output_item.done", "output_index": 0, "item": done_item},
        {"type": "response.completed", "response": response_object(response_id=response_id)},
    ]
    return [(e["type"], {**e, "sequence_number": n}) for n, e in enumerate(events)]


def chat_tool_call(response_id: str = "chatcmpl-1") -> dict[str, Any]:
    answer = chat_completion(response_id)
    answer["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ],
    }
    answer["choices"][0]["finish_reason"] = "tool_calls"
    return answer


def completion(response_id: str = "cmpl-1") -> dict[str, Any]:
    return {
        "id": response_id,
        "object": "text_completion",
        "created": 1_764_000_000,
        "model": "gpt-3.5-turbo-instruct",
        "choices": [{"text": "Hi", "index": 0, "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }


def embeddings() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 8, "total_tokens": 8},
    }


def models() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": "gpt-4o", "object": "model", "created": 1_700_000_000, "owned_by": "x"}],
    }


def anthropic_tool_use(response_id: str = "msg_1") -> dict[str, Any]:
    answer = anthropic_message(response_id)
    answer["content"] = [
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
    ]
    answer["stop_reason"] = "tool_use"
    return answer


def anthropic_message(response_id: str = "msg_1") -> dict[str, Any]:
    return {
        "id": response_id,
        "type": "message",
        "role": "assistant",
        "model": ANTHROPIC_MODEL,
        "content": [{"type": "text", "text": "Hi"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": _ANTHROPIC_USAGE_JSON,
    }


def anthropic_stream(response_id: str = "msg_1") -> list[tuple[str | None, Any]]:
    start_usage = {**_ANTHROPIC_USAGE_JSON, "output_tokens": 1}
    del start_usage["output_tokens_details"]
    message = {
        **anthropic_message(response_id),
        "content": [],
        "stop_reason": None,
        "usage": start_usage,
    }
    return [
        ("message_start", {"type": "message_start", "message": message}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        ("ping", {"type": "ping"}),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "Hi"},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 250, "output_tokens_details": {"thinking_tokens": 80}},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]


def gemini_response(
    text: str = "Hi", usage: dict[str, Any] | None = None, response_id: str = "resp-gemini-1"
) -> dict[str, Any]:
    return {
        "candidates": [
            {
                "content": {"parts": [{"text": text}], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": usage or _GEMINI_USAGE_JSON,
        "modelVersion": GEMINI_MODEL,
        "responseId": response_id,
    }


def gemini_stream(response_id: str = "resp-gemini-1") -> list[tuple[str | None, Any]]:
    partial = {"promptTokenCount": 1000, "cachedContentTokenCount": 600, "totalTokenCount": 1000}
    return [
        (None, gemini_response("Hel", partial, response_id)),
        (None, gemini_response("lo", _GEMINI_USAGE_JSON, response_id)),
    ]


class ProviderHandler(JSONHandler):
    def handle_request(self, method: str) -> None:
        body = self.read_json() or {}
        path = self.path.split("?")[0]
        self.server.requests.append((path, body))  # type: ignore[attr-defined]
        self.server.headers.append(dict(self.headers.items()))  # type: ignore[attr-defined]
        model = body.get("model") or path.rsplit("/", 1)[-1].split(":")[0]
        if model == "explode":
            self.send_json(
                400, {"error": {"message": "bad model", "type": "invalid_request_error"}}
            )
            return
        number = next(_response_numbers)
        if path.endswith("/chat/completions"):
            chat_id = f"chatcmpl-{number}"
            if body.get("stream"):
                include = bool((body.get("stream_options") or {}).get("include_usage"))
                self.send_sse(chat_stream(include, chat_id))
            elif body.get("tools"):
                self.send_json(200, chat_tool_call(chat_id))
            else:
                # OpenAI answers with the tier it served (flex, priority) or "default".
                tier = body.get("service_tier") or "default"
                self.send_json(200, chat_completion(chat_id, "default" if tier == "auto" else tier))
        elif path.endswith("/completions"):
            self.send_json(200, completion(f"cmpl-{number}"))
        elif path.endswith("/embeddings"):
            self.send_json(200, embeddings())
        elif path.endswith("/models") and method == "GET":
            self.send_json(200, models(), {"x-request-id": "req_models"})
        elif path.endswith("/responses"):
            if body.get("stream"):
                self.send_sse(responses_stream(f"resp_{number}"))
            else:
                self.send_json(200, response_object(response_id=f"resp_{number}"))
        elif path.endswith("/messages/count_tokens"):
            self.send_json(200, {"input_tokens": 42})
        elif path.endswith("/messages"):
            release: threading.Event = self.server.release  # type: ignore[attr-defined]
            if body.get("stream") and model == "slow":
                self.send_sse(anthropic_stream(f"msg_{number}"), pause_after=1, release=release)
            elif body.get("stream"):
                self.send_sse(anthropic_stream(f"msg_{number}"))
            elif body.get("tools"):
                self.send_json(200, anthropic_tool_use(f"msg_{number}"))
            else:
                self.send_json(200, anthropic_message(f"msg_{number}"))
        elif path.endswith(":generateContent"):
            self.send_json(200, gemini_response(response_id=f"resp-gemini-{number}"))
        elif path.endswith(":streamGenerateContent"):
            self.send_sse(gemini_stream(f"resp-gemini-{number}"))
        else:
            self.send_json(404, {"error": {"message": f"no route {path}"}})


class FakeProvider:
    def __init__(self) -> None:
        self._server = LocalServer(ProviderHandler)
        self._server.requests = []  # type: ignore[attr-defined]
        self._server.headers = []  # type: ignore[attr-defined]
        self._server.release = threading.Event()  # type: ignore[attr-defined]
        self._lock = threading.Lock()
        self._server.start()

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def requests(self) -> list[tuple[str, dict[str, Any]]]:
        return self._server.requests  # type: ignore[attr-defined]

    @property
    def headers(self) -> list[dict[str, str]]:
        """The headers of each request, in the order of `requests`."""
        return self._server.headers  # type: ignore[attr-defined]

    @property
    def release(self) -> threading.Event:
        """Set it to let a ``"slow"`` stream finish."""
        return self._server.release  # type: ignore[attr-defined]

    def reset(self) -> None:
        self.requests.clear()
        self.headers.clear()
        self.release.clear()

    def stop(self) -> None:
        self._server.stop()
