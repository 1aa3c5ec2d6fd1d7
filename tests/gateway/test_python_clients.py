"""The official `openai` and `anthropic` Python clients with `base_url` set to the gateway get
what they get from the provider directly, and each call is one event at the exact price."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal
from typing import Any

import anthropic
import openai
import pytest

from tests.sdk import fake_provider as fp
from tests.sdk.fake_provider import FakeProvider

from .conftest import GatewayAccount, expected_cost, tokens, usage

pytestmark = pytest.mark.slow

MESSAGES: Any = [{"role": "user", "content": "hi"}]
TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
ANTHROPIC_TOOLS: Any = [
    {
        "name": "get_weather",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
]
_NUMBERED_ID = re.compile(r"(chatcmpl-|cmpl-|resp_|msg_)\d+")


def same(through_gateway: Any, direct: Any) -> bool:
    """Equal but for the fake's per-answer numbers in ids (each call is a distinct answer)."""

    def text(answer: Any) -> str:
        items = answer if isinstance(answer, list) else [answer]
        return _NUMBERED_ID.sub(r"\1N", repr([item.model_dump() for item in items]))

    return text(through_gateway) == text(direct)


def openai_clients(gateway: GatewayAccount, provider: FakeProvider) -> tuple[Any, Any]:
    direct = openai.OpenAI(api_key="sk-test", base_url=f"{provider.url}/v1", max_retries=0)
    via = openai.OpenAI(
        api_key="sk-test",
        base_url=gateway.openai_url,
        default_headers=gateway.headers,
        max_retries=0,
    )
    return direct, via


def assert_priced_exactly(events: list[dict[str, Any]]) -> None:
    for event in events:
        assert event["unpriced"] is False
        assert event["source"] == "gateway"
        assert Decimal(event["cost_usd"]) == expected_cost(event)


def test_openai_chat_plain_streamed_and_with_tools(
    gateway: GatewayAccount, provider: FakeProvider
) -> None:
    direct, via = openai_clients(gateway, provider)

    def calls(client: Any) -> list[Any]:
        return [
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES),
            list(client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)),
            list(
                client.chat.completions.create(
                    model="gpt-4o",
                    messages=MESSAGES,
                    stream=True,
                    stream_options={"include_usage": True},
                )
            ),
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES, tools=TOOLS),
        ]

    expected = calls(direct)
    answers = calls(via)

    for answer, direct_answer in zip(answers, expected, strict=True):
        assert same(answer, direct_answer)
    # The stream that did not ask for usage got none: the gateway asked for it and hid it.
    assert [chunk.usage for chunk in answers[1]] == [None, None]
    assert answers[2][-1].usage is not None and answers[2][-1].choices == []
    assert answers[3].choices[0].message.tool_calls[0].function.name == "get_weather"
    events = gateway.events(4)
    assert [e["event_id"] for e in events] == [
        f"openai:{a.id}" for a in (answers[0], answers[1][0], answers[2][0], answers[3])
    ]
    assert all(tokens(e) == usage(fp.OPENAI_CHAT_USAGE) for e in events)
    assert_priced_exactly(events)
    # 176 uncached in at $2.50/M, 1,024 cached at $1.25/M and 300 out at $10/M.
    assert {Decimal(e["cost_usd"]) for e in events} == {Decimal("0.00472")}


def test_async_openai_chat_and_responses_streamed_and_not(
    gateway: GatewayAccount, provider: FakeProvider
) -> None:
    async def calls(client: openai.AsyncOpenAI) -> list[Any]:
        chat = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        chat_stream = [
            chunk
            async for chunk in await client.chat.completions.create(
                model="gpt-4o", messages=MESSAGES, stream=True
            )
        ]
        response = await client.responses.create(model="o3", input="hi")
        response_stream = [
            event
            async for event in await client.responses.create(model="o3", input="hi", stream=True)
        ]
        await client.close()
        return [chat, chat_stream, response, response_stream]

    expected = asyncio.run(
        calls(openai.AsyncOpenAI(api_key="sk", base_url=f"{provider.url}/v1", max_retries=0))
    )
    answers = asyncio.run(
        calls(
            openai.AsyncOpenAI(
                api_key="sk",
                base_url=gateway.openai_url,
                default_headers=gateway.headers,
                max_retries=0,
            )
        )
    )

    for answer, direct_answer in zip(answers, expected, strict=True):
        assert same(answer, direct_answer)
    events = gateway.events(4)
    assert [e["event_id"] for e in events] == [
        f"openai:{answers[0].id}",
        f"openai:{answers[1][0].id}",
        f"openai:{answers[2].id}",
        f"openai:{answers[3][-1].response.id}",
    ]
    assert [tokens(e) for e in events] == [usage(fp.OPENAI_CHAT_USAGE)] * 2 + [
        usage(fp.OPENAI_RESPONSES_USAGE)
    ] * 2
    assert [e["model"] for e in events] == [fp.OPENAI_CHAT_MODEL] * 2 + [
        fp.OPENAI_RESPONSES_MODEL
    ] * 2
    assert_priced_exactly(events)


def test_anthropic_messages_with_cache_usage_tools_and_streams(
    gateway: GatewayAccount, provider: FakeProvider
) -> None:
    def calls(client: anthropic.Anthropic) -> list[Any]:
        return [
            client.messages.create(
                model="claude-sonnet-4-20250514", max_tokens=10, messages=MESSAGES
            ),
            list(
                client.messages.create(
                    model="claude-sonnet-4-20250514", max_tokens=10, messages=MESSAGES, stream=True
                )
            ),
            client.messages.create(
                model="claude-sonnet-4-20250514",
                max_tokens=10,
                messages=MESSAGES,
                tools=ANTHROPIC_TOOLS,
            ),
        ]

    async def async_stream(client: anthropic.AsyncAnthropic) -> list[Any]:
        async with client.messages.stream(
            model="claude-sonnet-4-20250514", max_tokens=10, messages=MESSAGES
        ) as stream:
            return [event async for event in stream]

    direct = anthropic.Anthropic(api_key="sk-ant", base_url=provider.url, max_retries=0)
    via = anthropic.Anthropic(
        api_key="sk-ant",
        base_url=gateway.anthropic_url,
        default_headers=gateway.headers,
        max_retries=0,
    )
    via_async = anthropic.AsyncAnthropic(
        api_key="sk-ant", base_url=gateway.anthropic_url, default_headers=gateway.headers
    )
    direct_async = anthropic.AsyncAnthropic(api_key="sk-ant", base_url=provider.url)
    expected = [*calls(direct), asyncio.run(async_stream(direct_async))]
    answers = [*calls(via), asyncio.run(async_stream(via_async))]

    for answer, direct_answer in zip(answers, expected, strict=True):
        assert same(answer, direct_answer)
    assert answers[2].content[0].type == "tool_use"
    events = gateway.events(4)
    assert [e["event_id"] for e in events] == [
        f"anthropic:{answers[0].id}",
        f"anthropic:{answers[1][0].message.id}",
        f"anthropic:{answers[2].id}",
        f"anthropic:{answers[3][0].message.id}",
    ]
    # Cache reads and writes (1-hour ones apart) from message_start, output with thinking
    # from message_delta.
    assert all(tokens(e) == usage(fp.ANTHROPIC_USAGE) for e in events)
    assert_priced_exactly(events)
    # 2,100 plain input x $3/M, 5,000 cache reads x $0.30/M, 1,500 5-minute writes x $3.75/M,
    # 500 1-hour writes x $6/M, 250 output x $15/M.
    assert {Decimal(e["cost_usd"]) for e in events} == {Decimal("0.014175")}


def test_embeddings_and_legacy_completions_are_recorded_models_and_count_tokens_pass(
    gateway: GatewayAccount, provider: FakeProvider
) -> None:
    _, via = openai_clients(gateway, provider)
    claude = anthropic.Anthropic(
        api_key="sk-ant", base_url=gateway.anthropic_url, default_headers=gateway.headers
    )

    embedding = via.embeddings.create(model="text-embedding-3-small", input="hi")
    completion = via.completions.create(model="gpt-3.5-turbo-instruct", prompt="hi")
    listed = via.models.with_raw_response.list()
    counted = claude.messages.count_tokens(model="claude-sonnet-4-20250514", messages=MESSAGES)

    assert embedding.data[0].embedding == [0.1, 0.2, 0.3]
    assert completion.choices[0].text == "Hi"
    assert [m.id for m in listed.parse().data] == ["gpt-4o"]
    assert listed.headers["x-request-id"] == "req_models"  # the provider's headers come back
    assert counted.input_tokens == 42
    events = gateway.events(2)
    assert [(e["model"], e["input_tokens"], e["output_tokens"]) for e in events] == [
        ("text-embedding-3-small", 8, 0),
        ("gpt-3.5-turbo-instruct", 5, 2),
    ]
    assert events[1]["event_id"] == f"openai:{completion.id}"
    assert_priced_exactly(events)
    # Listing models and counting tokens cost nothing and are not calls to record.
    assert len(gateway.events(3, timeout=1)) == 2


def test_an_answer_served_on_the_flex_tier_is_billed_at_flex_rates(
    gateway: GatewayAccount, provider: FakeProvider
) -> None:
    _, via = openai_clients(gateway, provider)
    via.chat.completions.create(model="o3", messages=MESSAGES, service_tier="flex")
    via.chat.completions.create(model="o3", messages=MESSAGES)

    flex, standard = sorted(gateway.events(2), key=lambda e: e["service_tier"])
    assert (flex["service_tier"], standard["service_tier"]) == ("flex", "standard")
    assert Decimal(flex["cost_usd"]) * 2 == Decimal(standard["cost_usd"])
    assert_priced_exactly([flex, standard])
