"""`llmlab demo`: realistic, deterministic, idempotent usage through the real API."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from llmlab_cli.demo import demo_events

NOW = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


def _events(**options):
    return list(demo_events(**({"seed": 42, "days": 90, "now": NOW} | options)))


def test_demo_fills_the_account_and_a_rerun_adds_nothing(cli, configured):
    first = cli.json("demo", "--days", "3", "--scale", "0.3")
    assert first["events"] == first["new_events"] > 0 and first["duplicates"] == 0
    assert len(first["projects"]) >= 5
    assert first["budget"]["period"] == "monthly" and first["budget"]["project"] is None
    before = cli.json("costs", "--days", "3")

    again = cli.json("demo", "--days", "3", "--scale", "0.3")
    assert again["new_events"] == 0 and again["duplicates"] == again["events"] == first["events"]
    assert cli.json("costs", "--days", "3")["total_cost_usd"] == before["total_cost_usd"]
    assert len(cli.json("budgets")) == 1


def test_demo_never_sends_events_from_the_future(cli, with_demo_data):
    [newest] = cli.json("events", "--limit", "1")
    assert datetime.fromisoformat(newest["timestamp"]) <= datetime.now(UTC)


def test_demo_budget_can_be_chosen(cli, configured):
    report = cli.json("demo", "--days", "1", "--scale", "0.1", "--budget", "777")
    assert report["budget"]["amount_usd"] == "777"


def test_demo_prints_a_summary(cli, configured):
    out = cli.ok("demo", "--days", "1", "--scale", "0.1")
    assert "Sent" in out and "Monthly budget" in out and "llmlab costs" in out


def test_the_same_seed_gives_the_same_events():
    assert _events(days=5) == _events(days=5)
    assert _events(days=5) != _events(days=5, seed=43)


def test_a_later_run_repeats_the_events_both_windows_hold():
    earlier = {e["event_id"]: e for e in _events(days=2, now=NOW - timedelta(hours=3))}
    later = {e["event_id"]: e for e in _events(days=2)}
    shared = [e for e in earlier.values() if e["timestamp"] > (NOW - timedelta(days=2)).isoformat()]
    assert 0 < len(shared) < len(earlier) and len(shared) < len(later)
    assert all(later[event["event_id"]] == event for event in shared)


@pytest.mark.parametrize("hour", [0, 6, 23])
def test_one_day_is_the_last_24_hours_whatever_the_time(hour):
    """Not the calendar day: just after midnight that would be a few minutes, and nothing."""
    now = datetime(2026, 11, 27, hour, 5, tzinfo=UTC)
    events = _events(days=1, now=now)
    stamps = [datetime.fromisoformat(e["timestamp"]) for e in events]
    assert len(events) > 150  # about 300 calls a day, fewer at night, more on weekdays
    assert min(stamps) > now - timedelta(days=1)
    assert max(stamps) <= now - timedelta(minutes=1)


def test_ninety_days_is_a_modest_realistic_volume():
    events = _events()
    assert 20_000 <= len(events) <= 40_000
    assert len({e["event_id"] for e in events}) == len(events)
    assert max(e["timestamp"] for e in events) <= NOW.isoformat()
    assert min(e["timestamp"] for e in events) >= (NOW - timedelta(days=90)).isoformat()
    assert {e["provider"] for e in events} >= {"openai", "anthropic", "google"}
    assert len({e["project"] for e in events}) >= 5
    # 1,000 events fit well under the API's 1 MB body limit.
    assert len(json.dumps(events[:1000])) < 600_000


def test_the_usage_has_the_shapes_the_dashboard_shows():
    events = _events()
    assert sum(e["cache_read_tokens"] > 0 for e in events) > 1000
    assert any(e["cache_write_tokens"] > 0 for e in events)
    assert sum(e["reasoning_tokens"] > 0 for e in events) > 500
    assert 0 < sum(e["input_tokens"] > 200_000 for e in events) < 200
    assert 0 < sum(e["status"] == "error" for e in events) < len(events) * 0.05
    assert any(e["provider"] == "self-hosted" for e in events)
    for e in events:
        assert e["cache_read_tokens"] + e["cache_write_tokens"] <= e["input_tokens"]
        assert e["reasoning_tokens"] <= e["output_tokens"]

    per_day = Counter(e["timestamp"][:10] for e in events)
    days = sorted(per_day)
    weekday = [per_day[d] for d in days if datetime.fromisoformat(d).weekday() < 5]
    weekend = [per_day[d] for d in days if datetime.fromisoformat(d).weekday() >= 5]
    assert statistics.mean(weekend) < 0.8 * statistics.mean(weekday)
    first_month = sum(per_day[d] for d in days[:30])
    last_month = sum(per_day[d] for d in days[-31:-1])
    assert last_month > 1.3 * first_month
    assert max(per_day.values()) > 2 * statistics.median(per_day.values())  # the spike


def test_demo_team_fills_a_shared_organisation_sent_by_two_members(cli, server_url, account):
    cli.ok("login", "--url", server_url, "--email", account.email, "--password", account.password)
    first = cli.json("demo", "--team", "Demo team", "--days", "3", "--scale", "0.3")
    assert first["new_events"] == first["events"] > 0
    again = cli.json("demo", "--team", "Demo team", "--days", "3", "--scale", "0.3")
    assert again["new_events"] == 0 and again["duplicates"] == first["events"]

    cli.ok("orgs", "use", "Demo team")
    members = cli.json("members")
    assert [m["role"] for m in members] == ["owner", "member"]
    by_member = cli.json("costs", "--by", "member", "--days", "3")["by_member"]
    assert {row["member"]["email"] for row in by_member} == {
        account.email,
        "demo-teammate-42@example.com",
    }
    assert all(row["calls"] > 0 for row in by_member)
    # The personal organisation got none of it.
    cli.ok("orgs", "use", account.email)
    assert cli.json("costs", "--days", "3")["calls"] == 0
