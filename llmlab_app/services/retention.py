"""Retention of raw events (`LLMLAB_RETENTION_DAYS`).

Events older than the window are deleted in small batches by a background thread, off the
request path. Their daily rollups (`daily_spend`) stay: summaries, budgets, forecasts and
what-if figures are computed from those, so they do not change. A deleted event can no longer
be recognised as a repeat of its `event_id`, so tracking refuses events older than the window.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, Table, delete, select

from llmlab_app.db.models import CostEvent, Organisation
from llmlab_app.errors import InvalidInput
from llmlab_app.services.ingest import EventIn

# Rows per transaction: short enough that SQLite's single writer is not held from ingest for
# long (a few tens of milliseconds).
BATCH_ROWS = 1_000


def retention_cutoff(retention_days: int, *, now: datetime | None = None) -> datetime:
    """The oldest timestamp still kept: events before it are deleted and refused."""
    return (now or datetime.now(UTC)) - timedelta(days=retention_days)


def refuse_expired_events(
    events: Sequence[EventIn],
    retention_days: int | None,
    *,
    batch: bool,
    now: datetime | None = None,
) -> None:
    """Raise `InvalidInput` (422) naming the `timestamp` of the first event older than the
    retention window; nothing when retention is off."""
    if retention_days is None:
        return
    cutoff = retention_cutoff(retention_days, now=now)
    for index, event in enumerate(events):
        if event.timestamp is not None and event.timestamp < cutoff:
            where = f"events[{index}].timestamp" if batch else "timestamp"
            raise InvalidInput(
                f"{where}: must not be older than the retention window of {retention_days} "
                f"days (before {cutoff:%Y-%m-%d %H:%M} UTC): such events are deleted, so a "
                "repeat could not be recognised"
            )


def delete_expired_events(
    engine: Engine,
    *,
    retention_days: int,
    now: datetime | None = None,
    batch_rows: int = BATCH_ROWS,
    pause: Callable[[], bool] = lambda: False,
) -> int:
    """Delete the raw events older than the window, `batch_rows` per transaction, one
    organisation at a time (the `(org_id, timestamp)` index finds them); returns how many
    were deleted. `pause` runs between batches and returns True to stop early."""
    cutoff = retention_cutoff(retention_days, now=now)
    with engine.connect() as connection:
        org_ids = list(connection.execute(select(_organisations().c.id)).scalars())
    deleted = 0
    for org_id in org_ids:
        while True:
            count = _delete_batch(engine, org_id=org_id, cutoff=cutoff, rows=batch_rows)
            deleted += count
            if count and pause():
                return deleted
            if count < batch_rows:
                break
    return deleted


def _delete_batch(engine: Engine, *, org_id: uuid.UUID, cutoff: datetime, rows: int) -> int:
    events = _events()
    oldest = (
        select(events.c.id)
        .where(events.c.org_id == org_id, events.c.timestamp < cutoff)
        .limit(rows)
        # Several workers may run this together: on PostgreSQL each takes other rows.
        .with_for_update(skip_locked=True)
    )
    with engine.begin() as connection:
        result = connection.execute(delete(events).where(events.c.id.in_(oldest.scalar_subquery())))
    return result.rowcount or 0


def _events() -> Table:
    return CostEvent.__table__  # type: ignore[attr-defined,no-any-return]


def _organisations() -> Table:
    return Organisation.__table__  # type: ignore[attr-defined,no-any-return]
