"""LLMLab SDK: record what your LLM calls cost, without slowing them down.

```python
import llmlab_sdk
from openai import OpenAI

llmlab_sdk.configure(api_key="llmlab_...", project="support-bot")
client = llmlab_sdk.wrap(OpenAI())          # every call tracked


@llmlab_sdk.track_cost(tags=["summaries"])  # or track one function
def summarize(text: str): ...
```

Events are queued and sent in batches by a background thread; nothing LLMLab does raises into
your code (problems go to the ``llmlab`` logger), except ``BudgetExceededError`` when you opt in
to ``enforce_budget=True``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmlab_sdk.calls import call_context
from llmlab_sdk.config import QueueFullPolicy, SDKConfig, load_config
from llmlab_sdk.decorator import track_cost
from llmlab_sdk.errors import (
    BudgetExceededError,
    LLMLabAPIError,
    LLMLabConnectionError,
    LLMLabError,
)
from llmlab_sdk.http import LLMLabClient
from llmlab_sdk.tracker import current_tracker, replace_tracker
from llmlab_sdk.tracker import shutdown as _shutdown
from llmlab_sdk.usage_extraction import ExtractedUsage, TokenUsage, extract_usage
from llmlab_sdk.wrappers import wrap

__all__ = [
    "BudgetExceededError",
    "ExtractedUsage",
    "LLMLabAPIError",
    "LLMLabClient",
    "LLMLabConnectionError",
    "LLMLabError",
    "SDKConfig",
    "TokenUsage",
    "call_context",
    "configure",
    "extract_usage",
    "flush",
    "shutdown",
    "stats",
    "track_cost",
    "wrap",
]


def configure(
    api_key: str | None = None,
    base_url: str | None = None,
    project: str | None = None,
    *,
    tags: list[str] | tuple[str, ...] | None = None,
    end_user: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    enabled: bool | None = None,
    max_queue_size: int | None = None,
    queue_full_policy: QueueFullPolicy | None = None,
    batch_size: int | None = None,
    flush_interval_ms: int | None = None,
    request_timeout: float | None = None,
    backoff_initial: float | None = None,
    backoff_max: float | None = None,
    max_retry_after: float | None = None,
    spool: bool | None = None,
    spool_dir: str | Path | None = None,
    spool_max_mb: int | None = None,
    spool_after_attempts: int | None = None,
    enforce_budget: bool | None = None,
    budget_check_interval: float | None = None,
    flush_at_exit_timeout: float | None = None,
) -> SDKConfig:
    """Set up tracking; arguments left out fall back to ``LLMLAB_*`` variables, then defaults.

    - ``api_key`` / ``LLMLAB_API_KEY``: without one the SDK logs one warning and stays out of
      the way. ``base_url`` / ``LLMLAB_BASE_URL`` (default ``http://localhost:3000``),
      ``project`` / ``LLMLAB_PROJECT``; ``tags``, ``end_user`` and ``metadata`` are defaults
      for every event. ``enabled=False`` (``LLMLAB_ENABLED=0``) turns tracking off.
    - Sending: ``batch_size`` events per request (max 1,000) or whatever arrived within
      ``flush_interval_ms`` (default 1,000); ``request_timeout`` seconds per request.
    - Memory: at most ``max_queue_size`` (10,000) events wait in the queue. Events beyond that
      go to the spool on disk (written by a background thread, in batches; at most as many
      again wait for it) and are sent from there; only when the spool is full too (or off)
      does ``queue_full_policy``
      ``"drop_newest"`` (default) or ``"drop_oldest"`` decide which event is dropped. Drops
      are counted in :func:`stats`.
    - Retries: network errors, 5xx and 429 back off exponentially from ``backoff_initial``
      to ``backoff_max`` seconds with jitter, or wait what ``Retry-After`` says (capped at
      ``max_retry_after``).
    - The spool: on by default (``spool=False`` or ``LLMLAB_SPOOL=0`` turns it off), in
      ``~/.llmlab/spool/<server and key>/`` (``LLMLAB_HOME`` moves ``~/.llmlab``) or in
      ``spool_dir`` (``LLMLAB_SPOOL_DIR``), at most ``spool_max_mb`` (100) MB. It takes what
      does not fit in memory, and batches that still fail after ``spool_after_attempts``
      attempts; they are resent when the server answers again or on the next start. A folder
      that cannot be written turns the spool off, with one warning.
    - ``enforce_budget=True`` (``LLMLAB_ENFORCE_BUDGET``): tracked calls raise
      :class:`BudgetExceededError` while a hard-limit budget covering them is exceeded; budget
      status is refreshed every ``budget_check_interval`` seconds in the background.
    - ``flush_at_exit_timeout``: how long the exit hook waits for the last events.

    Calling it again replaces the previous setup (whose queued events are flushed first).
    Returns the settings in force.
    """
    config = load_config(
        api_key=api_key,
        base_url=base_url,
        project=project,
        tags=tags,
        end_user=end_user,
        metadata=metadata,
        enabled=enabled,
        max_queue_size=max_queue_size,
        queue_full_policy=queue_full_policy,
        batch_size=batch_size,
        flush_interval_ms=flush_interval_ms,
        request_timeout=request_timeout,
        backoff_initial=backoff_initial,
        backoff_max=backoff_max,
        max_retry_after=max_retry_after,
        spool=spool,
        spool_dir=spool_dir,
        spool_max_mb=spool_max_mb,
        spool_after_attempts=spool_after_attempts,
        enforce_budget=enforce_budget,
        budget_check_interval=budget_check_interval,
        flush_at_exit_timeout=flush_at_exit_timeout,
    )
    return replace_tracker(config).config


def flush(timeout: float | None = None) -> bool:
    """Block until queued events are sent (or spooled); False if ``timeout`` seconds ran out."""
    return current_tracker().flush(timeout)


def shutdown(timeout: float | None = None) -> bool:
    """Flush, then stop the background sender; the next tracked call starts it again."""
    return _shutdown(timeout)


def stats() -> dict[str, int]:
    """Counters of the current sender: sent, duplicates, dropped, rejected, spooled, queued..."""
    sender = current_tracker().sender
    return {} if sender is None else sender.stats()
