"""Sign-in limits live in the auth service, so the REST API and the dashboard share them:
attempts per client address, and failed passwords per email (known or not), after which even
the right password gets 429 with Retry-After."""

from __future__ import annotations

import os
from typing import Any

import pytest

from llmlab_app.services.sign_in_limits import FAILURE_WINDOW_MINUTES, FAILURES_PER_EMAIL

REDIS_URL = os.environ.get("LLMLAB_TEST_REDIS_URL")


def _login(client: Any, email: str, password: str) -> Any:
    return client.post("/api/auth/login", json={"email": email, "password": password})


def test_after_ten_failures_even_the_right_password_gets_429(client, account):
    codes = [_login(client, account.email, f"wrong {i}!!").status_code for i in range(10)]
    assert codes == [401] * FAILURES_PER_EMAIL
    refused = _login(client, account.email, account.password)
    assert refused.status_code == 429
    body = refused.json()
    assert body["success"] is False and body["data"] is None
    assert body["error"] == "too many failed sign-ins for this email; try again in 15 minutes"
    retry_after = int(refused.headers["Retry-After"])
    assert FAILURE_WINDOW_MINUTES * 60 - 30 <= retry_after <= FAILURE_WINDOW_MINUTES * 60
    # The limit is the email's, not the address's: another account signs in.
    other = client.post("/api/auth/signup", json={"email": "b@example.com", "password": "x" * 9})
    assert other.status_code == 201
    assert _login(client, "b@example.com", "x" * 9).status_code == 200


def test_an_unknown_email_is_limited_the_same_way(client, account):
    for email in (account.email, "nobody@example.com"):
        for i in range(FAILURES_PER_EMAIL):
            assert _login(client, email, f"wrong {i}!!").status_code == 401
    known = _login(client, account.email, "wrong again")
    unknown = _login(client, "nobody@example.com", "wrong again")
    assert known.status_code == unknown.status_code == 429
    assert known.json()["error"] == unknown.json()["error"]


def test_the_email_is_counted_however_it_is_written(client, account):
    for i in range(FAILURES_PER_EMAIL):
        _login(client, f"  {account.email.upper()} ", f"wrong {i}!!")
    assert _login(client, account.email, account.password).status_code == 429


def test_a_wrong_current_password_counts_as_a_failed_sign_in(client, account):
    for i in range(FAILURES_PER_EMAIL):
        response = client.put(
            "/api/auth/password",
            json={"current_password": f"wrong {i}!!", "new_password": "a new long password"},
            headers=account.token_headers,
        )
        assert response.status_code == 401
    assert _login(client, account.email, account.password).status_code == 429


def test_sign_ups_and_sign_ins_are_limited_per_address(settings, engine):
    from fastapi.testclient import TestClient

    from llmlab_app.api import create_app

    limited = create_app(settings.model_copy(update={"auth_rate_limit": "3/minute"}), engine)
    with TestClient(limited) as c:
        codes = [
            c.post(
                "/api/auth/signup", json={"email": f"s{i}@example.com", "password": "long enough"}
            ).status_code
            for i in range(3)
        ]
        refused = _login(c, "s0@example.com", "long enough")
    assert codes == [201, 201, 201]
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_the_dashboard_counts_where_the_api_does(tmp_path, monkeypatch, engine):
    """In the served app the REST API is the process's own app (`get_settings()`), and the
    dashboard's forms use `process_sign_in_limits()`: one and the same counter."""
    from llmlab_app import config
    from llmlab_app.api import create_app
    from llmlab_app.services.sign_in_limits import process_sign_in_limits

    monkeypatch.setenv("LLMLAB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LLMLAB_JWT_SECRET", "s" * 40)
    config.get_settings.cache_clear()
    process_sign_in_limits.cache_clear()
    try:
        app = create_app(config.get_settings(), engine)
        assert app.state.sign_in_limits is process_sign_in_limits()
    finally:
        config.get_settings.cache_clear()
        process_sign_in_limits.cache_clear()


def test_dashboard_sign_ins_and_api_sign_ins_share_the_count(client, app, account, session):
    """Five failures through the dashboard's service call and five through the API lock the
    email for both."""
    from llmlab_app.errors import AuthenticationFailed, RateLimited
    from llmlab_app.services import auth

    def dashboard_login(password: str) -> Any:
        return auth.dashboard_login(
            session,
            email=account.email,
            password=password,
            settings=app.state.settings,
            limits=app.state.sign_in_limits,
            address="203.0.113.9",
        )

    for i in range(5):
        with pytest.raises(AuthenticationFailed):
            dashboard_login(f"wrong {i}!!")
        assert _login(client, account.email, f"wrong {i}!!").status_code == 401
    assert _login(client, account.email, account.password).status_code == 429
    with pytest.raises(RateLimited) as refused:
        dashboard_login(account.password)
    assert 0 < (refused.value.retry_after or 0) <= FAILURE_WINDOW_MINUTES * 60


@pytest.mark.skipif(not REDIS_URL, reason="set LLMLAB_TEST_REDIS_URL (CI does) for the Redis test")
def test_with_two_servers_the_failures_add_up_through_redis(tmp_path, engine):
    import httpx
    import redis

    from tests.live_server import start_api_server

    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        "LLMLAB_REDIS_URL": REDIS_URL,
        "LLMLAB_DATABASE_URL": engine.url.render_as_string(hide_password=False),
    }
    servers = [start_api_server(tmp_path / f"s{i}", env) for i in range(2)]
    try:
        urls = [s.base_url for s in servers]
        body = {"email": "redis@example.com", "password": "long enough"}
        assert httpx.post(f"{urls[0]}/api/auth/signup", json=body).status_code == 201
        for i in range(FAILURES_PER_EMAIL):
            wrong = body | {"password": f"wrong {i}!!"}
            assert httpx.post(f"{urls[i % 2]}/api/auth/login", json=wrong).status_code == 401
        for url in urls:
            assert httpx.post(f"{url}/api/auth/login", json=body).status_code == 429
    finally:
        for server in servers:
            server.stop()
