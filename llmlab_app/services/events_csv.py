"""Events as CSV (the API's `format=csv`, the dashboard's download and so the CLI's export),
safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator

from sqlmodel import Session

from llmlab_app.db.types import money_text
from llmlab_app.services.events import EventFilters, event_record, list_events

CSV_COLUMNS = (
    "id",
    "event_id",
    "timestamp",
    "project",
    "provider",
    "model",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
    "service_tier",
    "cost_usd",
    "unpriced",
    "cost_source",
    "price_source",
    "reported_cost_usd",
    "source",
    "status",
    "latency_ms",
    "end_user",
    "tags",
)
# Columns whose text comes from whoever tracked the event. The others (ids, times, token
# counts, costs) are written by us and stay numbers a spreadsheet can add up.
TEXT_COLUMNS = frozenset(
    {
        "event_id",
        "project",
        "provider",
        "model",
        "price_source",
        "status",
        "end_user",
        "tags",
        "service_tier",
    }
)
# A spreadsheet reads a cell starting with one of these as a formula (`=HYPERLINK(…)`,
# `=cmd|' /C calc'!A0`, `@SUM(…)`, `+x`, `-2+3`); a tab or CR can hide one (OWASP, "CSV
# injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """`text`, with a leading `'` when a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_events_csv(
    session: Session, *, org_id: uuid.UUID, filters: EventFilters, page_size: int = 1000
) -> Iterator[str]:
    """CSV text in chunks, walking the cursor so memory stays flat for big exports."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    cursor: str | None = None
    while True:
        page = list_events(session, org_id=org_id, filters=filters, limit=page_size, cursor=cursor)
        for event in page.items:
            record = event_record(event, page.projects.get(event.project_id))  # type: ignore[arg-type]
            record["timestamp"] = event.timestamp.isoformat()
            record["cost_usd"] = "" if event.cost_usd is None else money_text(event.cost_usd)
            record["tags"] = ";".join(event.tags)
            writer.writerow([_cell(name, record[name]) for name in CSV_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _cell(column: str, value: object) -> object:
    if value is None:
        return ""
    if column in TEXT_COLUMNS and isinstance(value, str):
        return spreadsheet_safe(value)
    return value
