"""Concurrent track requests share transactions (group commit) without losing, doubling or
mixing up events."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from llmlab_app.services.events import EventIn, _event_row, _GroupCommit, _WriteJob, track_events


def _track(engine, user_id: uuid.UUID, events: list[dict]) -> list:
    with Session(engine, expire_on_commit=False) as session:
        return track_events(session, user_id=user_id, events=[EventIn(**e) for e in events])


def _count(engine, sql: str) -> int:
    with engine.connect() as connection:
        return connection.execute(text(sql)).scalar_one()


def test_concurrent_requests_are_all_stored_once_and_rolled_up_once(account, engine):
    user_id = uuid.UUID(account.user_id)
    senders = 8
    barrier = threading.Barrier(senders)
    results: dict[int, list] = {}

    def send(i: int) -> None:
        events = [
            {"event_id": f"t{i}-{j}", "model": "gpt-4o-mini", "input_tokens": 100 + i}
            for j in range(5)
        ]
        events.append({"event_id": "shared", "model": "gpt-4o-mini", "input_tokens": 7})
        barrier.wait()
        results[i] = _track(engine, user_id, events)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    shared = [r for answer in results.values() for r in answer if r.event_id == "shared"]
    assert sum(not r.duplicate for r in shared) == 1
    assert all(not r.duplicate for answer in results.values() for r in answer[:5])
    assert _count(engine, "SELECT COUNT(*) FROM cost_events") == senders * 5 + 1
    summary = account.get("/api/costs/summary").json()["data"]
    assert summary["calls"] == senders * 5 + 1
    assert summary["input_tokens"] == sum((100 + i) * 5 for i in range(senders)) + 7
    stored = sum(
        (r.cost_usd for answer in results.values() for r in answer if not r.duplicate),
        Decimal(0),
    )
    assert Decimal(summary["cost_usd"]) == stored


def test_one_failing_request_in_a_group_fails_alone(account, engine):
    user_id = uuid.UUID(account.user_id)
    now = datetime.now(UTC)

    def row(event_id: str) -> dict:
        event = EventIn(event_id=event_id, model="gpt-4o", input_tokens=10, output_tokens=1)
        return _event_row(event, event.usage(), event_id, user_id, {}, [], now)

    bad = row("bad") | {"project_id": uuid.uuid4()}  # no such project: foreign key violation
    writer = _GroupCommit(parallel_writers=engine.dialect.name != "sqlite")
    queued = _WriteJob([bad])
    writer._queue.append(queued)  # queued by a request that is waiting meanwhile
    with Session(engine, expire_on_commit=False) as session:
        inserted = writer.write(session, [row("good")])

    assert inserted == {"good"}
    assert queued.done and isinstance(queued.error, IntegrityError)
    assert _count(engine, "SELECT COUNT(*) FROM cost_events") == 1
    assert _count(engine, "SELECT SUM(calls) FROM daily_spend") == 1


@pytest.mark.parametrize("events", [1, 3])
def test_track_answers_only_after_its_events_are_committed(account, engine, events):
    user_id = uuid.UUID(account.user_id)
    batch = [{"event_id": f"c{i}", "model": "gpt-4o", "input_tokens": 1} for i in range(events)]
    _track(engine, user_id, batch)
    # A fresh connection (another transaction) sees them: the answer came after the commit.
    assert _count(engine, "SELECT COUNT(*) FROM cost_events") == events
