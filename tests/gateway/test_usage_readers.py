"""Reading usage from answers and streams as they pass, frame by frame."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from llmlab_app.gateway.callers import Sender
from llmlab_app.gateway.recording import Attribution, GatewayCall
from llmlab_app.gateway.usage import (
    AnthropicStreamReader,
    ChatStreamReader,
    ReadUsage,
    ResponsesStreamReader,
    SSEFrames,
    parse_frame,
    read_answer,
)
from tests.sdk import fake_provider as fp

from .conftest import usage


def sse(events: list[tuple[str | None, object]]) -> bytes:
    return b"".join(
        (
            (f"event: {name}\n" if name else "")
            + f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"
        ).encode()
        for name, data in events
    )


def relay(reader: object, stream: bytes, chunk_size: int) -> bytes:
    """What a client gets when `stream` arrives in chunks of `chunk_size` bytes."""
    frames = SSEFrames()
    kept = b""
    for start in range(0, len(stream), chunk_size):
        for frame in frames.feed(stream[start : start + chunk_size]):
            if reader.keep(*parse_frame(frame)):  # type: ignore[attr-defined]
                kept += frame
    return kept + frames.rest()


def test_frames_are_whole_whatever_the_chunking_and_line_endings() -> None:
    stream = b'event: a\r\ndata: 1\r\n\r\ndata: {"x":\ndata: 2}\n\n'
    for size in (1, 3, 7, len(stream)):
        frames = SSEFrames()
        found = [
            f
            for start in range(0, len(stream), size)
            for f in frames.feed(stream[start : start + size])
        ]
        assert [parse_frame(f) for f in found] == [("a", b"1"), (None, b'{"x":\n2}')]


def test_the_usage_chunk_the_gateway_asked_for_is_hidden_and_read() -> None:
    stream = sse(fp.chat_stream(include_usage=True))
    hiding = ChatStreamReader(hide_usage_chunk=True)
    relayed = relay(hiding, stream, 5)

    assert relayed == sse(fp.chat_stream(include_usage=False))
    assert hiding.found.tokens == usage(fp.OPENAI_CHAT_USAGE)
    assert (hiding.found.response_id, hiding.found.model) == ("chatcmpl-1", fp.OPENAI_CHAT_MODEL)
    asked = ChatStreamReader(hide_usage_chunk=False)
    assert relay(asked, stream, 64) == stream  # a client that asked gets it unchanged


def test_responses_usage_comes_from_response_completed() -> None:
    reader = ResponsesStreamReader()
    assert relay(reader, sse(fp.responses_stream()), 100) == sse(fp.responses_stream())
    assert reader.found.tokens == usage(fp.OPENAI_RESPONSES_USAGE)
    assert reader.found.response_id == "resp_1"


def test_anthropic_usage_merges_message_start_and_message_delta() -> None:
    reader = AnthropicStreamReader()
    events = fp.anthropic_stream()
    relay(reader, sse(events[:1]), 50)
    partial = dict(reader.found.tokens or {})
    relay(reader, sse(events[1:]), 50)

    assert partial["output_tokens"] == 1 and partial["cache_write_tokens"] == 2000
    assert reader.found.tokens == usage(fp.ANTHROPIC_USAGE)
    assert reader.found.response_id == "msg_1"


def test_answers_without_usage_or_json_have_no_tokens() -> None:
    assert read_answer("chat", b"<html>bad gateway</html>").tokens is None
    assert read_answer("chat", json.dumps({"id": "x", "model": "m"}).encode()).tokens is None
    local = read_answer(
        "chat",
        json.dumps(
            {"model": "my-llama", "usage": {"prompt_tokens": 5, "completion_tokens": 2}}
        ).encode(),
    )
    assert (
        local.tokens is not None and local.tokens["input_tokens"] == 5
    )  # unknown model still read


def test_one_hour_cache_writes_and_service_tiers_are_read_for_pricing() -> None:
    message = fp.anthropic_message()
    message["usage"] = {
        **message["usage"],
        "cache_creation": {"ephemeral_5m_input_tokens": 500, "ephemeral_1h_input_tokens": 1500},
        "service_tier": "priority",
    }
    chat = {**fp.chat_completion(), "service_tier": "flex"}

    anthropic_answer = read_answer("anthropic", json.dumps(message).encode())
    chat_answer = read_answer("chat", json.dumps(chat).encode())

    assert anthropic_answer.tokens is not None
    assert anthropic_answer.tokens["cache_write_tokens"] == 2000
    assert anthropic_answer.tokens["cache_write_1h_tokens"] == 1500
    assert anthropic_answer.service_tier == "priority"
    assert chat_answer.service_tier == "flex"
    assert read_answer("chat", json.dumps(fp.chat_completion()).encode()).service_tier == "standard"
    default = {**fp.chat_completion(), "service_tier": "default"}
    assert read_answer("chat", json.dumps(default).encode()).service_tier == "standard"


def test_an_answer_id_too_long_to_store_gets_a_random_event_id() -> None:
    call = GatewayCall(
        provider="openai",
        path="chat/completions",
        sender=Sender(org_id=uuid.uuid4(), api_key_id=uuid.uuid4()),
        attribution=Attribution(),
        requested_model="gpt-4o",
        started_at=datetime.now(UTC),
        started=0.0,
    )
    usual = call.event(ReadUsage(response_id="chatcmpl-1"), http_status=200, ended=0.1)
    long = call.event(ReadUsage(response_id="x" * 200), http_status=200, ended=0.1)

    assert usual.event_id == "openai:chatcmpl-1"
    assert long.event_id is not None and len(long.event_id) == 32
