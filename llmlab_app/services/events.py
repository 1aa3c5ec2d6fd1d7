"""Recording cost events (priced, idempotent, rolled up in the same transaction) and reading
them back (filters, cursor pagination; CSV is in `events_csv`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import threading
import uuid
import weakref
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import bindparam, exists, func, literal
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from llmlab_app.db.models import NO_KEY, NO_PROJECT, Budget, CostEvent, DailySpend, Project
from llmlab_app.db.types import quantize_money
from llmlab_app.db.upsert import insert_new_rows, upsert_adding
from llmlab_app.errors import InvalidInput
from llmlab_app.metrics import INGEST_QUEUE_DEPTH
from llmlab_app.services.budgets import budgets_after_tracking_many, list_budgets
from llmlab_app.services.change_feed import record_change
from llmlab_app.services.cursors import encode_cursor, older_than
from llmlab_app.services.prices import overrides_for
from llmlab_app.services.projects import ensure_projects, get_project, project_names
from llmlab_app.services.settings_version import settings_version
from llmlab_core import PriceOverride, Usage, price_usage
from llmlab_core.usage import TOKEN_KINDS

MAX_TOKENS = 1_000_000_000
MAX_METADATA_BYTES = 16_384
FUTURE_TOLERANCE = timedelta(minutes=5)
OLDEST_TIMESTAMP = datetime(2015, 1, 1, tzinfo=UTC)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
TokenCount = Annotated[int, Field(ge=0, le=MAX_TOKENS)]


_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f]")


def _no_control_characters(value: str | None) -> str | None:
    if value is not None and _CONTROL_CHARACTER.search(value):
        raise ValueError("must not contain control characters")
    return value


class EventIn(BaseModel):
    """One LLM call as a client reports it."""

    model_config = ConfigDict(extra="ignore")

    event_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        default=None, description="Client idempotency key; re-sending it never counts twice."
    )
    provider: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    model: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    input_tokens: TokenCount = Field(0, description="Total input tokens, cache included.")
    output_tokens: TokenCount = Field(0, description="Output tokens, reasoning included.")
    cache_read_tokens: TokenCount = 0
    cache_write_tokens: TokenCount = Field(
        0, description="Every cache write, 1-hour ones included."
    )
    cache_write_1h_tokens: TokenCount = Field(
        0, description="The part of cache_write_tokens written to the 1-hour cache (Anthropic)."
    )
    reasoning_tokens: TokenCount = 0
    service_tier: Literal["standard", "batch", "flex", "priority"] = Field(
        "standard",
        description="The rates the call was billed at (batch APIs, OpenAI flex/priority).",
    )
    tokens_used: Annotated[int, Field(ge=0, le=2 * MAX_TOKENS)] | None = Field(
        default=None, description="Legacy total; alone it is stored unpriced."
    )
    cost_usd: Annotated[Decimal, Field(ge=0, le=1_000_000, allow_inf_nan=False)] | None = Field(
        default=None, description="Client-reported cost; kept and marked as such."
    )
    timestamp: datetime | None = None
    project: Name | None = None
    end_user: Annotated[str, StringConstraints(max_length=200)] | None = None
    tags: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=64)]], Field(max_length=20)
    ] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    latency_ms: Annotated[int, Field(ge=0, le=86_400_000)] | None = None
    status: Literal["success", "error"] = "success"

    @field_validator("event_id", "provider", "model", "project", "end_user")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return _no_control_characters(value)

    @field_validator("tags")
    @classmethod
    def _printable_tags(cls, value: list[str]) -> list[str]:
        for tag in value:
            _no_control_characters(tag)
        return value

    @field_validator("timestamp")
    @classmethod
    def _sane_timestamp(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if value > datetime.now(UTC) + FUTURE_TOLERANCE:
            raise ValueError("must not be more than 5 minutes in the future")
        if value < OLDEST_TIMESTAMP:
            raise ValueError("must not be before 2015-01-01")
        return value

    @field_validator("metadata")
    @classmethod
    def _small_metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, default=str)) > MAX_METADATA_BYTES:
            raise ValueError(f"must be at most {MAX_METADATA_BYTES} bytes as JSON")
        return value

    def usage(self) -> Usage:
        """The typed usage; raises ValueError when the counts contradict each other."""
        return Usage(
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cache_read_tokens=self.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens,
            cache_write_1h_tokens=self.cache_write_1h_tokens,
            reasoning_tokens=self.reasoning_tokens,
        )


@dataclass(frozen=True)
class TrackedEvent:
    id: uuid.UUID | None
    event_id: str
    cost_usd: Decimal | None
    unpriced: bool
    duplicate: bool


def track_events(
    session: Session,
    *,
    org_id: uuid.UUID,
    events: Sequence[EventIn],
    api_key_id: uuid.UUID | None = None,
) -> list[TrackedEvent]:
    """Price and store events (sent with `api_key_id`, if with a key) and their rollup in
    one transaction.

    Idempotent: an `event_id` already stored for this organisation (or repeated in the batch) is
    reported as `duplicate` and changes nothing. Returns once the events are committed
    (possibly in the same transaction as other requests' events: see `_GroupCommit`).
    """
    now = datetime.now(UTC)
    usages = _validated_usages(events)
    project_ids = _project_ids(
        session, org_id=org_id, names={e.project for e in events if e.project}
    )
    overrides = overrides_for(session, org_id=org_id)
    rows, results = _priced_rows(
        events, usages, _Sender(org_id, api_key_id), project_ids, overrides, now
    )
    inserted = _group_commit_for(session.get_bind()).write(session, rows) if rows else set()
    return _tracked(results, inserted)


def _priced_rows(
    events: Sequence[EventIn],
    usages: Sequence[Usage],
    sender: _Sender,
    project_ids: dict[str, uuid.UUID],
    overrides: Any,
    now: datetime,
) -> tuple[list[dict[str, Any]], list[TrackedEvent]]:
    """The rows to insert (an event id repeated in the batch only once) and the answer per
    event as if every row goes in."""
    rows: list[dict[str, Any]] = []
    results: list[TrackedEvent] = []
    seen: set[str] = set()
    # A row id per event, and an event id for each sent without one.
    ids = iter(random_uuids(len(events) + sum(1 for event in events if not event.event_id)))
    for event, usage in zip(events, usages, strict=True):
        event_id = event.event_id or next(ids).hex
        if event_id in seen:
            results.append(TrackedEvent(None, event_id, None, False, duplicate=True))
            continue
        seen.add(event_id)
        row = _event_row(event, usage, next(ids), event_id, sender, project_ids, overrides, now)
        rows.append(row)
        results.append(
            TrackedEvent(row["id"], event_id, row["cost_usd"], row["unpriced"], duplicate=False)
        )
    return rows, results


def _tracked(results: list[TrackedEvent], inserted: set[str]) -> list[TrackedEvent]:
    """Events already stored (by an earlier request) are answered as duplicates."""
    return [
        r
        if r.duplicate or r.event_id in inserted
        else TrackedEvent(None, r.event_id, r.cost_usd, r.unpriced, duplicate=True)
        for r in results
    ]


_PROJECTS = Project.__table__.c  # type: ignore[attr-defined]
_PROJECT_IDS = sa_select(_PROJECTS.name, _PROJECTS.id).where(
    _PROJECTS.org_id == bindparam("org_id"),
    _PROJECTS.name.in_(bindparam("names", expanding=True)),
)


def _project_ids(session: Session, *, org_id: uuid.UUID, names: set[str]) -> dict[str, uuid.UUID]:
    """Ids of the named projects; missing ones are created and committed first (the events
    may be written through another request's connection, which must see them)."""
    if not names:
        return {}
    found = dict(session.execute(_PROJECT_IDS, {"org_id": org_id, "names": sorted(names)}).all())
    if missing := names - found.keys():
        found |= ensure_projects(session, org_id=org_id, names=missing)
        session.commit()
    return found


# Rows per shared transaction: a group is also everyone's latency, so it stays bounded.
MAX_GROUP_ROWS = 5_000
# Where concurrent writers run in parallel, a request this big commits on its own.
ALONE_FROM_ROWS = 100


@dataclass(eq=False)
class _WriteJob:
    rows: list[dict[str, Any]]
    inserted: set[str] = field(default_factory=set)
    error: BaseException | None = None
    committed: bool = False
    done: bool = False


class _GroupCommit:
    """Group commit of tracked events for one database.

    Concurrent requests queue their rows; one of them (the leader) writes everything queued in
    one transaction through its own session and commits, then wakes the others. Each request
    returns only after the transaction holding its rows has committed, so a 2xx still means
    committed. One commit per group instead of one per request lifts the per-commit cap (an
    fsync on PostgreSQL), and on SQLite this process's writers wait here, in order, instead of
    in SQLite's busy handler, which sleeps 1-100 ms between retries (a lock convoy under load).
    A group that fails is retried request by request, so one bad request fails alone.

    With `parallel_writers` (PostgreSQL), a request of `ALONE_FROM_ROWS` rows or more already
    amortises its own commit and writes alone: grouping it would only serialise work that the
    server does in parallel (measured: -14% on 1,000-event batches). SQLite has one writer at a
    time anyway, so there every request goes through the group.
    """

    def __init__(self, *, parallel_writers: bool) -> None:
        self._alone_from_rows = ALONE_FROM_ROWS if parallel_writers else None
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._busy = False
        self._queue: deque[_WriteJob] = deque()

    def write(self, session: Session, rows: list[dict[str, Any]]) -> set[str]:
        """Store `rows` (skipping ids already stored); the client ids that were inserted."""
        job = _WriteJob(rows)
        if self._alone_from_rows is not None and len(rows) >= self._alone_from_rows:
            self._write_group(session, [job])
        else:
            self.write_jobs(session, [job])
        if job.error is not None:
            raise job.error
        return job.inserted

    def write_jobs(self, session: Session, jobs: list[_WriteJob]) -> None:
        """Queue the jobs and return once each is committed or failed (`job.error`)."""
        with self._lock:
            self._queue.extend(jobs)
        while True:
            with self._lock:
                while self._busy and not all(job.done for job in jobs):
                    self._idle.wait()
                if all(job.done for job in jobs):
                    break
                self._busy = True
                group = self._take_group()
            try:
                self._write_group(session, group)
            finally:
                with self._lock:
                    self._busy = False
                    self._idle.notify_all()

    def _take_group(self) -> list[_WriteJob]:
        group = [self._queue.popleft()]
        count = len(group[0].rows)
        while self._queue and count + len(self._queue[0].rows) <= MAX_GROUP_ROWS:
            job = self._queue.popleft()
            group.append(job)
            count += len(job.rows)
        return group

    def _write_group(self, session: Session, group: list[_WriteJob]) -> None:
        try:
            try:
                _write_rows(session, group)
            except Exception as exc:
                session.rollback()
                if len(group) == 1:
                    group[0].error = exc
                else:
                    for job in group:
                        try:
                            _write_rows(session, [job])
                        except Exception as job_exc:
                            session.rollback()
                            job.error = job_exc
        finally:
            for job in group:
                if not job.committed and job.error is None:
                    # Interrupted by a BaseException: never leave a waiter hanging.
                    job.error = RuntimeError("event write aborted")
                job.done = True


_EVENT_KEY = ("org_id", "client_event_id")


def _write_rows(session: Session, jobs: list[_WriteJob]) -> None:
    rows: list[dict[str, Any]] = []
    keys: set[tuple[uuid.UUID, str]] = set()
    for job in jobs:
        for row in job.rows:
            key = (row["org_id"], row["client_event_id"])
            if key not in keys:  # two requests in one group with the same event id
                keys.add(key)
                rows.append(row)
    flags = insert_new_rows(session, CostEvent, rows, conflict_columns=_EVENT_KEY)
    inserted = [row for row, new in zip(rows, flags, strict=True) if new]
    inserted_ids = {row["id"] for row in inserted}
    _add_to_rollup(session, inserted)
    session.commit()
    if inserted:
        record_change(*{row["org_id"] for row in inserted})
    for job in jobs:
        job.inserted = {row["client_event_id"] for row in job.rows if row["id"] in inserted_ids}
        job.committed = True


_group_commits: weakref.WeakKeyDictionary[Any, _GroupCommit] = weakref.WeakKeyDictionary()
_group_commits_lock = threading.Lock()


def _group_commit_for(bind: Any) -> _GroupCommit:
    with _group_commits_lock:
        writer = _group_commits.get(bind)
        if writer is None:
            writer = _group_commits[bind] = _GroupCommit(
                parallel_writers=bind.dialect.name != "sqlite"
            )
        return writer


# --- one writer thread per database for small track requests ----------------------------


@dataclass(frozen=True)
class TrackAnswer:
    events: list[TrackedEvent]
    budgets: list[Any]  # budgets.BudgetStatus of the budgets the events fall under


@dataclass(frozen=True)
class _Sender:
    org_id: uuid.UUID
    api_key_id: uuid.UUID | None


@dataclass(eq=False)
class _TrackRequest:
    engine: Any
    org_id: uuid.UUID
    api_key_id: uuid.UUID | None
    events: Sequence[EventIn]
    usages: list[Usage]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[TrackAnswer]

    def answer(self, result: TrackAnswer | BaseException) -> None:
        _wake(self.loop, [(self.future, result)])


_Answer = tuple["asyncio.Future[TrackAnswer]", "TrackAnswer | BaseException"]


def _answer_all(answers: list[tuple[_TrackRequest, TrackAnswer | BaseException]]) -> None:
    """One wake-up of each event loop for all of its answers (not one per request)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Answer]] = {}
    for request, result in answers:
        by_loop.setdefault(request.loop, []).append((request.future, result))
    for loop, settled in by_loop.items():
        _wake(loop, settled)


def _wake(loop: asyncio.AbstractEventLoop, answers: list[_Answer]) -> None:
    # A closed loop (e.g. a test client gone) has nobody waiting.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(_settle, answers)


def _settle(answers: list[_Answer]) -> None:
    for future, result in answers:
        if future.done():  # the request was cancelled (client gone): nobody waits
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)


# Requests taken per round; the group commit bounds the rows of each transaction.
WRITER_BATCH = 256
WRITER_IDLE_SECONDS = 2.0


async def track_events_async(
    engine: Any,
    *,
    org_id: uuid.UUID,
    events: Sequence[EventIn],
    api_key_id: uuid.UUID | None = None,
) -> TrackAnswer:
    """`track_events` then `budgets.budgets_after_tracking`, done by the database's writer
    thread together with the other requests queued meanwhile; answers after the commit.

    Per round the writer checks each organisation's settings version once (overrides, projects and
    budgets are kept between rounds: `_AccountCache`), prices, writes every request through
    the group commit (one transaction, one commit; a failed group is retried request by
    request), then computes the budget statuses once per organisation and records crossed alerts.
    The event loop only validates and waits: no thread-pool hop, and one thread doing the
    database work instead of one per request.
    """
    usages = _validated_usages(events)  # a contradiction fails here, before any I/O
    loop = asyncio.get_running_loop()
    request = _TrackRequest(engine, org_id, api_key_id, events, usages, loop, loop.create_future())
    _writer_for(engine).submit(request)
    return await request.future


class _IngestWriter:
    """A thread that serves queued track requests in rounds; it exits when idle."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: deque[_TrackRequest] = deque()
        self._running = False
        self._accounts = _AccountCache()

    def submit(self, request: _TrackRequest) -> None:
        with self._lock:
            self._queue.append(request)
            if self._running:
                self._wake.notify()
                return
            self._running = True
        threading.Thread(target=self._run, name="llmlab-ingest-writer", daemon=True).start()

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
                    count = min(len(self._queue), WRITER_BATCH)
                    group = [self._queue.popleft() for _ in range(count)]
                    # Once per round, not per request: the hot path pays nothing for it.
                    INGEST_QUEUE_DEPTH.set(len(self._queue))
                try:
                    _serve_round(group, self._accounts)
                except BaseException as exc:  # never leave a request waiting
                    for request in group:
                        request.answer(exc)
                    if not isinstance(exc, Exception):
                        raise
        finally:
            if not idle:  # dying on a BaseException: a new thread serves what is queued
                with self._lock:
                    self._running = restart = bool(self._queue)
                if restart:
                    threading.Thread(
                        target=self._run, name="llmlab-ingest-writer", daemon=True
                    ).start()


def _serve_round(group: list[_TrackRequest], accounts: _AccountCache) -> None:
    engine = group[0].engine
    now = datetime.now(UTC)
    by_org: dict[uuid.UUID, list[_TrackRequest]] = {}
    for request in group:
        by_org.setdefault(request.org_id, []).append(request)
    with Session(engine, expire_on_commit=False) as session:
        pending: list[tuple[_TrackRequest, list[TrackedEvent], _WriteJob, set[uuid.UUID]]] = []
        budgets: dict[uuid.UUID, list[Budget]] = {}
        for org_id, requests in by_org.items():
            try:
                names = {e.project for r in requests for e in r.events if e.project}
                project_ids = accounts.project_ids(session, org_id=org_id, names=names)
                account = accounts.account(session, org_id=org_id)
            except Exception as exc:
                session.rollback()
                for request in requests:
                    request.answer(exc)
                continue
            budgets[org_id] = account.budgets
            for request in requests:
                try:
                    rows, results = _priced_rows(
                        request.events,
                        request.usages,
                        _Sender(org_id, request.api_key_id),
                        project_ids,
                        account.overrides,
                        now,
                    )
                except Exception as exc:
                    request.answer(exc)
                    continue
                ids = {project_ids[e.project] for e in request.events if e.project}
                pending.append((request, results, _WriteJob(rows), ids))
        jobs = [job for _, _, job, _ in pending if job.rows]
        if jobs:
            _group_commit_for(engine).write_jobs(session, jobs)
        done: dict[uuid.UUID, list[tuple[_TrackRequest, list[TrackedEvent], set[uuid.UUID]]]]
        done = {}
        answers: list[tuple[_TrackRequest, TrackAnswer | BaseException]] = []
        for request, results, job, ids in pending:
            if job.error is not None:
                answers.append((request, job.error))
            else:
                tracked = _tracked(results, job.inserted)
                done.setdefault(request.org_id, []).append((request, tracked, ids))
        for org_id, answered in done.items():
            try:
                statuses = budgets_after_tracking_many(
                    session,
                    org_id=org_id,
                    project_ids=[ids for _, _, ids in answered],
                    budgets=budgets[org_id],
                )
            except Exception as exc:
                session.rollback()
                answers.extend((request, exc) for request, _, _ in answered)
                continue
            for (request, tracked, _), statuses_of_request in zip(answered, statuses, strict=True):
                answers.append((request, TrackAnswer(tracked, statuses_of_request)))
    _answer_all(answers)


@dataclass(frozen=True)
class _Account:
    settings_version: int | None
    overrides: list[PriceOverride]
    budgets: list[Budget]  # detached: read-only snapshots


# Bounds on what the writer keeps (emptied when reached: it is only a cache).
MAX_CACHED_ACCOUNTS = 10_000
MAX_CACHED_PROJECTS = 100_000


class _AccountCache:
    """What the writer needs per account, kept between its rounds (only its thread uses it).

    Project ids never change (projects are created, never renamed or deleted), so a name
    found once is found for good. Price overrides and budgets are reused while the account's
    `settings_version` is unchanged: the services that change them bump it in the same
    transaction, and the version is read before them, so what is kept is never older than
    the version it is kept under. One small read per account per round instead of three.
    """

    def __init__(self) -> None:
        self._accounts: dict[uuid.UUID, _Account] = {}
        self._projects: dict[tuple[uuid.UUID, str], uuid.UUID] = {}

    def account(self, session: Session, *, org_id: uuid.UUID) -> _Account:
        version = settings_version(session, org_id=org_id)
        account = self._accounts.get(org_id)
        if account is None or account.settings_version != version:
            budgets = list_budgets(session, org_id=org_id)
            for budget in budgets:
                session.expunge(budget)
            account = _Account(version, overrides_for(session, org_id=org_id), budgets)
            if len(self._accounts) >= MAX_CACHED_ACCOUNTS:
                self._accounts.clear()
            self._accounts[org_id] = account
        return account

    def project_ids(
        self, session: Session, *, org_id: uuid.UUID, names: set[str]
    ) -> dict[str, uuid.UUID]:
        found = {
            name: self._projects[org_id, name] for name in names if (org_id, name) in self._projects
        }
        if missing := names - found.keys():
            created = _project_ids(session, org_id=org_id, names=missing)
            if len(self._projects) >= MAX_CACHED_PROJECTS:
                self._projects.clear()
            self._projects.update(((org_id, name), id_) for name, id_ in created.items())
            found |= created
        return found


_writers: weakref.WeakKeyDictionary[Any, _IngestWriter] = weakref.WeakKeyDictionary()


def _writer_for(engine: Any) -> _IngestWriter:
    with _group_commits_lock:
        writer = _writers.get(engine)
        if writer is None:
            writer = _writers[engine] = _IngestWriter()
        return writer


def _validated_usages(events: Sequence[EventIn]) -> list[Usage]:
    usages = []
    for index, event in enumerate(events):
        try:
            usages.append(event.usage())
        except ValueError as exc:
            where = f"events[{index}]" if len(events) > 1 else "event"
            message = exc.errors()[0]["msg"] if hasattr(exc, "errors") else str(exc)
            raise InvalidInput(f"{where}: {message}") from exc
    return usages


def random_uuids(count: int) -> list[uuid.UUID]:
    """`count` version-4 UUIDs from one read of the system's random source: `uuid4()` reads
    it once per id, a system call that was 12% of a 1,000-event batch."""
    randomness = os.urandom(16 * count)
    return [
        uuid.UUID(bytes=randomness[start : start + 16], version=4)
        for start in range(0, 16 * count, 16)
    ]


@dataclass(frozen=True, slots=True)
class EventPrice:
    provider: str
    cost_usd: Decimal | None
    unpriced: bool
    cost_source: str  # "engine", "override" or "client"
    price_source: str | None


def price_event(
    model: str,
    usage: Usage,
    *,
    provider: str | None,
    at: datetime,
    overrides: Any,
    service_tier: Any = "standard",
    tokens_used: int | None = None,
    client_cost: Decimal | None = None,
) -> EventPrice:
    """What one stored event costs: the one rule ingest and re-pricing share. A cost the
    client reported is kept as such; a legacy total alone cannot be priced; nothing consumed
    costs nothing, whatever the model."""
    price = price_usage(
        model, usage, provider=provider, at=at, overrides=overrides, service_tier=service_tier
    )
    resolved = provider or price.provider or "unknown"
    typed_tokens = usage.input_tokens + usage.output_tokens
    if client_cost is not None:
        return EventPrice(resolved, client_cost, False, "client", None)
    if typed_tokens == 0 and (tokens_used or 0) > 0:
        return EventPrice(resolved, None, True, "engine", None)
    if typed_tokens == 0:
        return EventPrice(resolved, Decimal(0), False, "engine", None)
    source = price.price_source
    cost_source = "override" if (source or "").startswith("override") else "engine"
    return EventPrice(resolved, price.cost_usd, price.unpriced, cost_source, source)


def _event_row(
    event: EventIn,
    usage: Usage,
    row_id: uuid.UUID,
    event_id: str,
    sender: _Sender,
    project_ids: dict[str, uuid.UUID],
    overrides: Any,
    now: datetime,
) -> dict[str, Any]:
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
    provider, cost, unpriced = priced.provider, priced.cost_usd, priced.unpriced
    cost_source, price_source = priced.cost_source, priced.price_source
    return {
        "id": row_id,
        "org_id": sender.org_id,
        "project_id": project_ids.get(event.project) if event.project else None,
        "api_key_id": sender.api_key_id,
        "client_event_id": event_id,
        "provider": provider,
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
        "unpriced": unpriced,
        "cost_source": cost_source,
        "price_source": price_source,
        "timestamp": timestamp,
        "latency_ms": event.latency_ms,
        "status": event.status,
        "end_user": event.end_user,
        "tags": event.tags,
        "metadata": event.metadata,
        "created_at": now,
    }


_ROLLUP_KEY = ("org_id", "project_id", "day", "provider", "model", "api_key_id")
ROLLUP_SUMS = ("calls", "error_calls", "unpriced_calls", *TOKEN_KINDS, "cost_usd")


def _add_to_rollup(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Aggregate in Python first: one upsert per (organisation, project, day, provider,
    model, key)."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (
            row["org_id"],
            row["project_id"] or NO_PROJECT,
            row["timestamp"].date(),
            row["provider"],
            row["model"],
            row["api_key_id"] or NO_KEY,
        )
        group = groups.get(key)
        if group is None:
            group = groups[key] = dict(zip(_ROLLUP_KEY, key, strict=True)) | dict.fromkeys(
                ROLLUP_SUMS, 0
            )
            group["cost_usd"] = Decimal(0)
        group["calls"] += 1
        group["error_calls"] += row["status"] == "error"
        group["unpriced_calls"] += row["unpriced"]
        for name in TOKEN_KINDS:
            group[name] += row[name]
        group["cost_usd"] += row["cost_usd"] or 0
    # Sorted so that concurrent writers lock rollup rows in one order (no deadlocks).
    upsert_adding(
        session,
        DailySpend,
        [groups[key] for key in sorted(groups)],
        key_columns=_ROLLUP_KEY,
        add_columns=ROLLUP_SUMS,
    )


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilters:
    start: datetime | None = None
    end: datetime | None = None
    project: str | None = None
    model: str | None = None
    provider: str | None = None
    end_user: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class EventPage:
    items: list[CostEvent]
    next_cursor: str | None
    projects: dict[uuid.UUID, str]


def _filtered(session: Session, org_id: uuid.UUID, filters: EventFilters) -> Any:
    query = select(CostEvent).where(CostEvent.org_id == org_id)
    if filters.start:
        query = query.where(CostEvent.timestamp >= filters.start)
    if filters.end:
        query = query.where(CostEvent.timestamp < filters.end)
    if filters.model:
        query = query.where(CostEvent.model == filters.model)
    if filters.provider:
        query = query.where(CostEvent.provider == filters.provider)
    if filters.end_user:
        query = query.where(CostEvent.end_user == filters.end_user)
    if filters.project:
        project = get_project(session, org_id=org_id, name=filters.project)
        query = query.where(CostEvent.project_id == (project.id if project else NO_PROJECT))
    if filters.tag:
        query = query.where(_has_tag(session, filters.tag))
    return query


def _has_tag(session: Session, tag: str) -> Any:
    tags = col(CostEvent.tags)
    if session.get_bind().dialect.name == "postgresql":
        return tags.op("@>")(func.jsonb_build_array(tag))
    each = func.json_each(tags).table_valued("value")
    return exists(sa_select(literal(1)).select_from(each).where(each.c.value == tag))


def list_events(
    session: Session,
    *,
    org_id: uuid.UUID,
    filters: EventFilters,
    limit: int = 50,
    cursor: str | None = None,
) -> EventPage:
    """Newest first; the cursor (timestamp, id) stays stable while new events arrive."""
    query = _filtered(session, org_id, filters)
    if cursor:
        query = query.where(older_than(cursor, col(CostEvent.timestamp), col(CostEvent.id)))
    query = query.order_by(col(CostEvent.timestamp).desc(), col(CostEvent.id).desc())
    items = list(session.exec(query.limit(limit + 1)))
    last = items[limit - 1] if len(items) > limit else None
    next_cursor = encode_cursor(last.timestamp, last.id) if last else None
    items = items[:limit]
    names = project_names(session, ids=[e.project_id for e in items if e.project_id])
    return EventPage(items=items, next_cursor=next_cursor, projects=names)


def event_record(event: CostEvent, project: str | None) -> dict[str, Any]:
    """The public shape of one event (API JSON, CSV rows, the dashboard table)."""
    return {
        "id": str(event.id),
        "event_id": event.client_event_id,
        "timestamp": event.timestamp,
        "project": project,
        "provider": event.provider,
        "model": event.model,
        "input_tokens": event.input_tokens,
        "cache_read_tokens": event.cache_read_tokens,
        "cache_write_tokens": event.cache_write_tokens,
        "cache_write_1h_tokens": event.cache_write_1h_tokens,
        "output_tokens": event.output_tokens,
        "reasoning_tokens": event.reasoning_tokens,
        "service_tier": event.service_tier,
        "tokens_used": event.tokens_used,
        "cost_usd": event.cost_usd,
        "unpriced": event.unpriced,
        "cost_source": event.cost_source,
        "price_source": event.price_source,
        "status": event.status,
        "latency_ms": event.latency_ms,
        "end_user": event.end_user,
        "tags": event.tags,
        "metadata": event.event_metadata,
    }
