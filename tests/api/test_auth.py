from __future__ import annotations

import time

from sqlalchemy import text

from tests.conftest import Account


def test_signup_returns_user_tokens_and_first_key_once(client, engine):
    response = client.post(
        "/api/auth/signup", json={"email": "New@Example.com", "password": "long enough"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True and body["error"] is None and body["timestamp"].endswith("Z")
    data = body["data"]
    assert data["user"]["email"] == "new@example.com"
    assert data["api_key"]["key"].startswith("llmlab_")
    assert data["token_type"] == "bearer" and data["expires_in"] == 15 * 60
    with engine.connect() as connection:
        stored_hash = connection.execute(text("SELECT password_hash FROM users")).scalar_one()
        key_hash = connection.execute(text("SELECT key_hash FROM api_keys")).scalar_one()
    assert stored_hash.startswith("$argon2id$")
    assert data["api_key"]["key"] not in key_hash and len(key_hash) == 64


def test_signup_rejects_bad_email_short_password_and_duplicates(client, account):
    bad_email = client.post("/api/auth/signup", json={"email": "nope", "password": "long enough"})
    assert bad_email.status_code == 422 and "email" in bad_email.json()["error"]
    short = client.post("/api/auth/signup", json={"email": "a@b.co", "password": "short"})
    assert short.status_code == 422 and "password" in short.json()["error"]
    again = client.post(
        "/api/auth/signup", json={"email": "ADA@example.com", "password": "long enough"}
    )
    assert again.status_code == 409 and again.json()["success"] is False


def test_login_gives_tokens_that_authenticate(client, account):
    response = client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )
    assert response.status_code == 200
    token = response.json()["data"]["access_token"]
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["data"]["email"] == account.email


def test_wrong_password_and_unknown_email_get_the_same_answer(client, account):
    wrong = client.post("/api/auth/login", json={"email": account.email, "password": "x" * 9})
    unknown = client.post("/api/auth/login", json={"email": "no@one.com", "password": "x" * 9})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"] == unknown.json()["error"]


def test_unknown_email_takes_as_long_as_a_wrong_password(client, account):
    def timed(email: str) -> float:
        start = time.perf_counter()
        client.post("/api/auth/login", json={"email": email, "password": "wrong password"})
        return time.perf_counter() - start

    wrong = min(timed(account.email) for _ in range(3))
    unknown = min(timed("nobody@example.com") for _ in range(3))
    # Both run one argon2 verification (~tens of ms); without the dummy hash the unknown
    # email would answer in well under a millisecond.
    assert unknown > wrong * 0.5


def test_refresh_rotates_and_a_used_token_is_rejected(client, account):
    first = client.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert first.status_code == 200
    new_refresh = first.json()["data"]["refresh_token"]
    reused = client.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert reused.status_code == 401
    # Reuse of a rotated token revokes the whole family, the new token included.
    after = client.post("/api/auth/refresh", json={"refresh_token": new_refresh})
    assert after.status_code == 401


def test_logout_revokes_the_refresh_token(client, account):
    assert client.post("/api/auth/logout", json={"refresh_token": account.refresh_token}).is_success
    again = client.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert again.status_code == 401


def test_forged_expired_and_alg_none_tokens_are_rejected(client, account):
    import datetime as dt

    import jwt

    now = dt.datetime.now(dt.UTC)
    claims = {
        "sub": account.user_id,
        "sid": account.session_id,
        "iat": now,
        "exp": now + dt.timedelta(hours=1),
        "type": "access",
    }
    forged = jwt.encode(claims, "another-secret-that-is-long-enough-123", algorithm="HS256")
    none_alg = jwt.encode(claims, None, algorithm="none")
    from tests.conftest import TEST_SECRET

    expired = jwt.encode(
        claims | {"exp": now - dt.timedelta(seconds=5)}, TEST_SECRET, algorithm="HS256"
    )
    for token in (forged, none_alg, expired, "garbage"):
        response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        assert response.json()["success"] is False
    assert (
        "expired"
        in client.get("/api/auth/me", headers={"Authorization": f"Bearer {expired}"}).json()[
            "error"
        ]
    )


def test_key_routes_need_a_login_token_not_an_api_key(client, account):
    response = client.get("/api/keys", headers=account.key_headers)
    assert response.status_code == 401


def test_login_is_rate_limited_per_ip(client, settings, engine):
    from fastapi.testclient import TestClient

    from llmlab_app.api import create_app

    limited = create_app(settings.model_copy(update={"auth_rate_limit": "3/minute"}), engine)
    with TestClient(limited) as c:
        codes = [
            c.post("/api/auth/login", json={"email": "a@b.co", "password": "whatever1"}).status_code
            for _ in range(4)
        ]
        assert codes == [401, 401, 401, 429]


def test_account_helper_is_isolated_per_test(account: Account):
    assert account.api_key.startswith("llmlab_")
