"""The dashboard on a phone (390 x 844) and on narrow desktop windows: no page is wider than
the screen, every page is reached from the menu, nothing sticks out of its card or hides
under another element, and the events table keeps its tags whole."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from app_server import Api, demo_events, free_port
from playwright.sync_api import Browser, Page, expect

from llmlab_app.ui.components.header import NAV_ITEMS
from llmlab_app.ui.pages import audit, budgets, events, keys, members, overview, settings

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"
PHONE = {"width": 390, "height": 844}
TITLES = {
    page.ROUTE: page.TITLE for page in (overview, events, budgets, keys, members, audit, settings)
}
# What each page shows once its data is in: measuring before that would prove nothing.
LOADED = {
    "/": "#daily-trend-chart .main-svg",
    "/events": ".event-card",
    "/budgets": ".alert-card",
    "/keys": ".key-card",
    "/members": "#personal-org-card",
    "/audit": ".audit-card",
    "/settings": ".override-card",
}
# Buttons, fields and links whose box leaves the screen: each as a short description.
OFF_SCREEN = """() => [...document.querySelectorAll('button, input, a, [role=button]')]
    .filter(el => el.getClientRects().length > 0)
    .filter(el => {
        const box = el.getBoundingClientRect();
        return box.width > 0 && (box.left < -1 || box.right > innerWidth + 1);
    })
    .map(el => el.outerHTML.slice(0, 120))"""
# Pairs of x and y tick labels of the daily chart that overlap ("Nov 29" over "$0").
OVERLAPPING_TICKS = """() => {
    const boxes = sel => [...document.querySelectorAll('#daily-trend-chart ' + sel)]
        .map(el => [el.textContent, el.getBoundingClientRect()])
        .filter(([, box]) => box.width > 0);
    const hits = [];
    for (const [xText, x] of boxes('.xtick text'))
        for (const [yText, y] of boxes('.ytick text'))
            if (x.left < y.right && y.left < x.right && x.top < y.bottom && y.top < x.bottom)
                hits.push(xText + ' / ' + yText);
    return hits;
}"""


@pytest.fixture(scope="module")
def account(app_url: str) -> dict[str, Any]:
    """A user with everything a page can list: events over ten days (one with long tags),
    two keys, budgets that raised alerts (one webhook failing) and a price override."""
    api = Api(app_url)
    email = f"phone-{uuid.uuid4().hex[:8]}@example.com"
    signed_up = api.signup(email, PASSWORD)
    token, key = signed_up["access_token"], signed_up["api_key"]["key"]
    api.create_project(token, "support-bot")
    api.create_budget(
        token,
        name="Support bot, a long budget name",
        amount_usd="1",
        period="monthly",
        project="support-bot",
        webhook_url=f"http://127.0.0.1:{free_port()}/hooks/llmlab",
    )
    now = datetime.now(UTC)
    tagged = {
        "event_id": "long-tags",
        "provider": "anthropic",
        "model": "claude-sonnet-4-20250514",
        "input_tokens": 12_000,
        "output_tokens": 900,
        "timestamp": (now - timedelta(minutes=1)).isoformat(),
        "project": "code-review",
        "tags": ["experimental", "nightly-regression"],
    }
    api.track(key, [*demo_events(now, days=10), tagged])
    api.create_key(token, "ci runner with a long name")
    api.create_price_override(
        token,
        provider="openai",
        model="ft:gpt-4o-mini:acme:support-bot",
        input_per_mtok="0.30",
        output_per_mtok="1.20",
    )
    return {"email": email}


def _sign_in(page: Page, email: str) -> None:
    page.goto("/signin")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#signin-submit")
    expect(page.locator("#card-range")).to_be_visible()


@pytest.fixture(scope="module")
def phone(browser: Browser, app_url: str, account: dict[str, Any]) -> Iterator[Page]:
    """One signed-in phone: its viewport, touch, and the mobile viewport rules."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, base_url=app_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    _sign_in(page, account["email"])
    yield page
    context.close()


@pytest.mark.parametrize("route", list(LOADED))
def test_no_page_is_wider_than_a_phone(phone: Page, route: str) -> None:
    phone.goto(route)
    expect(phone.locator(LOADED[route]).first).to_be_visible()
    width, viewport = phone.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width <= viewport == PHONE["width"]
    assert phone.evaluate(OFF_SCREEN) == []


def test_every_page_is_one_tap_away_in_the_phone_menu(phone: Page) -> None:
    phone.goto("/events")
    expect(phone.locator(".event-card").first).to_be_visible()
    expect(phone.locator("#user-menu")).to_be_hidden()  # the desktop bar is not drawn under it
    for label, route, _ in NAV_ITEMS:
        menu = phone.locator("#nav-menu")
        box = menu.bounding_box()
        assert box is not None
        # Nothing covers the button: a tap at its centre lands on it.
        assert phone.evaluate(
            "([x, y]) => document.getElementById('nav-menu').contains("
            "document.elementFromPoint(x, y))",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        menu.click()
        phone.get_by_role("menuitem", name=label, exact=True).click()
        expect(phone).to_have_url(re.compile(re.escape(route.rstrip("/")) + "/?$"))
        expect(phone).to_have_title(TITLES[route])
        expect(phone.locator(LOADED[route]).first).to_be_visible()

    phone.locator("#nav-menu").click()
    expect(phone.get_by_role("menuitem", name="Light / dark")).to_be_visible()
    expect(phone.get_by_role("menuitem", name="Sign out")).to_be_visible()
    phone.keyboard.press("Escape")


def test_keys_fit_a_phone_with_revoke_on_screen(phone: Page) -> None:
    phone.goto("/keys")
    cards = phone.locator(".key-card")
    expect(cards).to_have_count(2)
    expect(phone.locator(".key-row").first).to_be_hidden()  # the wide table is not used
    revoke = cards.filter(has_text="ci runner").get_by_role("button", name="Revoke")
    expect(revoke).to_be_in_viewport()
    for card, form in (("#keys-card", "key_name"), ("#projects-card", "project_name")):
        button = phone.locator(f"#{form}-submit").bounding_box()
        outer = phone.locator(card).bounding_box()
        assert button and outer and button["x"] + button["width"] <= outer["x"] + outer["width"]


def test_events_on_a_phone_are_cards_with_one_cost_format(phone: Page) -> None:
    phone.goto("/events")
    cards = phone.locator(".event-card")
    expect(cards.first).to_be_visible()
    expect(phone.locator("#events-table")).to_be_hidden()
    first = cards.filter(has_text="claude-sonnet-4-20250514").first
    expect(first).to_contain_text("experimental")
    expect(first).to_contain_text("12,000 in")
    costs = phone.locator(".event-card .event-cost").all_inner_texts()
    places = {len(cost.split(".")[1]) for cost in costs}
    assert len(costs) > 10 and len(places) == 1, costs


def test_the_daily_chart_on_a_phone_has_no_overlapping_labels(phone: Page) -> None:
    # Plotly puts weekly and fortnightly ticks on every other Sunday counted from
    # 2000-01-02: a range starting on one has a tick label right at the left edge, where it
    # used to spill over the y axis's "$0".
    today = datetime.now(UTC).date()
    sunday = today - timedelta(days=1)
    while (sunday - date(2000, 1, 2)).days % 14:
        sunday -= timedelta(days=1)
    phone.goto("/")
    phone.fill("input[name=start_date]", sunday.isoformat())
    phone.fill("input[name=end_date]", today.isoformat())
    phone.click("#apply-range")
    first_day = f"{sunday:%b} {sunday.day}, {sunday.year}"
    expect(phone.locator("#card-range")).to_contain_text(first_day)
    expect(phone.locator("#daily-trend-chart .xtick text:visible").first).to_be_visible()
    assert phone.evaluate(OVERLAPPING_TICKS) == []


@pytest.mark.parametrize("width", [992, 1440])
def test_the_events_table_keeps_tags_whole_and_level_with_their_row(
    browser: Browser, app_url: str, account: dict[str, Any], width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900}, base_url=app_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        _sign_in(page, account["email"])
        page.goto("/events")
        table = page.locator("#events-table")
        expect(table).to_be_visible()
        expect(page.locator(".event-card").first).to_be_hidden()
        # The table fits its frame (to a rounded pixel): no column is cut off at the right.
        assert table.evaluate("el => el.querySelector('table').scrollWidth <= el.clientWidth + 1")
        row = page.locator("#events-table .event-row", has_text="nightly-regression")
        frame = table.bounding_box()
        assert frame is not None
        for badge in row.locator(".event-tags .rt-Badge").all():
            box = badge.bounding_box()
            assert box and box["x"] + box["width"] <= frame["x"] + frame["width"]
        # Tags sit on the row's middle line, like its status badge.
        status = row.locator(".event-status").bounding_box()
        tags = row.locator(".event-tags").bounding_box()
        assert status and tags
        middle = status["y"] + status["height"] / 2
        assert abs(tags["y"] + tags["height"] / 2 - middle) <= 2
    finally:
        context.close()
