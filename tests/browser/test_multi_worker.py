"""Several app workers behind one port, sharing Redis (CI sets LLMLAB_TEST_REDIS_URL, and the
session's app then runs with 3 workers): requests spread over the workers, the per-key rate
limit stays exact across them, and a signed-in dashboard session survives reloads."""

from __future__ import annotations

import os
import uuid

import httpx
import pytest
from app_server import MULTI_WORKER_RATE_LIMIT, MULTI_WORKERS, Api
from playwright.sync_api import Browser, expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.environ.get("LLMLAB_TEST_REDIS_URL"),
        reason="needs LLMLAB_TEST_REDIS_URL (CI sets it): the app runs several workers then",
    ),
]

PASSWORD = "correct-horse-battery"


def _fresh_connection_get(url: str, **kwargs: object) -> httpx.Response:
    # A new connection each time, so the kernel hands it to any of the workers.
    with httpx.Client(timeout=15) as client:
        return client.get(url, **kwargs)  # type: ignore[arg-type]


def test_requests_are_served_by_several_workers(app_url: str) -> None:
    pids = {
        _fresh_connection_get(f"{app_url}/health").json()["data"]["worker_pid"] for _ in range(60)
    }
    assert 2 <= len(pids) <= MULTI_WORKERS


def test_the_per_key_rate_limit_is_exact_across_workers(app_url: str) -> None:
    signed_up = Api(app_url).signup(f"limit-{uuid.uuid4().hex[:8]}@example.com", PASSWORD)
    headers = {"X-API-Key": signed_up["api_key"]["key"]}
    codes = [
        _fresh_connection_get(f"{app_url}/api/projects", headers=headers).status_code
        for _ in range(MULTI_WORKER_RATE_LIMIT + 5)
    ]
    assert codes.count(200) == MULTI_WORKER_RATE_LIMIT
    assert codes[MULTI_WORKER_RATE_LIMIT:] == [429] * 5


def test_a_signed_in_session_survives_reloads(browser: Browser, app_url: str) -> None:
    email = f"reload-{uuid.uuid4().hex[:8]}@example.com"
    Api(app_url).signup(email, PASSWORD)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=app_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/signin")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("#signin-submit")
        expect(page.get_by_text(email)).to_be_visible()
        for _ in range(8):
            page.reload()
            # A worker that has not served this tab before loads the session from Redis.
            expect(page.get_by_text(email)).to_be_visible(timeout=30_000)
            assert "/signin" not in page.url
    finally:
        context.close()
