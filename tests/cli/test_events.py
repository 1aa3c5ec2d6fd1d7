"""`llmlab track`, `llmlab events` and `llmlab export`."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal


def test_track_prints_the_cost_and_is_idempotent(cli, configured):
    out = cli.ok(
        "track", "--model", "gpt-4o", "--input", "1000", "--output", "100", "--event-id", "e1"
    )
    assert "$0.0035" in out and "e1" in out
    again = cli.json("track", "--model", "gpt-4o", "--input", "1000", "--event-id", "e1")
    assert again["events"][0]["duplicate"] is True
    assert cli.json("costs")["calls"] == 1


def test_track_json_shape_and_every_field_reaches_the_server(cli, configured):
    answer = cli.json(
        "track",
        "--model", "claude-sonnet-4-20250514",
        "--input", "5100", "--cache-write", "2000", "--cached", "3000", "--output", "500",
        "--project", "bot", "--tag", "a", "--tag", "b", "--end-user", "u1",
        "--latency-ms", "1234", "--metadata", '{"run": 7}', "--event-id", "full",
        "--timestamp", "2026-01-15T10:00:00Z",
    )  # fmt: skip
    assert answer.keys() == {"events", "budgets"}
    assert answer["events"][0].keys() == {"id", "event_id", "cost_usd", "unpriced", "duplicate"}
    assert Decimal(answer["events"][0]["cost_usd"]) == Decimal("0.0162")
    [event] = cli.json("events")
    assert event["project"] == "bot" and event["tags"] == ["a", "b"]
    assert (event["end_user"], event["latency_ms"], event["metadata"]) == ("u1", 1234, {"run": 7})
    assert event["timestamp"].startswith("2026-01-15T10:00:00")


def test_track_one_hour_cache_writes_and_a_service_tier(cli, configured):
    answer = cli.json(
        "track", "--model", "claude-sonnet-4-5", "--input", "100000",
        "--cache-write", "60000", "--cache-write-1h", "40000",
    )  # fmt: skip
    assert Decimal(answer["events"][0]["cost_usd"]) == Decimal("0.435")
    batch = cli.json("track", "--model", "gpt-4o", "--input", "1000000", "--tier", "batch")
    assert Decimal(batch["events"][0]["cost_usd"]) == Decimal("1.25")
    assert {e["service_tier"] for e in cli.json("events")} == {"standard", "batch"}
    refused = cli.run("track", "--model", "gpt-4o", "--input", "1", "--tier", "gold")
    cli.one_line_error(refused, mentions="service_tier")


def test_track_an_error_and_a_client_reported_cost(cli, configured):
    answer = cli.json(
        "track", "--model", "my-model", "--provider", "mine", "--cost", "0.25", "--error"
    )
    assert Decimal(answer["events"][0]["cost_usd"]) == Decimal("0.25")
    [event] = cli.json("events")
    assert event["status"] == "error" and event["cost_source"] != "engine"


def test_track_an_unknown_model_says_unpriced(cli, configured):
    out = cli.ok("track", "--model", "mystery-model", "--input", "10")
    assert "unpriced" in out


def test_events_lists_newest_first_with_limit_and_filters(cli, configured):
    for n in range(5):
        cli.ok(
            "track",
            "--model",
            "gpt-4o-mini",
            "--input",
            str(100 + n),
            "--project",
            "p" + str(n % 2),
        )
    events = cli.json("events", "--limit", "3")
    assert [e["input_tokens"] for e in events] == [104, 103, 102]
    assert {e["project"] for e in cli.json("events", "--project", "p1")} == {"p1"}
    assert len(cli.json("events", "--project", "p1")) == 2
    assert cli.json("events", "--model", "gpt-4o") == []
    table = cli.ok("events")
    assert table.count("gpt-4o-mini") == 5


def test_events_pages_through_more_than_one_page(cli, configured, monkeypatch):
    from llmlab_cli.commands import events as events_module

    monkeypatch.setattr(events_module, "PAGE_SIZE", 2)
    for n in range(5):
        cli.ok("track", "--model", "gpt-4o-mini", "--input", str(n))
    assert len(cli.json("events", "--limit", "4")) == 4
    assert len(cli.json("events", "--limit", "50")) == 5


def test_events_without_any_says_how_to_send_some(cli, configured):
    assert "llmlab demo" in cli.ok("events")


def test_export_csv_writes_every_event(cli, configured, tmp_path):
    for n in range(7):
        cli.ok("track", "--model", "gpt-4o-mini", "--input", str(n), "--project", "exp")
    out = tmp_path / "events.csv"
    result = cli.run("export", "--format", "csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Exported 7 events" in result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 7
    assert {row["project"] for row in rows} == {"exp"}


def test_export_jsonl_to_standard_output_with_a_filter(cli, configured):
    cli.ok("track", "--model", "gpt-4o-mini", "--input", "1")
    cli.ok("track", "--model", "gpt-4o", "--input", "1")
    result = cli.run("export", "--format", "jsonl", "--out", "-", "--model", "gpt-4o")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["model"] for line in lines] == ["gpt-4o"]


def test_export_to_an_unwritable_path_is_one_line(cli, configured, tmp_path):
    result = cli.run("export", "--out", str(tmp_path / "missing" / "x.csv"))
    cli.one_line_error(result, mentions="cannot write")


def test_names_with_brackets_are_printed_as_they_are(cli, configured):
    cli.ok("track", "--model", "llama[local]", "--provider", "self-hosted", "--project", "[red]x")
    assert "llama[local]" in cli.ok("events")
    assert "[red]x" in cli.ok("costs", "--by", "project")
    assert "llama[local]" in cli.ok("costs", "--by", "model")


def test_track_warns_when_a_budget_is_exceeded(cli, configured):
    cli.ok("budgets", "set", "0.01")
    out = cli.ok("track", "--model", "gpt-4o", "--input", "1000000")
    assert "Budget Monthly budget is exceeded: $2.50 of $0.01." in out
