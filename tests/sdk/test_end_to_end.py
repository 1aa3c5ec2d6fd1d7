"""The SDK against the real LLMLab API: recorded costs match what llmlab_core computes."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import types as genai_types

import llmlab_sdk
from llmlab_core import Usage, price_usage
from llmlab_core.usage import TOKEN_KINDS

from . import fake_provider as fp
from .conftest import FAST_SENDING
from .fake_provider import FakeProvider
from .real_app import RealApp

pytestmark = pytest.mark.slow

MESSAGES: Any = [{"role": "user", "content": "hi"}]


@pytest.fixture
def configured(real_app: RealApp, api_account: dict[str, Any]) -> Iterator[dict[str, Any]]:
    llmlab_sdk.configure(
        api_key=api_account["api_key"]["key"], base_url=real_app.url, **FAST_SENDING
    )
    yield api_account
    llmlab_sdk.shutdown(timeout=5)


def recorded_events(account: dict[str, Any]) -> list[dict[str, Any]]:
    assert llmlab_sdk.flush(10)
    client: llmlab_sdk.LLMLabClient = account["client"]
    return sorted(client.iter_events(limit=1000), key=lambda e: e["timestamp"])


def expected_cost(event: dict[str, Any]) -> Decimal | None:
    usage = Usage(**{name: event[name] for name in TOKEN_KINDS})
    at = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
    tier = event["service_tier"]
    return price_usage(
        event["model"], usage, provider=event["provider"], at=at, service_tier=tier
    ).cost_usd


def test_wrapped_clients_record_costs_that_match_the_pricing_engine(
    provider: FakeProvider, configured: dict[str, Any]
) -> None:
    openai_client = llmlab_sdk.wrap(
        openai.OpenAI(api_key="sk", base_url=f"{provider.url}/v1", max_retries=0)
    )
    anthropic_client = llmlab_sdk.wrap(anthropic.Anthropic(api_key="sk", base_url=provider.url))
    gemini_client = llmlab_sdk.wrap(
        genai.Client(api_key="g", http_options=genai_types.HttpOptions(base_url=provider.url))
    )

    openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    list(openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))
    openai_client.responses.create(model="o3", input="hi")
    anthropic_client.messages.create(
        model="claude-sonnet-4-20250514", max_tokens=10, messages=MESSAGES
    )
    list(gemini_client.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"))

    events = recorded_events(configured)

    assert [e["model"] for e in events] == [
        fp.OPENAI_CHAT_MODEL,
        fp.OPENAI_CHAT_MODEL,
        fp.OPENAI_RESPONSES_MODEL,
        fp.ANTHROPIC_MODEL,
        fp.GEMINI_MODEL,
    ]
    for event in events:
        assert event["unpriced"] is False
        assert Decimal(event["cost_usd"]) == expected_cost(event)
    # The cached part is billed at the cache price: 176 uncached in at $2.50/M, 1,024 cached
    # at $1.25/M and 300 out at $10/M for the gpt-4o call.
    assert Decimal(events[0]["cost_usd"]) == Decimal("0.00472")


def test_a_real_anthropic_answer_bills_its_1_hour_cache_writes(
    provider: FakeProvider, configured: dict[str, Any]
) -> None:
    client = llmlab_sdk.wrap(anthropic.Anthropic(api_key="sk", base_url=provider.url))
    client.messages.create(model="claude-sonnet-4-20250514", max_tokens=10, messages=MESSAGES)
    with client.messages.stream(
        model="claude-sonnet-4-20250514", max_tokens=10, messages=MESSAGES
    ) as stream:
        stream.get_final_message()

    events = recorded_events(configured)
    assert [(e["cache_write_tokens"], e["cache_write_1h_tokens"]) for e in events] == [
        (2000, 500),
        (2000, 500),
    ]
    # 2,100 plain input x $3/M, 5,000 cache reads x $0.30/M, 1,500 5-minute writes x $3.75/M,
    # 500 1-hour writes x $6/M, 250 output x $15/M.
    assert [Decimal(e["cost_usd"]) for e in events] == [Decimal("0.014175")] * 2


def test_an_openai_answer_served_on_the_flex_tier_is_billed_at_flex_rates(
    provider: FakeProvider, configured: dict[str, Any]
) -> None:
    client = llmlab_sdk.wrap(
        openai.OpenAI(api_key="sk", base_url=f"{provider.url}/v1", max_retries=0)
    )
    client.chat.completions.create(model="o3", messages=MESSAGES, service_tier="flex")
    client.chat.completions.create(model="o3", messages=MESSAGES)

    flex, standard = sorted(recorded_events(configured), key=lambda e: e["service_tier"])
    assert (flex["service_tier"], standard["service_tier"]) == ("flex", "standard")
    assert Decimal(flex["cost_usd"]) * 2 == Decimal(standard["cost_usd"])
    assert Decimal(flex["cost_usd"]) == expected_cost(flex)


def readme_sdk_snippet() -> str:
    """The first Python block of the README's SDK section, as a user would copy it."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Track your calls (SDK)", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_the_readme_snippet_stores_exactly_one_event_per_call(
    provider: FakeProvider,
    real_app: RealApp,
    api_account: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    snippet = readme_sdk_snippet()
    # Only the placeholders change: the user's key and server, and OpenAI() pointed at the
    # fake provider through the environment variables it reads.
    snippet = snippet.replace('"llmlab_..."', repr(api_account["api_key"]["key"]))
    snippet = snippet.replace('"http://localhost:3000"', repr(real_app.url))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{provider.url}/v1")
    namespace: dict[str, Any] = {}
    try:
        exec(compile(snippet, "README.md", "exec"), namespace)
        summary_completion = namespace["summarize"]("a long text")

        events = recorded_events(api_account)
        stats = llmlab_sdk.stats()
    finally:
        llmlab_sdk.shutdown(timeout=5)

    assert len(provider.requests) == 2
    assert stats["sent"] == 2 and stats["duplicates"] == 0
    assert len(events) == 2
    plain, summary = events
    assert plain["tags"] == [] and summary["tags"] == ["summaries"]
    assert {plain["project"], summary["project"]} == {"support-bot"}
    assert summary["event_id"] == f"openai:{summary_completion.id}"
    assert (
        plain["event_id"].startswith("openai:chatcmpl-")
        and plain["event_id"] != summary["event_id"]
    )
    for event in events:
        assert Decimal(event["cost_usd"]) == expected_cost(event)


def test_decorated_async_generator_records_through_the_real_api(
    provider: FakeProvider, configured: dict[str, Any]
) -> None:
    client = anthropic.AsyncAnthropic(api_key="sk", base_url=provider.url)

    @llmlab_sdk.track_cost(project="e2e", tags=["stream"], end_user="u-1")
    async def answer() -> Any:
        stream = await client.messages.create(
            model="claude-sonnet-4-20250514", max_tokens=10, messages=MESSAGES, stream=True
        )
        async for event in stream:
            yield event

    async def consume() -> None:
        async for _ in answer():
            pass

    asyncio.run(consume())

    (event,) = recorded_events(configured)
    assert {name: event[name] for name in fp.ANTHROPIC_USAGE} == fp.ANTHROPIC_USAGE
    assert (event["project"], event["tags"], event["end_user"]) == ("e2e", ["stream"], "u-1")
    assert Decimal(event["cost_usd"]) == expected_cost(event)


def test_a_failed_call_is_recorded_with_no_cost(configured: dict[str, Any]) -> None:
    @llmlab_sdk.track_cost(model="gpt-4o", provider="openai")
    def failing() -> None:
        raise TimeoutError("provider timed out")

    with pytest.raises(TimeoutError):
        failing()

    (event,) = recorded_events(configured)
    assert event["status"] == "error"
    assert Decimal(event["cost_usd"] or 0) == 0


def test_thousands_of_events_arrive_in_batches_of_at_most_a_thousand(
    configured: dict[str, Any],
) -> None:
    @llmlab_sdk.track_cost(model="gpt-4o-mini", provider="openai")
    def call(n: int) -> dict[str, Any]:
        return {"usage": {"prompt_tokens": n, "completion_tokens": 1}}

    for n in range(2500):
        call(n)

    events = recorded_events(configured)
    assert sorted(e["input_tokens"] for e in events) == list(range(2500))
    assert llmlab_sdk.stats()["requests"] >= 3


def test_a_burst_that_overflows_the_queue_is_stored_in_full(
    real_app: RealApp, api_account: dict[str, Any], llmlab_home: Path
) -> None:
    # A batch job over cached answers: far faster than the server takes events.
    llmlab_sdk.configure(
        api_key=api_account["api_key"]["key"],
        base_url=real_app.url,
        max_queue_size=200,
        batch_size=100,
        **FAST_SENDING,
    )

    @llmlab_sdk.track_cost(tags=["burst"])
    def cached_answer(n: int) -> dict[str, Any]:
        return fp.chat_completion(f"chatcmpl-burst-{n}")

    calls = 3_000
    try:
        for n in range(calls):
            cached_answer(n)
        events = recorded_events(api_account)
        stats = llmlab_sdk.stats()
    finally:
        llmlab_sdk.shutdown(timeout=5)

    assert stats["dropped"] == 0
    assert stats["spooled"] > 0  # the burst did overflow the queue
    assert len(events) == calls
    assert {e["event_id"] for e in events} == {f"openai:chatcmpl-burst-{n}" for n in range(calls)}
    assert list((llmlab_home / "spool").glob("*/*.json")) == []


def test_hard_budget_blocks_the_next_call_once_the_server_says_it_is_spent(
    provider: FakeProvider, real_app: RealApp, api_account: dict[str, Any]
) -> None:
    account_client: llmlab_sdk.LLMLabClient = api_account["client"]
    account_client.create_budget(name="tiny", amount_usd="0.01", hard_limit=True)
    # Earlier spend: the budget is nearly used up before the SDK's first call.
    account_client.track_event({"model": "gpt-4o-mini", "input_tokens": 60_000})  # $0.009
    llmlab_sdk.configure(
        api_key=api_account["api_key"]["key"],
        base_url=real_app.url,
        enforce_budget=True,
        **FAST_SENDING,
    )
    try:
        client = llmlab_sdk.wrap(
            openai.OpenAI(api_key="sk", base_url=f"{provider.url}/v1", max_retries=0)
        )
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # costs $0.00472
        assert llmlab_sdk.flush(10)  # the track response reports the budget exceeded
        calls_before = len(provider.requests)

        with pytest.raises(llmlab_sdk.BudgetExceededError, match="tiny"):
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

        assert len(provider.requests) == calls_before  # the provider was never called
    finally:
        llmlab_sdk.shutdown(timeout=5)


def test_a_project_budget_only_blocks_its_own_project(
    real_app: RealApp, api_account: dict[str, Any]
) -> None:
    account_client: llmlab_sdk.LLMLabClient = api_account["client"]
    account_client.create_project("a")
    account_client.create_budget(name="a-cap", amount_usd="0.01", project="a", hard_limit=True)
    llmlab_sdk.configure(
        api_key=api_account["api_key"]["key"],
        base_url=real_app.url,
        enforce_budget=True,
        **FAST_SENDING,
    )

    @llmlab_sdk.track_cost(model="gpt-4o", provider="openai")
    def call() -> dict[str, Any]:
        return {"usage": {"prompt_tokens": 10_000, "completion_tokens": 100}}

    try:
        with llmlab_sdk.call_context(project="a"):
            call()
        assert llmlab_sdk.flush(10)
        with llmlab_sdk.call_context(project="b"):
            call()  # not covered by project a's budget
        with llmlab_sdk.call_context(project="a"), pytest.raises(llmlab_sdk.BudgetExceededError):
            call()
    finally:
        llmlab_sdk.shutdown(timeout=5)
