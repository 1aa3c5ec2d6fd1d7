"""Turning normalised events into the `cost_events` rows to insert."""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from llmlab_app.db.types import quantize_money
from llmlab_app.services.ingest.outcomes import EventOutcome
from llmlab_app.services.ingest.pricing import price_event
from llmlab_app.services.ingest.schema import EventIn, Source
from llmlab_core import Usage


def random_uuids(count: int) -> list[uuid.UUID]:
    """`count` version-4 UUIDs from one read of the system's random source: `uuid4()` reads
    it once per id, a system call that was 12% of a 1,000-event batch."""
    randomness = os.urandom(16 * count)
    return [
        uuid.UUID(bytes=randomness[start : start + 16], version=4)
        for start in range(0, 16 * count, 16)
    ]


def priced_rows(
    events: Sequence[EventIn],
    usages: Sequence[Usage | str],
    *,
    org_id: uuid.UUID,
    api_key_id: uuid.UUID | None,
    source: Source,
    project_ids: dict[str, uuid.UUID],
    overrides: Any,
    now: datetime,
) -> tuple[list[dict[str, Any]], list[EventOutcome]]:
    """The rows to insert (an event id repeated in the batch only once) and the outcome of
    each event as if every row goes in. `usages[i]` is a string for an event to reject."""
    rows: list[dict[str, Any]] = []
    outcomes: list[EventOutcome] = []
    seen: set[str] = set()
    # A row id per event, and an event id for each sent without one.
    ids = iter(random_uuids(len(events) + sum(1 for event in events if not event.event_id)))
    for event, usage in zip(events, usages, strict=True):
        event_id = event.event_id or next(ids).hex
        if isinstance(usage, str):
            outcomes.append(EventOutcome(event.event_id, "rejected", reason=usage))
            continue
        if event_id in seen:
            outcomes.append(EventOutcome(event_id, "duplicate"))
            continue
        seen.add(event_id)
        row = event_row(
            event,
            usage,
            row_id=next(ids),
            event_id=event_id,
            org_id=org_id,
            api_key_id=api_key_id,
            source=source if source != "api" else event.source,
            project_ids=project_ids,
            overrides=overrides,
            now=now,
        )
        rows.append(row)
        outcomes.append(
            EventOutcome(event_id, "stored", row["id"], row["cost_usd"], row["unpriced"])
        )
    return rows, outcomes


def event_row(
    event: EventIn,
    usage: Usage,
    *,
    row_id: uuid.UUID,
    event_id: str,
    org_id: uuid.UUID,
    api_key_id: uuid.UUID | None,
    source: Source,
    project_ids: dict[str, uuid.UUID],
    overrides: Any,
    now: datetime,
) -> dict[str, Any]:
    """One `cost_events` row, priced."""
    timestamp = event.timestamp or now
    typed_tokens = usage.input_tokens + usage.output_tokens
    priced = price_event(
        event.model,
        usage,
        provider=event.provider,
        at=timestamp,
        overrides=overrides,
        service_tier=event.service_tier,
        tokens_used=event.tokens_used,
        client_cost=event.cost_usd,
    )
    cost = priced.cost_usd
    return {
        "id": row_id,
        "org_id": org_id,
        "project_id": project_ids.get(event.project) if event.project else None,
        "api_key_id": api_key_id,
        "client_event_id": event_id,
        "provider": priced.provider,
        "model": event.model,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "cache_write_1h_tokens": usage.cache_write_1h_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "service_tier": event.service_tier,
        "tokens_used": typed_tokens or (event.tokens_used or 0),
        "cost_usd": None if cost is None else quantize_money(cost),
        "unpriced": priced.unpriced,
        "cost_source": priced.cost_source,
        "price_source": priced.price_source,
        "reported_cost_usd": event.reported_cost_usd,
        "source": source,
        "timestamp": timestamp,
        "latency_ms": event.latency_ms,
        "status": event.status,
        "end_user": event.end_user,
        "tags": event.tags,
        "metadata": event.metadata,
        "created_at": now,
    }
