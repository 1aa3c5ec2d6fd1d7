from __future__ import annotations

import os

import pytest

from tests.conftest import Account


def _is_envelope(body: dict) -> bool:
    return set(body) == {"success", "data", "error", "timestamp"}


def test_health_checks_the_database(client):
    response = client.get("/health")
    body = response.json()
    assert response.status_code == 200 and _is_envelope(body)
    assert body["data"]["status"] == "ok" and body["data"]["database"] == "ok"


def test_errors_wear_the_envelope(client, account):
    cases = [
        client.get("/api/nothing-here"),
        client.put("/health"),
        client.post(
            "/api/events/track",
            content=b"{not json",
            headers=account.key_headers | {"Content-Type": "application/json"},
        ),
        client.post(
            "/api/events/track",
            json={"model": "gpt-4o", "input_tokens": "many"},
            headers=account.key_headers,
        ),
        client.get("/api/costs/summary"),
    ]
    assert [r.status_code for r in cases] == [404, 405, 422, 422, 401]
    for response in cases:
        body = response.json()
        assert _is_envelope(body) and body["success"] is False and body["error"]


def test_bodies_over_one_megabyte_are_413(client, account):
    huge = b'{"model": "gpt-4o", "metadata": {"x": "' + b"a" * 1_100_000 + b'"}}'
    response = client.post(
        "/api/events/track",
        content=huge,
        headers=account.key_headers | {"Content-Type": "application/json"},
    )
    assert response.status_code == 413 and response.json()["success"] is False


def test_chunked_bodies_over_one_megabyte_are_413(client, account):
    def chunks():
        yield b'{"model": "gpt-4o", "metadata": {"x": "'
        for _ in range(11):
            yield b"a" * 100_000
        yield b'"}}'

    response = client.post(
        "/api/events/track",
        content=chunks(),
        headers=account.key_headers | {"Content-Type": "application/json"},
    )
    assert response.status_code == 413 and response.json()["success"] is False
    small = client.post(
        "/api/events/track",
        content=iter([b'{"model": "gpt-4o", ', b'"input_tokens": 5}']),
        headers=account.key_headers | {"Content-Type": "application/json"},
    )
    assert small.status_code == 200, small.text


def test_unexpected_errors_are_a_500_envelope(settings, engine):
    from fastapi.testclient import TestClient

    from llmlab_app.api import create_app

    app = create_app(settings, engine)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("kaboom")

    with TestClient(app, raise_server_exceptions=False) as c:
        response = c.get("/boom")
    assert response.status_code == 500
    assert response.json()["error"] == "internal server error"


def test_prices_lookup_and_unknown_model(client):
    prices = client.get("/api/prices", params={"model": "gpt-4o-2024-08-06"}).json()["data"]
    assert prices["provider"] == "openai" and prices["input_per_mtok"] == "2.5"
    assert prices["cache_read_per_mtok"] == "1.25" and prices["output_per_mtok"] == "10"
    unknown = client.get("/api/prices", params={"model": "no-such-model-xyz"})
    assert unknown.status_code == 404 and "no-such-model-xyz" in unknown.json()["error"]


def test_openapi_documents_the_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/events/track",
        "/api/costs/summary",
        "/api/budgets",
        "/api/auth/signup",
        "/health",
    ):
        assert path in paths
    assert client.get("/docs").status_code == 200


def test_credentials_in_either_header_form(client, account):
    key = account.api_key
    for headers in (
        {"Authorization": f"Bearer {key}"},
        {"Authorization": f"bearer   {key}"},
        {"X-API-Key": key},
        {"X-API-Key": key, "Authorization": "Bearer not-a-token"},
    ):
        assert client.get("/api/costs/summary", headers=headers).status_code == 200, headers
    for headers in (
        {},
        {"Authorization": "Bearer "},
        {"Authorization": f"Basic {key}"},
        {"Authorization": key},
    ):
        response = client.get("/api/costs/summary", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["error"].startswith("missing credentials")


def test_api_key_rate_limit_with_headers(settings, engine):
    from fastapi.testclient import TestClient

    from llmlab_app.api import create_app

    app = create_app(settings.model_copy(update={"rate_limit": "5/minute"}), engine)
    with TestClient(app) as c:
        account = Account(c, "limited@example.com")
        responses = [account.get("/api/costs/summary") for _ in range(6)]
    assert [r.status_code for r in responses] == [200] * 5 + [429]
    assert responses[0].headers["X-RateLimit-Limit"] == "5"
    assert responses[4].headers["X-RateLimit-Remaining"] == "0"
    assert int(responses[5].headers["Retry-After"]) >= 1
    assert responses[5].json()["success"] is False


def test_cors_allowlist(settings, engine):
    from fastapi.testclient import TestClient

    from llmlab_app.api import create_app

    app = create_app(settings.model_copy(update={"cors_origins": ["https://app.example"]}), engine)
    with TestClient(app) as c:
        allowed = c.options(
            "/api/costs/summary",
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
        )
        other = c.options(
            "/api/costs/summary",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
    assert allowed.headers.get("access-control-allow-origin") == "https://app.example"
    assert "access-control-allow-origin" not in other.headers


REDIS_URL = os.environ.get("LLMLAB_TEST_REDIS_URL")


@pytest.mark.skipif(not REDIS_URL, reason="set LLMLAB_TEST_REDIS_URL (CI does) for the Redis test")
def test_rate_limit_is_shared_by_two_server_processes_through_redis(tmp_path, engine):
    import httpx
    import redis

    from tests.live_server import start_api_server

    redis.Redis.from_url(REDIS_URL).flushdb()
    db_url = engine.url.render_as_string(hide_password=False)
    env = {
        "LLMLAB_REDIS_URL": REDIS_URL,
        "LLMLAB_RATE_LIMIT": "10/minute",
        "LLMLAB_DATABASE_URL": db_url,
    }
    servers = [start_api_server(tmp_path / f"s{i}", env) for i in range(2)]
    try:
        first, second = (s.base_url for s in servers)
        signup = httpx.post(
            f"{first}/api/auth/signup", json={"email": "r@example.com", "password": "long enough"}
        )
        key = signup.json()["data"]["api_key"]["key"]
        headers = {"X-API-Key": key}
        codes = []
        for i in range(14):
            base = first if i % 2 == 0 else second
            codes.append(httpx.get(f"{base}/api/projects", headers=headers).status_code)
        assert codes.count(200) == 10 and codes.count(429) == 4
    finally:
        for server in servers:
            server.stop()


def test_price_overrides_win_for_new_events(account):
    body = {
        "provider": "selfhost",
        "model": "llama-house",
        "input_per_mtok": "0.5",
        "output_per_mtok": "1.5",
    }
    created = account.client.post("/api/prices/overrides", json=body, headers=account.key_headers)
    assert created.status_code == 201, created.text
    event = account.track(
        {"model": "llama-house", "input_tokens": 2_000_000, "output_tokens": 1_000_000}
    )
    assert event.json()["data"]["events"][0]["cost_usd"] == "2.5"
    listed = account.get("/api/prices/overrides").json()["data"]
    assert [o["model"] for o in listed] == ["llama-house"]
    again = account.client.post("/api/prices/overrides", json=body, headers=account.key_headers)
    assert again.status_code == 409
    override_id = listed[0]["id"]
    deleted = account.client.delete(
        f"/api/prices/overrides/{override_id}", headers=account.key_headers
    )
    assert deleted.status_code == 200
    assert account.track({"model": "llama-house", "input_tokens": 1}).json()["data"]["events"][0][
        "unpriced"
    ]
