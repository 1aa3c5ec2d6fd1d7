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

Queue bound: at most ``max_queue_size`` events wait in memory. When full, ``drop_newest``
(default) refuses the new event and ``drop_oldest`` evicts the oldest waiting one; either way
the drop is counted in :meth:`EventSender.stats` and logged (once per burst).
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
from llmlab_sdk.spool import EventSpool

logger = logging.getLogger("llmlab")

Event = dict[str, Any]
QueuedEvent = tuple[Event, float]
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
        self._spool = EventSpool(config.spool_dir) if config.spool_dir else None
        self._stats = SenderStats()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self._abandon = threading.Event()
        self._attempts = 0
        self._retry_at = 0.0
        self._next_budget_check = 0.0 if config.enforce_budget else float("inf")
        self._drop_logged = False
        self._spool_progress = threading.Condition()
        self._rejections_logged: set[int] = set()

    # -- the caller's side ----------------------------------------------------------------------

    def enqueue(self, event: Event, started_at: float) -> None:
        """Hand an event (``started_at``: epoch seconds of the call) to the worker.

        Never blocks: when the queue is full the drop policy applies.
        """
        if self._thread is None:
            self.start()
        queued = len(self._queue)
        if queued >= self._config.max_queue_size:
            self._on_queue_full((event, started_at))
            return
        self._queue.append((event, started_at))
        if queued + 1 >= self._config.batch_size and not self._wake.is_set():
            self._wake.set()

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
        """Wait until every event queued so far is sent, rejected or spooled; False on timeout.

        With a spool, batches already on disk are also resent first while the server answers.
        """
        if self._thread is None:
            return not self._queue
        deadline = None if timeout is None else time.monotonic() + timeout
        request = _FlushRequest()
        with self._lock:
            self._flushes_pending += 1
            self._queue.append(request)
        self._wake.set()
        if not request.done.wait(timeout):
            return False
        if self._spool is None:
            return True
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        with self._spool_progress:
            self._spool_progress.wait_for(self._spool_settled, remaining)
        return True

    def _spool_settled(self) -> bool:
        """Nothing is left on disk, or the server is down and it has to wait there."""
        assert self._spool is not None
        return time.monotonic() < self._retry_at or not self._spool.pending()

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
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=max(1.0, self._config.request_timeout))
        return flushed

    def stats(self) -> dict[str, int]:
        """Counters: sent, duplicates, dropped, rejected, failed, retries, spooled, requests..."""
        with self._lock:
            counts = asdict(self._stats)
            counts["queued"] = len(self._queue) - self._flushes_pending
        return counts

    def _count(self, **increments: int) -> None:
        with self._lock:
            for name, value in increments.items():
                setattr(self._stats, name, getattr(self._stats, name) + value)

    # -- the worker -----------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                if not self._has_work_now():
                    self._wake.wait(self._sleep_time())
                self._wake.clear()
                batch, flushes = self._take_batch()
                try:
                    if batch:
                        self._deliver(batch)
                    self._resend_one_spooled_batch()
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
        if self._spool is not None and self._spool.pending():
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
        batch: list[Event] = []
        for event, started_at in taken:
            batch.append(_stamped(event, started_at))
        return batch, flushes

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

    def _spool_batch(self, events: list[Event]) -> None:
        assert self._spool is not None
        try:
            self._spool.write(events)
        except OSError as exc:
            logger.error("llmlab: cannot spool %d events to disk: %s", len(events), exc)
            self._count(failed=len(events))
            return
        self._count(spooled=len(events))

    def _resend_one_spooled_batch(self) -> None:
        """Resend the oldest spooled batch if the server is believed to be up."""
        if self._spool is None or time.monotonic() < self._retry_at:
            return
        pending = self._spool.pending()
        if not pending:
            return
        try:
            self._resend_spool_file(self._spool, pending[0])
        finally:
            self._notify_spool_progress()

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
        if self._spool is None:
            self._count(failed=len(remaining))
            logger.error("llmlab: %d events could not be sent before exit", len(remaining))
            return
        size = self._config.batch_size
        for start in range(0, len(remaining), size):
            self._spool_batch(remaining[start : start + size])
        logger.warning(
            "llmlab: %d unsent events spooled to %s", len(remaining), self._spool.directory
        )

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


def _stamped(event: Event, started_at: float) -> Event:
    """The event with its timestamp, and a random ``event_id`` unless it has one already."""
    if "event_id" not in event:
        event["event_id"] = str(uuid.uuid4())
    event["timestamp"] = utc_timestamp(started_at)
    return event


def _decode_batch(body: bytes) -> list[Event]:
    events = json.loads(body)["events"]
    return events if isinstance(events, list) else []
