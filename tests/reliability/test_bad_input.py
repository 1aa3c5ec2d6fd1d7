"""The bad-input catalogue: every case gets the right 4xx, a clear message in the envelope, and
stores nothing."""

from __future__ import annotations

import datetime as dt
import uuid

import jwt
import pytest
from sqlalchemy import text

from tests.conftest import TEST_SECRET

GOOD = {"model": "gpt-4o", "input_tokens": 10, "output_tokens": 5}

TRACK_CASES = {
    "malformed json": (b'{"model": "gpt-4o", ', 422, "JSON"),
    "not an object": (b"[1, 2, 3]", 422, ""),
    "wrong type": ({"model": "gpt-4o", "input_tokens": "lots"}, 422, "input_tokens"),
    "float tokens": ({"model": "gpt-4o", "input_tokens": 1.5}, 422, "input_tokens"),
    "negative tokens": ({"model": "gpt-4o", "output_tokens": -3}, 422, "output_tokens"),
    "absurd tokens": ({"model": "gpt-4o", "input_tokens": 10**9 + 1}, 422, "input_tokens"),
    "cache above input": (
        {"model": "gpt-4o", "input_tokens": 5, "cache_read_tokens": 9},
        422,
        "cache",
    ),
    "reasoning above output": (
        {"model": "gpt-4o", "output_tokens": 1, "reasoning_tokens": 2},
        422,
        "reasoning",
    ),
    "unknown status": ({**GOOD, "status": "maybe"}, 422, "status"),
    "missing model": ({"input_tokens": 1}, 422, "model"),
    "empty model": ({"model": "  ", "input_tokens": 1}, 422, "model"),
    "very long model": ({"model": "m" * 201, "input_tokens": 1}, 422, "model"),
    "future timestamp": ({**GOOD, "timestamp": "2999-01-01T00:00:00Z"}, 422, "future"),
    "ancient timestamp": ({**GOOD, "timestamp": "1970-01-01T00:00:00Z"}, 422, "2015"),
    "bad timestamp": ({**GOOD, "timestamp": "yesterday"}, 422, "timestamp"),
    "control characters": ({"model": "gpt-4o\x07", "input_tokens": 1}, 422, "control"),
    "negative cost": ({**GOOD, "cost_usd": "-1"}, 422, "cost_usd"),
    "nan cost": ({**GOOD, "cost_usd": "NaN"}, 422, "cost_usd"),
    "tags not strings": ({**GOOD, "tags": [1, {"a": 2}]}, 422, "tags"),
    "too many tags": ({**GOOD, "tags": [str(i) for i in range(21)]}, 422, "tags"),
    "metadata not an object": ({**GOOD, "metadata": [1]}, 422, "metadata"),
    "1,001 events": ({"events": [GOOD] * 1001}, 422, "events"),
    "empty batch": ({"events": []}, 422, "events"),
    "10 MB body": (
        {"events": [GOOD | {"end_user": "x" * 150}] * 1000, "pad": "y" * 10_000_000},
        413,
        "larger",
    ),
}


def _stored(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT COUNT(*) FROM cost_events")).scalar_one()


@pytest.mark.parametrize("case", list(TRACK_CASES), ids=list(TRACK_CASES))
def test_bad_events_are_refused_clearly_and_store_nothing(case, account, engine):
    body, status, fragment = TRACK_CASES[case]
    kwargs = {"content": body} if isinstance(body, bytes) else {"json": body}
    response = account.client.post(
        "/api/events/track",
        headers=account.key_headers | {"Content-Type": "application/json"},
        **kwargs,
    )
    assert response.status_code == status, response.text[:300]
    envelope = response.json()
    assert envelope["success"] is False and envelope["data"] is None
    assert fragment.lower() in envelope["error"].lower(), envelope["error"]
    assert _stored(engine) == 0


def _token(claims: dict, secret: str | None = TEST_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def test_bad_credentials_catalogue(client, account):
    now = dt.datetime.now(dt.UTC)
    claims = {
        "sub": account.user_id,
        "sid": account.session_id,
        "iat": now,
        "exp": now + dt.timedelta(hours=1),
        "type": "access",
    }
    key_id = client.get("/api/keys", headers=account.token_headers).json()["data"][0]["id"]
    revoked_key = account.api_key
    client.delete(f"/api/keys/{key_id}", headers=account.token_headers)
    signed_out = client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    ).json()["data"]
    client.post("/api/auth/logout", json={"refresh_token": signed_out["refresh_token"]})
    cases = {
        "missing": {},
        "empty bearer": {"Authorization": "Bearer "},
        "not bearer": {"Authorization": f"Basic {account.access_token}"},
        "expired jwt": {
            "Authorization": "Bearer " + _token(claims | {"exp": now - dt.timedelta(minutes=1)})
        },
        "forged jwt": {"Authorization": "Bearer " + _token(claims, "x" * 40)},
        "alg none jwt": {"Authorization": "Bearer " + _token(claims, None, "none")},
        "jwt without exp": {
            "Authorization": "Bearer " + _token({k: v for k, v in claims.items() if k != "exp"})
        },
        "jwt of a refresh token": {"Authorization": f"Bearer {account.refresh_token}"},
        "jwt with bad sub": {"Authorization": "Bearer " + _token(claims | {"sub": "not-a-uuid"})},
        "jwt without a session": {
            "Authorization": "Bearer " + _token({k: v for k, v in claims.items() if k != "sid"})
        },
        "jwt of an unknown session": {
            "Authorization": "Bearer " + _token(claims | {"sid": str(uuid.uuid4())})
        },
        "jwt of another user's session": {
            "Authorization": "Bearer " + _token(claims | {"sub": str(uuid.uuid4())})
        },
        "jwt of a signed-out session": {"Authorization": f"Bearer {signed_out['access_token']}"},
        "revoked key": {"Authorization": f"Bearer {revoked_key}"},
        "revoked key header": {"X-API-Key": revoked_key},
        "malformed key": {"X-API-Key": "llmlab_" + "!" * 10},
    }
    for name, headers in cases.items():
        response = client.get("/api/costs/summary", headers=headers)
        assert response.status_code == 401, name
        assert response.json()["success"] is False and response.json()["error"], name


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", "/api/budgets/not-a-uuid"),
        ("delete", "/api/budgets/123"),
        ("get", "/api/budgets/%27%3B--/alerts"),
    ],
)
def test_invalid_uuids_in_paths_are_422(account, method, path):
    response = getattr(account.client, method)(
        path, headers=account.key_headers, **({"json": {}} if method == "put" else {})
    )
    assert response.status_code == 422 and "budget_id" in response.json()["error"]


def test_invalid_uuid_for_key_revocation_is_422(client, account):
    response = client.delete("/api/keys/zzz", headers=account.token_headers)
    assert response.status_code == 422 and "key_id" in response.json()["error"]


@pytest.mark.parametrize("amount", ["0", "0.00000000001", "0.009", "-1", "100000001", "NaN"])
def test_budget_amounts_outside_a_cent_to_100m_are_422(account, amount):
    response = account.client.post(
        "/api/budgets", json={"amount_usd": amount}, headers=account.key_headers
    )
    assert response.status_code == 422 and "amount_usd" in response.json()["error"]
    assert account.get("/api/budgets").json()["data"] == []
