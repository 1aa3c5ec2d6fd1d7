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


def test_api_docs_render_with_every_non_local_request_blocked(app_url: str, page: Page) -> None:
    """Swagger UI and ReDoc load their assets from the app itself, so /docs works offline."""
    outside: list[str] = []

    def only_local(route, request) -> None:  # type: ignore[no-untyped-def]
        if request.url.startswith(app_url):
            route.continue_()
        else:
            outside.append(request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(f"{app_url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("LLMLab API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert outside == []
    page.goto(f"{app_url}/redoc")
    expect(page.locator("h1")).to_contain_text("LLMLab API")
    # ReDoc's only outside request is its decorative "powered by" logo.
    assert [url for url in outside if not url.endswith("/logo-mini.svg")] == []
