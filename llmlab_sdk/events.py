"""Build the event objects sent to ``POST /api/events/track``.

This runs on the caller's thread for every tracked call, so it only assembles a dict: no I/O,
no validation beyond what the types already guarantee.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from llmlab_sdk.usage_extraction import TokenUsage

Status = Literal["success", "error"]
UNKNOWN_MODEL = "unknown"


def utc_timestamp(epoch_seconds: float) -> str:
    """ISO-8601 UTC with a ``Z`` suffix, as the API expects."""
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat().replace("+00:00", "Z")


def build_event(
    *,
    latency_ms: int,
    status: Status,
    model: str | None,
    provider: str | None,
    usage: TokenUsage | None,
    project: str | None = None,
    end_user: str | None = None,
    tags: Sequence[str] = (),
    metadata: Mapping[str, Any] | None = None,
    cost_usd: str | None = None,
    event_id: str | None = None,
    service_tier: str | None = None,
) -> dict[str, Any]:
    """One event in the API's shape, but for ``timestamp`` (and ``event_id`` unless given).

    ``event_id`` is given when it derives from the provider's response id. Otherwise the
    sender adds a random one, and the timestamp, on its own thread (they cost more than the
    rest together) and keeps them across retries. Failed calls carry zero tokens, so they are
    counted without a cost.
    """
    event: dict[str, Any] = {
        "model": model or UNKNOWN_MODEL,
        "latency_ms": latency_ms,
        "status": status,
    }
    if usage is not None:
        event.update(usage)
        event["tokens_used"] = usage["input_tokens"] + usage["output_tokens"]
    else:
        event.update(input_tokens=0, output_tokens=0, tokens_used=0)
    if provider:
        event["provider"] = provider
    if project:
        event["project"] = project
    if end_user:
        event["end_user"] = end_user
    if tags:
        # A tuple, not a list: once the garbage collector has seen an event holding only
        # strings, numbers and tuples it stops tracking it, so thousands of queued events do
        # not lengthen its full collections (one took 86 ms in a 25,500-call burst).
        event["tags"] = tuple(tags)
    if metadata:
        event["metadata"] = dict(metadata)
    if cost_usd is not None:
        event["cost_usd"] = cost_usd
    if service_tier:
        event["service_tier"] = service_tier
    if event_id is not None:
        event["event_id"] = event_id
    return event
