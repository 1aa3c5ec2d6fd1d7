"""``@track_cost`` on every kind of function, with real clients and a real ingest server."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import types as genai_types

import llmlab_sdk
from llmlab_sdk import track_cost

from . import fake_provider as fp
from .fake_provider import FakeProvider
from .ingest_stub import IngestStub, usage_of

MESSAGES: Any = [{"role": "user", "content": "hi"}]


def only_event(ingest: IngestStub) -> dict[str, Any]:
    assert llmlab_sdk.flush(10)
    (event,) = ingest.sent_events()
    return event


def test_sync_function_returning_an_openai_response(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = openai.OpenAI(api_key="sk", base_url=f"{provider.url}/v1", max_retries=0)
    returned: list[Any] = []

    @track_cost(project="support", tags=["faq"], end_user="u-42", metadata={"ticket": 7})
    def ask(question: str) -> Any:
        response = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        returned.append(response)
        return response

    result = ask("why?")

    assert result is returned[0]
    event = only_event(ingest)
    assert usage_of(event) == fp.OPENAI_CHAT_USAGE
    assert event["model"] == fp.OPENAI_CHAT_MODEL
    assert event["provider"] == "openai"
    assert event["status"] == "success"
    assert event["project"] == "support"
    assert event["tags"] == ["faq"]
    assert event["end_user"] == "u-42"
    assert event["metadata"] == {"ticket": 7}
    assert event["latency_ms"] >= 0
    assert event["event_id"] and event["timestamp"].endswith("Z")


def test_async_function_returning_an_anthropic_message(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = anthropic.AsyncAnthropic(api_key="sk", base_url=provider.url, max_retries=0)

    @track_cost
    async def ask() -> Any:
        return await client.messages.create(
            model="claude-sonnet-4-20250514", max_tokens=10, messages=MESSAGES
        )

    message = asyncio.run(ask())

    assert message.content[0].text == "Hi"
    event = only_event(ingest)
    assert usage_of(event) == fp.ANTHROPIC_USAGE
    assert (event["provider"], event["model"]) == ("anthropic", fp.ANTHROPIC_MODEL)


def test_function_returning_an_openai_stream_is_recorded_when_the_stream_ends(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = openai.OpenAI(api_key="sk", base_url=f"{provider.url}/v1", max_retries=0)

    @track_cost
    def ask() -> Any:
        return client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )

    stream = ask()
    assert isinstance(stream, openai.Stream)  # the very object the client returned
    chunks = list(stream)

    assert chunks[-1].usage is not None  # the caller asked for the usage chunk, so they see it
    event = only_event(ingest)
    assert usage_of(event) == fp.OPENAI_CHAT_USAGE


def test_async_function_returning_a_gemini_stream(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = genai.Client(api_key="g", http_options=genai_types.HttpOptions(base_url=provider.url))

    @track_cost(project="search")
    async def ask() -> Any:
        return await client.aio.models.generate_content_stream(
            model="gemini-2.5-flash", contents="hi"
        )

    async def consume() -> list[str]:
        return [chunk.text async for chunk in await ask()]

    assert asyncio.run(consume()) == ["Hel", "lo"]
    event = only_event(ingest)
    assert usage_of(event) == fp.GEMINI_USAGE
    assert event["project"] == "search"


def test_sync_generator_yielding_anthropic_stream_events(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = anthropic.Anthropic(api_key="sk", base_url=provider.url, max_retries=0)

    @track_cost
    def stream_answer() -> Iterator[Any]:
        yield from client.messages.create(
            model="claude-sonnet-4-20250514", max_tokens=10, messages=MESSAGES, stream=True
        )

    assert inspect.isgeneratorfunction(stream_answer)
    kinds = [event.type for event in stream_answer()]

    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    event = only_event(ingest)
    assert usage_of(event) == fp.ANTHROPIC_USAGE


def test_async_generator_yielding_openai_chunks(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = openai.AsyncOpenAI(api_key="sk", base_url=f"{provider.url}/v1", max_retries=0)

    @track_cost(tags=["stream"])
    async def stream_answer() -> AsyncIterator[Any]:
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        async for chunk in stream:
            yield chunk

    async def consume() -> int:
        return len([chunk async for chunk in stream_answer()])

    assert inspect.isasyncgenfunction(stream_answer)
    assert asyncio.run(consume()) == 3
    event = only_event(ingest)
    assert usage_of(event) == fp.OPENAI_CHAT_USAGE
    assert event["tags"] == ["stream"]


def test_generator_send_and_return_value_pass_through(
    ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    @track_cost(model="gpt-4o-mini")
    def echo() -> Any:
        received = yield "ready"
        yield {"usage": {"prompt_tokens": 4, "completion_tokens": 2}, "echo": received}
        return "done"

    generator = echo()
    assert next(generator) == "ready"
    assert generator.send("ping")["echo"] == "ping"
    with pytest.raises(StopIteration) as stop:
        next(generator)

    assert stop.value.value == "done"
    assert only_event(ingest)["input_tokens"] == 4


def test_raw_text_plus_usage_with_model_and_provider_given(
    ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    @track_cost(model="mistral-large-latest", provider="mistral")
    def call_rest_api() -> tuple[str, dict[str, int]]:
        return "some text", {"input_tokens": 120, "output_tokens": 30}

    assert call_rest_api() == ("some text", {"input_tokens": 120, "output_tokens": 30})
    event = only_event(ingest)
    assert (event["model"], event["provider"]) == ("mistral-large-latest", "mistral")
    assert (event["input_tokens"], event["output_tokens"]) == (120, 30)


def test_signature_name_and_docstring_are_kept() -> None:
    def original(a: int, b: str = "x", *, c: float = 1.0) -> str:
        """Original docs."""
        return b * a

    decorated = track_cost(project="p")(original)

    assert decorated.__name__ == "original"
    assert decorated.__doc__ == "Original docs."
    assert inspect.signature(decorated) == inspect.signature(original)
    assert inspect.iscoroutinefunction(track_cost(_async_noop))


async def _async_noop() -> None:
    return None


class ProviderOutage(Exception):
    pass


def test_an_exception_propagates_unchanged_and_is_recorded_as_a_failed_call(
    ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    raised = ProviderOutage("provider down")

    @track_cost(model="gpt-4o", provider="openai")
    def ask() -> None:
        raise raised

    with pytest.raises(ProviderOutage) as caught:
        ask()

    assert caught.value is raised
    event = only_event(ingest)
    assert event["status"] == "error"
    assert (event["model"], event["provider"]) == ("gpt-4o", "openai")
    assert usage_of(event) == {
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "reasoning_tokens": 0,
    }


def test_a_client_error_propagates_unchanged_from_an_async_function(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = openai.AsyncOpenAI(api_key="sk", base_url=f"{provider.url}/v1", max_retries=0)

    @track_cost
    async def ask() -> Any:
        return await client.chat.completions.create(model="explode", messages=MESSAGES)

    with pytest.raises(openai.BadRequestError):
        asyncio.run(ask())

    assert only_event(ingest)["status"] == "error"


def test_an_exception_in_a_generator_propagates_and_is_recorded(
    ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    @track_cost(model="gpt-4o")
    def broken() -> Iterator[str]:
        yield "first"
        raise ProviderOutage("mid-stream")

    with pytest.raises(ProviderOutage, match="mid-stream"):
        list(broken())

    assert only_event(ingest)["status"] == "error"


def test_configure_after_decorating_is_honoured(ingest: IngestStub) -> None:
    @track_cost(model="gpt-4o-mini")
    def ask() -> dict[str, Any]:
        return {"usage": {"prompt_tokens": 1, "completion_tokens": 1}}

    llmlab_sdk.configure(api_key=ingest.state.api_key, base_url=ingest.url, flush_interval_ms=10)
    try:
        ask()
        assert llmlab_sdk.flush(10)
    finally:
        llmlab_sdk.shutdown(2)

    assert len(ingest.sent_events()) == 1


def test_call_context_attributes_calls_inside_it(
    ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    @track_cost(model="gpt-4o-mini", tags=["base"], metadata={"a": 1})
    def ask() -> dict[str, Any]:
        return {"usage": {"prompt_tokens": 1, "completion_tokens": 1}}

    with llmlab_sdk.call_context(end_user="u-7", tags=["checkout"], metadata={"b": 2}):
        ask()

    event = only_event(ingest)
    assert event["end_user"] == "u-7"
    assert event["tags"] == ["base", "checkout"]
    assert event["metadata"] == {"a": 1, "b": 2}


def test_a_result_without_usage_is_not_sent(ingest: IngestStub, sdk: llmlab_sdk.SDKConfig) -> None:
    @track_cost
    def not_an_llm_call() -> str:
        return "just text"

    assert not_an_llm_call() == "just text"
    assert llmlab_sdk.flush(10)
    assert ingest.sent_events() == []
