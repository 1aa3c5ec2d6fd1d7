"""Ingest: every source (REST single and batch, the SDK through REST, the gateway, OTLP) hands
normalised events (`EventIn`) to `ingest_events`, the one write path.

    answer = await ingest_events(engine, org_id=..., api_key_id=..., source="otlp", events=[...])
    for outcome in answer.events:  # one per event, in order
        outcome.outcome  # "stored" | "duplicate" | "rejected" (then outcome.reason)

Modules: `schema` (what comes in), `pricing` (`price_event`, the rule re-pricing shares),
`rows` (priced rows), `rollup` (the daily rollup), `accounts` (what the writer keeps per
organisation, and the rule that keeps it correct), `writer` (the thread, its rounds and their
group commit).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid
from collections.abc import Sequence

from sqlalchemy import Engine

from llmlab_app.errors import InvalidInput
from llmlab_app.services.ingest.outcomes import EventOutcome, IngestAnswer, Outcome
from llmlab_app.services.ingest.pricing import EventPrice, price_event
from llmlab_app.services.ingest.rollup import ROLLUP_SUMS
from llmlab_app.services.ingest.rows import random_uuids
from llmlab_app.services.ingest.schema import (
    MAX_BATCH_EVENTS,
    SOURCES,
    EventIn,
    Source,
    counts_conflict,
    validate_batch,
)
from llmlab_app.services.ingest.writer import WriteRequest, writer_for

__all__ = [
    "MAX_BATCH_EVENTS",
    "ROLLUP_SUMS",
    "SOURCES",
    "EventIn",
    "EventOutcome",
    "EventPrice",
    "IngestAnswer",
    "Outcome",
    "Source",
    "ingest_events",
    "ingest_events_blocking",
    "price_event",
    "random_uuids",
    "validate_batch",
]


async def ingest_events(
    engine: Engine,
    *,
    org_id: uuid.UUID,
    events: Sequence[EventIn],
    source: Source,
    api_key_id: uuid.UUID | None = None,
    atomic: bool = False,
) -> IngestAnswer:
    """Price and store `events` for the organisation (sent with the key `api_key_id`, if
    with one) with their daily rollup, evaluate the budgets they fall under (recording crossed
    alerts), and answer once they are committed.

    `source` is the ingress: `otlp` and `gateway` mark every event so; `api` (the REST API)
    keeps each event's own `source` (`api`, or `sdk` when LLMLab's SDK sent it).

    Per event (`IngestAnswer.events`, in order): `stored`; `duplicate` when its `event_id`
    was stored before for this organisation, or earlier in `events` (nothing changes, never
    counted twice); `rejected` with a `reason` when its counts contradict each other (e.g.
    cache reads above the input). With `atomic`, a rejected event instead raises
    `InvalidInput` naming it (`events[3]: ...`) and nothing is stored: the REST API's
    all-or-nothing batches. A database error raises; nothing of this call is stored then.

    The work is done by the database's writer thread together with the requests queued
    meanwhile (`writer.IngestWriter`): the caller's event loop only validates and waits.
    """
    loop = asyncio.get_running_loop()
    request = _request(org_id, api_key_id, source, events, atomic, loop, loop.create_future())
    writer_for(engine).submit(request)
    return await request.future  # type: ignore[misc]


def ingest_events_blocking(
    engine: Engine,
    *,
    org_id: uuid.UUID,
    events: Sequence[EventIn],
    source: Source,
    api_key_id: uuid.UUID | None = None,
    atomic: bool = False,
) -> IngestAnswer:
    """`ingest_events` for a caller without an event loop (a thread, a script): the same
    writer, waited for in this thread. Never call it while holding a write transaction on
    the same SQLite database: the writer would wait for it."""
    future: concurrent.futures.Future[IngestAnswer] = concurrent.futures.Future()
    request = _request(org_id, api_key_id, source, events, atomic, None, future)
    writer_for(engine).submit(request)
    return future.result()


def _request(
    org_id: uuid.UUID,
    api_key_id: uuid.UUID | None,
    source: Source,
    events: Sequence[EventIn],
    atomic: bool,
    loop: asyncio.AbstractEventLoop | None,
    future: asyncio.Future[IngestAnswer] | concurrent.futures.Future[IngestAnswer],
) -> WriteRequest:
    if source not in SOURCES:
        raise ValueError(f"unknown event source {source!r}")
    conflicts = [counts_conflict(event) for event in events]
    if atomic:  # a contradiction fails here, before any I/O
        for index, conflict in enumerate(conflicts):
            if conflict is not None:
                where = f"events[{index}]" if len(events) > 1 else "event"
                raise InvalidInput(f"{where}: {conflict}")
    return WriteRequest(org_id, api_key_id, source, events, conflicts, loop, future)
