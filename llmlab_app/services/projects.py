"""Projects: named groups of events, created on first use."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlmodel import Session, col, select

from llmlab_app.db.models import Project, utcnow
from llmlab_app.db.upsert import insert_ignoring_conflicts
from llmlab_app.errors import Conflict, NotFound
from llmlab_app.services.permissions import Actor, Permission, require


def list_projects(session: Session, *, org_id: uuid.UUID) -> list[Project]:
    return list(
        session.exec(select(Project).where(Project.org_id == org_id).order_by(Project.name))
    )


def get_project(session: Session, *, org_id: uuid.UUID, name: str) -> Project | None:
    return session.exec(
        select(Project).where(Project.org_id == org_id, Project.name == name)
    ).first()


def create_project(session: Session, *, actor: Actor, name: str) -> Project:
    """A project of the actor's organisation (409 if the name exists)."""
    require(actor, Permission.TRACK)
    if get_project(session, org_id=actor.org_id, name=name) is not None:
        raise Conflict(f"project {name!r} already exists")
    project = Project(org_id=actor.org_id, name=name)
    session.add(project)
    session.commit()
    return project


def ensure_projects(
    session: Session, *, org_id: uuid.UUID, names: Iterable[str]
) -> dict[str, uuid.UUID]:
    """Ids of the named projects, creating missing ones (safe against concurrent creators).

    Does not commit: it runs inside the caller's transaction.
    """
    wanted = sorted(set(names))
    if not wanted:
        return {}
    insert_ignoring_conflicts(
        session,
        Project,
        [
            {"id": uuid.uuid4(), "org_id": org_id, "name": name, "created_at": utcnow()}
            for name in wanted
        ],
        conflict_columns=["org_id", "name"],
    )
    rows = session.exec(
        select(Project.name, Project.id).where(
            Project.org_id == org_id, col(Project.name).in_(wanted)
        )
    )
    return dict(rows.all())


def project_names(session: Session, *, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = session.exec(select(Project.id, Project.name).where(col(Project.id).in_(wanted)))
    return dict(rows.all())


def require_project_id(
    session: Session, *, org_id: uuid.UUID, name: str | None
) -> uuid.UUID | None:
    """The id of the named project (None for no name); `NotFound` when it doesn't exist."""
    if name is None:
        return None
    project = get_project(session, org_id=org_id, name=name)
    if project is None:
        raise NotFound(f"project {name!r} not found")
    return project.id
