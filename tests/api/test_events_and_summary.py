from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text


def _ago(days: int = 0, minutes: int = 0) -> str:
    return (datetime.now(UTC) - timedelta(days=days, minutes=minutes)).isoformat()


def test_events_are_listed_newest_first_with_a_stable_cursor(account):
    account.track(
        *[
            {
                "event_id": f"e{i}",
                "model": "gpt-4o-mini",
                "input_tokens": i + 1,
                "timestamp": _ago(minutes=i),
            }
            for i in range(25)
        ]
    )
    first = account.get("/api/events", limit=10).json()["data"]
    assert [e["event_id"] for e in first["items"]] == [f"e{i}" for i in range(10)]
    # New events arriving between pages must not shift the next page.
    account.track({"event_id": "late", "model": "gpt-4o-mini", "input_tokens": 1})
    second = account.get("/api/events", limit=10, cursor=first["next_cursor"]).json()["data"]
    assert [e["event_id"] for e in second["items"]] == [f"e{i}" for i in range(10, 20)]
    third = account.get("/api/events", limit=10, cursor=second["next_cursor"]).json()["data"]
    assert len(third["items"]) == 5 and third["next_cursor"] is None


def test_event_filters(account):
    account.track(
        {
            "model": "gpt-4o",
            "input_tokens": 1,
            "project": "a",
            "tags": ["x", "y"],
            "end_user": "u1",
        },
        {"model": "claude-sonnet-4", "input_tokens": 1, "project": "b", "tags": ["y"]},
        {"model": "gemini-2.5-flash", "input_tokens": 1, "timestamp": _ago(days=3)},
    )

    def models(**params):
        return sorted(
            e["model"] for e in account.get("/api/events", **params).json()["data"]["items"]
        )

    assert models(project="a") == ["gpt-4o"]
    assert models(tag="y") == ["claude-sonnet-4", "gpt-4o"]
    assert models(tag="x") == ["gpt-4o"]
    assert models(provider="anthropic") == ["claude-sonnet-4"]
    assert models(end_user="u1") == ["gpt-4o"]
    assert models(model="gemini-2.5-flash") == ["gemini-2.5-flash"]
    assert models(start=_ago(days=1)) == ["claude-sonnet-4", "gpt-4o"]
    assert models(project="nope") == []


def test_invalid_cursor_is_a_422(account):
    response = account.get("/api/events", cursor="not-a-cursor")
    assert response.status_code == 422 and response.json()["error"] == "invalid cursor"


def test_csv_export_has_every_event_with_exact_costs(account):
    account.track(
        *[
            {"model": "gpt-4o", "input_tokens": 1000, "output_tokens": 7, "project": "p"}
            for _ in range(3)
        ],
        {"model": "mystery-model", "input_tokens": 1},
    )
    response = account.client.get(
        "/api/events", params={"format": "csv"}, headers=account.key_headers
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 4
    priced = [r for r in rows if r["model"] == "gpt-4o"]
    assert {r["cost_usd"] for r in priced} == {"0.00257"}
    assert [r["unpriced"] for r in rows if r["model"] == "mystery-model"] == ["True"]


def test_summary_defaults_to_this_month_so_far_with_every_day_to_today(account):
    data = account.get("/api/costs/summary").json()["data"]
    today = datetime.now(UTC).date()
    assert (data["start"], data["end"]) == (today.replace(day=1).isoformat(), today.isoformat())
    assert [d["day"] for d in data["by_day"]][-1] == today.isoformat()
    assert len(data["by_day"]) == today.day and all(d["cost_usd"] == "0" for d in data["by_day"])
    assert data["total_cost_usd"] == "0"


def test_summary_breakdowns_equal_raw_event_sums_exactly(account, engine):
    events = []
    for i in range(60):
        events.append(
            {
                "model": [
                    "gpt-4o",
                    "gpt-4o-mini",
                    "claude-sonnet-4",
                    "gemini-2.5-pro",
                    "odd-model",
                ][i % 5],
                "input_tokens": 1000 + 37 * i,
                "cache_read_tokens": 3 * i,
                "output_tokens": 11 * i,
                "project": ["web", "batch", None][i % 3],
                "timestamp": _ago(days=i % 9),
            }
        )
    assert account.track(*events).status_code == 200
    start = (datetime.now(UTC) - timedelta(days=10)).date().isoformat()
    data = account.get(
        "/api/costs/summary", start=start, end=datetime.now(UTC).date().isoformat()
    ).json()["data"]
    with engine.connect() as connection:
        raw_costs = [
            row[0]
            for row in connection.execute(
                text("SELECT cost_usd FROM cost_events WHERE cost_usd IS NOT NULL")
            )
        ]
    from llmlab_app.db.types import Money

    dialect = engine.dialect
    exact = sum((Money().process_result_value(v, dialect) for v in raw_costs), Decimal(0))
    assert Decimal(data["total_cost_usd"]) == exact
    assert sum(Decimal(m["cost_usd"]) for m in data["by_model"]) == exact
    assert sum(Decimal(d["cost_usd"]) for d in data["by_day"]) == exact
    assert sum(Decimal(p["cost_usd"]) for p in data["by_project"]) == exact
    assert data["calls"] == 60 and data["unpriced_calls"] == 12
    assert {p["project"] for p in data["by_project"]} == {"web", "batch", None}
    costs = [Decimal(m["cost_usd"]) for m in data["by_model"]]
    assert costs == sorted(costs, reverse=True)


def test_summary_for_one_project_and_bad_ranges(account):
    account.track(
        {"model": "gpt-4o", "input_tokens": 1000, "project": "web"},
        {"model": "gpt-4o", "input_tokens": 3000, "project": "api"},
    )
    web = account.get("/api/costs/summary", project="web").json()["data"]
    assert web["input_tokens"] == 1000
    assert account.get("/api/costs/summary", project="nope").status_code == 404
    backwards = account.get("/api/costs/summary", start="2026-02-01", end="2026-01-01")
    assert backwards.status_code == 422 and "end" in backwards.json()["error"]
    assert account.get("/api/costs/summary", start="not-a-date").status_code == 422


def test_variants_of_one_model_are_one_row_with_their_recorded_names(account):
    usage = {"input_tokens": 1_000_000, "output_tokens": 0}
    account.track(
        {"model": "gpt-4o-2024-08-06", **usage},
        {"model": "gpt-4o", **usage},
        {"model": "gpt-4o", **usage},
        {"model": "house-model", **usage},
    )
    by_model = account.get("/api/costs/summary").json()["data"]["by_model"]
    gpt4o = next(row for row in by_model if row["model"] == "gpt-4o")
    assert gpt4o["calls"] == 3 and gpt4o["cost_usd"] == "7.5"
    assert [(v["model"], v["calls"], v["cost_usd"]) for v in gpt4o["variants"]] == [
        ("gpt-4o", 2, "5"),
        ("gpt-4o-2024-08-06", 1, "2.5"),
    ]
    assert not any(row["model"] == "gpt-4o-2024-08-06" for row in by_model)
    unknown = next(row for row in by_model if row["model"] == "house-model")
    assert unknown["unpriced_calls"] == 1 and unknown["variants"][0]["model"] == "house-model"
