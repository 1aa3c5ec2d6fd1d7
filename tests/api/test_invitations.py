"""Invitations (a link to copy, 7 days, single use, stored hashed), the sign-up policy, the
audit log and deleting an account."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import Account


def _data(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["data"]


def _invite(owner: Account, org_id: str, email: str, role: str = "member") -> dict[str, Any]:
    response = owner.client.post(
        f"/api/orgs/{org_id}/invitations",
        json={"email": email, "role": role},
        headers=owner.token_headers,
    )
    return _data(response, 201)


def _accept(account: Account, token: str) -> Any:
    return account.client.post(
        "/api/invitations/accept", json={"token": token}, headers=account.token_headers
    )


def test_an_invitation_is_a_link_valid_for_seven_days_and_only_its_hash_is_kept(account, engine):
    org_id = account.create_org()
    before = datetime.now(UTC)
    invitation = _invite(account, org_id, "Grace@Example.com", "viewer")
    assert invitation["email"] == "grace@example.com" and invitation["role"] == "viewer"
    token = invitation["token"]
    # The token rides in the fragment: browsers never send it to a server, so no log has it.
    assert invitation["url"].endswith(f"/invitation#token={token}")
    expires = datetime.fromisoformat(invitation["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=7) <= expires - before < timedelta(days=7, minutes=1)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash FROM invitations")).scalar_one()
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    pending = _data(
        account.client.get(f"/api/orgs/{org_id}/invitations", headers=account.token_headers)
    )
    assert [p["email"] for p in pending] == ["grace@example.com"]
    assert "token" not in pending[0]


def test_an_invitation_is_used_once_by_the_person_it_names(client, account):
    org_id = account.create_org()
    grace, mallory = Account(client, "grace@example.com"), Account(client, "mallory@example.com")
    token = _invite(account, org_id, grace.email, "admin")["token"]
    wrong = _accept(mallory, token)
    assert wrong.status_code == 403 and "another email" in wrong.json()["error"]
    joined = _data(_accept(grace, token))
    assert (joined["id"], joined["role"], joined["personal"]) == (org_id, "admin", False)
    again = _accept(grace, token)
    assert again.status_code == 409 and "already been used" in again.json()["error"]
    assert _accept(grace, "no-such-token").status_code == 404
    assert (
        _data(account.client.get(f"/api/orgs/{org_id}/invitations", headers=account.token_headers))
        == []
    )


def test_a_revoked_or_expired_invitation_no_longer_works(client, account, engine):
    org_id = account.create_org()
    grace, alan = Account(client, "grace@example.com"), Account(client, "alan@example.com")
    revoked = _invite(account, org_id, grace.email)
    gone = client.delete(
        f"/api/orgs/{org_id}/invitations/{revoked['id']}", headers=account.token_headers
    )
    assert _data(gone)["revoked"] is True
    refused = _accept(grace, revoked["token"])
    assert refused.status_code == 409 and "revoked" in refused.json()["error"]

    expired = _invite(account, org_id, alan.email)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE invitations SET expires_at = :past WHERE email = :email"),
            {
                "past": (datetime.now(UTC) - timedelta(seconds=1)).replace(tzinfo=None),
                "email": alan.email,
            },
        )
    refused = _accept(alan, expired["token"])
    assert refused.status_code == 409 and "expired" in refused.json()["error"]


def test_inviting_needs_manage_members_and_an_owner_invitation_needs_an_owner(client, account):
    org_id = account.create_org()
    admin, member = Account(client, "grace@example.com"), Account(client, "alan@example.com")
    account.add_member(org_id, admin, "admin")
    account.add_member(org_id, member, "member")
    path = f"/api/orgs/{org_id}/invitations"
    by_member = client.post(path, json={"email": "x@example.com"}, headers=member.token_headers)
    assert by_member.status_code == 403 and "manage_members" in by_member.json()["error"]
    owner_by_admin = client.post(
        path, json={"email": "x@example.com", "role": "owner"}, headers=admin.token_headers
    )
    assert owner_by_admin.status_code == 403 and "manage_owners" in owner_by_admin.json()["error"]
    assert (
        client.post(path, json={"email": "x@example.com"}, headers=admin.token_headers).status_code
        == 201
    )
    existing = client.post(path, json={"email": member.email}, headers=admin.token_headers)
    assert existing.status_code == 409
    personal = client.post(
        f"/api/orgs/{account.org_id}/invitations",
        json={"email": "x@example.com"},
        headers=account.token_headers,
    )
    assert personal.status_code == 409 and "personal" in personal.json()["error"]
    bad = client.post(path, json={"email": "not an email"}, headers=admin.token_headers)
    assert bad.status_code == 422


def test_signing_up_with_an_invitation_joins_its_organisation(client, account):
    org_id = account.create_org()
    token = _invite(account, org_id, "new@example.com", "viewer")["token"]
    signed_up = client.post(
        "/api/auth/signup",
        json={"email": "new@example.com", "password": "correct horse 1", "invitation_token": token},
    )
    data = _data(signed_up, 201)
    assert data["joined"]["id"] == org_id and data["joined"]["role"] == "viewer"
    orgs = _data(
        client.get("/api/orgs", headers={"Authorization": f"Bearer {data['access_token']}"})
    )
    assert {o["role"] for o in orgs} == {"owner", "viewer"}


def test_a_bad_invitation_at_sign_up_creates_no_account(client, account):
    org_id = account.create_org()
    token = _invite(account, org_id, "new@example.com")["token"]
    wrong_email = client.post(
        "/api/auth/signup",
        json={
            "email": "other@example.com",
            "password": "correct horse 1",
            "invitation_token": token,
        },
    )
    assert wrong_email.status_code == 403
    login = client.post(
        "/api/auth/login", json={"email": "other@example.com", "password": "correct horse 1"}
    )
    assert login.status_code == 401


@pytest.fixture
def signup_policy(settings: Any, app: Any) -> Any:
    """Change the running app's `LLMLAB_SIGNUP`."""

    def use(policy: str) -> None:
        app.state.settings = settings.model_copy(update={"signup": policy})

    return use


def test_an_invite_only_server_registers_only_the_invited(client, account, signup_policy):
    org_id = account.create_org()
    token = _invite(account, org_id, "new@example.com")["token"]
    signup_policy("invite")
    body = {"email": "new@example.com", "password": "correct horse 1"}
    refused = client.post("/api/auth/signup", json=body)
    assert refused.status_code == 403 and "invitation" in refused.json()["error"]
    assert (
        client.post("/api/auth/signup", json=body | {"invitation_token": token}).status_code == 201
    )


def test_a_closed_server_registers_nobody(client, account, signup_policy):
    org_id = account.create_org()
    token = _invite(account, org_id, "new@example.com")["token"]
    signup_policy("closed")
    body = {"email": "new@example.com", "password": "correct horse 1", "invitation_token": token}
    refused = client.post("/api/auth/signup", json=body)
    assert refused.status_code == 403 and "closed" in refused.json()["error"]


def test_the_audit_log_says_who_did_what_newest_first_in_pages(client, account):
    org_id = account.create_org()
    grace = Account(client, "grace@example.com")
    account.add_member(org_id, grace, "member")
    headers = account.in_org(org_id)
    key = _data(client.post("/api/keys", json={"name": "ci"}, headers=headers), 201)
    client.delete(f"/api/keys/{key['id']}", headers=headers)
    budget = _data(client.post("/api/budgets", json={"amount_usd": "5"}, headers=headers), 201)
    client.put(f"/api/budgets/{budget['id']}", json={"amount_usd": "7.5"}, headers=headers)
    client.post(
        "/api/prices/overrides",
        json={
            "provider": "openai",
            "model": "gpt-4o",
            "input_per_mtok": "1",
            "output_per_mtok": "2",
        },
        headers=headers,
    )
    client.put(
        f"/api/orgs/{org_id}/members/{grace.user_id}", json={"role": "viewer"}, headers=headers
    )
    client.delete(f"/api/orgs/{org_id}/members/{grace.user_id}", headers=headers)
    client.post("/api/webhooks/signing-secret/rotate", headers=headers)

    entries, cursor = [], None
    while True:
        page = _data(
            client.get(
                f"/api/orgs/{org_id}/audit",
                params={"limit": 3} | ({"cursor": cursor} if cursor else {}),
                headers=account.token_headers,
            )
        )
        entries += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [e["action"] for e in entries] == [
        "webhook_secret.rotated",
        "member.removed",
        "member.role_changed",
        "price.created",
        "budget.updated",
        "budget.created",
        "key.revoked",
        "key.created",
        "member.joined",
        "member.invited",
        "organisation.created",
    ]
    by_action = {e["action"]: e for e in entries}
    assert by_action["member.joined"]["actor_email"] == "grace@example.com"
    assert by_action["member.invited"]["actor_email"] == "ada@example.com"
    assert by_action["member.invited"]["target"] == "grace@example.com"
    changed = by_action["member.role_changed"]["details"]
    assert (changed["from"], changed["to"], changed["user_id"]) == (
        "member",
        "viewer",
        grace.user_id,
    )
    assert by_action["budget.updated"]["details"]["amount_usd"] == {"from": "5", "to": "7.5"}
    assert by_action["key.created"]["target"] == "ci"


def test_the_audit_log_is_for_admins_and_owners(client, account):
    org_id = account.create_org()
    member, admin = Account(client, "grace@example.com"), Account(client, "alan@example.com")
    account.add_member(org_id, member, "member")
    account.add_member(org_id, admin, "admin")
    refused = client.get(f"/api/orgs/{org_id}/audit", headers=member.token_headers)
    assert refused.status_code == 403 and "read_audit" in refused.json()["error"]
    assert client.get(f"/api/orgs/{org_id}/audit", headers=admin.token_headers).status_code == 200


def _delete_account(account: Account, password: str | None = None) -> Any:
    return account.client.request(
        "DELETE",
        "/api/auth/me",
        json={"password": password or account.password},
        headers=account.token_headers,
    )


def test_deleting_an_account_removes_its_personal_organisation_and_data(client, account, engine):
    account.track({"model": "gpt-4o", "input_tokens": 10, "event_id": "mine"})
    assert _delete_account(account, "wrong password").status_code == 401
    assert _data(_delete_account(account))["deleted"] is True
    with engine.connect() as connection:
        for table in (
            "users",
            "organisations",
            "memberships",
            "cost_events",
            "daily_spend",
            "api_keys",
        ):
            assert connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() == 0, (
                table
            )
    assert account.track({"model": "gpt-4o", "input_tokens": 1}).status_code == 401


def test_the_last_owner_of_a_shared_organisation_cannot_delete_their_account(client, account):
    org_id = account.create_org("Acme")
    member = Account(client, "grace@example.com")
    account.add_member(org_id, member, "member")
    refused = _delete_account(account)
    assert refused.status_code == 409 and "'Acme'" in refused.json()["error"]
    client.put(
        f"/api/orgs/{org_id}/members/{member.user_id}",
        json={"role": "owner"},
        headers=account.token_headers,
    )
    key = {"Authorization": f"Bearer {account.key_in(org_id)}"}
    assert _data(_delete_account(account))["deleted"] is True
    # The organisation stays with its other owner; the leaver's keys there are revoked.
    members = _data(client.get(f"/api/orgs/{org_id}/members", headers=member.token_headers))
    assert [(m["email"], m["role"]) for m in members] == [("grace@example.com", "owner")]
    assert client.get("/api/budgets", headers=key).status_code == 401
    audit = _data(client.get(f"/api/orgs/{org_id}/audit", headers=member.token_headers))
    left = audit["items"][0]
    assert left["action"] == "member.left" and left["details"]["account_deleted"] is True
