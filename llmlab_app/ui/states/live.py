"""How an open page stays current without reading the database on a timer.

A live page (the overview, the events page) asks the server, through its heartbeat
(`HEARTBEAT_S`, sent by the browser), to keep a watch running in the worker that holds its
websocket (`live_page.py`). The watch waits on its organisation's change count
(`services/change_feed.py`): each worker reads the counts of every organisation its pages show
in one call every `WATCH_TICK_S`, and wakes only the watches whose organisation moved; they
read the page again (pages of one organisation in one worker share that read, `read_shared`)
and the new state reaches the browser as a delta. Writes that do not bump the count show
within `REREAD_S`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

from llmlab_app.services.change_feed import change_feed

logger = logging.getLogger("llmlab.live")

HEARTBEAT_S = 15  # the overview's heartbeat; a watch with none for 2.5 of these ends
WATCH_TICK_S = 0.5  # how often a worker reads the change counts its pages wait on
REREAD_S = 300  # a watched page reads again this often even when nothing announced a change
SHARED_READS = 256  # page reads kept per worker for the other pages of the same organisation

T = TypeVar("T")


class OrgChanges:
    """This worker's view of the change counts of the organisations its pages show."""

    def __init__(self) -> None:
        self._waiting: Counter[uuid.UUID] = Counter()
        self._known: dict[uuid.UUID, int] = {}
        self._moved: dict[uuid.UUID, asyncio.Event] = {}
        self._follower: asyncio.Task[None] | None = None

    async def version(self, org_id: uuid.UUID) -> int | None:
        """The count now: as this worker last read it for its watches (at most `WATCH_TICK_S`
        old, no round trip), else from the feed; None when the feed cannot be read (the page
        then re-reads on its heartbeat instead)."""
        if (known := self._known.get(org_id)) is not None:
            return known
        try:
            (found,) = await asyncio.to_thread(change_feed().versions, [org_id])
        except Exception as exc:  # redis.RedisError and connection failures
            logger.warning("change feed unavailable: %s", exc)
            return None
        return found

    async def wait_past(self, org_id: uuid.UUID, version: int | None, timeout: float) -> bool:
        """True once the organisation's count is no longer `version`; False after `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._waiting[org_id] += 1
        if self._follower is None or self._follower.done():
            self._follower = asyncio.create_task(self._follow())
        try:
            while True:
                known = self._known.get(org_id)
                if version is not None and known is not None and known != version:
                    return True
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                moved = self._moved.setdefault(org_id, asyncio.Event())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(moved.wait(), remaining)
        finally:
            self._waiting[org_id] -= 1
            if self._waiting[org_id] <= 0:
                del self._waiting[org_id]
                self._known.pop(org_id, None)

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(WATCH_TICK_S)
            org_ids = list(self._waiting)
            if not org_ids:
                continue
            try:
                versions = await asyncio.to_thread(change_feed().versions, org_ids)
            except Exception as exc:
                logger.warning("change feed unavailable: %s", exc)
                continue
            for org_id, version in zip(org_ids, versions, strict=True):
                if self._known.get(org_id) != version:
                    self._known[org_id] = version
                    if (moved := self._moved.pop(org_id, None)) is not None:
                        moved.set()


class Watches:
    """Which watch is current for each browser tab (client token) in this worker, and when
    the tab last said it is open."""

    def __init__(self) -> None:
        self._current: dict[str, tuple[str, float]] = {}

    def start(self, token: str) -> str:
        watch_id = uuid.uuid4().hex
        self._current[token] = (watch_id, time.monotonic())
        return watch_id

    def beat(self, token: str) -> bool:
        """Record the tab's heartbeat; False when it has no live watch here (start one)."""
        entry = self._current.get(token)
        if entry is None or not self.is_current(token, entry[0]):
            return False
        self._current[token] = (entry[0], time.monotonic())
        return True

    def is_current(self, token: str, watch_id: str) -> bool:
        entry = self._current.get(token)
        return (
            entry is not None
            and entry[0] == watch_id
            and time.monotonic() - entry[1] < 2.5 * HEARTBEAT_S
        )

    def stop(self, token: str, watch_id: str) -> None:
        entry = self._current.get(token)
        if entry is not None and entry[0] == watch_id:
            del self._current[token]


class SharedReads:
    """One read per key in this worker: concurrent and later callers with the same key (the
    organisation, its change count, the filter) get the first caller's result."""

    def __init__(self, size: int = SHARED_READS) -> None:
        self._size = size
        self._reads: OrderedDict[Hashable, asyncio.Future[object]] = OrderedDict()

    async def read(self, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        found = self._reads.get(key)
        if found is None or (found.done() and (found.cancelled() or found.exception())):
            found = self._reads[key] = asyncio.ensure_future(read())
            while len(self._reads) > self._size:
                self._reads.popitem(last=False)
        return await asyncio.shield(found)  # type: ignore[return-value]


async def read_shared(
    reads: SharedReads,
    org_id: uuid.UUID,
    key: Hashable,
    read: Callable[[], Awaitable[T]],
    *,
    shared: bool = True,
) -> tuple[T, int | None]:
    """`read()` of the organisation's data at its current change count, and that count: shared
    with the other pages asking the same `key` at the same count. A read for the slow
    schedule (not `shared`) or without a count (the feed unreadable) shares nothing."""
    version = await org_changes.version(org_id)
    found = (org_id, key, version) if shared and version is not None else uuid.uuid4()
    return await reads.read(found, read), version


org_changes = OrgChanges()
watches = Watches()
overview_reads = SharedReads()
event_reads = SharedReads()
