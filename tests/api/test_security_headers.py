"""Every answer carries the security headers (the dashboard's pages too: see
tests/reliability/test_served_app.py), and the event socket checks the Origin."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from llmlab_app.api import create_app
from llmlab_app.api.origins import socket_origin_allowed

EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "content-security-policy": "frame-ancestors 'none'",
    "x-frame-options": "DENY",
}


def _has_security_headers(response: Any) -> bool:
    return all(response.headers.get(name) == value for name, value in EXPECTED.items())


def test_every_kind_of_answer_has_the_security_headers(client, account):
    answers = {
        "ok": client.get("/health"),
        "not found": client.get("/api/nothing-here"),
        "unauthenticated": client.get("/api/costs/summary"),
        "invalid": account.track({"model": "gpt-4o", "input_tokens": -1}),
        "too large": client.post(
            "/api/events/track",
            content=b"x" * 1_100_000,
            headers=account.key_headers | {"Content-Type": "application/json"},
        ),
        "streamed CSV": account.get("/api/events", format="csv"),
        "openapi": client.get("/openapi.json"),
    }
    assert [r.status_code for r in answers.values()] == [200, 404, 401, 422, 413, 200, 200]
    for what, response in answers.items():
        assert _has_security_headers(response), (what, dict(response.headers))
        assert "strict-transport-security" not in response.headers, what


@pytest.mark.parametrize(
    ("public_url", "hsts"),
    [
        ("https://llmlab.example.com", "max-age=63072000"),
        ("http://llmlab.internal:3000", None),
        (None, None),
    ],
)
def test_hsts_only_when_the_public_url_is_https(settings, engine, public_url, hsts):
    app = create_app(settings.model_copy(update={"public_url": public_url}), engine)
    with TestClient(app) as client:
        response = client.get("/health")
    assert response.headers.get("strict-transport-security") == hsts


def test_a_preflight_from_another_origin_gets_no_cors_answer_by_default(client):
    response = client.options(
        "/api/costs/summary",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers


def test_the_socket_accepts_its_own_origin_and_the_listed_ones_only(settings):
    environ = {"HTTP_HOST": "127.0.0.1:3000"}
    default = socket_origin_allowed(settings)
    assert default("http://127.0.0.1:3000", environ)
    assert not default("https://evil.example", environ)
    assert not default("http://127.0.0.1:3001", environ)
    assert not default("null", environ)

    configured = socket_origin_allowed(
        settings.model_copy(
            update={
                "cors_origins": ["https://app.example"],
                "public_url": "https://llmlab.example.com",
            }
        )
    )
    assert configured("https://app.example", environ)
    assert configured("https://llmlab.example.com", environ)  # behind a Host-rewriting proxy
    assert configured("https://LLMLab.example.com/", environ)
    assert not configured("https://evil.example", environ)
    # Behind a proxy that forwards the original host.
    forwarded = {"HTTP_HOST": "10.0.0.5:3000", "HTTP_X_FORWARDED_HOST": "dash.example.org"}
    assert default("https://dash.example.org", forwarded)
