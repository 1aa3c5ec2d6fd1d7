"""The one place the OTLP receiver hands model calls to ingest: each `ModelCall` checked as
an ingest event (the rules every source is held to), the good ones stored together."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from llmlab_app.otel.genai import ModelCall
from llmlab_app.services.events import EventIn, track_events_async

SOURCE = "otlp"


@dataclass(frozen=True)
class Recorded:
    stored: int  # new events (a re-exported span is a duplicate, not counted)
    rejected: list[str]  # why each refused call was refused


async def record_calls(
    engine: Any, *, org_id: uuid.UUID, api_key_id: uuid.UUID | None, calls: Sequence[ModelCall]
) -> Recorded:
    """Store `calls` for the organisation, sent with `api_key_id`; a call the ingest schema
    refuses is reported, the others are stored all the same. Budgets the calls fall under are
    evaluated (and alerts recorded) as for `POST /api/events/track`."""
    events: list[EventIn] = []
    rejected: list[str] = []
    for call in calls:
        try:
            event = EventIn.model_validate(_event_fields(call))
            event.usage()  # counts that contradict each other fail here, alone
        except (ValidationError, ValueError) as exc:
            rejected.append(f"span {call.span_id}: {_first_error(exc)}")
            continue
        events.append(event)
    if not events:
        return Recorded(0, rejected)
    answer = await track_events_async(engine, org_id=org_id, api_key_id=api_key_id, events=events)
    return Recorded(sum(not tracked.duplicate for tracked in answer.events), rejected)


def _event_fields(call: ModelCall) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "source": SOURCE,
        "otel.trace_id": call.trace_id,
        "otel.span_id": call.span_id,
    }
    if call.reported_cost_usd is not None:
        metadata["reported_cost_usd"] = str(call.reported_cost_usd)
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
        "timestamp": call.timestamp,
        "latency_ms": call.latency_ms,
        "status": call.status,
        "project": call.project,
        "end_user": call.end_user,
        "tags": list(call.tags),
        "metadata": metadata,
    }


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        return f"{where}: {error['msg']}" if where else str(error["msg"])
    return str(exc)
