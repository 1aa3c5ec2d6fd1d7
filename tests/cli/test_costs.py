"""`llmlab costs`: the spend table and its JSON, checked against what `track` reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest


def test_costs_total_is_the_sum_of_what_track_reported(cli, tracked):
    summary = cli.json("costs")
    reported = sum(Decimal(t["cost_usd"]) for t in tracked if t["cost_usd"] is not None)
    assert Decimal(summary["total_cost_usd"]) == reported > 0
    assert summary["calls"] == len(tracked)
    assert summary["unpriced_calls"] == 1
    by_model = {row["model"]: Decimal(row["cost_usd"]) for row in summary["by_model"]}
    assert sum(by_model.values()) == reported


def test_costs_json_has_every_breakdown(cli, tracked):
    summary = cli.json("costs", "--days", "7")
    assert {"start", "end", "total_cost_usd", "calls", "unpriced_calls"} <= summary.keys()
    assert {"by_model", "by_provider", "by_project", "by_day"} <= summary.keys()
    today = datetime.now(UTC).date()
    assert summary["end"] == today.isoformat()
    assert summary["start"] == (today - timedelta(days=6)).isoformat()
    assert {row["project"] for row in summary["by_project"]} == {
        "support",
        "search",
        "internal",
        None,
    }


def test_costs_table_by_model_has_totals_and_flags_unpriced_calls(cli, tracked):
    out = cli.ok("costs", "--by", "model")
    lines = out.splitlines()
    total_line = next(line for line in lines if line.startswith("Total"))
    summary = cli.json("costs")
    total = Decimal(summary["total_cost_usd"]).quantize(Decimal("0.01"))
    assert f"${total}" in total_line
    assert "6" in total_line.split()  # calls
    unpriced_line = next(line for line in lines if "my-local-llm" in line)
    assert "unpriced" in unpriced_line and "$0.00" not in unpriced_line
    assert "not in the total" in out
    # Money is right-aligned: every cost ends in the same column.
    header = next(line for line in lines if "Cost" in line)
    cost_end = header.index("Cost") + len("Cost")
    for line in lines[lines.index(header) + 2 :]:
        if line.strip() and not line.startswith(("1 call", "─")) and "$" in line:
            assert line[cost_end - 1] != " ", line


@pytest.mark.parametrize("by", ["provider", "project", "day"])
def test_costs_table_by_other_keys(cli, tracked, by):
    out = cli.ok("costs", "--by", by)
    assert "Total" in out
    expected = {"provider": "anthropic", "project": "(no project)", "day": "2026"}[by]
    if by == "day":
        expected = datetime.now(UTC).date().isoformat()
    assert expected in out


def test_costs_for_one_project(cli, tracked):
    summary = cli.json("costs", "--project", "search")
    assert summary["calls"] == 2
    assert summary["project"] == "search"


def test_costs_for_an_explicit_range_without_calls(cli, configured):
    summary = cli.json("costs", "--start", "2025-01-01", "--end", "2025-01-31")
    assert (summary["start"], summary["end"], summary["calls"]) == ("2025-01-01", "2025-01-31", 0)
    assert "Total" in cli.ok("costs", "--start", "2025-01-01", "--end", "2025-01-31")


def test_costs_by_model_names_a_model_as_the_calls_did(cli, configured):
    cli.ok("track", "--model", "claude-opus-4-20250514", "--input", "1000")
    cli.ok("track", "--model", "gpt-4o-2024-08-06", "--input", "1000")
    cli.ok("track", "--model", "gpt-4o", "--input", "1000")
    out = cli.ok("costs", "--by", "model")
    assert "claude-opus-4-20250514" in out and "claude-opus-4-0" not in out
    assert "gpt-4o (gpt-4o, gpt-4o-2024-08-06)" in out
