"""Projects."""

from __future__ import annotations

from fastapi import APIRouter

from llmlab_app.api.deps import Reader, SessionDep, Tracker
from llmlab_app.api.envelope import Envelope, ok
from llmlab_app.api.schemas import ProjectIn, ProjectOut
from llmlab_app.services import projects

router = APIRouter(prefix="/api/projects", tags=["projects"])


@router.get("", response_model=Envelope[list[ProjectOut]])
def list_projects(actor: Reader, session: SessionDep) -> Envelope[list[ProjectOut]]:
    """Projects by name. Tracking an event with a new project name creates it."""
    rows = projects.list_projects(session, org_id=actor.org_id)
    return ok([ProjectOut.model_validate(p, from_attributes=True) for p in rows])


@router.post("", status_code=201, response_model=Envelope[ProjectOut])
def create_project(body: ProjectIn, actor: Tracker, session: SessionDep) -> Envelope[ProjectOut]:
    """Create a project (409 if the name exists)."""
    project = projects.create_project(session, actor=actor, name=body.name)
    return ok(ProjectOut.model_validate(project, from_attributes=True))
