"""Access tokens belong to a sign-in session: they last 15 minutes, die with the session
(logout, refresh-token reuse, password change, operator reset) at once, even when the session
was just checked and cached, and creating an API key needs a recent sign-in."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import text

from tests.conftest import Account, session_id_of, stored_id

REDIS_URL = os.environ.get("LLMLAB_TEST_REDIS_URL")


def _login(client: Any, account: Account, password: str | None = None) -> dict[str, Any]:
    response = client.post(
        "/api/auth/login", json={"email": account.email, "password": password or account.password}
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _create_key(client: Any, token: str, **body: Any) -> Any:
    return client.post("/api/keys", json={"name": "k", **body}, headers=_bearer(token))


def test_access_tokens_last_15_minutes_and_name_their_session(client, account):
    claims = jwt.decode(account.access_token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert claims["sid"] == session_id_of(account.access_token)


def test_logout_ends_the_access_token_at_once(client, account):
    pair = _login(client, account)
    # Checked (and cached) just before the logout: the cache must not keep it alive.
    assert client.get("/api/auth/me", headers=_bearer(pair["access_token"])).status_code == 200
    assert client.post("/api/auth/logout", json={"refresh_token": pair["refresh_token"]}).is_success
    me = client.get("/api/auth/me", headers=_bearer(pair["access_token"]))
    assert me.status_code == 401 and "session ended" in me.json()["error"]
    created = _create_key(client, pair["access_token"])
    assert created.status_code == 401 and created.json()["success"] is False
    # The account's other session (from sign-up) is untouched.
    assert client.get("/api/auth/me", headers=account.token_headers).status_code == 200


def test_refresh_token_reuse_ends_the_sessions_access_tokens(client, account):
    old_access = account.access_token
    assert client.get("/api/auth/me", headers=_bearer(old_access)).status_code == 200
    rotated = client.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    new_access = rotated.json()["data"]["access_token"]
    assert client.get("/api/auth/me", headers=_bearer(new_access)).status_code == 200

    reused = client.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert reused.status_code == 401
    for token in (old_access, new_access):
        assert client.get("/api/auth/me", headers=_bearer(token)).status_code == 401
        assert _create_key(client, token).status_code == 401


def test_creating_a_key_needs_a_sign_in_within_15_minutes_and_refreshing_does_not_count(
    client, account, engine
):
    assert _create_key(client, account.access_token).status_code == 201
    sid = stored_id(engine, account.session_id)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE auth_sessions SET signed_in_at = :at WHERE id = :id"),
            {"at": _db_time(engine, timedelta(minutes=16)), "id": sid},
        )
    _forget_cached_sessions()
    refreshed = client.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    access = refreshed.json()["data"]["access_token"]
    assert client.get("/api/auth/me", headers=_bearer(access)).status_code == 200  # still valid
    stale = _create_key(client, access)
    assert stale.status_code == 401
    assert "sign in again" in stale.json()["error"]
    assert _create_key(client, _login(client, account)["access_token"]).status_code == 201


def test_password_change_ends_every_other_session_and_keeps_this_one(client, account):
    mine, other = _login(client, account), _login(client, account)
    assert client.get("/api/auth/me", headers=_bearer(other["access_token"])).status_code == 200
    changed = client.put(
        "/api/auth/password",
        json={"current_password": account.password, "new_password": "a new long password"},
        headers=_bearer(mine["access_token"]),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"] == {"changed": True, "sessions_ended": 2}  # sign-up's + other

    assert client.get("/api/auth/me", headers=_bearer(other["access_token"])).status_code == 401
    assert client.get("/api/auth/me", headers=account.token_headers).status_code == 401
    refused = client.post("/api/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert refused.status_code == 401
    assert client.get("/api/auth/me", headers=_bearer(mine["access_token"])).status_code == 200

    old = client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )
    assert old.status_code == 401
    _login(client, account, "a new long password")
    # API keys are credentials of their own: a password change leaves them working.
    assert account.get("/api/projects").status_code == 200


def test_password_change_checks_the_current_password_and_the_new_one(client, account):
    wrong = client.put(
        "/api/auth/password",
        json={"current_password": "not my password", "new_password": "a new long password"},
        headers=account.token_headers,
    )
    assert wrong.status_code == 401 and "current_password" in wrong.json()["error"]
    short = client.put(
        "/api/auth/password",
        json={"current_password": account.password, "new_password": "short"},
        headers=account.token_headers,
    )
    assert short.status_code == 422 and "new_password" in short.json()["error"]
    with_a_key = client.put(
        "/api/auth/password",
        json={"current_password": account.password, "new_password": "a new long password"},
        headers=account.key_headers,
    )
    assert with_a_key.status_code == 401
    _login(client, account)  # unchanged


def test_an_expired_session_refuses_its_access_tokens(client, account, engine):
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE auth_sessions SET expires_at = :at"),
            {"at": _db_time(engine, timedelta(seconds=1))},
        )
    _forget_cached_sessions()
    me = client.get("/api/auth/me", headers=account.token_headers)
    assert me.status_code == 401 and "expired" in me.json()["error"]


def test_sessions_are_stored_without_secrets(client, account, engine):
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT kind, token_hash FROM auth_sessions")).all()
    assert rows == [("api", None)]  # API sessions need no secret of their own


@pytest.mark.skipif(not REDIS_URL, reason="set LLMLAB_TEST_REDIS_URL (CI does) for the Redis test")
def test_with_two_servers_a_logout_in_one_holds_at_once_in_the_other(tmp_path, engine):
    """Two API processes sharing Redis: the second checked (and cached) the session a moment
    before the first one ended it, and refuses its access token on the next request."""
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
        first, second = (s.base_url for s in servers)
        body = {"email": "two@example.com", "password": "long enough"}
        pair = httpx.post(f"{first}/api/auth/signup", json=body).json()["data"]
        headers = _bearer(pair["access_token"])
        assert httpx.get(f"{second}/api/auth/me", headers=headers).status_code == 200
        logout = httpx.post(
            f"{first}/api/auth/logout", json={"refresh_token": pair["refresh_token"]}
        )
        assert logout.status_code == 200
        assert httpx.get(f"{second}/api/auth/me", headers=headers).status_code == 401
    finally:
        for server in servers:
            server.stop()


def _db_time(engine: Any, ago: timedelta) -> Any:
    from llmlab_app.db.models import utcnow

    moment = utcnow() - ago
    # SQLite keeps naive UTC text (db/types.UTCDateTime); PostgreSQL an aware timestamp.
    return moment.replace(tzinfo=None) if engine.dialect.name == "sqlite" else moment


def _forget_cached_sessions() -> None:
    """What another process changed in the database: this one's 5 s cache would hide it."""
    from llmlab_app.services.sessions import recent_sessions

    recent_sessions.clear()
