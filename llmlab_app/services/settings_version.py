"""A per-organisation count of changes to what tracking depends on besides the events (price
overrides, budgets). The ingest writer keeps those between its rounds and re-reads them when
this count moved, so a change made in any worker holds from that worker's commit on. Every
change to those rows moves it: `ingest/accounts.py` holds that rule."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, select, update
from sqlmodel import Session

from llmlab_app.db.models import Organisation

_ORGS = Organisation.__table__.c  # type: ignore[attr-defined]
BUMP = (
    update(Organisation.__table__)  # type: ignore[arg-type]
    .where(_ORGS.id == bindparam("org_id"))
    .values(settings_version=_ORGS.settings_version + 1)
)
_READ = select(_ORGS.settings_version).where(_ORGS.id == bindparam("org_id"))


def settings_version(session: Session, *, org_id: uuid.UUID) -> int | None:
    """None when there is no such organisation."""
    return session.execute(_READ, {"org_id": org_id}).scalar_one_or_none()
