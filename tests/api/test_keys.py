from __future__ import annotations


def test_created_key_is_shown_once_and_works(client, account):
    created = client.post("/api/keys", json={"name": "ci"}, headers=account.token_headers)
    assert created.status_code == 201
    secret = created.json()["data"]["key"]
    listed = client.get("/api/keys", headers=account.token_headers).json()["data"]
    assert {k["name"] for k in listed} == {"default", "ci"}
    assert all("key" not in k for k in listed)
    assert any(secret.startswith(k["prefix"]) for k in listed)
    summary = client.get("/api/costs/summary", headers={"X-API-Key": secret})
    assert summary.status_code == 200


def test_revoked_key_stops_working_at_once(client, account):
    key_id = client.get("/api/keys", headers=account.token_headers).json()["data"][0]["id"]
    assert account.get("/api/costs/summary").status_code == 200
    revoked = client.delete(f"/api/keys/{key_id}", headers=account.token_headers)
    assert revoked.status_code == 200
    after = account.get("/api/costs/summary")
    assert after.status_code == 401 and "revoked" in after.json()["error"]


def test_last_used_is_recorded(client, account):
    account.get("/api/costs/summary")
    keys = client.get("/api/keys", headers=account.token_headers).json()["data"]
    assert keys[0]["last_used_at"] is not None


def test_malformed_and_unknown_keys_are_401(client):
    for value in ("llmlab_nope", "llmlab_", "not-a-key"):
        response = client.get("/api/costs/summary", headers={"X-API-Key": value})
        assert response.status_code == 401
    assert client.get("/api/costs/summary").status_code == 401


def test_revoking_another_users_key_is_404(client, account, other_account):
    key_id = client.get("/api/keys", headers=account.token_headers).json()["data"][0]["id"]
    response = client.delete(f"/api/keys/{key_id}", headers=other_account.token_headers)
    assert response.status_code == 404
    assert account.get("/api/costs/summary").status_code == 200


def test_with_several_workers_a_revoked_key_fails_on_the_next_request(settings, engine):
    """With Redis (several workers) no worker trusts a key from memory: another worker's
    revocation, done here straight in the database, is refused on the next request."""
    from fastapi.testclient import TestClient
    from sqlalchemy import text

    from llmlab_app.api import create_app
    from tests.conftest import Account

    app = create_app(settings, engine)
    # As deployed with several workers; the limiter keeps its memory storage in this test.
    app.state.settings = settings.model_copy(update={"redis_url": "redis://127.0.0.1:6379/15"})
    with TestClient(app) as client:
        account = Account(client, "workers@example.com")
        assert account.get("/api/projects").status_code == 200
        with engine.begin() as connection:  # "another worker" revokes the key
            connection.execute(text("UPDATE api_keys SET revoked_at = created_at"))
        assert account.get("/api/projects").status_code == 401
