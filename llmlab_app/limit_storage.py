"""Where the `limits` library keeps its counts: this process's memory, or Redis when several
workers share it (`LLMLAB_REDIS_URL`). Used by the API's request limits
(`api/ratelimit.py`) and the sign-in limits every door shares (`services/sign_in_limits.py`)."""

from __future__ import annotations

import threading
import time
import weakref

from limits.storage import MemoryStorage, Storage, storage_from_string

from llmlab_app.config import Settings

# How often the in-process storage drops expired hits (memory only: counts use timestamps).
SWEEP_SECONDS = 1.0


class SweptMemoryStorage(MemoryStorage):
    """`limits`' memory storage, with expired entries dropped by one long-lived thread.

    `MemoryStorage` starts a new `threading.Timer` whenever the previous one has fired, i.e.
    every 10 ms under load, and `Thread.start()` blocks the event loop until the new thread
    runs, which under load means waiting for the GIL: that was 17% of the event loop's time
    per track request (py-spy). Expiry only frees memory (the moving window is counted from
    the entries' timestamps), so a sweep every `SWEEP_SECONDS` is enough."""

    def __init__(self) -> None:
        super().__init__()
        _swept.add(self)
        _start_sweeper()

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the per-hit timer
        pass

    def sweep(self) -> None:
        self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


_swept: weakref.WeakSet[SweptMemoryStorage] = weakref.WeakSet()
_sweeper_lock = threading.Lock()
_sweeper: threading.Thread | None = None


def _start_sweeper() -> None:
    global _sweeper
    with _sweeper_lock:
        if _sweeper is None:
            _sweeper = threading.Thread(
                target=_sweep_forever, name="llmlab-ratelimit-sweep", daemon=True
            )
            _sweeper.start()


def _sweep_forever() -> None:
    while True:
        time.sleep(SWEEP_SECONDS)
        for storage in list(_swept):
            storage.sweep()


def sync_limit_storage(settings: Settings) -> Storage:
    """A blocking storage (for code that runs in a worker thread): Redis when configured,
    else a new in-process one."""
    if settings.redis_url:
        return storage_from_string(settings.redis_url.removeprefix("async+"))
    return SweptMemoryStorage()
