"""A per-organisation count of changes to what the dashboard shows, bumped after each commit
that changes it (tracked events, budgets, price overrides, re-pricing).

Open pages watch it instead of reading the database on a timer: a tick costs one read of
this count (one `MGET` for every organisation a worker's pages show), and only pages whose
organisation moved read their data again. In this process's memory for one worker; in Redis
(`LLMLAB_REDIS_URL`) when several workers share it, so that a commit in one reaches pages
held by another. Best effort: a failed bump is logged, and pages still re-read on their own
slow schedule (`ui/states/live.py`).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable
from functools import lru_cache
from typing import Protocol

from llmlab_app.config import Settings, get_settings

logger = logging.getLogger("llmlab.change_feed")

REDIS_PREFIX = "llmlab:changes:"


class ChangeFeed(Protocol):
    def bump(self, org_ids: Iterable[uuid.UUID]) -> None: ...

    def versions(self, org_ids: list[uuid.UUID]) -> list[int]: ...


class MemoryChangeFeed:
    """One worker's counts (a lone worker's pages see every commit it makes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._versions: dict[uuid.UUID, int] = {}

    def bump(self, org_ids: Iterable[uuid.UUID]) -> None:
        with self._lock:
            for org_id in org_ids:
                self._versions[org_id] = self._versions.get(org_id, 0) + 1

    def versions(self, org_ids: list[uuid.UUID]) -> list[int]:
        return [self._versions.get(org_id, 0) for org_id in org_ids]


class RedisChangeFeed:
    """Counts every worker shares: `INCR` on a commit, one `MGET` per watching tick."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url.removeprefix("async+"))

    def bump(self, org_ids: Iterable[uuid.UUID]) -> None:
        with self._redis.pipeline(transaction=False) as pipe:
            for org_id in org_ids:
                pipe.incr(REDIS_PREFIX + org_id.hex)
            pipe.execute()

    def versions(self, org_ids: list[uuid.UUID]) -> list[int]:
        if not org_ids:
            return []
        found = self._redis.mget([REDIS_PREFIX + org_id.hex for org_id in org_ids])
        return [int(value) if value else 0 for value in found]


_memory_feed = MemoryChangeFeed()


@lru_cache(maxsize=4)
def _redis_feed(url: str) -> RedisChangeFeed:
    return RedisChangeFeed(url)


def change_feed(settings: Settings | None = None) -> ChangeFeed:
    """This deployment's feed: Redis when configured, else this process's memory."""
    settings = settings or get_settings()
    return _redis_feed(settings.redis_url) if settings.redis_url else _memory_feed


def record_change(*org_ids: uuid.UUID, settings: Settings | None = None) -> None:
    """Call after the commit that changed what these organisations' pages show. Never
    raises: the commit stands whether or not the pages hear of it at once."""
    try:
        change_feed(settings).bump(set(org_ids))
    except Exception as exc:  # redis.RedisError and connection failures
        logger.warning("could not announce a change to open dashboards: %s", exc)
