"""What a tracked call knows about itself, and how it becomes an event once it ends.

Shared by ``@track_cost`` and ``wrap(client)``. Everything here runs on the caller's thread and
is guarded: a failure inside LLMLab is logged to the ``llmlab`` logger, never raised.

One provider response is one event, however many layers observe it. While a decorated function
runs, its call is the *enclosing* call (a context variable, so concurrent tasks and threads
each see their own); a tracked call started inside it takes the decorator's attribution
(project, tags, end user, metadata) and, once it records (or starts watching a stream), marks
every enclosing call as covered, and a covered call records nothing of its own. The decorator
therefore records only for functions that made no tracked call themselves (a raw REST call,
an unwrapped client). Events of responses that carry an id get ``<provider>:<id>`` as their
``event_id``, so a response reported twice anyway (by another process, an OpenTelemetry
instrumentation, the gateway) is stored once by the server.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
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

    def attribution(self) -> CallOptions:
        """Only what nested calls inherit: project, tags, end user and metadata."""
        if self.model is None and self.provider is None:
            return self
        return CallOptions(self.project, self.tags, self.end_user, self.metadata)


NO_OPTIONS = CallOptions()
_context_options: ContextVar[CallOptions] = ContextVar("llmlab_call_context", default=NO_OPTIONS)
# The decorated call whose function is running in this context (None outside any).
_enclosing_call: ContextVar[CallInProgress | None] = ContextVar(
    "llmlab_enclosing_call", default=None
)
# The server's limit on ``event_id``; a longer derived id falls back to a random one.
MAX_EVENT_ID_LENGTH = 128


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
    # The decorated call this one runs inside, and whether a call inside this one has taken
    # on recording the provider's response (so this one must not record it again).
    parent: CallInProgress | None = None
    covered: bool = False

    def cover_enclosing_calls(self) -> None:
        """This call records its response: the decorated calls around it must not."""
        cover(self.parent)

    def enclosing(self) -> Inside:
        """Run a block (the decorated function, or one step of its generator) inside this call."""
        return Inside(self)

    def finish(self, status: Status, found: ExtractedUsage | None) -> None:
        """Queue the event for this call (once, and only if no call inside it did); never
        raises."""
        if self.finished:
            return
        self.finished = True
        if self.covered:
            return
        latency_ms = int((time.perf_counter() - self.started) * 1000)
        try:
            options = self.options
            model = options.model or (found.model if found else None) or self.model_hint
            if status == "success" and found is None:
                _warn_no_usage_once(model)
                return
            if self.parent is not None:
                cover(self.parent)
            config = self.tracker.config
            provider = options.provider or (found.provider if found else None)
            self.tracker.record(
                build_event(
                    event_id=_event_id(provider, found.response_id if found else None),
                    latency_ms=latency_ms,
                    status=status,
                    model=model,
                    provider=provider,
                    usage=found.usage if found and status == "success" else None,
                    service_tier=found.service_tier if found else None,
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


class Inside:
    """``with call.enclosing():`` makes ``call`` the enclosing call of the block.

    A class rather than a ``@contextmanager`` generator: it runs on every decorated call, and
    this costs a third as much.
    """

    __slots__ = ("_call", "_token")

    def __init__(self, call: CallInProgress) -> None:
        self._call = call

    def __enter__(self) -> None:
        self._token = _enclosing_call.set(self._call)

    def __exit__(self, *exc_info: object) -> None:
        _enclosing_call.reset(self._token)


def cover(call: CallInProgress | None) -> None:
    """Mark ``call`` and every call around it as covered by a call made inside them."""
    while call is not None and not call.covered:
        call.covered = True
        call = call.parent


def _event_id(provider: str | None, response_id: str | None) -> str | None:
    if provider is None or response_id is None:
        return None
    event_id = f"{provider}:{response_id}"
    return event_id if len(event_id) <= MAX_EVENT_ID_LENGTH else None


def enclosing_call() -> CallInProgress | None:
    """The decorated call running in this context, if any."""
    return _enclosing_call.get()


def enter(call: CallInProgress) -> Token[CallInProgress | None]:
    """Make ``call`` the enclosing call until :func:`leave` (the decorator's hot path; elsewhere
    ``with call.enclosing():`` reads better)."""
    return _enclosing_call.set(call)


def leave(token: Token[CallInProgress | None]) -> None:
    """Undo the :func:`enter` that returned ``token``."""
    _enclosing_call.reset(token)


def start_call(
    tracker: Tracker,
    options: CallOptions,
    model_hint: str | None = None,
    *,
    client_call: bool = False,
    parent: CallInProgress | None = None,
) -> CallInProgress:
    """Work out the call's attribution, check the budget guard (may raise
    ``BudgetExceededError``) and start the clock.

    Inside a decorated call (``parent``, by default the one running in this context), a
    decorator's options win over the enclosing decorator's, and a client call's (``wrap()``'s,
    ``client_call=True``) give way to them; ``call_context()`` wins over both.
    """
    if parent is None:
        parent = _enclosing_call.get()
    if parent is not None:
        inherited = parent.options.attribution()
        options = inherited.under(options) if client_call else options.under(inherited)
    context = _context_options.get()
    if context is not NO_OPTIONS:
        options = context.under(options)
    if tracker.enforce_budget:
        tracker.budget_guard.check(options.project or tracker.config.project)
    return CallInProgress(tracker, options, model_hint=model_hint, parent=parent)


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
