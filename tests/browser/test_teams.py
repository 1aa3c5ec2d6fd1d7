"""Teams in the dashboard, end to end: an owner makes a shared organisation and invites a
viewer by link; in another browser the invitee signs up through that link, sees the same
totals as the owner, cannot create a budget (the button says why), and switches between
organisations; the Members and Audit pages show what happened. The tests build on each
other in order."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from app_server import Api, demo_events
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"
PHONE = {"width": 390, "height": 844}
ORG_NAME = f"Acme {uuid.uuid4().hex[:4]}"
TOTAL_CARDS = ("#card-range", "#card-today", "#card-calls")


def _context_page(browser: Browser, app_url: str, **options: Any) -> Page:
    context = browser.new_context(base_url=app_url, **options)
    context.set_default_timeout(20_000)
    return context.new_page()


@pytest.fixture(scope="module")
def team() -> dict[str, Any]:
    """Filled in as the tests go: emails, the organisation's id, the invitation link."""
    return {
        "owner": f"owner-{uuid.uuid4().hex[:8]}@example.com",
        "viewer": f"viewer-{uuid.uuid4().hex[:8]}@example.com",
    }


@pytest.fixture(scope="module")
def owner_page(browser: Browser, app_url: str, team: dict[str, Any]) -> Iterator[Page]:
    Api(app_url).signup(team["owner"], PASSWORD)
    page = _context_page(browser, app_url, viewport={"width": 1366, "height": 900})
    page.goto("/signin")
    page.fill("#email", team["owner"])
    page.fill("#password", PASSWORD)
    page.click("#signin-submit")
    expect(page.get_by_text("No LLM calls recorded yet")).to_be_visible()
    yield page
    page.context.close()


@pytest.fixture(scope="module")
def viewer_page(browser: Browser, app_url: str) -> Iterator[Page]:
    """A second browser: nobody signed in yet."""
    page = _context_page(browser, app_url, viewport={"width": 1366, "height": 900})
    yield page
    page.context.close()


def _totals(page: Page) -> list[str]:
    page.goto("/")
    for card in TOTAL_CARDS:
        expect(page.locator(card)).to_be_visible()
    return [page.locator(card).inner_text() for card in TOTAL_CARDS]


def test_an_owner_creates_a_shared_organisation_from_the_members_page(
    owner_page: Page, app_url: str, team: dict[str, Any]
) -> None:
    page = owner_page
    page.goto("/members")
    expect(page.locator("#personal-org-card")).to_be_visible()
    page.fill("#org_name", ORG_NAME)
    page.click("#create-org")
    # Switched to it at once: the switcher names it and the page shows its one member.
    expect(page.locator("#org-switcher")).to_contain_text(ORG_NAME)
    expect(page.locator("#members-org-name")).to_have_text(ORG_NAME)
    expect(page.locator(".member-row")).to_have_count(1)
    expect(page.locator(".member-row")).to_contain_text(team["owner"])

    # Events sent with a key of the shared organisation (made through the API).
    api = Api(app_url)
    token = api.client.post(
        "/api/auth/login", json={"email": team["owner"], "password": PASSWORD}
    ).json()["data"]["access_token"]
    orgs = api.client.get("/api/orgs", headers={"Authorization": f"Bearer {token}"}).json()
    team["org_id"] = next(o["id"] for o in orgs["data"] if o["name"] == ORG_NAME)
    headers = {"Authorization": f"Bearer {token}", "X-LLMLab-Org": team["org_id"]}
    key = api.client.post("/api/keys", json={"name": "team"}, headers=headers).json()
    api.track(key["data"]["key"], demo_events(datetime.now(UTC), days=5))
    team["totals"] = _totals(page)
    assert team["totals"][2] != "0", team["totals"]


def test_the_owner_invites_a_viewer_and_sees_the_link_once(
    owner_page: Page, team: dict[str, Any]
) -> None:
    page = owner_page
    page.goto("/members")
    page.fill("#invite_email", team["viewer"])
    page.click("#invite-submit")
    link = page.locator("#invite-link")
    expect(link).to_have_text(re.compile(r"^http://\S+/invitation#token=\S{20,}$"))
    team["link"] = link.inner_text()
    invitations = page.locator(".invitation-row")
    expect(invitations).to_have_count(1)
    expect(invitations).to_contain_text(team["viewer"])
    expect(invitations).to_contain_text("viewer")
    page.reload()
    expect(page.locator(".invitation-row")).to_have_count(1)
    expect(link).to_have_count(0)
    assert team["link"].split("#token=")[1] not in page.content()


def test_the_invitee_signs_up_through_the_link_and_sees_the_same_totals(
    viewer_page: Page, team: dict[str, Any]
) -> None:
    page = viewer_page
    page.goto(team["link"])
    expect(page.locator("#invitation-org")).to_have_text(f"Join {ORG_NAME}")
    expect(page.locator("#email")).to_have_value(team["viewer"])
    page.fill("#password", PASSWORD)
    page.click("#invitation-submit")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("#org-switcher")).to_contain_text(ORG_NAME)
    assert _totals(page) == team["totals"]


def test_a_viewer_cannot_create_a_budget_and_is_told_why(viewer_page: Page) -> None:
    page = viewer_page
    page.goto("/budgets")
    button = page.locator("#new-budget")
    expect(button).to_be_disabled()
    expect(page.locator(".refusal-reason").first).to_have_text("Viewers cannot create budgets")
    page.goto("/members")
    expect(page.locator("#invite-submit")).to_be_disabled()
    expect(page.locator(".member-role-select")).to_have_count(0)
    page.goto("/audit")
    expect(page.locator("#audit-refused")).to_contain_text("Viewers cannot read the audit log")


def test_the_switcher_shows_each_organisations_own_data(
    viewer_page: Page, team: dict[str, Any]
) -> None:
    page = viewer_page
    assert _totals(page) == team["totals"]
    page.click("#org-switcher")
    page.locator(".org-choice", has_text="Personal").click()
    # The open page reloads its data for the personal organisation: nothing sent there yet.
    expect(page.get_by_text("No LLM calls recorded yet")).to_be_visible()
    expect(page.locator("#org-switcher")).to_contain_text("Personal")
    page.goto("/budgets")
    expect(page.locator("#new-budget")).to_be_enabled()  # the owner of their own
    page.click("#org-switcher")
    page.locator(".org-choice", has_text=ORG_NAME).click()
    expect(page.locator("#new-budget")).to_be_disabled()


def test_the_owner_sees_the_new_member_and_the_audit_log(
    owner_page: Page, team: dict[str, Any]
) -> None:
    page = owner_page
    page.goto("/members")
    viewer_row = page.locator(".member-row", has_text=team["viewer"])
    expect(viewer_row).to_have_count(1)
    expect(page.locator(".invitation-row")).to_have_count(0)
    # The owner makes the viewer a member, through the role select.
    viewer_row.locator(".member-role-select").click()
    page.get_by_role("option", name="member", exact=True).click()
    expect(page.get_by_text(f"{team['viewer']} is now member")).to_be_visible()
    page.goto("/audit")
    rows = page.locator(".audit-row")
    expect(rows.first).to_contain_text("changed the role of")
    expect(rows.first).to_contain_text("viewer → member")
    texts = rows.all_inner_texts()
    assert any("joined" in text and team["viewer"] in text for text in texts), texts
    assert any("invited" in text for text in texts), texts
    assert any("created the organisation" in text for text in texts), texts


@pytest.fixture(scope="module")
def phone(browser: Browser, app_url: str, team: dict[str, Any]) -> Iterator[Page]:
    """The owner on a phone, acting in the shared organisation."""
    page = _context_page(browser, app_url, viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/signin")
    page.fill("#email", team["owner"])
    page.fill("#password", PASSWORD)
    page.click("#signin-submit")
    # A new browser starts in the personal organisation, where nothing was sent.
    expect(page.get_by_text("No LLM calls recorded yet")).to_be_visible()
    yield page
    page.context.close()


OFF_SCREEN = """() => [...document.querySelectorAll('button, input, a, [role=button]')]
    .filter(el => el.getClientRects().length > 0)
    .filter(el => {
        const box = el.getBoundingClientRect();
        return box.width > 0 && (box.left < -1 || box.right > innerWidth + 1);
    })
    .map(el => el.outerHTML.slice(0, 120))"""


def test_on_a_phone_the_menu_switches_organisation(phone: Page) -> None:
    phone.locator("#nav-menu").click()
    phone.locator(".org-choice", has_text=ORG_NAME).click()
    expect(phone.locator("#card-calls")).to_be_visible()
    phone.locator("#nav-menu").click()
    expect(phone.locator(".org-choice", has_text="Personal")).to_be_visible()
    phone.get_by_role("menuitem", name="Members", exact=True).click()
    expect(phone.locator(".member-card")).to_have_count(2)


@pytest.mark.parametrize(
    ("route", "loaded"), [("/members", ".member-card"), ("/audit", ".audit-card")]
)
def test_members_and_audit_fit_a_phone(phone: Page, route: str, loaded: str) -> None:
    phone.goto(route)
    expect(phone.locator(loaded).first).to_be_visible()
    width, viewport = phone.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width <= viewport == PHONE["width"]
    assert phone.evaluate(OFF_SCREEN) == []


@pytest.mark.parametrize("width", [992, 1280, 1440])
def test_the_header_with_its_switcher_fits_desktop_windows(
    browser: Browser, app_url: str, team: dict[str, Any], width: int
) -> None:
    page = _context_page(browser, app_url, viewport={"width": width, "height": 900})
    try:
        page.goto("/signin")
        page.fill("#email", team["owner"])
        page.fill("#password", PASSWORD)
        page.click("#signin-submit")
        expect(page.get_by_text("No LLM calls recorded yet")).to_be_visible()
        # Below 1280 px the pages and the switcher are in the menu, as on a phone.
        switcher = page.locator("#nav-menu" if width < 1280 else "#org-switcher")
        expect(switcher).to_be_visible()
        width_used, viewport = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert width_used <= viewport == width
        assert page.evaluate(OFF_SCREEN) == []
    finally:
        page.context.close()
