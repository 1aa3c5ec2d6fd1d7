"""Concurrent track requests share transactions (group commit) without losing, doubling or
mixing up events."""

from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from llmlab_app.db.models import CostEvent
from llmlab_app.db.upsert import insert_ignoring_conflicts, insert_new_rows
from llmlab_app.services.ingest import EventIn, ingest_events_blocking
from llmlab_app.services.ingest.rows import PricedRows, priced_rows
from llmlab_app.services.ingest.writer import WriteRequest, _Job, _store


def _track(engine, org_id: uuid.UUID, events: list[dict]) -> list:
    answer = ingest_events_blocking(
        engine, org_id=org_id, source="api", events=[EventIn(**e) for e in events]
    )
    return answer.events


def _row(event: EventIn, org_id: uuid.UUID, now: datetime) -> dict:
    """The row ingest would store for `event`, as a dict."""
    rows, _ = priced_rows(
        [event],
        [None],
        org_id=org_id,
        api_key_id=None,
        source="api",
        project_ids={},
        overrides=[],
        now=now,
    )
    return {name: rows.column(name)[0] for name in (*rows.columns, *rows.same)}


def _count(engine, sql: str) -> int:
    with engine.connect() as connection:
        return connection.execute(text(sql)).scalar_one()


def test_concurrent_requests_are_all_stored_once_and_rolled_up_once(account, engine):
    org_id = uuid.UUID(account.org_id)
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
        results[i] = _track(engine, org_id, events)

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


def test_one_failing_request_in_a_round_fails_alone(account, engine):
    org_id = uuid.UUID(account.org_id)
    now = datetime.now(UTC)

    def job(event_id: str, **change) -> _Job:
        event = EventIn(event_id=event_id, model="gpt-4o", input_tokens=10, output_tokens=1)
        request = WriteRequest(org_id, None, "api", [event], [None], None, None)
        row = _row(event, org_id, now) | change
        return _Job(request, PricedRows({k: [v] for k, v in row.items()}, {}), [], set())

    bad = job("bad", project_id=uuid.uuid4())  # no such project: foreign key violation
    good = job("good")
    with Session(engine, expire_on_commit=False) as session:
        _store(session, [bad, good])

    assert good.error is None and good.inserted == [True]
    assert isinstance(bad.error, IntegrityError)
    assert _count(engine, "SELECT COUNT(*) FROM cost_events") == 1
    assert _count(engine, "SELECT SUM(calls) FROM daily_spend") == 1


@pytest.mark.parametrize("events", [1, 3])
def test_track_answers_only_after_its_events_are_committed(account, engine, events):
    org_id = uuid.UUID(account.org_id)
    batch = [{"event_id": f"c{i}", "model": "gpt-4o", "input_tokens": 1} for i in range(events)]
    _track(engine, org_id, batch)
    # A fresh connection (another transaction) sees them: the answer came after the commit.
    assert _count(engine, "SELECT COUNT(*) FROM cost_events") == events


def test_raw_insert_stores_what_sqlalchemy_stores_and_reports_skipped_rows(account, engine):
    """`insert_new_rows` bypasses SQLAlchemy's per-row statement work: the stored values must
    be the same as through a Core insert, and rows hitting the unique key are reported."""
    org_id = uuid.UUID(account.org_id)
    now = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    events = [
        EventIn(
            event_id=f"{way}-{i}",
            model="gpt-4o",
            input_tokens=1234 + i,
            output_tokens=5,
            cost_usd=Decimal("0.1234567891") if i == 1 else None,
            tokens_used=None,
            timestamp=now,
            end_user="ü-user" if i else None,
            tags=["a", "é"],
            metadata={"k": i, "nested": {"x": [1, None]}} if i else {},
            latency_ms=None if i else 12,
            status="error" if i == 2 else "success",
        )
        for way in ("core", "raw")
        for i in range(3)
    ]
    rows = [_row(e, org_id, now) for e in events]
    with Session(engine) as session:
        insert_ignoring_conflicts(
            session, CostEvent, rows[:3], conflict_columns=["org_id", "client_event_id"]
        )
        assert (
            insert_new_rows(
                session, CostEvent, rows[3:], conflict_columns=["org_id", "client_event_id"]
            )
            == [True] * 3
        )
        session.commit()
        # Retries of stored events next to a new one: only the new one goes in.
        again = [r | {"id": uuid.uuid4()} for r in rows[2:4]]
        fresh = rows[5] | {"id": uuid.uuid4(), "client_event_id": "fresh"}
        assert insert_new_rows(
            session, CostEvent, [*again, fresh], conflict_columns=["org_id", "client_event_id"]
        ) == [False, False, True]
        session.commit()

    names = [c.name for c in CostEvent.__table__.c if c.name not in ("id", "client_event_id")]
    columns = ", ".join(f'"{name}"' for name in names)
    with engine.connect() as connection:
        stored = {
            row[0]: row[1:]
            for row in connection.execute(
                text(f"SELECT client_event_id, {columns} FROM cost_events")
            )
        }
    assert len(stored) == 7
    for i in range(3):
        assert stored[f"raw-{i}"] == stored[f"core-{i}"]
    assert stored["fresh"] == stored["raw-2"]


def test_writer_thread_answers_each_request_with_its_events_and_budgets(account, engine):
    """Small track requests served together by the writer thread: each gets its own events
    (a retried event id stored once), the budgets its events fall under, alerts once."""
    from llmlab_app.services import budgets
    from llmlab_app.services.ingest import ingest_events
    from llmlab_app.services.projects import ensure_projects

    org_id = uuid.UUID(account.org_id)
    with Session(engine, expire_on_commit=False) as session:
        ensure_projects(session, org_id=org_id, names={"bot"})
        session.commit()
        budgets.create_budget(
            session,
            actor=account.actor(session),
            name="all",
            amount_usd=Decimal("0.01"),
            period="monthly",
        )
        budgets.create_budget(
            session,
            actor=account.actor(session),
            name="bot",
            amount_usd=Decimal("1000"),
            period="monthly",
            project="bot",
        )

    async def send_all() -> list:
        calls = [
            ingest_events(
                engine,
                org_id=org_id,
                source="api",
                events=[
                    EventIn(
                        event_id="same" if i % 5 == 0 else f"w{i}",
                        model="gpt-4o",
                        input_tokens=100_000,
                        project="bot" if i % 2 else None,
                    )
                ],
            )
            for i in range(20)
        ]
        return await asyncio.gather(*calls)

    answers = asyncio.run(send_all())

    assert sum(not a.events[0].duplicate for a in answers if a.events[0].event_id == "same") == 1
    assert _count(engine, "SELECT COUNT(*) FROM cost_events") == 17
    assert _count(engine, "SELECT SUM(calls) FROM daily_spend") == 17
    for i, answer in enumerate(answers):
        names = sorted(s.budget.name for s in answer.budgets)
        assert names == (["all", "bot"] if i % 2 else ["all"])
    # The 0.01 USD budget is exceeded: each threshold alert recorded once.
    assert _count(engine, "SELECT COUNT(*) FROM budget_alerts WHERE kind = 'threshold'") == 3


def test_random_uuids_are_version_4_and_distinct():
    from llmlab_app.services.ingest import random_uuids

    ids = random_uuids(10_000)
    assert len(set(ids)) == 10_000
    assert all(i.version == 4 and i.variant == uuid.RFC_4122 for i in ids)


def test_equal_project_ids_held_by_distinct_objects_share_one_rollup_row(account, engine):
    """The rollup groups rows by their UUIDs' identities first: equal ids in distinct objects
    (two requests of one round) must still add up in one rollup row."""
    from tests.conftest import stored_id

    org_id = uuid.UUID(account.org_id)
    account.track({"model": "gpt-4o", "input_tokens": 1, "project": "shared"})
    with engine.connect() as connection:
        project_id = uuid.UUID(
            str(connection.execute(text("SELECT id FROM projects WHERE name = 'shared'")).scalar())
        )
    now = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)

    def job(event_id: str) -> _Job:
        event = EventIn(event_id=event_id, model="gpt-4o", input_tokens=10, timestamp=now)
        request = WriteRequest(org_id, None, "api", [event], [None], None, None)
        row = _row(event, org_id, now) | {"project_id": uuid.UUID(str(project_id))}
        return _Job(request, PricedRows({k: [v] for k, v in row.items()}, {}), [], set())

    jobs = [job("first"), job("second")]
    assert jobs[0].rows.columns["project_id"][0] is not jobs[1].rows.columns["project_id"][0]
    with Session(engine, expire_on_commit=False) as session:
        _store(session, jobs)
    assert all(j.error is None and j.inserted == [True] for j in jobs)
    rows = _count(
        engine,
        "SELECT COUNT(*) FROM daily_spend WHERE calls = 2 AND input_tokens = 20 AND project_id = "
        f"'{stored_id(engine, project_id)}'",
    )
    assert rows == 1
