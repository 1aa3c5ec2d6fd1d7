"""The audit log of an organisation: who did what and when, newest first.

Entries are written by the services that make the change, in the same transaction, so the
log never shows a change that did not happen nor misses one that did."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from llmlab_app.db.models import AuditEvent, utcnow
from llmlab_app.services.cursors import encode_cursor, older_than
from llmlab_app.services.permissions import Actor, Permission, require


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an entry in the caller's transaction (the caller commits)."""
    session.add(
        AuditEvent(
            org_id=actor.org_id,
            actor_user_id=actor.user_id,
            actor_email=actor.email,
            action=action,
            target=target,
            details=details or {},
            created_at=utcnow(),
        )
    )


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEvent]
    next_cursor: str | None


def list_audit(
    session: Session, *, actor: Actor, limit: int = 50, cursor: str | None = None
) -> AuditPage:
    """The organisation's entries, newest first (admins and owners)."""
    require(actor, Permission.READ_AUDIT)
    query = select(AuditEvent).where(AuditEvent.org_id == actor.org_id)
    if cursor:
        query = query.where(older_than(cursor, col(AuditEvent.created_at), col(AuditEvent.id)))
    query = query.order_by(col(AuditEvent.created_at).desc(), col(AuditEvent.id).desc())
    items = list(session.exec(query.limit(limit + 1)))
    last = items[limit - 1] if len(items) > limit else None
    return AuditPage(
        items=items[:limit],
        next_cursor=encode_cursor(last.created_at, last.id) if last else None,
    )
