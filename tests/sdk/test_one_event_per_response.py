"""One provider response is one event, however many layers observe it.

``wrap(client)`` inside ``@track_cost`` (the README's own pattern), decorators inside decorators,
streams read after the decorated function returned: each provider answer is recorded once, with
the usage the client layer saw and the attribution the decorator adds, under an ``event_id``
derived from the provider's response id.
"""

from __future__ import annotations

import asyncio
import threading
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
CLAUDE = "claude-sonnet-4-20250514"


def events_after_flush(ingest: IngestStub) -> list[dict[str, Any]]:
    assert llmlab_sdk.flush(10)
    return ingest.sent_events()


def openai_client(provider: FakeProvider) -> openai.OpenAI:
    return llmlab_sdk.wrap(
        openai.OpenAI(api_key="sk", base_url=f"{provider.url}/v1", max_retries=0),
        project="client-default",
    )


def async_openai_client(provider: FakeProvider) -> openai.AsyncOpenAI:
    return llmlab_sdk.wrap(
        openai.AsyncOpenAI(api_key="sk", base_url=f"{provider.url}/v1", max_retries=0),
        project="client-default",
    )


def anthropic_client(provider: FakeProvider) -> anthropic.Anthropic:
    return llmlab_sdk.wrap(anthropic.Anthropic(api_key="sk", base_url=provider.url, max_retries=0))


def async_anthropic_client(provider: FakeProvider) -> anthropic.AsyncAnthropic:
    return llmlab_sdk.wrap(
        anthropic.AsyncAnthropic(api_key="sk", base_url=provider.url, max_retries=0)
    )


def assert_one_openai_chat_event(ingest: IngestStub, tags: list[str]) -> dict[str, Any]:
    (event,) = events_after_flush(ingest)
    assert usage_of(event) == fp.OPENAI_CHAT_USAGE
    assert event["tags"] == tags
    assert event["project"] == "summaries"  # the decorator's, over wrap()'s client default
    assert event["event_id"].startswith("openai:chatcmpl-")
    return event


# -- wrap() inside @track_cost: sync / async x whole answer / stream --------------------------


def test_wrapped_sync_call_in_a_decorated_function_is_one_event_with_the_decorators_tags(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = openai_client(provider)

    @track_cost(project="summaries", tags=["summaries"], metadata={"job": 1})
    def summarize(text: str) -> Any:
        return client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": text}]
        )

    completion = summarize("long text")

    assert completion.choices[0].message.content == "Hello there"
    event = assert_one_openai_chat_event(ingest, ["summaries"])
    assert event["event_id"] == f"openai:{completion.id}"
    assert event["metadata"] == {"job": 1}
    assert llmlab_sdk.stats()["sent"] == 1


def test_wrapped_sync_stream_in_a_decorated_function_is_one_event(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = openai_client(provider)

    @track_cost(project="summaries", tags=["summaries"])
    def summarize() -> str:
        stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        return "".join(chunk.choices[0].delta.content or "" for chunk in stream)

    assert summarize() == "Hello"
    assert_one_openai_chat_event(ingest, ["summaries"])


def test_wrapped_stream_returned_by_a_decorated_function_and_read_later_is_one_event(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = openai_client(provider)

    @track_cost(project="summaries", tags=["summaries"])
    def summarize() -> Any:
        return client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)

    stream = summarize()  # the decorated function has returned; nothing is read yet
    assert isinstance(stream, openai.Stream)
    assert "".join(chunk.choices[0].delta.content or "" for chunk in stream) == "Hello"

    assert_one_openai_chat_event(ingest, ["summaries"])


def test_wrapped_async_call_in_a_decorated_coroutine_is_one_event(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = async_openai_client(provider)

    @track_cost(project="summaries", tags=["summaries"])
    async def summarize() -> Any:
        return await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    asyncio.run(summarize())

    assert_one_openai_chat_event(ingest, ["summaries"])


def test_wrapped_async_stream_returned_by_a_decorated_coroutine_is_one_event(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = async_openai_client(provider)

    @track_cost(project="summaries", tags=["summaries"])
    async def summarize() -> Any:
        return await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)

    async def read() -> str:
        stream = await summarize()
        return "".join([chunk.choices[0].delta.content or "" async for chunk in stream])

    assert asyncio.run(read()) == "Hello"
    assert_one_openai_chat_event(ingest, ["summaries"])


def test_wrapped_async_stream_yielded_by_a_decorated_async_generator_is_one_event(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = async_openai_client(provider)

    @track_cost(project="summaries", tags=["summaries"])
    async def summarize() -> AsyncIterator[str]:
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True
        )
        async for chunk in stream:
            yield chunk.choices[0].delta.content or ""

    async def read() -> str:
        return "".join([text async for text in summarize()])

    assert asyncio.run(read()) == "Hello"
    assert_one_openai_chat_event(ingest, ["summaries"])


def test_wrapped_stream_yielded_by_a_decorated_generator_is_one_event(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = openai_client(provider)

    @track_cost(project="summaries", tags=["summaries"])
    def summarize() -> Iterator[str]:
        for chunk in client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True):
            yield chunk.choices[0].delta.content or ""

    assert "".join(summarize()) == "Hello"
    assert_one_openai_chat_event(ingest, ["summaries"])


def test_plain_generator_returned_by_a_decorated_function_is_one_event(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = openai_client(provider)

    def texts() -> Iterator[str]:
        for chunk in client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True):
            yield chunk.choices[0].delta.content or ""

    @track_cost(project="summaries", tags=["summaries"])
    def summarize() -> Iterator[str]:
        return texts()  # its body, and the provider call, run only when it is read

    assert "".join(summarize()) == "Hello"
    assert_one_openai_chat_event(ingest, ["summaries"])


# -- Anthropic -------------------------------------------------------------------------------


def test_wrapped_anthropic_calls_in_decorated_functions_are_one_event_each(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = anthropic_client(provider)

    @track_cost(tags=["whole"])
    def whole() -> Any:
        return client.messages.create(model=CLAUDE, max_tokens=10, messages=MESSAGES)

    @track_cost(tags=["stream"])
    def streamed() -> Any:
        return client.messages.create(model=CLAUDE, max_tokens=10, messages=MESSAGES, stream=True)

    @track_cost(tags=["helper"])
    def helper_stream() -> Any:
        return client.messages.stream(model=CLAUDE, max_tokens=10, messages=MESSAGES)

    message = whole()
    list(streamed())
    with helper_stream() as stream:  # the request is made here, after helper_stream returned
        assert stream.get_final_text() == "Hi"

    events = events_after_flush(ingest)
    assert sorted(e["tags"][0] for e in events) == ["helper", "stream", "whole"]
    assert all(usage_of(e) == fp.ANTHROPIC_USAGE for e in events)
    assert all(e["event_id"].startswith("anthropic:msg_") for e in events)
    assert f"anthropic:{message.id}" in {e["event_id"] for e in events}


def test_wrapped_async_anthropic_calls_in_decorated_coroutines_are_one_event_each(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = async_anthropic_client(provider)

    @track_cost(tags=["whole"])
    async def whole() -> Any:
        return await client.messages.create(model=CLAUDE, max_tokens=10, messages=MESSAGES)

    @track_cost(tags=["stream"])
    async def streamed() -> list[Any]:
        stream = await client.messages.create(
            model=CLAUDE, max_tokens=10, messages=MESSAGES, stream=True
        )
        return [event async for event in stream]

    async def both() -> None:
        await whole()
        await streamed()

    asyncio.run(both())

    events = events_after_flush(ingest)
    assert sorted(e["tags"] for e in events) == [["stream"], ["whole"]]
    assert all(usage_of(e) == fp.ANTHROPIC_USAGE for e in events)


# -- how many events, and whose attribution ----------------------------------------------------


def test_a_decorated_function_making_two_calls_records_two_events_both_tagged(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = openai_client(provider)

    @track_cost(tags=["two-step"])
    def draft_then_polish() -> Any:
        draft = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        return client.responses.create(model="o3", input=draft.choices[0].message.content)

    draft_then_polish()

    chat, responses = events_after_flush(ingest)
    assert usage_of(chat) == fp.OPENAI_CHAT_USAGE
    assert usage_of(responses) == fp.OPENAI_RESPONSES_USAGE
    assert chat["tags"] == responses["tags"] == ["two-step"]
    assert chat["event_id"] != responses["event_id"]
    assert responses["event_id"].startswith("openai:resp_")


def test_a_decorated_function_returning_raw_json_is_still_recorded_by_the_decorator(
    ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    @track_cost(tags=["rest"])
    def call_rest_api() -> dict[str, Any]:
        return fp.chat_completion("chatcmpl-rest-7")

    call_rest_api()

    (event,) = events_after_flush(ingest)
    assert usage_of(event) == fp.OPENAI_CHAT_USAGE
    assert (event["tags"], event["event_id"]) == (["rest"], "openai:chatcmpl-rest-7")


def test_a_users_own_dict_id_is_not_taken_for_a_response_id(
    ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    @track_cost(model="gpt-4o-mini", provider="openai")
    def job(n: int) -> dict[str, Any]:
        return {"id": "job-1", "usage": {"prompt_tokens": n, "completion_tokens": 1}}

    job(1)
    job(2)

    assert len(events_after_flush(ingest)) == 2


def test_nested_decorators_record_once_with_the_inner_attribution_winning(
    ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    @track_cost(project="inner", tags=["inner"], metadata={"level": "inner"})
    def inner() -> dict[str, Any]:
        return fp.chat_completion("chatcmpl-nested")

    @track_cost(project="outer", tags=["outer"], metadata={"level": "outer", "job": 3})
    def outer() -> dict[str, Any]:
        return inner()

    outer()

    (event,) = events_after_flush(ingest)
    assert event["project"] == "inner"
    assert event["tags"] == ["outer", "inner"]
    assert event["metadata"] == {"level": "inner", "job": 3}


def test_call_context_still_wins_over_the_decorator_for_a_wrapped_call(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = openai_client(provider)

    @track_cost(project="summaries", tags=["summaries"], end_user="from-decorator")
    def summarize() -> Any:
        return client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    with llmlab_sdk.call_context(project="checkout", end_user="u-9", tags=["web"]):
        summarize()

    (event,) = events_after_flush(ingest)
    assert (event["project"], event["end_user"]) == ("checkout", "u-9")
    assert event["tags"] == ["summaries", "web"]


def test_a_failed_wrapped_call_in_a_decorated_function_is_one_error_event(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = openai_client(provider)

    @track_cost(tags=["summaries"])
    def summarize() -> Any:
        return client.chat.completions.create(model="explode", messages=MESSAGES)

    with pytest.raises(openai.BadRequestError):
        summarize()

    (event,) = events_after_flush(ingest)
    assert (event["status"], event["tags"], event["model"]) == ("error", ["summaries"], "explode")


def test_gemini_response_id_becomes_the_event_id(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = llmlab_sdk.wrap(
        genai.Client(api_key="g", http_options=genai_types.HttpOptions(base_url=provider.url))
    )

    @track_cost(tags=["gemini"])
    def ask() -> Any:
        return client.models.generate_content(model="gemini-2.5-flash", contents="hi")

    response = ask()
    list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"))

    whole, streamed = events_after_flush(ingest)
    assert whole["event_id"] == f"google:{response.response_id}"
    assert whole["tags"] == ["gemini"]
    assert streamed["event_id"].startswith("google:resp-gemini-")
    assert streamed["event_id"] != whole["event_id"]


def test_the_same_response_reported_by_two_processes_is_stored_once(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    completion = fp.chat_completion("chatcmpl-seen-twice")

    @track_cost
    def report() -> dict[str, Any]:
        return completion

    report()
    llmlab_sdk.flush(10)
    report()  # another reporter of the same answer (a second process, the gateway...)

    events = events_after_flush(ingest)
    assert [e["event_id"] for e in events] == ["openai:chatcmpl-seen-twice"]
    assert ingest.state.receipts["openai:chatcmpl-seen-twice"] == 2
    assert llmlab_sdk.stats()["duplicates"] == 1


# -- context does not leak -------------------------------------------------------------------


def test_a_concurrent_task_outside_the_decorated_function_does_not_get_its_tags(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = async_openai_client(provider)
    inside_started = asyncio.Event()
    outside_done = asyncio.Event()

    @track_cost(tags=["summaries"])
    async def summarize() -> Any:
        inside_started.set()
        await outside_done.wait()  # the other task runs its call while this one is inside
        return await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    async def unrelated() -> None:
        await inside_started.wait()
        await client.responses.create(model="o3", input="hi")
        outside_done.set()

    async def main() -> None:
        await asyncio.gather(summarize(), unrelated())

    asyncio.run(main())

    events = {e["model"]: e for e in events_after_flush(ingest)}
    assert events[fp.OPENAI_CHAT_MODEL]["tags"] == ["summaries"]
    assert "tags" not in events[fp.OPENAI_RESPONSES_MODEL]


def test_tasks_started_inside_the_decorated_function_share_its_attribution(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = async_openai_client(provider)

    @track_cost(tags=["fan-out"])
    async def summarize_all() -> list[Any]:
        return await asyncio.gather(
            *(client.chat.completions.create(model="gpt-4o", messages=MESSAGES) for _ in "abc")
        )

    asyncio.run(summarize_all())

    events = events_after_flush(ingest)
    assert len(events) == 3
    assert all(e["tags"] == ["fan-out"] for e in events)


def test_another_thread_does_not_see_a_decorated_call_running_on_this_one(
    provider: FakeProvider, ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    client = openai_client(provider)
    inside = threading.Event()
    other_done = threading.Event()

    def other_thread() -> None:
        inside.wait(5)
        client.responses.create(model="o3", input="hi")
        other_done.set()

    @track_cost(tags=["summaries"])
    def summarize() -> Any:
        inside.set()
        other_done.wait(5)
        return client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    thread = threading.Thread(target=other_thread)
    thread.start()
    summarize()
    thread.join()

    events = {e["model"]: e for e in events_after_flush(ingest)}
    assert events[fp.OPENAI_CHAT_MODEL]["tags"] == ["summaries"]
    assert "tags" not in events[fp.OPENAI_RESPONSES_MODEL]
