"""The one place the OTLP receiver hands model calls to ingest: each `ModelCall` checked as
an ingest event (the rules every source is held to), the good ones stored together."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from llmlab_app.otel.genai import ModelCall
from llmlab_app.services.ingest import EventIn, Source, ingest_events
from llmlab_app.services.retention import retention_cutoff

SOURCE: Source = "otlp"


@dataclass(frozen=True)
class Recorded:
    stored: int  # new events (a re-exported span is a duplicate, not counted)
    rejected: list[str]  # why each refused call was refused


async def record_calls(
    engine: Any,
    *,
    org_id: uuid.UUID,
    api_key_id: uuid.UUID | None,
    calls: Sequence[ModelCall],
    retention_days: int | None,
) -> Recorded:
    """Store `calls` for the organisation, sent with `api_key_id`; a call the ingest schema
    or ingest itself refuses is reported, the others are stored all the same. Budgets the
    calls fall under are evaluated (and alerts recorded) as for `POST /api/events/track`,
    and, as there, a call older than the retention window is refused: its repeat could not be
    recognised once it is deleted."""
    cutoff = None if retention_days is None else retention_cutoff(retention_days)
    accepted: list[tuple[ModelCall, EventIn]] = []
    rejected: list[str] = []
    for call in calls:
        try:
            event = EventIn.model_validate(_event_fields(call))
        except ValidationError as exc:
            rejected.append(f"span {call.span_id}: {_first_error(exc)}")
            continue
        if cutoff is not None and event.timestamp is not None and event.timestamp < cutoff:
            rejected.append(
                f"span {call.span_id}: timestamp: older than the retention window of "
                f"{retention_days} days"
            )
            continue
        accepted.append((call, event))
    if not accepted:
        return Recorded(0, rejected)
    answer = await ingest_events(
        engine,
        org_id=org_id,
        api_key_id=api_key_id,
        source=SOURCE,
        events=[event for _, event in accepted],
    )
    for (call, _), outcome in zip(accepted, answer.events, strict=True):
        if outcome.outcome == "rejected":
            rejected.append(f"span {call.span_id}: {outcome.reason}")
    return Recorded(answer.stored, rejected)


def _event_fields(call: ModelCall) -> dict[str, Any]:
    return {
        "event_id": call.event_id,
        "provider": call.provider,
        "model": call.model,
        "input_tokens": call.input_tokens,
        "output_tokens": call.output_tokens,
        "cache_read_tokens": call.cache_read_tokens,
        "cache_write_tokens": call.cache_write_tokens,
        "cache_write_1h_tokens": call.cache_write_1h_tokens,
        "reasoning_tokens": call.reasoning_tokens,
        "service_tier": call.service_tier,
        "reported_cost_usd": call.reported_cost_usd,
        "timestamp": call.timestamp,
        "latency_ms": call.latency_ms,
        "status": call.status,
        "project": call.project,
        "end_user": call.end_user,
        "tags": list(call.tags),
        "metadata": {"otel.trace_id": call.trace_id, "otel.span_id": call.span_id},
    }


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])
