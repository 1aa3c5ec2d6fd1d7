"""The production build serves the API and the dashboard on one port."""

import httpx
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_app_serves_health_and_html(app_url: str, page: Page) -> None:
    health = httpx.get(f"{app_url}/health", timeout=5)
    assert health.status_code == 200
    assert health.json()["data"]["database"] == "ok"

    html = httpx.get(f"{app_url}/signin/", timeout=5, follow_redirects=True)
    assert html.status_code == 200
    assert "<title>" in html.text

    page.goto(f"{app_url}/")
    page.wait_for_url("**/signin**")  # protected page, no session yet
    expect(page).to_have_title("Sign in · LLMLab")
