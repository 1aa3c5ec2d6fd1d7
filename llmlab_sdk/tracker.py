"""The process-wide tracker: the settings, the one HTTP client, the sender and the budget guard.

Decorators and wrapped clients look the tracker up on every call, so ``configure()`` may come
before or after they are applied. Without an API key the tracker is inert: it logs one warning
and every tracked call runs exactly as if it were not tracked.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from typing import Any

from llmlab_sdk.budget import BudgetGuard
from llmlab_sdk.config import SDKConfig, load_config
from llmlab_sdk.http import LLMLabClient
from llmlab_sdk.sender import Event, EventSender

logger = logging.getLogger("llmlab")


class Tracker:
    """One configured instance of the SDK's machinery."""

    def __init__(self, config: SDKConfig) -> None:
        self.config = config
        self.active = config.active
        self.enforce_budget = self.active and config.enforce_budget
        self.budget_guard = BudgetGuard()
        self.client: LLMLabClient | None = None
        self.sender: EventSender | None = None
        if not self.active:
            if config.enabled:
                logger.warning(
                    "llmlab: no API key (set LLMLAB_API_KEY or call llmlab_sdk.configure("
                    "api_key=...)); LLM calls will not be tracked"
                )
            return
        self.client = LLMLabClient(
            config.base_url, api_key=config.api_key, timeout=config.request_timeout
        )
        self.sender = EventSender(config, self.client, on_budgets=self._on_budgets)
        if config.enforce_budget or self.sender.has_spooled_events():
            # Budget status and batches spooled by an earlier run should not wait for a first call.
            self.sender.start()

    def _on_budgets(self, budgets: list[dict[str, Any]], complete: bool) -> bool:
        if complete:
            self.budget_guard.replace_all(budgets)
            return False
        return self.budget_guard.update(budgets) and self.config.enforce_budget

    def record(self, event: Event, started_at: float) -> None:
        """Queue an event of a call started at ``started_at`` (epoch seconds); no-op if inactive."""
        if self.sender is not None:
            self.sender.enqueue(event, started_at)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait for queued events to be sent; False if ``timeout`` ran out first."""
        return True if self.sender is None else self.sender.flush(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Flush, stop the worker and close the HTTP connection."""
        flushed = True if self.sender is None else self.sender.close(timeout)
        if self.client is not None:
            self.client.close()
        return flushed


_lock = threading.Lock()
_tracker: Tracker | None = None
_config_after_fork: SDKConfig | None = None


def current_tracker() -> Tracker:
    """The tracker in use, created from the environment on first use."""
    tracker = _tracker
    if tracker is None:
        with _lock:
            tracker = _tracker or _install(Tracker(_config_after_fork or load_config()))
    return tracker


def _install(tracker: Tracker) -> Tracker:
    global _tracker
    _tracker = tracker
    return tracker


def replace_tracker(config: SDKConfig) -> Tracker:
    """Swap in a tracker for ``config``; the previous one is flushed and closed."""
    with _lock:
        previous = _tracker
        tracker = _install(Tracker(config))
    if previous is not None:
        previous.close(previous.config.flush_at_exit_timeout)
    return tracker


def shutdown(timeout: float | None = None) -> bool:
    """Flush and stop the current tracker; the next tracked call starts a fresh one."""
    global _tracker
    with _lock:
        tracker, _tracker = _tracker, None
    if tracker is None:
        return True
    return tracker.close(tracker.config.flush_at_exit_timeout if timeout is None else timeout)


def _flush_at_exit() -> None:
    tracker = _tracker
    if tracker is not None and tracker.sender is not None:
        tracker.close(tracker.config.flush_at_exit_timeout)


def _forget_after_fork() -> None:
    # The worker thread and the connection pool do not survive fork(); the child starts afresh
    # with the same settings on its first tracked call.
    global _tracker, _lock, _config_after_fork
    _lock = threading.Lock()
    if _tracker is not None:
        _config_after_fork = _tracker.config
    _tracker = None


atexit.register(_flush_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
