"""A client wrapped by the SDK and pointed at the gateway: both record the call under the
same event id (`<provider>:<response id>`), so it is counted once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

import llmlab_sdk
from tests.sdk.conftest import FAST_SENDING
from tests.sdk.fake_provider import FakeProvider

from .conftest import GatewayAccount

pytestmark = pytest.mark.slow

MESSAGES: Any = [{"role": "user", "content": "hi"}]


@pytest.fixture
def sdk(gateway: GatewayAccount, tmp_path: Path) -> Iterator[None]:
    llmlab_sdk.configure(
        api_key=gateway.key, base_url=gateway.base_url, spool_dir=tmp_path, **FAST_SENDING
    )
    yield
    llmlab_sdk.shutdown(timeout=5)


def test_a_wrapped_client_through_the_gateway_is_counted_once(
    gateway: GatewayAccount, provider: FakeProvider, sdk: None
) -> None:
    chat = llmlab_sdk.wrap(
        openai.OpenAI(
            api_key="sk",
            base_url=gateway.openai_url,
            default_headers=gateway.headers,
            max_retries=0,
        )
    )
    claude = llmlab_sdk.wrap(
        anthropic.Anthropic(
            api_key="sk", base_url=gateway.anthropic_url, default_headers=gateway.headers
        )
    )
    answer = chat.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    streamed = list(chat.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))
    message = claude.messages.create(
        model="claude-sonnet-4-20250514", max_tokens=10, messages=MESSAGES
    )
    assert llmlab_sdk.flush(10)
    gateway.events(3)
    time.sleep(0.5)  # the gateway's own writes, after its answers, have landed too

    events = gateway.events(4, timeout=0)
    assert sorted(e["event_id"] for e in events) == sorted(
        [f"openai:{answer.id}", f"openai:{streamed[0].id}", f"anthropic:{message.id}"]
    )
    assert len(provider.requests) == 3
