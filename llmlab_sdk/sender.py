"""The background sender: a bounded queue drained by one daemon thread into batched requests.

The caller's thread only appends an event dict to a deque (no lock, no wake-up). The worker
thread wakes every ``flush_interval_ms``, as soon as ``batch_size`` events wait, or on
``flush()``; it stamps each event with its ``event_id`` and timestamp, posts batches of up to
``batch_size`` through the shared :class:`LLMLabClient` (one keep-alive connection), and deals
with failure:

- network errors, 5xx and 429 are retried with exponential backoff and jitter, honouring
  ``Retry-After``; a batch keeps its events' ``event_id`` across retries, so the server's
  deduplication makes a retry after a lost response harmless;
- a 422 names the invalid event (``events[3].input_tokens: ...``): that event is dropped and
  logged, the rest are resent; a rejection that names no index is bisected until the bad event
  is isolated; any other 4xx drops the batch with an error log;
- with a spool directory, a batch that still fails after ``spool_after_attempts`` goes to disk,
  and while the server is unreachable new batches go straight there; spooled batches are resent
  oldest first once it answers again, and at the next start.

Queue bound: at most ``max_queue_size`` events wait in the queue. Events beyond that, in a burst
faster than the server takes them, go to the spool: the caller appends them to an overflow
buffer and a second daemon thread writes it to disk a batch at a time, so the caller does no
I/O. Should that buffer reach ``max_queue_size`` too (the disk slower than the caller), the
caller writes one batch itself: memory stays bounded at twice ``max_queue_size`` events. Only
when the spool is full (``spool_max_mb``), off, or cannot be written does the drop policy
apply: ``drop_newest`` (default) refuses the new event and ``drop_oldest`` evicts the oldest
waiting one; either way the drop is counted in :meth:`EventSender.stats` and logged (once per
burst).
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from llmlab_sdk.config import SDKConfig
from llmlab_sdk.errors import LLMLabAPIError, LLMLabConnectionError
from llmlab_sdk.events import utc_timestamp
from llmlab_sdk.http import LLMLabClient
from llmlab_sdk.spool import EventSpool, SpoolFull

logger = logging.getLogger("llmlab")

Event = dict[str, Any]
# Queued as the event itself, its ``timestamp`` still the call's start in epoch seconds: a
# (event, started_at) tuple per event would stay tracked by the garbage collector, and a burst's
# thousands of them made its full collections pause every thread for 37-86 ms.
QueuedEvent = Event
# Called with budget statuses and whether the list is complete; returns True to ask for a full
# listing now (a track response mentioned a budget the listener does not know).
BudgetListener = Callable[[list[dict[str, Any]], bool], bool]

_INVALID_EVENT_INDEX = re.compile(r"events\[(\d+)\]")


class _FlushRequest:
    """Put in the queue by flush(): set once every event queued before it is settled."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


@dataclass(slots=True)
class SenderStats:
    """What happened to the events handed to the sender (counts since it started)."""

    sent: int = 0
    duplicates: int = 0
    dropped: int = 0
    rejected: int = 0
    failed: int = 0
    retries: int = 0
    spooled: int = 0
    resent_from_spool: int = 0
    requests: int = 0


class _Abandoned(Exception):
    """The sender is shutting down and gave up on the batch in hand."""


class EventSender:
    """Sends tracked events to LLMLab from one daemon thread; never raises into the caller."""

    def __init__(
        self,
        config: SDKConfig,
        client: LLMLabClient,
        on_budgets: BudgetListener | None = None,
    ) -> None:
        self._config = config
        self._client = client
        self._on_budgets = on_budgets
        # A deque, not a queue.Queue: appending takes no lock and wakes nobody, so the caller
        # pays ~0.1 µs; the worker wakes on a timer, or when a full batch is waiting.
        self._queue: deque[QueuedEvent | _FlushRequest] = deque()
        self._wake = threading.Event()
        self._flushes_pending = 0
        self._spool = _open_spool(config)
        # Events that did not fit in the queue, on their way to the spool.
        self._overflow: deque[QueuedEvent] = deque()
        # As many as the queue: past that the caller writes a batch itself. Smaller (4 batches)
        # made callers write 1-3 times in a 25,500-call burst, 10-170 ms each.
        self._overflow_limit = config.max_queue_size
        self._spilling = 0  # taken from the overflow, not yet on disk
        self._spill_wake = threading.Event()
        self._spill_thread: threading.Thread | None = None
        self._stats = SenderStats()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self._abandon = threading.Event()
        self._attempts = 0
        self._retry_at = 0.0
        # When the server last could not be reached (monotonic), None once it answers again.
        self._unreachable_at: float | None = None
        self._next_budget_check = 0.0 if config.enforce_budget else float("inf")
        self._drop_logged = False
        self._spool_progress = threading.Condition()
        self._rejections_logged: set[int] = set()

    # -- the caller's side ----------------------------------------------------------------------

    def enqueue(self, event: Event, started_at: float) -> None:
        """Hand an event (``started_at``: epoch seconds of the call) to the worker.

        When the queue is full the event goes to the spool, or, when the spool is full or off,
        the drop policy applies.
        """
        if self._thread is None:
            self.start()
        event["timestamp"] = started_at  # stamped as ISO text off this thread
        queued = len(self._queue)
        if queued >= self._config.max_queue_size:
            spool = self._spool
            if spool is not None and not spool.full:
                self._overflow.append(event)
                self._on_overflow()
            else:
                self._on_queue_full(event)
            return
        self._queue.append(event)
        if queued + 1 >= self._config.batch_size and not self._wake.is_set():
            self._wake.set()

    def _on_overflow(self) -> None:
        if self._spill_thread is None:
            self._start_spill_thread()
        waiting = len(self._overflow)
        if waiting >= self._config.batch_size and not self._spill_wake.is_set():
            self._spill_wake.set()
        if waiting >= self._overflow_limit:
            # The writer is behind: this caller writes a batch itself, without the fsync (up
            # to tens of milliseconds on a busy disk) that would make it wait longer still.
            self._spill_batch(durable=False)

    def _on_queue_full(self, item: QueuedEvent) -> None:
        with self._lock:
            self._stats.dropped += 1
            log_drop = not self._drop_logged
            self._drop_logged = True
            if self._config.queue_full_policy == "drop_oldest":
                try:
                    oldest = self._queue.popleft()
                except IndexError:
                    oldest = None
                if isinstance(oldest, _FlushRequest):
                    self._queue.appendleft(oldest)  # never lose a flush; drop the new one
                else:
                    self._queue.append(item)
        if log_drop:
            logger.warning(
                "llmlab: event queue full (%d); dropping %s events until it drains",
                self._config.max_queue_size,
                "new" if self._config.queue_full_policy == "drop_newest" else "the oldest",
            )

    def start(self) -> None:
        """Start the worker thread (done on the first event; idempotent)."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="llmlab-sender", daemon=True)
            self._thread.start()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event queued so far is sent or rejected; False on timeout.

        With a spool, batches on disk (those that did not fit in memory among them) are sent
        too; when the server cannot be reached (an attempt made during this flush failed to
        connect), events safely on disk count as flushed, and are sent once it is back.
        """
        if self._thread is None:
            return not self._queue and not self._overflow
        started = time.monotonic()
        deadline = None if timeout is None else started + timeout
        request = _FlushRequest()
        with self._lock:
            self._flushes_pending += 1
            self._queue.append(request)
        self._wake.set()
        self._spill_wake.set()
        if not request.done.wait(timeout):
            return False
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        with self._spool_progress:
            return self._spool_progress.wait_for(lambda: self._spool_settled(started), remaining)

    def _spool_settled(self, since: float) -> bool:
        """Nothing waits for the spool, and nothing is left on disk, or the server has been
        unreachable since ``since`` and it has to wait there."""
        if self._overflow or self._spilling:
            return False
        spool = self._spool
        if spool is None or not spool.has_pending():
            return True
        unreachable_at = self._unreachable_at
        return unreachable_at is not None and unreachable_at >= since

    def close(self, timeout: float | None = None) -> bool:
        """Flush for up to ``timeout`` seconds, then stop the worker.

        What is still unsent after that is spooled to disk when a spool is configured (and
        counted as failed otherwise). Returns True when nothing was left behind.
        """
        flushed = self.flush(timeout)
        self._closing.set()
        if not flushed:
            self._abandon.set()
        self._wake.set()
        self._spill_wake.set()
        for thread in (self._spill_thread, self._thread):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=max(1.0, self._config.request_timeout))
        return flushed

    def has_spooled_events(self) -> bool:
        """Whether batches wait on disk (from an earlier run, or another process)."""
        spool = self._spool
        return spool is not None and spool.has_pending()

    def stats(self) -> dict[str, int]:
        """Counters: sent, duplicates, dropped, rejected, failed, retries, spooled, requests..."""
        with self._lock:
            counts = asdict(self._stats)
            counts["queued"] = (
                len(self._queue) - self._flushes_pending + len(self._overflow) + self._spilling
            )
        return counts

    def _count(self, **increments: int) -> None:
        with self._lock:
            for name, value in increments.items():
                setattr(self._stats, name, getattr(self._stats, name) + value)

    # -- the worker -----------------------------------------------------------------------------

    def _run(self) -> None:
        if self._spool is not None:
            # Started here, not on the first overflow: Thread.start() waits until the new
            # thread runs, which on a busy machine kept the caller waiting 100-200 ms.
            self._start_spill_thread()
        try:
            while True:
                if not self._has_work_now():
                    self._wake.wait(self._sleep_time())
                self._wake.clear()
                batch, flushes = self._take_batch()
                try:
                    if batch:
                        self._deliver(batch)
                    self._resend_spooled_batches()
                    self._check_budgets_if_due()
                except _Abandoned:
                    self._abandon_remaining(batch, flushes)
                    return
                except Exception:
                    logger.exception(
                        "llmlab: unexpected error in the sender; %d events lost", len(batch)
                    )
                    self._count(failed=len(batch))
                self._settle(flushes)
                if self._closing.is_set() and not self._queue:
                    return
        finally:
            logger.debug("llmlab: sender stopped")

    def _has_work_now(self) -> bool:
        return (
            len(self._queue) >= self._config.batch_size
            or self._flushes_pending > 0
            or self._closing.is_set()
        )

    def _sleep_time(self) -> float:
        """Until the next batch is due, or sooner for a budget check or a spool retry."""
        now = time.monotonic()
        wake_at = min(now + self._config.flush_interval_ms / 1000, self._next_budget_check)
        spool = self._spool
        if spool is not None and spool.has_pending():
            wake_at = min(wake_at, max(self._retry_at, now))
        return max(0.0, wake_at - now)

    def _take_batch(self) -> tuple[list[Event], list[_FlushRequest]]:
        """Up to ``batch_size`` events, stopping at a flush request (settled with them).

        Each event gets its ``event_id`` and timestamp here, off the caller's thread, once:
        retries and the spool reuse them.
        """
        taken: list[QueuedEvent] = []
        flushes: list[_FlushRequest] = []
        with self._lock:
            while self._queue and len(taken) < self._config.batch_size:
                item = self._queue.popleft()
                if isinstance(item, _FlushRequest):
                    flushes.append(item)
                    self._flushes_pending -= 1
                    break
                taken.append(item)
        return [_stamped(event) for event in taken], flushes

    def _settle(self, flushes: list[_FlushRequest]) -> None:
        for request in flushes:
            request.done.set()

    def _deliver(self, events: list[Event]) -> None:
        """Send one batch, splitting out events the server rejects as invalid."""
        pending = [events]
        while pending:
            part = pending.pop()
            try:
                data = self._post_with_retries(part)
            except LLMLabAPIError as exc:
                pending.extend(self._without_invalid_events(part, exc))
                continue
            if data is not None:
                self._on_sent(part, data)

    def _post_with_retries(self, events: list[Event]) -> dict[str, Any] | None:
        """The track response's data, or None when the batch was spooled instead."""
        while True:
            if self._spool is not None and time.monotonic() < self._retry_at:
                self._spool_batch(events)
                return None
            try:
                self._count(requests=1)
                data = self._client.track_events(events)
            except (LLMLabConnectionError, LLMLabAPIError) as exc:
                if isinstance(exc, LLMLabAPIError) and not exc.is_retryable:
                    raise
                delay = self._note_failure(exc)
                if self._spool is not None and self._attempts >= self._config.spool_after_attempts:
                    self._spool_batch(events)
                    return None
                self._count(retries=1)
                if self._abandon.wait(delay):
                    raise _Abandoned from exc
                continue
            self._note_success()
            return data if isinstance(data, dict) else {}

    def _note_failure(self, exc: Exception) -> float:
        """Record a failed attempt and return how long to wait before the next one."""
        self._attempts += 1
        if isinstance(exc, LLMLabConnectionError):
            self._unreachable_at = time.monotonic()
        retry_after = exc.retry_after if isinstance(exc, LLMLabAPIError) else None
        if retry_after is not None:
            delay = min(retry_after, self._config.max_retry_after)
        else:
            ceiling = min(
                self._config.backoff_max,
                self._config.backoff_initial * 2 ** min(self._attempts - 1, 32),
            )
            delay = random.uniform(ceiling / 2, ceiling)
        self._retry_at = time.monotonic() + delay
        self._notify_spool_progress()
        if self._attempts == 1:
            logger.warning("llmlab: cannot send events (%s); retrying with backoff", exc)
        else:
            logger.debug(
                "llmlab: attempt %d failed (%s); next in %.2fs", self._attempts, exc, delay
            )
        return delay

    def _note_success(self) -> None:
        if self._attempts:
            logger.info("llmlab: sending events again after %d failed attempts", self._attempts)
        self._attempts = 0
        self._retry_at = 0.0
        self._unreachable_at = None

    def _without_invalid_events(
        self, events: list[Event], exc: LLMLabAPIError
    ) -> Iterator[list[Event]]:
        """The parts of a rejected batch worth resending (the bad event is dropped and logged)."""
        match = _INVALID_EVENT_INDEX.search(exc.message)
        index = int(match.group(1)) if match else -1
        if exc.status_code in (400, 413, 422) and len(events) > 1:
            if 0 <= index < len(events):
                self._reject([events[index]], exc)
                rest = events[:index] + events[index + 1 :]
                if rest:
                    yield rest
            else:
                middle = len(events) // 2
                yield events[middle:]
                yield events[:middle]
            return
        self._reject(events, exc)

    def _reject(self, events: list[Event], exc: LLMLabAPIError) -> None:
        self._count(rejected=len(events))
        # A wrong API key would otherwise log an error per batch: the first per status is an
        # error, the rest are debug.
        first_time = exc.status_code not in self._rejections_logged
        self._rejections_logged.add(exc.status_code)
        (logger.error if first_time else logger.debug)(
            "llmlab: server rejected %d event(s) (first event_id=%s): %s",
            len(events),
            events[0].get("event_id"),
            exc,
        )

    def _on_sent(self, events: list[Event], data: dict[str, Any]) -> None:
        results = data.get("events") or []
        duplicates = sum(1 for result in results if result.get("duplicate"))
        self._count(sent=len(events), duplicates=duplicates)
        with self._lock:
            self._drop_logged = False
        budgets = data.get("budgets")
        if budgets and self._on_budgets is not None and self._on_budgets(budgets, False):
            self._next_budget_check = 0.0

    # -- spool ----------------------------------------------------------------------------------

    def _spool_batch(self, events: list[Event], *, durable: bool = True) -> None:
        """Write a batch to the spool; when it is full or cannot be written, it is dropped."""
        spool = self._spool
        if spool is None:
            self._count(dropped=len(events))
            return
        try:
            spool.write(events, durable=durable)
        except SpoolFull as exc:
            with self._lock:
                self._stats.dropped += len(events)
                log_drop = not self._drop_logged
                self._drop_logged = True
            if log_drop:
                logger.warning("llmlab: %s; dropping events until it drains", exc)
            return
        except OSError as exc:
            self._turn_spool_off(spool, exc)
            self._count(dropped=len(events))
            return
        self._count(spooled=len(events))

    def _turn_spool_off(self, spool: EventSpool, exc: OSError) -> None:
        with self._lock:
            if self._spool is not spool:
                return
            self._spool = None
        logger.warning(
            "llmlab: cannot write the spool folder %s (%s); the spool is off, so events that "
            "do not fit in memory are dropped",
            spool.directory,
            exc,
        )

    # -- the spool writer (events that did not fit in the queue) -----------------------------------

    def _start_spill_thread(self) -> None:
        with self._lock:
            if self._spill_thread is not None:
                return
            self._spill_thread = threading.Thread(
                target=self._run_spill, name="llmlab-spool", daemon=True
            )
            self._spill_thread.start()

    def _run_spill(self) -> None:
        interval = self._config.flush_interval_ms / 1000
        while True:
            self._spill_wake.wait(interval)
            self._spill_wake.clear()
            try:
                if self._overflow:
                    while self._overflow:
                        self._spill_batch()
                    self._wake.set()  # the worker sends from the spool; it may be asleep
            except Exception:
                logger.exception("llmlab: unexpected error in the spool writer")
            self._notify_spool_progress()
            if self._closing.is_set() and not self._overflow:
                return

    def _spill_batch(self, *, durable: bool = True) -> None:
        """Move up to one batch of overflow events to the spool."""
        with self._lock:
            taken = [
                self._overflow.popleft()
                for _ in range(min(self._config.batch_size, len(self._overflow)))
            ]
            self._spilling += len(taken)
        try:
            if taken:
                batch = [_stamped(event) for event in taken]
                self._spool_batch(batch, durable=durable)
        finally:
            with self._lock:
                self._spilling -= len(taken)

    def _resend_spooled_batches(self) -> None:
        """Resend spooled batches, oldest first, while the server is believed to be up and no
        full batch (or a flush) waits in the queue."""
        spool = self._spool
        if spool is None or time.monotonic() < self._retry_at or not spool.has_pending():
            return
        for path in spool.pending():
            try:
                self._resend_spool_file(spool, path)
            finally:
                self._notify_spool_progress()
            if time.monotonic() < self._retry_at or self._has_work_now():
                return

    def _resend_spool_file(self, spool: EventSpool, path: Path) -> None:
        body = spool.read(path)
        if body is None:
            return
        try:
            self._count(requests=1)
            data = self._client.track_events_json(body)
        except LLMLabConnectionError as exc:
            self._note_failure(exc)
            return
        except LLMLabAPIError as exc:
            if exc.is_retryable:
                self._note_failure(exc)
                return
            # An invalid spooled batch goes back through the normal splitting path.
            spool.remove(path)
            self._deliver(_decode_batch(body))
            return
        self._note_success()
        events = _decode_batch(body)
        spool.remove(path)
        self._count(resent_from_spool=len(events))
        self._on_sent(events, data if isinstance(data, dict) else {})

    def _notify_spool_progress(self) -> None:
        with self._spool_progress:
            self._spool_progress.notify_all()

    def _abandon_remaining(self, batch: list[Event], flushes: list[_FlushRequest]) -> None:
        """At shutdown with the server unreachable: spool (or count as failed) what is left."""
        remaining = list(batch)
        while True:
            more, more_flushes = self._take_batch()
            flushes += more_flushes
            if not more and not more_flushes:
                break
            remaining += more
        self._settle(flushes)
        if not remaining:
            return
        spool = self._spool
        if spool is None:
            self._count(failed=len(remaining))
            logger.error("llmlab: %d events could not be sent before exit", len(remaining))
            return
        size = self._config.batch_size
        for start in range(0, len(remaining), size):
            self._spool_batch(remaining[start : start + size])
        logger.warning("llmlab: %d unsent events spooled to %s", len(remaining), spool.directory)

    # -- budgets --------------------------------------------------------------------------------

    def _check_budgets_if_due(self) -> None:
        now = time.monotonic()
        if now < self._next_budget_check or self._on_budgets is None:
            return
        self._next_budget_check = now + self._config.budget_check_interval
        try:
            budgets = self._client.list_budgets()
        except (LLMLabAPIError, LLMLabConnectionError) as exc:
            logger.debug("llmlab: budget check failed: %s", exc)
            return
        if isinstance(budgets, list):
            self._on_budgets(budgets, True)


def _open_spool(config: SDKConfig) -> EventSpool | None:
    if config.spool_dir is None:
        return None
    try:
        return EventSpool(config.spool_dir, config.spool_max_mb * 2**20)
    except OSError as exc:
        logger.warning(
            "llmlab: cannot read the spool folder %s (%s); the spool is off", config.spool_dir, exc
        )
        return None


def _stamped(event: QueuedEvent) -> Event:
    """The event as sent: its start time as an ISO timestamp, a random ``event_id`` unless
    it has one already, and ``source`` ``sdk`` (the server shows which events the SDK sent;
    one that predates the field ignores it)."""
    if "event_id" not in event:
        event["event_id"] = str(uuid.uuid4())
    event["timestamp"] = utc_timestamp(event["timestamp"])
    event["source"] = "sdk"
    return event


def _decode_batch(body: bytes) -> list[Event]:
    events = json.loads(body)["events"]
    return events if isinstance(events, list) else []
