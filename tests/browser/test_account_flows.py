"""Managing an account from the dashboard: API keys, budget edits and their webhook log,
price overrides, and the what-if panel, each checked against the REST API."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from app_server import Api, free_port
from playwright.sync_api import Browser, Page, expect

from llmlab_app.ui.format import format_usd, format_usd_exact

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"
WORKER_WAIT_S = 15  # the webhook worker polls every 2 s


@pytest.fixture(scope="module")
def account(app_url: str) -> dict[str, Any]:
    """A user made through the API: email, access token, first API key."""
    email = f"flows-{uuid.uuid4().hex[:8]}@example.com"
    data = Api(app_url).signup(email, PASSWORD)
    return {"email": email, "token": data["access_token"], "api_key": data["api_key"]["key"]}


@pytest.fixture(scope="module")
def user_page(browser: Browser, app_url: str, account: dict[str, Any]) -> Iterator[Page]:
    """One signed-in browser session for the tests below."""
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


def test_a_new_key_is_shown_once_and_a_revoked_key_gets_401(user_page: Page, app_url: str) -> None:
    page, api = user_page, Api(app_url)
    page.goto("/keys")
    page.fill("#key_name", "ci runner")
    page.click("#key_name-submit")
    secret = page.locator("#created-secret")
    expect(secret).to_have_text(re.compile(r"^llmlab_\S{20,}$"))
    key = secret.inner_text()
    row = page.locator(".key-row", has_text="ci runner")
    expect(row).to_have_count(1)
    assert key[:8] in row.inner_text()  # the prefix only
    # The form preselects the `ingest` scope: budget status yes, spend no.
    assert api.get(key, "/api/budgets").status_code == 200
    assert api.get(key, "/api/costs/summary").status_code == 403

    page.get_by_role("button", name="Done").click()
    expect(secret).to_have_count(0)
    page.reload()
    expect(row).to_have_count(1)
    expect(secret).to_have_count(0)
    assert key not in page.content()

    row.get_by_role("button", name="Revoke").click()
    page.click("#confirm-revoke")
    expect(row).to_have_count(0)
    refused = api.get(key, "/api/budgets")
    assert refused.status_code == 401 and refused.json()["success"] is False


def test_budget_edit_shows_its_webhook_log_and_delete_removes_it(
    user_page: Page, app_url: str, account: dict[str, Any]
) -> None:
    page, api = user_page, Api(app_url)
    budget = api.create_budget(account["token"], name="Nightly", amount_usd="100", period="daily")
    page.goto("/budgets")
    card = page.locator(".budget-bar", has_text="Nightly")
    expect(card).to_contain_text("$0.00 of $100.00")

    page.get_by_role("button", name="Edit").click()
    expect(page.locator("input[name=name]")).to_have_value("Nightly")
    page.fill("input[name=name]", "Nightly, tight")
    page.fill("input[name=amount]", "0.01")
    page.fill("input[name=thresholds]", "100")
    # Nothing listens there: each attempt fails fast with a connection error.
    page.fill("input[name=webhook_url]", f"http://127.0.0.1:{free_port()}/hook")
    page.click("#save-budget")
    expect(page.locator(".budget-bar")).to_have_count(1)
    expect(card).to_contain_text("Nightly, tight")
    expect(card).to_contain_text("of $0.01")

    event = {
        "provider": "openai",
        "model": "gpt-4o",
        "input_tokens": 10_000,
        "output_tokens": 2_000,
    }
    api.track(account["api_key"], [event])
    deliveries = _first_attempts(api, account["api_key"], budget["id"])
    page.reload()
    rows = page.locator("#alert-history .alert-row")
    expect(rows).to_have_count(len(deliveries))
    for delivery in deliveries:
        what = (
            "Forecast to exceed"
            if delivery["kind"] == "forecast"
            else f"Crossed {delivery['threshold']}%"
        )
        row = rows.filter(has_text=what)
        expect(row).to_contain_text("Nightly, tight")
        expect(row.locator(".webhook-status")).to_have_text(delivery["status"])
        expect(row.locator(".webhook-attempts")).to_have_text(str(delivery["attempts"]))
        expect(row.locator(".webhook-error")).to_have_text(delivery["last_error"])

    page.get_by_role("button", name="Delete").click()
    page.click("#confirm-delete-budget")
    expect(page.locator(".budget-bar")).to_have_count(0)
    expect(page.get_by_text("No budgets yet")).to_be_visible()
    expect(page.get_by_text("No alerts yet.")).to_be_visible()


def _first_attempts(api: Api, api_key: str, budget_id: str) -> list[dict[str, Any]]:
    """The budget's deliveries once the worker has tried each one."""
    deadline = time.monotonic() + WORKER_WAIT_S
    while True:
        deliveries = api.data(api_key, "GET", f"/api/budgets/{budget_id}/deliveries")
        if deliveries and all(d["attempts"] >= 1 for d in deliveries):
            return deliveries
        assert time.monotonic() < deadline, deliveries
        time.sleep(0.3)


def test_a_price_override_prices_a_new_custom_model(
    user_page: Page, app_url: str, account: dict[str, Any]
) -> None:
    page, model = user_page, f"acme-{uuid.uuid4().hex[:6]}"
    page.goto("/settings")
    page.fill("#provider", "custom")
    page.fill("#model", model)
    page.fill("#input_per_mtok", "2")
    page.fill("#output_per_mtok", "8")
    page.click("#add-override")
    expect(page.get_by_role("row").filter(has_text=model)).to_contain_text("$2.00")

    event = {"provider": "custom", "model": model, "input_tokens": 1_000, "output_tokens": 500}
    (tracked,) = Api(app_url).track(account["api_key"], [event])["events"]
    cost = Decimal("0.006")  # 1,000 x $2/M + 500 x $8/M
    assert Decimal(tracked["cost_usd"]) == cost and tracked["unpriced"] is False

    page.goto("/events")
    row = page.locator("#events-table .event-row", has_text=model)
    # Rounded to its column's places (all digits of $0.006 survive), every digit on hover.
    expect(row.locator(".event-cost")).to_have_text(re.compile(r"^\$0\.006(0*)$"))
    expect(row.locator(".event-cost")).to_have_attribute("title", format_usd_exact(cost))
    expect(row).not_to_contain_text("unpriced")


def test_saving_an_override_offers_to_reprice_the_events_it_covers(
    user_page: Page, app_url: str, account: dict[str, Any]
) -> None:
    page, api, model = user_page, Api(app_url), f"house-{uuid.uuid4().hex[:6]}"
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    event = {"provider": "custom", "model": model, "input_tokens": 1_000_000}
    (tracked,) = api.track(account["api_key"], [event | {"timestamp": yesterday}])["events"]
    assert tracked["unpriced"] is True

    page.goto("/settings")
    page.fill("#provider", "custom")
    page.fill("#model", model)
    page.fill("#input_per_mtok", "2")
    page.fill("#output_per_mtok", "8")
    page.fill("#valid_from", (datetime.now(UTC) - timedelta(days=7)).date().isoformat())
    page.click("#add-override")
    offer = page.locator("#reprice-offer")
    expect(offer).to_contain_text(model)
    page.click("#reprice-stored-events")
    expect(offer).to_contain_text("Re-priced 1")
    expect(offer).to_contain_text("$2.00 now")
    (stored,) = [
        e
        for e in api.data(account["api_key"], "GET", "/api/events")["items"]
        if e["model"] == model
    ]
    assert Decimal(stored["cost_usd"]) == Decimal("2") and stored["unpriced"] is False


def test_whatif_panel_shows_what_post_whatif_answers(
    user_page: Page, app_url: str, account: dict[str, Any]
) -> None:
    page, api, key = user_page, Api(app_url), account["api_key"]
    now = datetime.now(UTC)
    traffic = [
        {
            "provider": "openai",
            "model": "gpt-4o-2024-08-06",
            "input_tokens": 100_000,
            "output_tokens": 20_000,
            "timestamp": (now - timedelta(days=days_ago, minutes=3)).isoformat(),
            "project": "checkout",
        }
        for days_ago in (0, 1, 1, 2, 4, 9)
    ]
    api.track(key, traffic)
    (switch,) = [r for r in api.data(key, "GET", "/api/recommendations") if r["model"] == "gpt-4o"]
    assert switch["kind"] == "switch_model"
    today = now.date()

    page.goto("/")
    panel = page.locator("#whatif-panel")
    # Settled: the panel starts from the top switch recommendation (and re-mounts its form).
    expect(page.locator("#whatif-from_model")).to_have_value(switch["from_model"])
    expect(page.locator("#whatif-old")).to_be_visible()
    # A typed question: half the calls, the last week.
    page.fill("#whatif-share", "50")
    page.fill("#whatif-start", (today - timedelta(days=6)).isoformat())
    page.fill("#whatif-from_model", "gpt-4o")
    page.fill("#whatif-to_model", "gpt-4o-mini")
    page.click("#whatif-submit")
    _expect_panel_equals_api(page, api, key, "gpt-4o", "gpt-4o-mini", "0.5", today, days=7)

    # "Try it" on the card: its model, target and share over its 30 days, same dollars.
    card = page.locator(".recommendation", has_text=switch["title"])
    monthly = format_usd(Decimal(switch["monthly_savings_usd"]))
    expect(card.locator(".recommendation-savings")).to_have_text(f"save {monthly}/mo")
    card.locator(".try-whatif").click()
    expect(page.locator("#whatif-share")).to_have_value("80")
    expect(page.locator("#whatif-from_model")).to_have_value(switch["from_model"])
    data = _expect_panel_equals_api(
        page, api, key, switch["from_model"], switch["to_model"], switch["share"], today, days=30
    )
    assert Decimal(data["savings_usd"]) == Decimal(switch["monthly_savings_usd"])
    expect(page.locator("#whatif-savings")).to_contain_text(f"about {monthly}/mo")
    expect(page.locator("#whatif-chart .scatterlayer .trace")).to_have_count(2)

    page.fill("#whatif-to_model", "no-such-model-xyz")
    page.click("#whatif-submit")
    expect(panel.locator(".field-error")).to_have_text(
        "Unknown model 'no-such-model-xyz': no price is known for it."
    )
    expect(page.locator("#whatif-old")).to_have_count(0)


def _expect_panel_equals_api(
    page: Page,
    api: Api,
    key: str,
    from_model: str,
    to_model: str,
    share: str,
    today: Any,
    *,
    days: int,
) -> dict[str, Any]:
    body = {
        "from_model": from_model,
        "to_model": to_model,
        "share": share,
        "start": (today - timedelta(days=days - 1)).isoformat(),
        "end": today.isoformat(),
    }
    data = api.data(key, "POST", "/api/whatif", json=body)
    assert data["calls_moved"] > 0
    for box, field in (
        ("old", "old_cost_usd"),
        ("new", "new_cost_usd"),
        ("savings", "savings_usd"),
    ):
        value = page.locator(f"#whatif-{box} .whatif-value")
        expect(value).to_have_text(format_usd(Decimal(data[field])))
    return data
