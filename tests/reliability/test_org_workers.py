"""Roles behind several workers: two API server processes on one database, sharing Redis.
A role changed through one holds at once for requests served by the other."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.live_server import start_api_server

REDIS_URL = os.environ.get("LLMLAB_TEST_REDIS_URL")
EVENT = {"model": "gpt-4o-mini", "input_tokens": 1000, "output_tokens": 10}


def _data(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()["data"]


@pytest.mark.skipif(not REDIS_URL, reason="set LLMLAB_TEST_REDIS_URL (CI does) for two workers")
def test_demotion_and_removal_in_one_worker_hold_at_once_in_the_other(tmp_path, engine):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        "LLMLAB_REDIS_URL": REDIS_URL,
        "LLMLAB_DATABASE_URL": engine.url.render_as_string(hide_password=False),
    }
    servers = [start_api_server(tmp_path / f"w{i}", env) for i in range(2)]
    try:
        a, b = (server.base_url for server in servers)
        owner = _data(
            httpx.post(
                f"{a}/api/auth/signup", json={"email": "o@example.com", "password": "long enough"}
            ),
            201,
        )
        as_owner = {"Authorization": f"Bearer {owner['access_token']}"}
        org = _data(httpx.post(f"{a}/api/orgs", json={"name": "Acme"}, headers=as_owner), 201)
        invited = _data(
            httpx.post(
                f"{b}/api/orgs/{org['id']}/invitations",
                json={"email": "m@example.com", "role": "member"},
                headers=as_owner,
            ),
            201,
        )
        member = _data(
            httpx.post(
                f"{b}/api/auth/signup",
                json={
                    "email": "m@example.com",
                    "password": "long enough",
                    "invitation_token": invited["token"],
                },
            ),
            201,
        )
        as_member = {
            "Authorization": f"Bearer {member['access_token']}",
            "X-LLMLab-Org": org["id"],
        }
        key = _data(httpx.post(f"{b}/api/keys", json={"name": "svc"}, headers=as_member), 201)
        with_key = {"X-API-Key": key["key"]}
        for base in (a, b):  # each worker has seen the key act with the member role
            assert httpx.post(f"{base}/api/events/track", json=EVENT, headers=with_key).is_success

        member_path = f"/api/orgs/{org['id']}/members/{member['user']['id']}"
        _data(httpx.put(f"{b}{member_path}", json={"role": "viewer"}, headers=as_owner))
        refused = httpx.post(f"{a}/api/events/track", json=EVENT, headers=with_key)
        assert refused.status_code == 403 and "'track'" in refused.json()["error"]
        assert httpx.get(f"{a}/api/costs/summary", headers=with_key).status_code == 200

        _data(httpx.delete(f"{a}{member_path}", headers=as_owner))
        assert httpx.get(f"{b}/api/costs/summary", headers=with_key).status_code == 401
        gone = httpx.get(f"{b}/api/costs/summary", headers=as_member)
        assert gone.status_code == 404
    finally:
        for server in servers:
            server.stop()
