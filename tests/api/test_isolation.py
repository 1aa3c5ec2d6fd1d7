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
