"""``wrap(client)`` on the official clients: every call tracked, nothing else changed."""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import types as genai_types

import llmlab_sdk

from . import fake_provider as fp
from .fake_provider import FakeProvider
from .ingest_stub import IngestStub, usage_of

MESSAGES: Any = [{"role": "user", "content": "hi"}]


def events_after_flush(ingest: IngestStub) -> list[dict[str, Any]]:
    assert llmlab_sdk.flush(10)
    return ingest.sent_events()


def sent_body(provider: FakeProvider, suffix: str) -> dict[str, Any]:
    return next(body for path, body in reversed(provider.requests) if path.endswith(suffix))


def test_openai_sync_calls_are_tracked(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = openai.OpenAI(api_key="sk", base_url=f"{provider.url}/v1", max_retries=0)
    assert llmlab_sdk.wrap(client, project="bot") is client

    completion = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    response = client.responses.create(model="o3", input="hi")

    assert completion.choices[0].message.content == "Hello there"
    assert response.output_text == "Hi"
    chat, responses = events_after_flush(ingest)
    assert usage_of(chat) == fp.OPENAI_CHAT_USAGE
    assert usage_of(responses) == fp.OPENAI_RESPONSES_USAGE
    assert {chat["project"], responses["project"]} == {"bot"}
    assert {chat["provider"], responses["provider"]} == {"openai"}


def test_openai_structured_output_parse_calls_are_tracked_once(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = llmlab_sdk.wrap(
        openai.OpenAI(api_key="sk", base_url=f"{provider.url}/v1", max_retries=0)
    )

    parsed = client.chat.completions.parse(model="gpt-4o", messages=MESSAGES)
    client.responses.parse(model="o3", input="hi")

    assert parsed.choices[0].message.content == "Hello there"
    chat, responses = events_after_flush(ingest)
    assert usage_of(chat) == fp.OPENAI_CHAT_USAGE
    assert usage_of(responses) == fp.OPENAI_RESPONSES_USAGE


def test_openai_stream_asks_for_usage_and_hides_the_extra_chunk(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = llmlab_sdk.wrap(
        openai.OpenAI(api_key="sk", base_url=f"{provider.url}/v1", max_retries=0)
    )

    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)

    assert text == "Hello"  # every chunk the caller sees has choices, as without wrap()
    assert sent_body(provider, "/chat/completions")["stream_options"] == {"include_usage": True}
    (event,) = events_after_flush(ingest)
    assert usage_of(event) == fp.OPENAI_CHAT_USAGE


def test_openai_stream_keeps_the_usage_chunk_when_the_caller_asked_for_it(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = llmlab_sdk.wrap(
        openai.OpenAI(api_key="sk", base_url=f"{provider.url}/v1", max_retries=0)
    )

    chunks = list(
        client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )

    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    (event,) = events_after_flush(ingest)
    assert usage_of(event) == fp.OPENAI_CHAT_USAGE


def test_openai_stream_helpers_are_tracked(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = llmlab_sdk.wrap(
        openai.OpenAI(api_key="sk", base_url=f"{provider.url}/v1", max_retries=0)
    )

    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
        completion = stream.get_final_completion()
    with client.responses.stream(model="o3", input="hi") as events:
        response = events.get_final_response()

    assert completion.choices[0].message.content == "Hello"
    assert completion.usage is None  # as without wrap(): the caller did not ask for usage
    assert response.output_text == "Hi"
    chat, responses = events_after_flush(ingest)
    assert usage_of(chat) == fp.OPENAI_CHAT_USAGE
    assert usage_of(responses) == fp.OPENAI_RESPONSES_USAGE


def test_openai_async_calls_and_streams_are_tracked(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = llmlab_sdk.wrap(
        openai.AsyncOpenAI(api_key="sk", base_url=f"{provider.url}/v1", max_retries=0)
    )

    async def run() -> list[str]:
        await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True
        )
        texts = [chunk.choices[0].delta.content async for chunk in stream]
        events = await client.responses.create(model="o3", input="hi", stream=True)
        texts += [event.delta async for event in events if event.type.endswith("text.delta")]
        return texts

    assert asyncio.run(run()) == ["Hel", "lo", "Hi"]
    usages = [usage_of(e) for e in events_after_flush(ingest)]
    assert usages == [fp.OPENAI_CHAT_USAGE, fp.OPENAI_CHAT_USAGE, fp.OPENAI_RESPONSES_USAGE]


def test_anthropic_create_stream_and_stream_helper_are_tracked(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = llmlab_sdk.wrap(anthropic.Anthropic(api_key="sk", base_url=provider.url))
    model = "claude-sonnet-4-20250514"

    client.messages.create(model=model, max_tokens=10, messages=MESSAGES)
    list(client.messages.create(model=model, max_tokens=10, messages=MESSAGES, stream=True))
    with client.messages.stream(model=model, max_tokens=10, messages=MESSAGES) as stream:
        final = stream.get_final_message()

    assert final.usage.output_tokens == 250
    events = events_after_flush(ingest)
    assert [usage_of(e) for e in events] == [fp.ANTHROPIC_USAGE] * 3
    assert {(e["provider"], e["model"]) for e in events} == {("anthropic", fp.ANTHROPIC_MODEL)}


def test_anthropic_async_create_and_stream_helper_are_tracked(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = llmlab_sdk.wrap(anthropic.AsyncAnthropic(api_key="sk", base_url=provider.url))
    model = "claude-sonnet-4-20250514"

    async def run() -> str:
        await client.messages.create(model=model, max_tokens=10, messages=MESSAGES)
        async with client.messages.stream(model=model, max_tokens=10, messages=MESSAGES) as s:
            return "".join([text async for text in s.text_stream])

    assert asyncio.run(run()) == "Hi"
    events = events_after_flush(ingest)
    assert [usage_of(e) for e in events] == [fp.ANTHROPIC_USAGE] * 2


def test_gemini_sync_async_and_streaming_calls_are_tracked(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = llmlab_sdk.wrap(
        genai.Client(api_key="g", http_options=genai_types.HttpOptions(base_url=provider.url))
    )
    model = "gemini-2.5-flash"

    assert client.models.generate_content(model=model, contents="hi").text == "Hi"
    assert [c.text for c in client.models.generate_content_stream(model=model, contents="hi")] == [
        "Hel",
        "lo",
    ]

    async def run() -> None:
        await client.aio.models.generate_content(model=model, contents="hi")
        stream = await client.aio.models.generate_content_stream(model=model, contents="hi")
        async for _ in stream:
            pass

    asyncio.run(run())
    events = events_after_flush(ingest)
    assert [usage_of(e) for e in events] == [fp.GEMINI_USAGE] * 4
    assert {(e["provider"], e["model"]) for e in events} == {("google", fp.GEMINI_MODEL)}


def test_a_provider_error_propagates_unchanged_and_is_recorded_with_the_requested_model(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = llmlab_sdk.wrap(
        anthropic.Anthropic(api_key="sk", base_url=provider.url, max_retries=0)
    )

    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model="explode", max_tokens=10, messages=MESSAGES)

    (event,) = events_after_flush(ingest)
    assert (event["status"], event["model"], event["provider"]) == ("error", "explode", "anthropic")


def test_wrapping_twice_tracks_each_call_once(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = openai.OpenAI(api_key="sk", base_url=f"{provider.url}/v1", max_retries=0)
    llmlab_sdk.wrap(llmlab_sdk.wrap(client))

    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert len(events_after_flush(ingest)) == 1


def test_wrap_refuses_objects_it_does_not_know() -> None:
    with pytest.raises(TypeError, match="supports OpenAI, Anthropic and google-genai"):
        llmlab_sdk.wrap(object())
