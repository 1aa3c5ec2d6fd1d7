"""The gateway as the production app serves it (`scripts/run`: Reflex on one port), and the
dashboard marking the events that came through it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from app_server import Api
from playwright.sync_api import Browser, Page, expect

from tests.sdk.fake_provider import FakeProvider

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"
MESSAGES: Any = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def account(app_url: str) -> dict[str, Any]:
    email = f"gateway-{uuid.uuid4().hex[:8]}@example.com"
    data = Api(app_url).signup(email, PASSWORD)
    return {"email": email, "api_key": data["api_key"]["key"]}


@pytest.fixture(scope="module")
def user_page(browser: Browser, app_url: str, account: dict[str, Any]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=app_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/signin")
    page.fill("#email", account["email"])
    page.fill("#password", PASSWORD)
    page.click("#signin-submit")
    expect(page.get_by_text("No LLM calls recorded yet")).to_be_visible()
    yield page
    context.close()


def test_calls_through_the_served_gateway_are_recorded_and_marked_on_the_dashboard(
    app_url: str, account: dict[str, Any], user_page: Page, gateway_provider: FakeProvider
) -> None:
    headers = {"X-LLMLab-Key": account["api_key"], "X-LLMLab-Project": "via-gateway"}
    chat = openai.OpenAI(
        api_key="sk", base_url=f"{app_url}/gateway/openai/v1", default_headers=headers
    )
    claude = anthropic.Anthropic(
        api_key="sk", base_url=f"{app_url}/gateway/anthropic", default_headers=headers
    )
    answer = chat.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    streamed = "".join(
        chunk.choices[0].delta.content or ""
        for chunk in chat.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        if chunk.choices
    )
    with claude.messages.stream(
        model="claude-sonnet-4-20250514", max_tokens=10, messages=MESSAGES
    ) as stream:
        claude_text = stream.get_final_text()
    assert (answer.choices[0].message.content, streamed, claude_text) == (
        "Hello there",
        "Hello",
        "Hi",
    )

    api = Api(app_url)
    api.client.headers["X-API-Key"] = account["api_key"]
    deadline = time.monotonic() + 15
    while len(items := api.client.get("/api/events").json()["data"]["items"]) < 3:
        assert time.monotonic() < deadline, items
        time.sleep(0.2)
    assert {item["source"] for item in items} == {"gateway"}

    page = user_page
    page.goto("/events")
    rows = page.locator("#events-table .event-row")
    expect(rows).to_have_count(3)
    for index in range(3):
        expect(rows.nth(index)).to_contain_text("gateway")
