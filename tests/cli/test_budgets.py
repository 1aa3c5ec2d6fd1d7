"""`llmlab budgets list|set|delete`."""

from __future__ import annotations

from decimal import Decimal


def test_set_creates_then_updates_the_same_budget(cli, configured):
    created = cli.json("budgets", "set", "100")
    assert (created["amount_usd"], created["period"], created["project"]) == (
        "100",
        "monthly",
        None,
    )
    updated = cli.json("budgets", "set", "$1,250.50", "--hard-limit")
    assert updated["id"] == created["id"]
    assert Decimal(updated["amount_usd"]) == Decimal("1250.50") and updated["hard_limit"] is True
    # Leaving --hard-limit out keeps what was set.
    assert cli.json("budgets", "set", "1300")["hard_limit"] is True
    assert len(cli.json("budgets", "list")) == 1


def test_budgets_per_project_and_period_are_separate(cli, configured):
    cli.ok("budgets", "set", "100")
    cli.ok("budgets", "set", "5", "--period", "daily", "--project", "bot", "--threshold", "90")
    budgets = cli.json("budgets")
    assert sorted((b["period"], b["project"]) for b in budgets) == [
        ("daily", "bot"),
        ("monthly", None),
    ]
    daily = next(b for b in budgets if b["period"] == "daily")
    assert daily["alert_thresholds"] == [90]


def test_list_shows_spend_bar_and_forecast(cli, configured):
    cli.ok("track", "--model", "gpt-4o", "--input", "1000000", "--output", "100000")  # $3.50
    cli.ok("budgets", "set", "5")
    [budget] = cli.json("budgets", "list")
    assert Decimal(budget["spent_usd"]) == Decimal("3.5")
    assert Decimal(budget["percent"]) == 70
    assert {"projected_usd", "low_usd", "high_usd", "runs_out_on", "enough_data"} <= budget[
        "forecast"
    ].keys()
    out = cli.ok("budgets")
    assert "$3.50" in out and "$5.00" in out and "70%" in out and "█" in out


def test_list_without_budgets_says_how_to_add_one(cli, configured):
    assert "budgets set" in cli.ok("budgets", "list")


def test_delete_by_id_prefix(cli, configured):
    budget = cli.json("budgets", "set", "10")
    assert "Deleted" in cli.ok("budgets", "delete", budget["id"][:8])
    assert cli.json("budgets") == []


def test_set_a_specific_budget_by_id(cli, configured):
    first = cli.json("budgets", "set", "10")
    cli.ok("budgets", "set", "20", "--period", "weekly")
    changed = cli.json("budgets", "set", "15", "--id", first["id"][:6], "--name", "Renamed")
    assert changed["id"] == first["id"] and changed["name"] == "Renamed"
