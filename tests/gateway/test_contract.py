"""What the gateway promises around the call: who is calling, what the provider sees, hard
budgets, its own errors in the provider's format, failures and disconnects recorded."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.sdk import fake_provider as fp
from tests.sdk.fake_provider import FakeProvider

from .conftest import GatewayAccount

pytestmark = pytest.mark.slow

MESSAGES: Any = [{"role": "user", "content": "hi"}]


def openai_via(gateway: GatewayAccount, **headers: str) -> openai.OpenAI:
    return openai.OpenAI(
        api_key="sk-provider-secret",
        base_url=gateway.openai_url,
        default_headers=gateway.headers | headers,
        max_retries=0,
    )


def anthropic_via(gateway: GatewayAccount, **options: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        api_key="sk-ant-provider-secret",
        base_url=gateway.anthropic_url,
        default_headers=gateway.headers,
        **({"max_retries": 0} | options),
    )


def test_attribution_is_recorded_and_no_llmlab_header_reaches_the_provider(
    gateway: GatewayAccount, provider: FakeProvider
) -> None:
    client = openai_via(
        gateway,
        **{
            "X-LLMLab-Project": "support-bot",
            "X-LLMLab-Tags": "prod, eu ,,chat",
            "X-LLMLab-User": "customer-42",
            "X-LLMLab-Anything": "else",
        },
    )
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    (event,) = gateway.events(1)
    assert (event["project"], event["tags"], event["end_user"]) == (
        "support-bot",
        ["prod", "eu", "chat"],
        "customer-42",
    )
    (seen,) = provider.headers
    assert not [name for name in seen if name.lower().startswith("x-llmlab")]
    assert gateway.key not in repr(seen)
    assert seen["authorization"] == "Bearer sk-provider-secret"  # the provider key passes


def test_a_bad_or_missing_llmlab_key_is_401_in_each_providers_format(
    gateway: GatewayAccount, provider: FakeProvider
) -> None:
    for headers in ({"X-LLMLab-Key": "llmlab_not-a-real-key"}, {}):
        client = openai.OpenAI(
            api_key="sk", base_url=gateway.openai_url, default_headers=headers, max_retries=0
        )
        with pytest.raises(openai.AuthenticationError) as raised:
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert "X-LLMLab-Key" in raised.value.message
        assert raised.value.code == "invalid_llmlab_key"
    # The provider's key in Authorization is never taken for an LLMLab key.
    with pytest.raises(anthropic.AuthenticationError) as raised_anthropic:
        anthropic.Anthropic(
            api_key=gateway.key, base_url=gateway.anthropic_url, max_retries=0
        ).messages.create(model="claude-sonnet-4-20250514", max_tokens=5, messages=MESSAGES)
    assert raised_anthropic.value.body["error"]["type"] == "authentication_error"
    assert provider.requests == []


def test_a_bad_attribution_header_is_400_before_the_provider_is_called(
    gateway: GatewayAccount, provider: FakeProvider
) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        openai_via(gateway, **{"X-LLMLab-Project": "p" * 101}).chat.completions.create(
            model="gpt-4o", messages=MESSAGES
        )
    assert raised.value.body["message"].startswith("X-LLMLab-Project:")
    assert provider.requests == []


def test_bodies_past_1_mb_pass_and_past_the_gateway_limit_are_413(
    gateway: GatewayAccount, provider: FakeProvider
) -> None:
    long_prompt: Any = [{"role": "user", "content": "x" * 3_000_000}]
    openai_via(gateway).chat.completions.create(model="gpt-4o", messages=long_prompt)

    too_long: Any = [{"role": "user", "content": "x" * (33 * 1024 * 1024)}]
    with pytest.raises(anthropic.APIStatusError) as raised:
        anthropic_via(gateway).messages.create(
            model="claude-sonnet-4-20250514", max_tokens=5, messages=too_long
        )
    assert raised.value.status_code == 413
    assert raised.value.body["error"]["type"] == "request_too_large"
    assert len(provider.requests) == 1


def test_a_call_that_fails_upstream_is_recorded_with_its_status_and_no_cost(
    gateway: GatewayAccount, provider: FakeProvider
) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        openai_via(gateway).chat.completions.create(model="explode", messages=MESSAGES)
    assert raised.value.body["message"] == "bad model"  # the provider's own error, relayed

    (event,) = gateway.events(1)
    assert (event["status"], event["model"], Decimal(event["cost_usd"])) == ("error", "explode", 0)
    assert event["metadata"]["http_status"] == 400


def _budget(gateway: GatewayAccount, amount: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "hard cap", "amount_usd": amount, "period": "monthly", "hard_limit": True}
    answer = gateway.api.post("/api/budgets", json=body | fields)
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]


def test_an_exhausted_hard_budget_answers_429_without_calling_the_provider(
    gateway: GatewayAccount, provider: FakeProvider
) -> None:
    _budget(gateway, "0.01")
    gateway.api.post("/api/events/track", json={"model": "gpt-4o", "input_tokens": 4_000})

    with pytest.raises(openai.RateLimitError) as raised_openai:
        # Default retries: the answer tells the client not to retry (x-should-retry).
        openai.OpenAI(
            api_key="sk", base_url=gateway.openai_url, default_headers=gateway.headers
        ).chat.completions.create(model="gpt-4o", messages=MESSAGES)
    with pytest.raises(anthropic.RateLimitError) as raised_anthropic:
        anthropic_via(gateway, max_retries=2).messages.create(
            model="claude-sonnet-4-20250514", max_tokens=5, messages=MESSAGES
        )

    assert provider.requests == []
    assert "'hard cap'" in raised_openai.value.message
    assert raised_openai.value.code == "llmlab_budget_exhausted"
    refusal = raised_openai.value.response.headers
    assert int(refusal["retry-after"]) > 0 and refusal["x-should-retry"] == "false"
    assert "'hard cap'" in raised_anthropic.value.body["error"]["message"]
    assert raised_anthropic.value.body["error"]["type"] == "rate_limit_error"


def test_the_gateways_own_calls_exhaust_a_hard_budget_and_the_next_is_refused(
    gateway: GatewayAccount, provider: FakeProvider
) -> None:
    _budget(gateway, "0.01")
    client = openai_via(gateway)
    for _ in range(3):  # $0.00472 each: $0.01416 in all
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    gateway.events(3)

    # At once, not after the worker's status interval: the recorded calls reported it.
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert len(provider.requests) == 3


def test_a_project_budget_stops_only_its_project_and_soft_budgets_only_alert(
    gateway: GatewayAccount, provider: FakeProvider
) -> None:
    gateway.api.post(
        "/api/events/track", json={"model": "gpt-4o", "input_tokens": 8_000, "project": "batch"}
    )
    _budget(gateway, "0.01", project="batch")
    _budget(gateway, "0.01", name="soft", hard_limit=False)

    with pytest.raises(openai.RateLimitError):
        openai_via(gateway, **{"X-LLMLab-Project": "batch"}).chat.completions.create(
            model="gpt-4o", messages=MESSAGES
        )
    openai_via(gateway, **{"X-LLMLab-Project": "web"}).chat.completions.create(
        model="gpt-4o", messages=MESSAGES
    )
    openai_via(gateway).chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert len(provider.requests) == 2


def test_a_client_leaving_mid_stream_still_gets_the_reported_usage_recorded(
    gateway: GatewayAccount, provider: FakeProvider
) -> None:
    body = {
        "model": "slow",
        "max_tokens": 10,
        "stream": True,
        "messages": MESSAGES,
    }
    headers = gateway.headers | {"x-api-key": "sk-ant", "anthropic-version": "2023-06-01"}
    with httpx.stream(
        "POST", f"{gateway.anthropic_url}/v1/messages", json=body, headers=headers, timeout=10
    ) as answer:
        first = next(answer.iter_lines())  # message_start came through before the pause
    # The connection is closed here, while the provider is still "generating".
    threading.Timer(1.0, provider.release.set).start()

    (event,) = gateway.events(1)
    assert first == "event: message_start"
    assert event["metadata"]["stream"] == "client_disconnected"
    # message_start reported the input side (cache buckets included) and 1 output token.
    assert (event["input_tokens"], event["cache_read_tokens"], event["output_tokens"]) == (
        fp.ANTHROPIC_USAGE["input_tokens"],
        fp.ANTHROPIC_USAGE["cache_read_tokens"],
        1,
    )
    assert event["status"] == "success" and Decimal(event["cost_usd"]) > 0
    time.sleep(0.1)
