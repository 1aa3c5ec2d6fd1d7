"""A per-account count of changes to what tracking depends on besides the events (price
overrides, budgets). The ingest writer keeps those between its rounds and re-reads them when
this count moved, so a change made in any worker holds from that worker's commit on."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, select, update
from sqlmodel import Session

from llmlab_app.db.models import User

_USERS = User.__table__.c  # type: ignore[attr-defined]
_BUMP = (
    update(User.__table__)  # type: ignore[arg-type]
    .where(_USERS.id == bindparam("uid"))
    .values(settings_version=_USERS.settings_version + 1)
)
_READ = select(_USERS.settings_version).where(_USERS.id == bindparam("uid"))


def settings_changed(session: Session, *, user_id: uuid.UUID) -> None:
    """Call in the transaction that changes the user's overrides or budgets."""
    session.execute(_BUMP, {"uid": user_id})


def settings_version(session: Session, *, user_id: uuid.UUID) -> int | None:
    """None when there is no such user."""
    return session.execute(_READ, {"uid": user_id}).scalar_one_or_none()
