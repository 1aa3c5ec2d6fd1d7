"""A new user's first session, end to end: sign up, budget, events through the REST API,
and the dashboard showing the right numbers, live."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from app_server import Api
from playwright.sync_api import Browser, Page, expect

from llmlab_app.ui.format import format_count, format_usd, format_usd_column, format_usd_exact
from tests.conftest import earlier_today

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"
LIVE_WAIT_MS = 7_000  # the page polls every 5 s
# What plotly drew in the daily chart: the figure as the browser holds it.
PLOTTED_TRACES = """() => document.querySelector('#daily-trend-chart .js-plotly-plot').data
    .map(trace => ({name: trace.name, x: Array.from(trace.x), y: Array.from(trace.y)}))"""


@pytest.fixture(scope="module")
def user_page(browser: Browser, app_url: str) -> Iterator[Page]:
    """One browser session shared by the tests below, which build on each other in order."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=app_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="module")
def account() -> dict[str, Any]:
    """Filled in by the sign-up test: email, API key; later tests read it."""
    return {}


def _events(now: datetime) -> list[dict[str, Any]]:
    stamp = earlier_today(now, minutes=2).isoformat()
    common = {"timestamp": stamp, "project": "checkout"}
    return [
        {
            "event_id": "e1",
            "provider": "openai",
            "model": "gpt-4o-mini",
            "input_tokens": 12_000,
            "output_tokens": 3_000,
            **common,
        },
        {
            "event_id": "e2",
            "provider": "openai",
            "model": "gpt-4o-mini",
            "input_tokens": 8_000,
            "cache_read_tokens": 4_000,
            "output_tokens": 1_000,
            **common,
        },
        {
            "event_id": "e3",
            "provider": "anthropic",
            "model": "claude-sonnet-4-20250514",
            "input_tokens": 20_000,
            "output_tokens": 2_500,
            **common,
        },
        {
            "event_id": "e4",
            "provider": "custom",
            "model": "in-house-llm",
            "input_tokens": 500,
            "output_tokens": 100,
            **common,
        },
    ]


def test_sign_up_shows_the_first_api_key_once(user_page: Page, account: dict[str, Any]) -> None:
    page = user_page
    email = f"ui-{uuid.uuid4().hex[:8]}@example.com"
    page.goto("/signup")
    page.fill("#email", email)
    page.fill("#password", "short")
    # In some full CI runs the first submit after this page load got no answer (cause not
    # found; the rest of the app kept answering). This submit is harmless to repeat, so it
    # is, a few times: a mitigation, not a fix.
    error = page.locator(".field-error")
    for _ in range(5):
        page.click("#signup-submit")
        try:
            expect(error).to_have_count(1, timeout=3_000)
            break
        except AssertionError:
            continue
    expect(error).to_have_text("Use at least 8 characters.")

    page.fill("#password", PASSWORD)
    page.click("#signup-submit")
    key = page.locator("#new-api-key")
    expect(key).to_have_text(re.compile(r"^llmlab_\S{20,}$"))
    account.update(email=email, api_key=key.inner_text())

    page.click("#continue-to-dashboard")
    expect(page.get_by_text("No LLM calls recorded yet")).to_be_visible()
    expect(page.locator("#new-api-key")).to_have_count(0)


def test_budget_form_validates_then_creates(user_page: Page) -> None:
    page = user_page
    page.goto("/budgets")
    page.click("#new-budget")
    page.fill("input[name=name]", "Checkout monthly")
    page.fill("input[name=amount]", "-5")
    page.click("#save-budget")
    expect(page.locator(".field-error")).to_have_text("Enter an amount greater than 0.")

    page.fill("input[name=amount]", "0.05")
    page.click("#save-budget")
    expect(page.locator(".budget-bar")).to_have_count(1)
    expect(page.locator(".budget-bar")).to_contain_text("Checkout monthly")
    expect(page.locator(".budget-bar")).to_contain_text("$0.00 of $0.05")


def test_overview_shows_events_sent_through_the_api(
    user_page: Page, app_url: str, account: dict[str, Any]
) -> None:
    tracked = Api(app_url).track(account["api_key"], _events(datetime.now(UTC)))["events"]
    costs = [Decimal(e["cost_usd"]) for e in tracked if e["cost_usd"] is not None]
    account["tracked"] = tracked
    total = sum(costs, Decimal(0))
    assert len(costs) == 3 and [e["unpriced"] for e in tracked] == [False, False, False, True]

    page = user_page
    page.goto("/")
    expect(page.locator("#card-range .card-value")).to_have_text(format_usd(total))
    expect(page.locator("#card-today .card-value")).to_have_text(format_usd(total))
    expect(page.locator("#card-calls .card-value")).to_have_text("4")
    expect(page.locator("#card-unpriced .card-value")).to_have_text("1")
    expect(page.locator("#card-forecast .card-value")).to_have_text(re.compile(r"^\$[\d,.]+$"))

    # Cost by model: one bar per model, the unpriced one included at $0.
    bars = page.locator("#cost-by-model-chart .barlayer .point")
    expect(bars).to_have_count(3)
    labels = page.locator("#cost-by-model-chart .ytick text").all_text_contents()
    assert set(labels) == {"gpt-4o-mini", "claude-sonnet-4-20250514", "in-house-llm"}

    # Daily trend: the full days (none on the 1st), today so far apart from them, and the
    # forecast with its band from today's expected full day to the month's last day.
    today = datetime.now(UTC).date()
    month_end = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    expect(page.locator("#daily-trend-chart .scatterlayer .trace")).to_have_count(
        4 if today.day > 1 else 3
    )
    traces = {trace["name"]: trace for trace in page.evaluate(PLOTTED_TRACES)}
    assert traces["Today so far"]["x"] == [today.isoformat()]
    assert float(traces["Today so far"]["y"][0]) == pytest.approx(float(total))
    if today.day > 1:
        assert traces["Daily spend"]["x"][-1] == (today - timedelta(days=1)).isoformat()
    forecast_days = traces["Forecast"]["x"]
    assert today.isoformat() in forecast_days and forecast_days[-1] == month_end.isoformat()

    # $0.05 is long gone: the bar is red and says so.
    budget = page.locator(".budget-bar")
    expect(budget).to_contain_text(f"{format_usd(total)} of $0.05")
    expect(budget.locator(".budget-status")).to_have_text(re.compile(r"^Exceeded"))

    expect(page.get_by_text("Ways to save")).to_be_visible()


def test_events_table_shows_costs_in_one_format_and_unpriced(
    user_page: Page, account: dict[str, Any]
) -> None:
    page = user_page
    page.goto("/events")
    rows = page.locator("#events-table .event-row")
    expect(rows).to_have_count(4)
    priced = [Decimal(e["cost_usd"]) for e in account["tracked"] if e["cost_usd"] is not None]
    shown = sorted(page.locator("#events-table .event-cost").all_inner_texts())
    assert shown == sorted(format_usd_column(priced))  # the same decimal places on every row
    exact = sorted(
        page.locator("#events-table .event-cost").evaluate_all("els => els.map(e => e.title)")
    )
    assert exact == sorted(format_usd_exact(cost) for cost in priced)
    unpriced = rows.filter(has_text="in-house-llm")
    expect(unpriced).to_contain_text("unpriced")
    expect(rows.filter(has_text="claude-sonnet-4-20250514")).to_contain_text(format_count(20_000))

    with page.expect_download() as download:
        page.click("#download-csv")
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0].startswith("id,event_id,timestamp,project,provider,model")
    assert sorted(line.split(",")[1] for line in lines[1:]) == ["e1", "e2", "e3", "e4"]


def test_new_event_appears_without_reload(
    user_page: Page, app_url: str, account: dict[str, Any]
) -> None:
    page = user_page
    page.goto("/events")
    rows = page.locator("#events-table .event-row")
    expect(rows).to_have_count(4)
    page.evaluate("window.__no_reload_marker = true")

    event = {
        "event_id": "live-1",
        "provider": "openai",
        "model": "gpt-4o",
        "input_tokens": 1_000,
        "output_tokens": 200,
        "project": "live",
    }
    sent_at = time.monotonic()
    Api(app_url).track(account["api_key"], [event])

    expect(rows).to_have_count(5, timeout=LIVE_WAIT_MS)
    expect(rows.first).to_contain_text("gpt-4o")
    assert time.monotonic() - sent_at < LIVE_WAIT_MS / 1000
    assert page.evaluate("window.__no_reload_marker") is True


def test_overview_cards_follow_new_events_without_reload(
    user_page: Page, app_url: str, account: dict[str, Any]
) -> None:
    page = user_page
    page.goto("/")
    calls = page.locator("#card-calls .card-value")
    expect(calls).to_have_text("5")
    page.evaluate("window.__no_reload_marker = true")

    event = {
        "event_id": "live-2",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input_tokens": 500,
        "output_tokens": 50,
        "project": "live",
    }
    Api(app_url).track(account["api_key"], [event])

    expect(calls).to_have_text("6", timeout=LIVE_WAIT_MS)
    assert page.evaluate("window.__no_reload_marker") is True
