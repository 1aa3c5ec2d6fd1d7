"""API key scopes: `ingest` < `read` < `admin`. Every operation of the OpenAPI schema is
walked: one that takes API keys must declare the scope a key needs, and a key below it gets
403 naming that scope; account routes take signed-in requests only."""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.conftest import Account

SCOPES = ("ingest", "read", "admin")
# Operations that need no credentials at all; anything else must declare what it takes.
PUBLIC = {
    ("get", "/health"),
    ("get", "/ready"),
    ("post", "/api/auth/signup"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/refresh"),
    ("post", "/api/auth/logout"),
    ("get", "/api/prices"),
}
SIGNED_IN_ONLY = {"HTTPBearer": []}
# Account routes: a person signs in for these, no key may (prefixes, and one exact operation).
SIGNED_IN_ONLY_PATHS = (
    "/api/keys",
    "/api/auth/password",
    "/api/webhooks/signing-secret",
    "/api/invitations/accept",
)
SIGNED_IN_ONLY_OPERATIONS = {("delete", "/api/auth/me")}


def _key(account: Account, *scopes: str) -> str:
    created = account.client.post(
        "/api/keys",
        json={"name": "-".join(scopes), "scopes": list(scopes)},
        headers=account.token_headers,
    )
    assert created.status_code == 201, created.text
    return created.json()["data"]["key"]


def _call(client: Any, method: str, path: str, headers: dict[str, str]) -> Any:
    """The operation with made-up path ids and an empty body: enough to get past (or be
    stopped by) authentication, which FastAPI runs before it validates the input."""
    url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
    body = {"json": {}} if method in ("post", "put", "patch") else {}
    return client.request(method.upper(), url, headers=headers, **body)


def test_every_operation_that_takes_keys_declares_its_scope_and_enforces_it(client, account):
    keys = {scope: _key(account, scope) for scope in SCOPES}
    schema = client.get("/openapi.json").json()
    assert set(schema["components"]["securitySchemes"]) == {"HTTPBearer", "APIKeyHeader"}
    checked = {"public": 0, "signed in only": 0, **dict.fromkeys(SCOPES, 0)}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            security = operation.get("security")
            if security is None:
                assert (method, path) in PUBLIC, f"{where} declares no credentials"
                assert _call(client, method, path, {}).status_code != 401, where
                checked["public"] += 1
                continue
            account_route = (
                path.startswith(SIGNED_IN_ONLY_PATHS) or (method, path) in SIGNED_IN_ONLY_OPERATIONS
            )
            assert (security == [SIGNED_IN_ONLY]) == account_route, (where, security)
            if account_route:
                for key in keys.values():
                    refused = _call(client, method, path, {"X-API-Key": key})
                    assert refused.status_code == 401, where
                assert _call(client, method, path, account.token_headers).status_code != 401
                checked["signed in only"] += 1
                continue
            (needed,) = security[0]["HTTPBearer"]
            assert needed in SCOPES, f"{where} declares no scope"
            assert security == [{"HTTPBearer": [needed]}, {"APIKeyHeader": [needed]}], where
            for scope, key in keys.items():
                response = _call(client, method, path, {"X-API-Key": key})
                if SCOPES.index(scope) < SCOPES.index(needed):
                    assert response.status_code == 403, (where, scope)
                    body = response.json()
                    assert body["success"] is False and body["data"] is None
                    assert f"'{needed}' scope" in body["error"], body["error"]
                else:
                    assert response.status_code not in (401, 403), (where, scope, response.text)
            token = _call(client, method, path, account.token_headers)
            assert token.status_code not in (401, 403), where
            checked[needed] += 1
    assert checked["signed in only"] >= 4  # keys x3, password
    assert checked["ingest"] >= 3 and checked["read"] >= 8 and checked["admin"] >= 6, checked


def test_a_key_made_without_scopes_is_admin_and_the_list_shows_scopes(client, account):
    plain = client.post("/api/keys", json={"name": "plain"}, headers=account.token_headers)
    assert plain.json()["data"]["scopes"] == ["admin"]
    both = client.post(
        "/api/keys",
        json={"name": "both", "scopes": ["read", "ingest", "read"]},
        headers=account.token_headers,
    )
    assert both.json()["data"]["scopes"] == ["ingest", "read"]
    listed = client.get("/api/keys", headers=account.token_headers).json()["data"]
    assert {k["name"]: k["scopes"] for k in listed} == {
        "default": ["admin"],  # the sign-up key
        "plain": ["admin"],
        "both": ["ingest", "read"],
    }


def test_unknown_or_no_scopes_are_refused_naming_the_field(client, account):
    for scopes in ([], ["root"], "admin"):
        response = client.post(
            "/api/keys", json={"name": "x", "scopes": scopes}, headers=account.token_headers
        )
        assert response.status_code == 422, scopes
        assert response.json()["error"].startswith("scopes"), response.json()["error"]


def test_an_ingest_key_tracks_and_sees_budget_status_but_nothing_else(client, account):
    budget = {"name": "cap", "amount_usd": "5", "period": "monthly", "hard_limit": True}
    created = client.post(
        "/api/budgets",
        json=budget | {"webhook_url": "https://hooks.slack.com/services/T0/B0/secret-part"},
        headers=account.token_headers,
    )
    assert created.status_code == 201
    ingest, read, admin = (_key(account, scope) for scope in SCOPES)

    tracked = client.post(
        "/api/events/track",
        json={"model": "gpt-4o", "input_tokens": 10},
        headers={"X-API-Key": ingest},
    )
    assert tracked.status_code == 200
    assert tracked.json()["data"]["budgets"][0]["name"] == "cap"
    for key, shown in (
        (ingest, None),
        (read, None),
        (admin, created.json()["data"]["webhook_url"]),
    ):
        (listed,) = client.get("/api/budgets", headers={"X-API-Key": key}).json()["data"]
        assert listed["hard_limit"] is True and listed["webhook_url"] == shown
    summary = client.get("/api/costs/summary", headers={"X-API-Key": ingest})
    assert summary.status_code == 403
    assert "'read' scope" in summary.json()["error"] and "it has: ingest" in summary.json()["error"]
    csv = client.get("/api/events", params={"format": "csv"}, headers={"X-API-Key": read})
    assert csv.status_code == 200
    deleted = client.delete(
        f"/api/budgets/{created.json()['data']['id']}", headers={"X-API-Key": read}
    )
    assert deleted.status_code == 403 and "'admin' scope" in deleted.json()["error"]
