"""Usage is read exactly from what the real clients return, and from their raw JSON."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from llmlab_core import Usage
from llmlab_sdk import extract_usage
from llmlab_sdk.usage_extraction import StreamUsageAccumulator

from . import fake_provider as fp
from .fake_provider import FakeProvider

MESSAGES: Any = [{"role": "user", "content": "hi"}]


@pytest.fixture
def openai_client(provider: FakeProvider) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url=f"{provider.url}/v1", max_retries=0)


@pytest.fixture
def anthropic_client(provider: FakeProvider) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-test", base_url=provider.url, max_retries=0)


@pytest.fixture
def gemini_client(provider: FakeProvider) -> genai.Client:
    return genai.Client(
        api_key="g-test", http_options=genai_types.HttpOptions(base_url=provider.url)
    )


def test_openai_chat_completion_usage_counts_cached_and_reasoning_tokens(
    openai_client: openai.OpenAI,
) -> None:
    response = openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    found = extract_usage(response)

    assert found is not None
    assert found.usage == fp.OPENAI_CHAT_USAGE
    assert (found.provider, found.model) == ("openai", fp.OPENAI_CHAT_MODEL)


def test_openai_responses_usage_counts_cached_and_reasoning_tokens(
    openai_client: openai.OpenAI,
) -> None:
    response = openai_client.responses.create(model="o3", input="hi")

    found = extract_usage(response)

    assert found is not None
    assert found.usage == fp.OPENAI_RESPONSES_USAGE
    assert (found.provider, found.model) == ("openai", fp.OPENAI_RESPONSES_MODEL)


def test_anthropic_input_is_normalised_to_include_cache_reads_and_writes(
    anthropic_client: anthropic.Anthropic,
) -> None:
    message = anthropic_client.messages.create(
        model="claude-sonnet-4-20250514", max_tokens=10, messages=MESSAGES
    )

    found = extract_usage(message)

    assert message.usage.input_tokens == 100  # what Anthropic reports: cache excluded
    assert found is not None
    assert found.usage == fp.ANTHROPIC_USAGE  # 100 + 2,000 written + 5,000 read
    assert (found.provider, found.model) == ("anthropic", fp.ANTHROPIC_MODEL)


def test_gemini_usage_counts_cached_and_thinking_tokens(gemini_client: genai.Client) -> None:
    response = gemini_client.models.generate_content(model="gemini-2.5-flash", contents="hi")

    found = extract_usage(response)

    assert found is not None
    assert found.usage == fp.GEMINI_USAGE  # thoughts are billed as output
    assert (found.provider, found.model) == ("google", fp.GEMINI_MODEL)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (fp.chat_completion(), fp.OPENAI_CHAT_USAGE),
        (fp.response_object(), fp.OPENAI_RESPONSES_USAGE),
        (fp.anthropic_message(), fp.ANTHROPIC_USAGE),
        (fp.gemini_response(), fp.GEMINI_USAGE),
    ],
    ids=["openai-chat", "openai-responses", "anthropic", "gemini"],
)
def test_raw_json_responses_give_the_same_usage_as_the_client_objects(
    raw: dict[str, Any], expected: dict[str, int]
) -> None:
    found = extract_usage(raw)

    assert found is not None
    assert found.usage == expected


@pytest.mark.parametrize(
    "raw",
    [fp.chat_completion(), fp.response_object(), fp.anthropic_message(), fp.gemini_response()],
    ids=["openai-chat", "openai-responses", "anthropic", "gemini"],
)
def test_extracted_usage_is_a_valid_llmlab_core_usage(raw: dict[str, Any]) -> None:
    found = extract_usage(raw)

    assert found is not None
    usage = Usage(**found.usage)  # validates: cache within input, reasoning within output
    assert usage.tokens_used == found.usage["input_tokens"] + found.usage["output_tokens"]


def test_a_tuple_of_text_and_usage_is_understood() -> None:
    found = extract_usage(("the answer", {"prompt_tokens": 7, "completion_tokens": 3}))

    assert found is not None
    assert found.usage["input_tokens"] == 7
    assert found.usage["output_tokens"] == 3


def test_things_without_usage_give_none() -> None:
    assert extract_usage("plain text") is None
    assert extract_usage({"text": "no usage here"}) is None
    assert extract_usage(None) is None
    assert extract_usage(object()) is None


def test_openai_stream_usage_comes_from_the_final_chunk(openai_client: openai.OpenAI) -> None:
    accumulator = StreamUsageAccumulator()
    stream = openai_client.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    for chunk in stream:
        accumulator.observe(chunk)

    found = accumulator.result()

    assert found is not None
    assert found.usage == fp.OPENAI_CHAT_USAGE
    assert found.model == fp.OPENAI_CHAT_MODEL


def test_anthropic_stream_usage_merges_message_start_and_message_delta(
    anthropic_client: anthropic.Anthropic,
) -> None:
    accumulator = StreamUsageAccumulator()
    stream = anthropic_client.messages.create(
        model="claude-sonnet-4-20250514", max_tokens=10, messages=MESSAGES, stream=True
    )
    for event in stream:
        accumulator.observe(event)

    found = accumulator.result()

    assert found is not None
    assert found.usage == fp.ANTHROPIC_USAGE
    assert (found.provider, found.model) == ("anthropic", fp.ANTHROPIC_MODEL)


def test_gemini_stream_usage_is_the_last_cumulative_figure(gemini_client: genai.Client) -> None:
    accumulator = StreamUsageAccumulator()
    for chunk in gemini_client.models.generate_content_stream(
        model="gemini-2.5-flash", contents="hi"
    ):
        accumulator.observe(chunk)

    found = accumulator.result()

    assert found is not None
    assert found.usage == fp.GEMINI_USAGE
