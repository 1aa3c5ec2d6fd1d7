"""POST /api/prices/reprice: stored costs and the rollup follow a price that changed in the
past, exactly, once, and only in the window asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

M = 1_000_000


def _days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def _reprice(account, **body):
    return account.client.post("/api/prices/reprice", json=body, headers=account.key_headers)


def test_an_override_from_the_past_reprices_the_window_and_its_rollup(account):
    events = [
        {"model": "gpt-4o", "input_tokens": M, "timestamp": _days_ago(d)} for d in (1, 5, 20)
    ] + [
        {"model": "gpt-4o-2024-08-06", "input_tokens": M, "timestamp": _days_ago(5)},
        {"model": "gpt-4o-mini", "input_tokens": M, "timestamp": _days_ago(5)},
        {"model": "gpt-4o", "input_tokens": M, "cost_usd": "9", "timestamp": _days_ago(5)},
    ]
    assert account.track(*events).status_code == 200
    start = (datetime.now(UTC) - timedelta(days=10)).date().isoformat()
    # A negotiated $1/M input for gpt-4o, valid from 30 days ago: stored events still say $2.50.
    override = {
        "provider": "openai",
        "model": "gpt-4o",
        "input_per_mtok": "1",
        "output_per_mtok": "4",
        "valid_from": _days_ago(30),
    }
    created = account.client.post(
        "/api/prices/overrides", json=override, headers=account.key_headers
    )
    assert created.status_code == 201, created.text

    answer = _reprice(account, start=start, model="gpt-4o")
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    # Days 1 and 5 (gpt-4o and its dated variant); not day 20, not mini, not the client's cost.
    assert (data["events"], data["changed"]) == (3, 3)
    assert Decimal(data["before_usd"]) == Decimal("7.5")
    assert Decimal(data["after_usd"]) == Decimal("3")

    summary = account.get("/api/costs/summary", start=start).json()["data"]
    # 3 x $1 + mini $0.15 + the client's $9, from the rollup.
    assert Decimal(summary["total_cost_usd"]) == Decimal("12.15")
    costs = sorted(
        Decimal(e["cost_usd"]) for e in account.get("/api/events").json()["data"]["items"]
    )
    assert costs == sorted(Decimal(c) for c in ("1", "1", "1", "2.5", "0.15", "9"))

    again = _reprice(account, start=start, model="gpt-4o").json()["data"]
    assert again["changed"] == 0 and Decimal(again["before_usd"]) == Decimal("3")
    assert account.get("/api/costs/summary", start=start).json()["data"] == summary


def test_repricing_a_window_with_a_bad_range_is_a_422(account):
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    answer = _reprice(account, start=tomorrow)
    assert answer.status_code == 422 and "after today" in answer.json()["error"]


def test_repricing_touches_only_the_callers_events(account, other_account):
    assert other_account.track({"model": "gpt-4o", "input_tokens": M}).status_code == 200
    data = _reprice(account, start=_days_ago(3)[:10]).json()["data"]
    assert data["events"] == 0
    [event] = other_account.get("/api/events").json()["data"]["items"]
    assert event["cost_usd"] == "2.5"
