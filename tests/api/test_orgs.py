"""Organisations: the personal one from sign-up, shared ones, which one a request acts in,
and their members' roles (through the real API and database)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Account

EVENT = {"model": "gpt-4o-mini", "provider": "openai", "input_tokens": 1000, "output_tokens": 10}


def _data(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["data"]


def test_sign_up_makes_a_personal_organisation_owned_by_the_new_user(account):
    (org,) = _data(account.client.get("/api/orgs", headers=account.token_headers))
    assert org["id"] == account.org_id
    assert org["personal"] is True and org["role"] == "owner"
    assert org["name"] == "ada@example.com"
    # The sign-up key belongs to it: what it tracks is the personal organisation's.
    assert account.track(EVENT).status_code == 200
    summary = _data(account.client.get("/api/costs/summary", headers=account.token_headers))
    assert summary["calls"] == 1


def test_a_shared_organisation_keeps_its_data_apart_from_the_personal_one(account):
    org_id = account.create_org("Acme")
    orgs = _data(account.client.get("/api/orgs", headers=account.token_headers))
    assert [(o["name"], o["personal"], o["role"]) for o in orgs] == [
        ("ada@example.com", True, "owner"),
        ("Acme", False, "owner"),
    ]
    acme_key = account.key_in(org_id)
    headers = {"Authorization": f"Bearer {acme_key}"}
    assert account.client.post("/api/events/track", json=EVENT, headers=headers).status_code == 200

    in_acme = _data(account.client.get("/api/costs/summary", headers=account.in_org(org_id)))
    personal = _data(account.client.get("/api/costs/summary", headers=account.token_headers))
    assert (in_acme["calls"], personal["calls"]) == (1, 0)
    # A key acts in its own organisation, header or not.
    assert _data(account.client.get("/api/costs/summary", headers=headers))["calls"] == 1


def test_an_organisation_is_not_revealed_to_someone_outside_it(account, other_account):
    org_id = account.create_org("Acme")
    client = other_account.client
    for headers in (
        other_account.in_org(org_id),
        other_account.key_headers | {"X-LLMLab-Org": org_id},
    ):
        response = client.get("/api/costs/summary", headers=headers)
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "organisation not found"
    assert (
        client.get(f"/api/orgs/{org_id}/members", headers=other_account.token_headers).status_code
        == 404
    )
    # Nor one that does not exist, nor a header that is no id at all: the same answer.
    for named in ("00000000-0000-0000-0000-000000000001", "acme"):
        response = client.get("/api/budgets", headers=other_account.in_org(named))
        assert response.status_code == 404
    # Without credentials it is a 401 whatever the header names.
    assert client.get("/api/budgets", headers={"X-LLMLab-Org": org_id}).status_code == 401


def test_an_owner_renames_and_deletes_a_shared_organisation_but_not_a_personal_one(account):
    org_id = account.create_org("Acme")
    renamed = account.client.patch(
        f"/api/orgs/{org_id}", json={"name": "Acme Ltd"}, headers=account.token_headers
    )
    assert _data(renamed)["name"] == "Acme Ltd"
    personal = account.client.delete(f"/api/orgs/{account.org_id}", headers=account.token_headers)
    assert personal.status_code == 409 and "personal" in personal.json()["error"]
    key = account.key_in(org_id)
    gone = account.client.delete(f"/api/orgs/{org_id}", headers=account.token_headers)
    assert _data(gone)["deleted"] is True
    assert account.client.get("/api/budgets", headers=account.in_org(org_id)).status_code == 404
    # Its keys went with it.
    assert (
        account.client.get("/api/budgets", headers={"Authorization": f"Bearer {key}"}).status_code
        == 401
    )


def test_an_owner_exports_the_organisations_events_before_deleting_it(client, account):
    admin = Account(client, "grace@example.com")
    org_id = account.create_org("Acme")
    account.add_member(org_id, admin, "admin")
    key = account.key_in(org_id)
    client.post(
        "/api/events/track",
        json={"events": [EVENT | {"event_id": "e1"}, EVENT | {"event_id": "e2"}]},
        headers={"Authorization": f"Bearer {key}"},
    )
    exported = client.get(f"/api/orgs/{org_id}/export", headers=account.token_headers)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.strip().splitlines()
    assert len(lines) == 3 and {line.split(",")[1] for line in lines[1:]} == {"e1", "e2"}
    refused = client.get(f"/api/orgs/{org_id}/export", headers=admin.token_headers)
    assert refused.status_code == 403
    assert "manage_organisation" in refused.json()["error"]


def test_members_see_each_other_with_their_roles(client, account):
    grace, alan = Account(client, "grace@example.com"), Account(client, "alan@example.com")
    org_id = account.create_org()
    account.add_member(org_id, grace, "admin")
    account.add_member(org_id, alan, "viewer")
    members = _data(client.get(f"/api/orgs/{org_id}/members", headers=alan.token_headers))
    assert [(m["email"], m["role"]) for m in members] == [
        ("ada@example.com", "owner"),
        ("grace@example.com", "admin"),
        ("alan@example.com", "viewer"),
    ]
    orgs = _data(client.get("/api/orgs", headers=alan.token_headers))
    assert {(o["name"], o["role"]) for o in orgs} == {
        ("alan@example.com", "owner"),
        ("Acme", "viewer"),
    }


def test_a_viewer_sees_the_same_totals_and_cannot_create_a_budget(client, account):
    viewer = Account(client, "alan@example.com")
    org_id = account.create_org()
    account.add_member(org_id, viewer, "viewer")
    key = account.key_in(org_id)
    client.post("/api/events/track", json=EVENT, headers={"Authorization": f"Bearer {key}"})
    owner_view = _data(client.get("/api/costs/summary", headers=account.in_org(org_id)))
    viewer_view = _data(client.get("/api/costs/summary", headers=viewer.in_org(org_id)))
    assert viewer_view["total_cost_usd"] == owner_view["total_cost_usd"] != "0"
    refused = client.post("/api/budgets", json={"amount_usd": "5"}, headers=viewer.in_org(org_id))
    assert refused.status_code == 403
    body = refused.json()
    assert body["success"] is False and body["data"] is None
    assert body["error"] == (
        "missing permission 'manage_budgets' in this organisation (your role: viewer)"
    )
    assert _data(client.get("/api/budgets", headers=viewer.in_org(org_id))) == []


def test_only_an_owner_makes_or_unmakes_owners(client, account):
    admin, member = Account(client, "grace@example.com"), Account(client, "alan@example.com")
    org_id = account.create_org()
    account.add_member(org_id, admin, "admin")
    account.add_member(org_id, member, "member")
    path = f"/api/orgs/{org_id}/members"
    promote = client.put(
        f"{path}/{member.user_id}", json={"role": "owner"}, headers=admin.token_headers
    )
    assert promote.status_code == 403 and "manage_owners" in promote.json()["error"]
    unmake = client.put(
        f"{path}/{account.user_id}", json={"role": "viewer"}, headers=admin.token_headers
    )
    assert unmake.status_code == 403
    # An admin changes roles below owner.
    changed = client.put(
        f"{path}/{member.user_id}", json={"role": "viewer"}, headers=admin.token_headers
    )
    assert _data(changed)["role"] == "viewer"
    made = client.put(
        f"{path}/{admin.user_id}", json={"role": "owner"}, headers=account.token_headers
    )
    assert _data(made)["role"] == "owner"
    # A member cannot change anyone's role.
    refused = client.put(
        f"{path}/{admin.user_id}", json={"role": "viewer"}, headers=member.token_headers
    )
    assert refused.status_code == 403 and "manage_members" in refused.json()["error"]


def test_the_last_owner_can_neither_leave_nor_be_demoted(client, account):
    org_id = account.create_org()
    path = f"/api/orgs/{org_id}/members/{account.user_id}"
    demote = client.put(path, json={"role": "admin"}, headers=account.token_headers)
    assert demote.status_code == 409 and "at least one owner" in demote.json()["error"]
    leave = client.delete(path, headers=account.token_headers)
    assert leave.status_code == 409
    second = Account(client, "grace@example.com")
    account.add_member(org_id, second, "owner")
    assert _data(client.delete(path, headers=account.token_headers))["removed"] is True
    assert client.get("/api/budgets", headers=account.in_org(org_id)).status_code == 404


def test_a_member_may_leave_but_not_remove_others(client, account):
    member, other = Account(client, "grace@example.com"), Account(client, "alan@example.com")
    org_id = account.create_org()
    account.add_member(org_id, member, "member")
    account.add_member(org_id, other, "member")
    removing = client.delete(
        f"/api/orgs/{org_id}/members/{other.user_id}", headers=member.token_headers
    )
    assert removing.status_code == 403
    leaving = client.delete(
        f"/api/orgs/{org_id}/members/{member.user_id}", headers=member.token_headers
    )
    assert _data(leaving)["removed"] is True
    assert client.get("/api/costs/summary", headers=member.in_org(org_id)).status_code == 404


def test_removing_a_member_revokes_the_keys_they_created_there_at_once(client, account):
    member = Account(client, "grace@example.com")
    org_id = account.create_org()
    account.add_member(org_id, member, "member")
    their_key = {"Authorization": f"Bearer {member.key_in(org_id)}"}
    assert client.post("/api/events/track", json=EVENT, headers=their_key).status_code == 200
    removed = client.delete(
        f"/api/orgs/{org_id}/members/{member.user_id}", headers=account.token_headers
    )
    assert _data(removed)["keys_revoked"] == 1
    assert client.post("/api/events/track", json=EVENT, headers=their_key).status_code == 401
    # Their personal organisation's key is theirs still.
    assert member.track(EVENT).status_code == 200
    # What the key tracked stays in the organisation.
    assert _data(client.get("/api/costs/summary", headers=account.in_org(org_id)))["calls"] == 1


def test_demoting_a_member_narrows_their_keys_at_once(client, account):
    member = Account(client, "grace@example.com")
    org_id = account.create_org()
    account.add_member(org_id, member, "member")
    their_key = {"Authorization": f"Bearer {member.key_in(org_id)}"}
    assert client.post("/api/events/track", json=EVENT, headers=their_key).status_code == 200
    client.put(
        f"/api/orgs/{org_id}/members/{member.user_id}",
        json={"role": "viewer"},
        headers=account.token_headers,
    )
    refused = client.post("/api/events/track", json=EVENT, headers=their_key)
    assert refused.status_code == 403 and "'track'" in refused.json()["error"]
    # Reading is still what a viewer may do.
    assert client.get("/api/costs/summary", headers=their_key).status_code == 200


def test_admins_revoke_anyones_keys_and_members_only_their_own(client, account):
    admin, member = Account(client, "grace@example.com"), Account(client, "alan@example.com")
    org_id = account.create_org()
    account.add_member(org_id, admin, "admin")
    account.add_member(org_id, member, "member")
    account.key_in(org_id, "owner-key")
    member.key_in(org_id, "member-key")
    keys = {k["name"]: k for k in _data(client.get("/api/keys", headers=member.in_org(org_id)))}
    assert keys["member-key"]["created_by_email"] == "alan@example.com"
    refused = client.delete(f"/api/keys/{keys['owner-key']['id']}", headers=member.in_org(org_id))
    assert refused.status_code == 403 and "manage_keys" in refused.json()["error"]
    own = client.delete(f"/api/keys/{keys['member-key']['id']}", headers=member.in_org(org_id))
    assert own.status_code == 200
    by_admin = client.delete(f"/api/keys/{keys['owner-key']['id']}", headers=admin.in_org(org_id))
    assert by_admin.status_code == 200
    # A viewer makes no keys.
    viewer = Account(client, "ida@example.com")
    account.add_member(org_id, viewer, "viewer")
    denied = client.post("/api/keys", json={"name": "v"}, headers=viewer.in_org(org_id))
    assert denied.status_code == 403 and "create_keys" in denied.json()["error"]


def test_spend_by_key_answers_which_service_or_person_spent_it(client, account):
    member = Account(client, "grace@example.com")
    org_id = account.create_org()
    account.add_member(org_id, member, "member")
    checkout = {"Authorization": f"Bearer {account.key_in(org_id, 'checkout')}"}
    batch_jobs = {"Authorization": f"Bearer {member.key_in(org_id, 'batch-jobs')}"}
    client.post("/api/events/track", json={"events": [EVENT] * 3}, headers=checkout)
    client.post("/api/events/track", json=EVENT | {"input_tokens": 100_000}, headers=batch_jobs)
    plain = _data(client.get("/api/costs/summary", headers=account.in_org(org_id)))
    assert plain["by_key"] is None and plain["by_member"] is None

    summary = _data(
        client.get("/api/costs/summary", params={"group_by": "key"}, headers=account.in_org(org_id))
    )
    by_key = {row["name"]: row for row in summary["by_key"]}
    assert set(by_key) == {"checkout", "batch-jobs"}
    assert by_key["checkout"]["calls"] == 3
    assert by_key["checkout"]["created_by"]["email"] == "ada@example.com"
    assert by_key["batch-jobs"]["created_by"]["email"] == "grace@example.com"
    assert summary["by_key"][0]["name"] == "batch-jobs"  # the bigger spender first
    by_member = {row["member"]["email"]: row for row in summary["by_member"]}
    assert by_member["grace@example.com"]["cost_usd"] == by_key["batch-jobs"]["cost_usd"]
    assert by_member["ada@example.com"]["calls"] == 3
    # Both sum to the total.
    from decimal import Decimal

    assert sum(Decimal(r["cost_usd"]) for r in summary["by_key"]) == Decimal(
        summary["total_cost_usd"]
    )


def test_spend_by_key_comes_from_the_rollup_so_it_outlives_the_raw_events(client, account, engine):
    from sqlalchemy import text

    key = account.key_in(account.org_id, "nightly")
    client.post("/api/events/track", json=EVENT, headers={"Authorization": f"Bearer {key}"})
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM cost_events"))  # as a retention job would
    summary = _data(
        client.get("/api/costs/summary", params={"group_by": "key"}, headers=account.token_headers)
    )
    assert [(row["name"], row["calls"]) for row in summary["by_key"]] == [("nightly", 1)]


def test_events_sent_with_a_login_token_are_spend_of_no_key(client, account):
    client.post("/api/events/track", json=EVENT, headers=account.token_headers)
    summary = _data(
        client.get("/api/costs/summary", params={"group_by": "key"}, headers=account.token_headers)
    )
    (row,) = summary["by_key"]
    assert row["key_id"] is None and row["created_by"] is None and row["calls"] == 1


def _key(client: Any, account: Account, org_id: str, **body: Any) -> dict[str, Any]:
    created = client.post("/api/keys", json={"name": "k"} | body, headers=account.in_org(org_id))
    return _data(created, 201)


def test_a_key_made_without_scopes_gets_the_widest_its_creators_role_allows(client, account):
    member = Account(client, "grace@example.com")
    org_id = account.create_org()
    account.add_member(org_id, member, "member")
    assert _key(client, account, org_id)["scopes"] == ["admin"]
    assert _key(client, member, org_id)["scopes"] == ["read"]
    refused = client.post(
        "/api/keys", json={"name": "k", "scopes": ["admin"]}, headers=member.in_org(org_id)
    )
    assert refused.status_code == 403 and "'manage_keys'" in refused.json()["error"]
    assert _key(client, member, org_id, scopes=["ingest"])["scopes"] == ["ingest"]


def test_a_request_may_do_what_both_its_role_and_its_key_allow(client, account):
    """Rights = the role's permissions intersected with the key's scopes."""
    admin = Account(client, "grace@example.com")
    org_id = account.create_org()
    account.add_member(org_id, admin, "admin")
    read_key = {"X-API-Key": _key(client, admin, org_id, scopes=["read"])["key"]}
    admin_key = {"X-API-Key": _key(client, admin, org_id, scopes=["admin"])["key"]}
    budget = {"amount_usd": "5"}
    # The role may, the key's scope may not.
    by_read_key = client.post("/api/budgets", json=budget, headers=read_key)
    assert by_read_key.status_code == 403 and "'admin' scope" in by_read_key.json()["error"]
    assert client.post("/api/budgets", json=budget, headers=admin_key).status_code == 201
    # The key's scope may, the role may not (renaming is for owners).
    renamed = client.patch(f"/api/orgs/{org_id}", json={"name": "x"}, headers=admin_key)
    assert renamed.status_code == 403
    assert "'manage_organisation'" in renamed.json()["error"]
    assert "(your role: admin)" in renamed.json()["error"]
    # Inside a route that reads, a service that needs more still asks both.
    removing = client.delete(f"/api/orgs/{org_id}/members/{account.user_id}", headers=read_key)
    assert removing.status_code == 403 and "'admin' scope" in removing.json()["error"]


def test_demoting_a_member_narrows_the_scopes_of_their_keys(client, account):
    admin = Account(client, "grace@example.com")
    org_id = account.create_org()
    account.add_member(org_id, admin, "admin")
    strong = _key(client, admin, org_id, scopes=["admin"])
    weak = _key(client, admin, org_id, scopes=["ingest"])
    path = f"/api/orgs/{org_id}/members/{admin.user_id}"
    client.put(path, json={"role": "member"}, headers=account.token_headers)
    scopes = {
        k["id"]: k["scopes"] for k in _data(client.get("/api/keys", headers=account.in_org(org_id)))
    }
    assert scopes[strong["id"]] == ["read"] and scopes[weak["id"]] == ["ingest"]
    client.put(path, json={"role": "viewer"}, headers=account.token_headers)
    scopes = {
        k["id"]: k["scopes"] for k in _data(client.get("/api/keys", headers=account.in_org(org_id)))
    }
    # A viewer sends no events: the ingest key is revoked, the other one reads.
    assert scopes[strong["id"]] == ["read"] and weak["id"] not in scopes
    assert client.get("/api/budgets", headers={"X-API-Key": weak["key"]}).status_code == 401
