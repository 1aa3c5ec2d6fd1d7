"""Date ranges on the days a calendar bug hides on, with the clock frozen there.

Days are inclusive UTC calendar days everywhere (summary, what-if, recommendations, forecasts,
budgets); a start alone runs to today, and nothing is listed after today.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from tests.conftest import Account

# A month's first instant, its last day, a leap day, the year's last minute and its first.
FROZEN_NOWS = [
    datetime(2026, 12, 1, 0, 0, 30, tzinfo=UTC),
    datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
    datetime(2028, 2, 29, 9, 0, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, tzinfo=UTC),
    datetime(2027, 1, 1, 0, 0, 30, tzinfo=UTC),
]
ONE_CALL = {"model": "gpt-4o-mini", "input_tokens": 1_000_000, "output_tokens": 0}  # $0.15


def _call(at: datetime) -> dict:
    return {**ONE_CALL, "timestamp": at.isoformat()}


def _seed(account: Account, now: datetime) -> dict[str, date]:
    """One $0.15 call today, yesterday and 40 days ago; returns those days."""
    moments = {
        "today": now - timedelta(seconds=20),
        "yesterday": now - timedelta(days=1),
        "long_ago": now - timedelta(days=40),
    }
    answer = account.track(*(_call(at) for at in moments.values()))
    assert answer.status_code == 200, answer.text
    return {name: at.date() for name, at in moments.items()}


def _money(value: str) -> Decimal:
    return Decimal(value)


@pytest.fixture(params=FROZEN_NOWS, ids=lambda now: now.strftime("%Y-%m-%dT%H:%M"))
def frozen(request, client):
    with time_machine.travel(request.param, tick=True):
        yield request.param, Account(client, "clock@example.com")


def test_the_default_summary_is_this_month_so_far_and_ends_today(frozen):
    now, account = frozen
    days = _seed(account, now)
    data = account.get("/api/costs/summary").json()["data"]
    today = days["today"]
    assert (data["start"], data["end"]) == (today.replace(day=1).isoformat(), today.isoformat())
    assert data["by_day"][-1]["day"] == today.isoformat()  # no future day listed as $0
    expected_calls = 1 + (days["yesterday"].month == today.month)
    assert data["calls"] == expected_calls
    assert _money(data["total_cost_usd"]) == Decimal("0.15") * expected_calls


def test_a_start_alone_runs_to_today_across_month_and_year_ends(frozen):
    now, account = frozen
    days = _seed(account, now)
    start = (now - timedelta(days=45)).date().isoformat()
    data = account.get("/api/costs/summary", start=start).json()["data"]
    assert data["end"] == days["today"].isoformat()
    assert data["calls"] == 3
    assert [d["day"] for d in data["by_day"]][-1] == days["today"].isoformat()

    body = {"from_model": "gpt-4o-mini", "to_model": "gpt-4o", "share": "1", "start": start}
    whatif = account.client.post("/api/whatif", json=body, headers=account.key_headers)
    assert whatif.status_code == 200, whatif.text
    result = whatif.json()["data"]
    assert result["end"] == days["today"].isoformat()
    assert result["calls_moved"] == 3
    assert _money(result["old_cost_usd"]) == Decimal("0.45")


def test_the_forecast_is_for_the_month_containing_today(frozen):
    now, account = frozen
    days = _seed(account, now)
    forecast = account.get("/api/costs/forecast").json()["data"]
    today = now.date()
    assert forecast["period_start"] == today.replace(day=1).isoformat()
    first_of_next = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    assert forecast["period_end"] == (first_of_next - timedelta(days=1)).isoformat()
    this_month = 1 + (days["yesterday"].month == today.month)
    assert _money(forecast["spent_usd"]) == Decimal("0.15") * this_month


def test_a_monthly_budget_counts_only_this_months_calls(frozen):
    now, account = frozen
    days = _seed(account, now)
    created = account.client.post(
        "/api/budgets",
        json={"amount_usd": "100", "period": "monthly"},
        headers=account.key_headers,
    )
    assert created.status_code == 201, created.text
    budget = created.json()["data"]
    expected = Decimal("0.15") * (1 + (days["yesterday"].month == days["today"].month))
    assert _money(budget["spent_usd"]) == expected


def test_a_start_after_today_is_a_clear_422(frozen):
    now, account = frozen
    tomorrow = (now + timedelta(days=1)).date().isoformat()
    answer = account.get("/api/costs/summary", start=tomorrow)
    assert answer.status_code == 422
    assert "after today" in answer.json()["error"]
