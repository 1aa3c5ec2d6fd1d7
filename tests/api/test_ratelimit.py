"""The in-process rate limiter: exact counts, no thread per request, memory given back."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from llmlab_app.api.ratelimit import RateLimiter
from llmlab_app.errors import RateLimited


def test_hits_start_no_threads(settings, monkeypatch):
    limiter = RateLimiter(settings.model_copy(update={"rate_limit": "1000/second"}))
    started: list[threading.Thread] = []
    start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda self: (started.append(self), start(self)))

    async def hits() -> None:
        for _ in range(20):
            await limiter.check("api", "key:a")
            # limits' own memory storage starts a new timer thread once the last one fired
            await asyncio.sleep(0.015)

    asyncio.run(hits())
    assert started == []


def test_limit_is_exact_and_expired_hits_are_swept(settings, monkeypatch):
    limiter = RateLimiter(settings.model_copy(update={"rate_limit": "3/minute"}))

    async def hit() -> dict[str, str]:
        return await limiter.check("api", "key:b")

    assert [asyncio.run(hit())["X-RateLimit-Remaining"] for _ in range(3)] == ["2", "1", "0"]
    with pytest.raises(RateLimited):
        asyncio.run(hit())
    storage = limiter._in_process.storage  # type: ignore[union-attr]
    assert sum(len(entries) for entries in storage.events.values()) == 3
    later = time.time() + 61
    monkeypatch.setattr("limits.storage.memory.time.time", lambda: later)
    storage.sweep()
    assert sum(len(entries) for entries in storage.events.values()) == 0
    assert asyncio.run(hit())["X-RateLimit-Remaining"] == "2"
