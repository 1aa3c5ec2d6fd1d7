"""The one write path: a writer thread per database that stores what every source hands to
ingest, in rounds, one transaction per round (group commit)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import uuid
import weakref
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from llmlab_app.db.models import CostEvent
from llmlab_app.db.upsert import insert_new_columns
from llmlab_app.metrics import EVENTS_INGESTED, INGEST_QUEUE_DEPTH
from llmlab_app.services.budgets import budgets_after_tracking
from llmlab_app.services.change_feed import record_change
from llmlab_app.services.ingest.accounts import AccountCache
from llmlab_app.services.ingest.outcomes import EventOutcome, IngestAnswer
from llmlab_app.services.ingest.rollup import add_to_rollup
from llmlab_app.services.ingest.rows import PricedRows, priced_rows
from llmlab_app.services.ingest.schema import EventIn, Source

# Events per round (one transaction): a round is also everyone's latency, so it stays bounded.
MAX_ROUND_EVENTS = 5_000
WRITER_IDLE_SECONDS = 2.0

_Future = asyncio.Future[IngestAnswer] | concurrent.futures.Future[IngestAnswer]


@dataclass(eq=False)
class WriteRequest:
    """One call of `ingest_events`: answered through `future`, on `loop` when it is an
    asyncio future (None: a `concurrent.futures.Future`, set from the writer thread)."""

    org_id: uuid.UUID
    api_key_id: uuid.UUID | None
    source: Source
    events: Sequence[EventIn]
    conflicts: list[str | None]  # per event: why its counts cannot be stored, if so
    loop: asyncio.AbstractEventLoop | None
    future: _Future


@dataclass(eq=False)
class _Job:
    request: WriteRequest
    rows: PricedRows
    outcomes: list[EventOutcome]
    project_ids: set[uuid.UUID]
    inserted: list[bool] = field(default_factory=list)  # per row of `rows`: whether it went in
    error: BaseException | None = None


class IngestWriter:
    """A thread that serves queued requests in rounds; it exits when idle and starts again
    on the next request.

    Per round it reads each organisation's settings version once (overrides, projects and
    budgets are kept between rounds: `AccountCache`), prices every request, writes them all in
    one transaction with their rollup and commits once (a failed round is retried request by
    request, so one bad request fails alone), then evaluates each organisation's budgets once
    and records crossed alerts, and answers. One commit per round instead of one per request
    lifts the per-commit cap (an fsync), and on SQLite this process's writes wait here, in
    order, instead of in SQLite's busy handler (a lock convoy under load).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: deque[WriteRequest] = deque()
        self._running = False
        self.accounts = AccountCache()

    def submit(self, request: WriteRequest) -> None:
        with self._lock:
            self._queue.append(request)
            if self._running:
                self._wake.notify()
                return
            self._running = True
        self._start()

    def _start(self) -> None:
        threading.Thread(target=self._run, name="llmlab-ingest-writer", daemon=True).start()

    def _take_round(self) -> list[WriteRequest]:
        group = [self._queue.popleft()]
        count = len(group[0].events)
        while self._queue and count + len(self._queue[0].events) <= MAX_ROUND_EVENTS:
            request = self._queue.popleft()
            group.append(request)
            count += len(request.events)
        return group

    def _run(self) -> None:
        idle = False
        try:
            while True:
                with self._lock:
                    if not self._queue:
                        self._wake.wait(WRITER_IDLE_SECONDS)
                    if not self._queue:
                        self._running = False
                        idle = True
                        INGEST_QUEUE_DEPTH.set(0)
                        return
                    group = self._take_round()
                    # Once per round, not per request: the hot path pays nothing for it.
                    INGEST_QUEUE_DEPTH.set(len(self._queue))
                engine = self._engine()
                try:
                    if engine is None:
                        raise RuntimeError("the database engine was disposed of")
                    _answer_all(serve_round(engine, group, self.accounts))
                except BaseException as exc:  # never leave a request waiting
                    _answer_all([(request, exc) for request in group])
                    if not isinstance(exc, Exception):
                        raise
        finally:
            if not idle:  # dying on a BaseException: a new thread serves what is queued
                with self._lock:
                    self._running = restart = bool(self._queue)
                if restart:
                    self._start()


def serve_round(
    engine: Engine, group: list[WriteRequest], accounts: AccountCache
) -> list[tuple[WriteRequest, IngestAnswer | BaseException]]:
    """Store one round of requests; the answer (or the error) of each."""
    now = datetime.now(UTC)
    answers: list[tuple[WriteRequest, IngestAnswer | BaseException]] = []
    by_org: dict[uuid.UUID, list[WriteRequest]] = {}
    for request in group:
        by_org.setdefault(request.org_id, []).append(request)
    with Session(engine, expire_on_commit=False) as session:
        jobs: list[_Job] = []
        budgets: dict[uuid.UUID, list[Any]] = {}
        for org_id, requests in by_org.items():
            try:
                names = {e.project for r in requests for e in r.events if e.project}
                project_ids = accounts.project_ids(session, org_id=org_id, names=names)
                account = accounts.account(session, org_id=org_id)
            except Exception as exc:
                session.rollback()
                answers.extend((request, exc) for request in requests)
                continue
            budgets[org_id] = account.budgets
            for request in requests:
                try:
                    rows, outcomes = priced_rows(
                        request.events,
                        request.conflicts,
                        org_id=org_id,
                        api_key_id=request.api_key_id,
                        source=request.source,
                        project_ids=project_ids,
                        overrides=account.overrides,
                        now=now,
                    )
                except Exception as exc:
                    answers.append((request, exc))
                    continue
                # Names first: a UUID hashes in Python, a name's hash is cached.
                named = {e.project for e in request.events if e.project}
                touched = {project_ids[name] for name in named}
                jobs.append(_Job(request, rows, outcomes, touched))
        _store(session, [job for job in jobs if job.rows])
        stored: dict[uuid.UUID, list[_Job]] = {}
        for job in jobs:
            if job.error is not None:
                answers.append((job.request, job.error))
            else:
                stored.setdefault(job.request.org_id, []).append(job)
        for org_id, org_jobs in stored.items():
            try:
                statuses = budgets_after_tracking(
                    session,
                    org_id=org_id,
                    project_ids=[job.project_ids for job in org_jobs],
                    budgets=budgets[org_id],
                )
            except Exception as exc:
                session.rollback()
                answers.extend((job.request, exc) for job in org_jobs)
                continue
            for job, statuses_of_request in zip(org_jobs, statuses, strict=True):
                answers.append((job.request, IngestAnswer(_settled(job), statuses_of_request)))
    return answers


def _settled(job: _Job) -> list[EventOutcome]:
    """Rows not inserted were stored before (by an earlier request): duplicates. Stored
    outcomes are in the order of the rows."""
    inserted = iter(job.inserted)
    return [
        o
        if o.outcome != "stored" or next(inserted)
        else EventOutcome(o.event_id, "duplicate", None, o.cost_usd, o.unpriced)
        for o in job.outcomes
    ]


def _store(session: Session, jobs: list[_Job]) -> None:
    """Write all jobs in one transaction; if that fails, each on its own (one bad request
    fails alone)."""
    if not jobs:
        return
    try:
        _write(session, jobs)
    except Exception as exc:
        session.rollback()
        if len(jobs) == 1:
            jobs[0].error = exc
            return
        for job in jobs:
            try:
                _write(session, [job])
            except Exception as job_exc:
                session.rollback()
                job.error = job_exc


_EVENT_KEY = ("org_id", "client_event_id")


def _write(session: Session, jobs: list[_Job]) -> None:
    rows, kept = _merged([job.rows for job in jobs])
    inserted = insert_new_columns(
        session, CostEvent, rows.columns, conflict_columns=_EVENT_KEY, same=rows.same
    )
    add_to_rollup(session, rows, inserted)
    session.commit()
    # Open dashboards of these organisations redraw (repeats changed nothing).
    if "org_id" in rows.same:  # one organisation: no UUID hashed per row
        changed = {rows.same["org_id"]} if any(inserted) else set()
    else:
        changed = {org for org, new in zip(rows.column("org_id"), inserted, strict=True) if new}
    if changed:
        record_change(*changed)
    sources = Counter(s for s, new in zip(rows.column("source"), inserted, strict=True) if new)
    for source, count in sources.items():
        EVENTS_INGESTED.labels(source=source).inc(count)
    if kept is not None:  # a row left out of the insert (a repeat) did not go in
        flags = iter(inserted)
        inserted = [keep and next(flags) for keep in kept]
    start = 0
    for job in jobs:
        job.inserted = inserted[start : start + len(job.rows)]
        start += len(job.rows)


def _merged(parts: list[PricedRows]) -> tuple[PricedRows, list[bool] | None]:
    """The rows of several requests as one insert; an event id sent by two requests of the
    round (same organisation) only once: then also which rows were kept."""
    if len(parts) == 1:
        return parts[0], None
    first = parts[0]
    same = {
        name: value
        for name, value in first.same.items()
        if all(part.same[name] == value for part in parts)
    }
    names = [*first.columns, *(name for name in first.same if name not in same)]
    columns = {name: [value for part in parts for value in part.column(name)] for name in names}
    merged = PricedRows(columns, same)
    keys = list(zip(merged.column("org_id"), columns["client_event_id"], strict=True))
    if len(set(keys)) == len(keys):
        return merged, None
    seen: set[tuple[Any, str]] = set()
    kept = []
    for key in keys:
        kept.append(key not in seen)
        seen.add(key)
    columns = {
        name: [value for value, keep in zip(values, kept, strict=True) if keep]
        for name, values in columns.items()
    }
    return PricedRows(columns, same), kept


# --- answering ---------------------------------------------------------------------------

_Settled = tuple[_Future, IngestAnswer | BaseException]


def _answer_all(answers: list[tuple[WriteRequest, IngestAnswer | BaseException]]) -> None:
    """One wake-up of each event loop for all of its answers (not one per request)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Settled]] = {}
    for request, result in answers:
        if request.loop is None:
            _settle([(request.future, result)])
        else:
            by_loop.setdefault(request.loop, []).append((request.future, result))
    for loop, settled in by_loop.items():
        # A closed loop (e.g. a test client gone) has nobody waiting.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, settled)


def _settle(answers: list[_Settled]) -> None:
    for future, result in answers:
        if future.done():  # the request was cancelled (client gone): nobody waits
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)


_writers: weakref.WeakKeyDictionary[Engine, IngestWriter] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def writer_for(engine: Engine) -> IngestWriter:
    """The database's writer (one per engine in this process)."""
    with _writers_lock:
        writer = _writers.get(engine)
        if writer is None:
            writer = _writers[engine] = IngestWriter(engine)
        return writer
