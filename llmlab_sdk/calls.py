"""What a tracked call knows about itself, and how it becomes an event once it ends.

Shared by ``@track_cost`` and ``wrap(client)``. Everything here runs on the caller's thread and
is guarded: a failure inside LLMLab is logged to the ``llmlab`` logger, never raised.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from llmlab_sdk.events import Status, build_event
from llmlab_sdk.tracker import Tracker
from llmlab_sdk.usage_extraction import ExtractedUsage, StreamUsageAccumulator, extract_usage

logger = logging.getLogger("llmlab")


@dataclass(frozen=True, slots=True)
class CallOptions:
    """Attribution and hints for tracked calls (from the decorator, wrap() or call_context())."""

    project: str | None = None
    tags: tuple[str, ...] = ()
    end_user: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    model: str | None = None
    provider: str | None = None

    def under(self, outer: CallOptions) -> CallOptions:
        """These options with ``outer`` filling the gaps (tags and metadata are merged)."""
        return CallOptions(
            project=self.project or outer.project,
            tags=outer.tags + tuple(t for t in self.tags if t not in outer.tags),
            end_user=self.end_user or outer.end_user,
            metadata={**outer.metadata, **self.metadata} if outer.metadata else self.metadata,
            model=self.model or outer.model,
            provider=self.provider or outer.provider,
        )


NO_OPTIONS = CallOptions()
_context_options: ContextVar[CallOptions] = ContextVar("llmlab_call_context", default=NO_OPTIONS)


@contextmanager
def call_context(
    *,
    project: str | None = None,
    tags: list[str] | tuple[str, ...] = (),
    end_user: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Any:
    """Attribute every tracked call made inside the ``with`` block (thread- and task-local).

    Values set here win over the decorator's and ``configure()``'s; tags and metadata add up::

        with llmlab_sdk.call_context(end_user=request.user.id, tags=["checkout"]):
            client.chat.completions.create(...)
    """
    options = CallOptions(
        project=project, tags=tuple(tags), end_user=end_user, metadata=dict(metadata or {})
    ).under(_context_options.get())
    token = _context_options.set(options)
    try:
        yield options
    finally:
        _context_options.reset(token)


@dataclass(slots=True)
class CallInProgress:
    """One tracked call between its start and its end (which, for streams, is the last chunk)."""

    tracker: Tracker
    options: CallOptions
    started_at: float = field(default_factory=time.time)
    started: float = field(default_factory=time.perf_counter)
    model_hint: str | None = None
    finished: bool = False

    def finish(self, status: Status, found: ExtractedUsage | None) -> None:
        """Queue the event for this call (once); never raises."""
        if self.finished:
            return
        self.finished = True
        latency_ms = int((time.perf_counter() - self.started) * 1000)
        try:
            options = self.options
            context = _context_options.get()
            if context is not NO_OPTIONS:
                options = context.under(options)
            model = options.model or (found.model if found else None) or self.model_hint
            if status == "success" and found is None:
                _warn_no_usage_once(model)
                return
            config = self.tracker.config
            self.tracker.record(
                build_event(
                    latency_ms=latency_ms,
                    status=status,
                    model=model,
                    provider=options.provider or (found.provider if found else None),
                    usage=found.usage if found and status == "success" else None,
                    project=options.project or config.project,
                    end_user=options.end_user or config.end_user,
                    tags=config.tags + options.tags if config.tags else options.tags,
                    metadata={**config.metadata, **options.metadata}
                    if config.metadata
                    else options.metadata,
                ),
                self.started_at,
            )
        except Exception:
            logger.exception("llmlab: could not record a tracked call")

    def finish_with_result(self, result: Any) -> None:
        """End a call whose complete result (not a stream) is in hand."""
        try:
            found = extract_usage(result, self.options.provider)
        except Exception:
            logger.exception("llmlab: could not read usage from %s", type(result).__name__)
            found = None
        self.finish("success", found)

    def finish_with_stream(self, accumulator: StreamUsageAccumulator, status: Status) -> None:
        """End a streamed call with whatever usage its chunks carried."""
        try:
            found = accumulator.result()
        except Exception:
            logger.exception("llmlab: could not read usage from a stream")
            found = None
        self.finish(status, found)


def start_call(
    tracker: Tracker, options: CallOptions, model_hint: str | None = None
) -> CallInProgress:
    """Check the budget guard (may raise ``BudgetExceededError``) and start the clock."""
    if tracker.enforce_budget:
        project = _context_options.get().project or options.project or tracker.config.project
        tracker.budget_guard.check(project)
    return CallInProgress(tracker, options, model_hint=model_hint)


_warned_no_usage: set[str | None] = set()


def _warn_no_usage_once(model: str | None) -> None:
    if model in _warned_no_usage:
        return
    _warned_no_usage.add(model)
    logger.warning(
        "llmlab: a tracked call (model=%r) returned no token usage, so it was not recorded; "
        "for OpenAI streams pass stream_options={'include_usage': True} or use wrap(client)",
        model,
    )
