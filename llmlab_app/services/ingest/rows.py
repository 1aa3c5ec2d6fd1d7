"""Turning normalised events into the `cost_events` rows to insert, a column at a time."""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from llmlab_app.db.types import quantize_money
from llmlab_app.services.ingest.outcomes import EventOutcome
from llmlab_app.services.ingest.pricing import BatchPricer
from llmlab_app.services.ingest.schema import EventIn, Source

# The version-4 and RFC 4122 variant bits, as `uuid.UUID(..., version=4)` sets them.
_V4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_V4_SET = (0x8000 << 48) | (4 << 76)


def random_uuids(count: int) -> list[uuid.UUID]:
    """`count` version-4 UUIDs from one read of the system's random source: `uuid4()` reads
    it once per id, a system call that was 12% of a 1,000-event batch. Each is made as
    `UUID.__init__` makes it, without its argument checks (~2/3 of its cost)."""
    randomness = os.urandom(16 * count)
    new, set_attribute, unknown = object.__new__, object.__setattr__, uuid.SafeUUID.unknown
    ids = []
    for start in range(0, 16 * count, 16):
        value = new(uuid.UUID)
        number = int.from_bytes(randomness[start : start + 16]) & _V4_CLEAR | _V4_SET
        set_attribute(value, "int", number)
        set_attribute(value, "is_safe", unknown)
        ids.append(value)
    return ids


@dataclass
class PricedRows:
    """The rows of one request: `columns` (name -> one value per row) and `same` (columns
    with one value for every row: the organisation, the key, the time written)."""

    columns: dict[str, list[Any]]
    same: dict[str, Any]

    def __len__(self) -> int:
        return len(self.columns["id"])

    def column(self, name: str) -> list[Any]:
        """One column, a `same` one repeated."""
        if name in self.same:
            return [self.same[name]] * len(self)
        return self.columns[name]


def priced_rows(
    events: Sequence[EventIn],
    conflicts: Sequence[str | None],
    *,
    org_id: uuid.UUID,
    api_key_id: uuid.UUID | None,
    source: Source,
    project_ids: dict[str, uuid.UUID],
    overrides: Any,
    now: datetime,
) -> tuple[PricedRows, list[EventOutcome]]:
    """The rows to insert (an event id repeated in the batch only once) and the outcome of
    each event as if every row goes in. `conflicts[i]` says why event i is rejected, if so.

    Built column-wise: each column is one pass over the stored events, and what is the same
    for the whole request is given once."""
    outcomes: list[EventOutcome | None] = []
    kept: list[EventIn] = []
    event_ids: list[str] = []
    seen: set[str] = set()
    # A row id per event, and an event id for each sent without one.
    ids = iter(random_uuids(len(events) + sum(1 for event in events if not event.event_id)))
    for event, conflict in zip(events, conflicts, strict=True):
        if conflict is not None:
            outcomes.append(EventOutcome(event.event_id, "rejected", reason=conflict))
            continue
        event_id = event.event_id or next(ids).hex
        if event_id in seen:
            outcomes.append(EventOutcome(event_id, "duplicate"))
            continue
        seen.add(event_id)
        outcomes.append(None)  # stored: filled in below
        kept.append(event)
        event_ids.append(event_id)

    row_ids = [next(ids) for _ in kept]
    timestamps = [event.timestamp or now for event in kept]
    price = BatchPricer(overrides).price
    prices = [price(event, at) for event, at in zip(kept, timestamps, strict=True)]
    costs = [None if p.cost_usd is None else quantize_money(p.cost_usd) for p in prices]
    unpriced = [p.unpriced for p in prices]
    columns: dict[str, list[Any]] = {
        "id": row_ids,
        "project_id": [project_ids.get(e.project) if e.project else None for e in kept],
        "client_event_id": event_ids,
        "provider": [p.provider for p in prices],
        "model": [e.model for e in kept],
        "input_tokens": [e.input_tokens for e in kept],
        "output_tokens": [e.output_tokens for e in kept],
        "cache_read_tokens": [e.cache_read_tokens for e in kept],
        "cache_write_tokens": [e.cache_write_tokens for e in kept],
        "cache_write_1h_tokens": [e.cache_write_1h_tokens for e in kept],
        "reasoning_tokens": [e.reasoning_tokens for e in kept],
        "service_tier": [e.service_tier for e in kept],
        "tokens_used": [(e.input_tokens + e.output_tokens) or (e.tokens_used or 0) for e in kept],
        "cost_usd": costs,
        "unpriced": unpriced,
        "cost_source": [p.cost_source for p in prices],
        "price_source": [p.price_source for p in prices],
        "reported_cost_usd": [e.reported_cost_usd for e in kept],
        "source": [e.source for e in kept] if source == "api" else [source] * len(kept),
        "timestamp": timestamps,
        "latency_ms": [e.latency_ms for e in kept],
        "status": [e.status for e in kept],
        "end_user": [e.end_user for e in kept],
        "tags": [e.tags for e in kept],
        "metadata": [e.metadata for e in kept],
    }
    same = {"org_id": org_id, "api_key_id": api_key_id, "created_at": now}
    stored = iter(zip(row_ids, event_ids, costs, unpriced, strict=True))
    answered = []
    for outcome in outcomes:
        if outcome is None:
            row_id, event_id, cost, is_unpriced = next(stored)
            outcome = EventOutcome(event_id, "stored", row_id, cost, is_unpriced)
        answered.append(outcome)
    return PricedRows(columns, same), answered
