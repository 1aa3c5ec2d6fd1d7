"""The dashboard's sign-in as a server-side session: the sign-in limits the REST API counts,
no token or API key left in the state files (which only the server's user can read), a
session reference that is worthless once signed out, and keys created with a scope."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from app_server import Api
from playwright.sync_api import Browser, BrowserContext, Page, expect

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"
FAILURES_PER_EMAIL = 10
SESSION_STORAGE_NAME = "llmlab_session"
STATE_WRITE_WAIT_S = 5  # the disk state manager writes after a short debounce


@pytest.fixture
def context(browser: Browser, app_url: str) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=app_url)
    context.set_default_timeout(15_000)
    yield context
    context.close()


def _new_account(app_url: str) -> tuple[str, dict]:
    email = f"sessions-{uuid.uuid4().hex[:8]}@example.com"
    return email, Api(app_url).signup(email, PASSWORD)


def _sign_in(page: Page, email: str) -> None:
    _open_sign_in_form(page, email)
    page.fill("#password", PASSWORD)
    page.click("#signin-submit")


def _open_sign_in_form(page: Page, email: str) -> None:
    """The sign-in page, once its event socket answers: a submit without a password (which
    no limit counts) is repeated until the form says so, as test_dashboard does."""
    page.goto("/signin")
    page.fill("#email", email)
    missing = page.get_by_text("Enter a password.")
    for _ in range(5):
        page.click("#signin-submit")
        try:
            expect(missing).to_be_visible(timeout=3_000)
            return
        except AssertionError:
            continue
    expect(missing).to_be_visible()


def _attempt(page: Page, password: str, answer: str) -> None:
    """One sign-in attempt on the open form, waiting for its own answer: the form is first
    sent without a password, so an earlier attempt's message cannot pass for this one's."""
    page.fill("#password", "")
    page.click("#signin-submit")
    expect(page.get_by_text("Enter a password.")).to_be_visible()
    page.fill("#password", password)
    page.click("#signin-submit")
    expect(page.get_by_text(answer)).to_be_visible()


def test_failures_through_the_api_and_the_form_add_up_to_too_many_attempts(
    context: BrowserContext, app_url: str
) -> None:
    email, _ = _new_account(app_url)
    page = context.new_page()
    _open_sign_in_form(page, email)
    half = FAILURES_PER_EMAIL // 2
    for i in range(half):
        _attempt(page, f"wrong password {i}", "Invalid email or password.")
    login = f"{app_url}/api/auth/login"
    for i in range(half):
        wrong = {"email": email, "password": f"also wrong {i}"}
        assert httpx.post(login, json=wrong).status_code == 401

    # The right password, refused.
    _attempt(page, PASSWORD, "Too many attempts — try again in 15 minutes.")
    assert "/signin" in page.url
    refused = httpx.post(login, json={"email": email, "password": PASSWORD})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 800


def test_state_files_hold_no_token_and_no_key_once_shown(
    context: BrowserContext, app_url: str, app_data_dir: Path
) -> None:
    if os.environ.get("LLMLAB_TEST_REDIS_URL"):
        pytest.skip("with Redis the dashboard's state is kept there, not in files")
    page = context.new_page()
    email = f"state-{uuid.uuid4().hex[:8]}@example.com"
    page.goto("/signup")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#signup-submit")
    first_key = page.locator("#new-api-key")
    expect(first_key).to_have_text(re.compile(r"^llmlab_\S{20,}$"))
    first_secret = first_key.inner_text()
    page.click("#continue-to-dashboard")
    page.goto("/keys")
    page.fill("#key_name", "state check")
    page.click("#key_name-submit")
    created = page.locator("#created-secret")
    expect(created).to_have_text(re.compile(r"^llmlab_\S{20,}$"))
    created_secret = created.inner_text()
    reference = page.evaluate(f"localStorage.getItem('{SESSION_STORAGE_NAME}')")
    assert reference and "." in reference

    states = app_data_dir / "states"
    deadline = time.monotonic() + STATE_WRITE_WAIT_S
    while time.monotonic() < deadline:  # wait for a file holding this session's state
        if any(reference.encode() in path.read_bytes() for path in states.glob("*.pkl")):
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"no state file of this session in {states}")
    time.sleep(STATE_WRITE_WAIT_S / 2)  # and for the writes after the key was revealed
    assert stat.S_IMODE(states.stat().st_mode) == 0o700
    everything = b""
    for path in states.glob("*.pkl"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        everything += path.read_bytes()
    for secret in (first_secret, created_secret):
        assert secret.encode() not in everything
    assert b"eyJ" not in everything  # no access token (a JWT) either
    with sqlite3.connect(app_data_dir / "llmlab.db") as db:
        refresh_tokens = db.execute(
            "SELECT COUNT(*) FROM refresh_tokens JOIN users ON users.id = refresh_tokens.user_id "
            "WHERE users.email = ?",
            (email,),
        ).fetchone()[0]
    assert refresh_tokens == 0  # the dashboard never had one


def test_a_copied_session_reference_stops_working_at_sign_out(
    browser: Browser, context: BrowserContext, app_url: str
) -> None:
    email, _ = _new_account(app_url)
    owner = context.new_page()
    _sign_in(owner, email)
    expect(owner.get_by_text(email)).to_be_visible()
    reference = owner.evaluate(f"localStorage.getItem('{SESSION_STORAGE_NAME}')")

    # Someone who got hold of the reference (a copied state file, say) opens the dashboard.
    thief_context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=app_url)
    thief_context.set_default_timeout(15_000)
    thief_context.add_init_script(
        f"window.localStorage.setItem('{SESSION_STORAGE_NAME}', {reference!r})"
    )
    try:
        thief = thief_context.new_page()
        thief.goto("/keys")
        expect(thief.get_by_text(email)).to_be_visible()  # live sessions are live

        owner.click("#user-menu")
        owner.get_by_text("Sign out").click()
        expect(owner.locator("#signin-submit")).to_be_visible()

        # The thief's next event (following a link) finds the session ended.
        thief.get_by_role("link", name="Overview").click()
        expect(thief.locator("#signin-submit")).to_be_visible()
        thief.goto("/")
        expect(thief.locator("#signin-submit")).to_be_visible()
    finally:
        thief_context.close()


def test_a_new_key_gets_the_scope_chosen_in_the_form(context: BrowserContext, app_url: str) -> None:
    email, _ = _new_account(app_url)
    page = context.new_page()
    _sign_in(page, email)
    expect(page.get_by_text(email)).to_be_visible()
    page.goto("/keys")
    page.fill("#key_name", "sdk in production")
    page.click("#key_name-submit")  # the form preselects ingest
    secret = page.locator("#created-secret")
    expect(secret).to_have_text(re.compile(r"^llmlab_\S{20,}$"))
    key = secret.inner_text()
    row = page.locator(".key-row", has_text="sdk in production")
    expect(row.locator(".key-scopes")).to_have_text("ingest")
    expect(page.locator(".key-row", has_text="default").locator(".key-scopes")).to_have_text(
        "admin"
    )
    api = Api(app_url)
    assert api.get(key, "/api/budgets").status_code == 200
    refused = api.get(key, "/api/costs/summary")
    assert refused.status_code == 403 and "'read' scope" in refused.json()["error"]
