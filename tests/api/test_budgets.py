from __future__ import annotations

from decimal import Decimal


def _create(account, **fields):
    body = {"name": "monthly", "amount_usd": "10", "period": "monthly"} | fields
    return account.client.post("/api/budgets", json=body, headers=account.key_headers)


def test_budget_is_created_with_status_and_forecast(account):
    account.track({"model": "gpt-4o", "input_tokens": 1_000_000, "output_tokens": 0})
    response = _create(account)
    assert response.status_code == 201, response.text
    budget = response.json()["data"]
    assert budget["spent_usd"] == "2.5"
    assert Decimal(budget["remaining_usd"]) == Decimal("7.5")
    assert Decimal(budget["percent"]) == Decimal("25")
    assert budget["exceeded"] is False and budget["alert_thresholds"] == [50, 80, 100]
    forecast = budget["forecast"]
    assert (
        Decimal(forecast["low_usd"])
        <= Decimal(forecast["projected_usd"])
        <= Decimal(forecast["high_usd"])
    )


def test_budget_validation(account):
    assert _create(account, amount_usd="0").status_code == 422
    assert _create(account, amount_usd="-5").status_code == 422
    assert _create(account, period="yearly").status_code == 422
    assert _create(account, alert_thresholds=[0]).status_code == 422
    assert _create(account, webhook_url="not a url").status_code == 422
    missing_project = _create(account, project="ghost")
    assert missing_project.status_code == 404


def test_budget_update_and_delete(account):
    budget_id = _create(account).json()["data"]["id"]
    updated = account.client.put(
        f"/api/budgets/{budget_id}",
        json={"amount_usd": "20", "hard_limit": True},
        headers=account.key_headers,
    )
    assert updated.status_code == 200
    assert (
        Decimal(updated.json()["data"]["amount_usd"]) == 20 and updated.json()["data"]["hard_limit"]
    )
    assert (
        account.client.delete(f"/api/budgets/{budget_id}", headers=account.key_headers).status_code
        == 200
    )
    assert account.get("/api/budgets").json()["data"] == []
    assert (
        account.client.delete(f"/api/budgets/{budget_id}", headers=account.key_headers).status_code
        == 404
    )


def test_project_budget_counts_only_its_project(account):
    account.track(
        {"model": "gpt-4o", "input_tokens": 400_000, "project": "web"},
        {"model": "gpt-4o", "input_tokens": 4_000_000, "project": "batch"},
    )
    budget = _create(account, project="web").json()["data"]
    assert Decimal(budget["spent_usd"]) == Decimal("1") and budget["project"] == "web"


def test_crossing_thresholds_records_each_alert_once(account):
    budget_id = _create(account, amount_usd="1").json()["data"]["id"]
    account.track({"model": "gpt-4o", "input_tokens": 240_000})  # $0.60
    account.track({"model": "gpt-4o", "input_tokens": 1_000})
    account.track({"model": "gpt-4o", "input_tokens": 100_000})  # $0.85 total
    alerts = account.get(f"/api/budgets/{budget_id}/alerts").json()["data"]
    assert sorted(a["threshold"] for a in alerts if a["kind"] == "threshold") == [50, 80]


def test_invalid_budget_id_is_422_and_unknown_is_404(account):
    assert (
        account.client.delete("/api/budgets/not-a-uuid", headers=account.key_headers).status_code
        == 422
    )
    unknown = "00000000-0000-0000-0000-000000000001"
    assert (
        account.client.put(
            f"/api/budgets/{unknown}", json={}, headers=account.key_headers
        ).status_code
        == 404
    )


def test_month_forecast_projects_the_current_pace(account):
    from datetime import UTC, datetime, timedelta

    today = datetime.now(UTC).date()
    events = [
        {
            "model": "gpt-4o",
            "input_tokens": 400_000,
            "timestamp": datetime.combine(
                today - timedelta(days=d), datetime.min.time(), UTC
            ).isoformat(),
        }
        for d in range(28)
    ]
    account.track(*events)  # $1 a day for four weeks
    data = account.get("/api/costs/forecast").json()["data"]
    assert data["period"] == "monthly" and data["period_start"] == today.replace(day=1).isoformat()
    days_left = (date_of(data["period_end"]) - today).days
    expected = Decimal(data["spent_usd"]) + days_left
    assert Decimal(data["forecast"]["projected_usd"]) == expected
    assert data["forecast"]["enough_data"] is True
    assert account.get("/api/costs/forecast", period="yearly").status_code == 422


def date_of(text: str):
    from datetime import date

    return date.fromisoformat(text)
