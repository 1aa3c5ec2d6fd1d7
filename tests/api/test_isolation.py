"""A second user never sees or touches the first user's objects."""

from __future__ import annotations


def test_second_user_sees_nothing_of_the_first(account, other_account):
    account.track({"model": "gpt-4o", "input_tokens": 1000, "project": "secret", "event_id": "a1"})
    budget_id = account.client.post(
        "/api/budgets", json={"amount_usd": "5"}, headers=account.key_headers
    ).json()["data"]["id"]

    assert other_account.get("/api/events").json()["data"]["items"] == []
    assert other_account.get("/api/projects").json()["data"] == []
    assert other_account.get("/api/budgets").json()["data"] == []
    summary = other_account.get("/api/costs/summary").json()["data"]
    assert summary["calls"] == 0 and summary["total_cost_usd"] == "0"
    assert other_account.get("/api/costs/summary", project="secret").status_code == 404
    headers = other_account.key_headers
    assert (
        other_account.client.put(f"/api/budgets/{budget_id}", json={}, headers=headers).status_code
        == 404
    )
    assert (
        other_account.client.delete(f"/api/budgets/{budget_id}", headers=headers).status_code == 404
    )
    assert other_account.get(f"/api/budgets/{budget_id}/alerts").status_code == 404


def test_the_same_event_id_in_two_accounts_is_two_events(account, other_account):
    event = {"event_id": "shared-id", "model": "gpt-4o", "input_tokens": 10}
    assert account.track(event).json()["data"]["events"][0]["duplicate"] is False
    assert other_account.track(event).json()["data"]["events"][0]["duplicate"] is False
    assert account.get("/api/costs/summary").json()["data"]["calls"] == 1
    assert other_account.get("/api/costs/summary").json()["data"]["calls"] == 1


def test_listings_and_analyses_never_mix_accounts(client, account, other_account):
    account.track(
        *[{"model": "gpt-4o", "input_tokens": 50_000, "output_tokens": 100, "project": "p"}] * 50
    )
    other = other_account.key_headers
    keys = client.get("/api/keys", headers=other_account.token_headers).json()["data"]
    assert [k["name"] for k in keys] == ["default"] and len(keys) == 1
    assert other_account.get("/api/recommendations").json()["data"] == []
    whatif = client.post(
        "/api/whatif", json={"from_model": "gpt-4o", "to_model": "gpt-4o-mini"}, headers=other
    ).json()["data"]
    assert whatif["old_cost_usd"] == "0" and whatif["calls_moved"] == 0
    csv_export = client.get("/api/events", params={"format": "csv"}, headers=other)
    assert csv_export.text.count("\n") == 1  # the header row only
    assert other_account.get("/api/events", project="p").json()["data"]["items"] == []
