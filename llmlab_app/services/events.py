"""Reading recorded cost events back: filters, cursor pagination, the public shape of an event
(CSV is in `events_csv`; recording is `ingest`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, literal
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from llmlab_app.db.models import NO_PROJECT, CostEvent
from llmlab_app.services.cursors import encode_cursor, older_than
from llmlab_app.services.projects import get_project, project_names


@dataclass(frozen=True)
class EventFilters:
    start: datetime | None = None
    end: datetime | None = None
    project: str | None = None
    model: str | None = None
    provider: str | None = None
    end_user: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class EventPage:
    items: list[CostEvent]
    next_cursor: str | None
    projects: dict[uuid.UUID, str]


def _filtered(session: Session, org_id: uuid.UUID, filters: EventFilters) -> Any:
    query = select(CostEvent).where(CostEvent.org_id == org_id)
    if filters.start:
        query = query.where(CostEvent.timestamp >= filters.start)
    if filters.end:
        query = query.where(CostEvent.timestamp < filters.end)
    if filters.model:
        query = query.where(CostEvent.model == filters.model)
    if filters.provider:
        query = query.where(CostEvent.provider == filters.provider)
    if filters.end_user:
        query = query.where(CostEvent.end_user == filters.end_user)
    if filters.project:
        project = get_project(session, org_id=org_id, name=filters.project)
        query = query.where(CostEvent.project_id == (project.id if project else NO_PROJECT))
    if filters.tag:
        query = query.where(_has_tag(session, filters.tag))
    return query


def _has_tag(session: Session, tag: str) -> Any:
    tags = col(CostEvent.tags)
    if session.get_bind().dialect.name == "postgresql":
        return tags.op("@>")(func.jsonb_build_array(tag))
    each = func.json_each(tags).table_valued("value")
    return exists(sa_select(literal(1)).select_from(each).where(each.c.value == tag))


def list_events(
    session: Session,
    *,
    org_id: uuid.UUID,
    filters: EventFilters,
    limit: int = 50,
    cursor: str | None = None,
) -> EventPage:
    """Newest first; the cursor (timestamp, id) stays stable while new events arrive."""
    query = _filtered(session, org_id, filters)
    if cursor:
        query = query.where(older_than(cursor, col(CostEvent.timestamp), col(CostEvent.id)))
    query = query.order_by(col(CostEvent.timestamp).desc(), col(CostEvent.id).desc())
    items = list(session.exec(query.limit(limit + 1)))
    last = items[limit - 1] if len(items) > limit else None
    next_cursor = encode_cursor(last.timestamp, last.id) if last else None
    items = items[:limit]
    names = project_names(session, ids=[e.project_id for e in items if e.project_id])
    return EventPage(items=items, next_cursor=next_cursor, projects=names)


def event_record(event: CostEvent, project: str | None) -> dict[str, Any]:
    """The public shape of one event (API JSON, CSV rows, the dashboard table)."""
    return {
        "id": str(event.id),
        "event_id": event.client_event_id,
        "timestamp": event.timestamp,
        "project": project,
        "provider": event.provider,
        "model": event.model,
        "input_tokens": event.input_tokens,
        "cache_read_tokens": event.cache_read_tokens,
        "cache_write_tokens": event.cache_write_tokens,
        "cache_write_1h_tokens": event.cache_write_1h_tokens,
        "output_tokens": event.output_tokens,
        "reasoning_tokens": event.reasoning_tokens,
        "service_tier": event.service_tier,
        "tokens_used": event.tokens_used,
        "cost_usd": event.cost_usd,
        "unpriced": event.unpriced,
        "cost_source": event.cost_source,
        "price_source": event.price_source,
        "reported_cost_usd": event.reported_cost_usd,
        "source": event.source,
        "status": event.status,
        "latency_ms": event.latency_ms,
        "end_user": event.end_user,
        "tags": event.tags,
        "metadata": event.event_metadata,
    }
