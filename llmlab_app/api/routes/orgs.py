"""Organisations, their members, invitations and audit log.

A route under `/api/orgs/{org_id}` acts in that organisation: a caller who is not a member
gets 404 (an organisation is not revealed to outsiders), one whose role lacks the permission
gets 403 naming it (services/permissions.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from llmlab_app.api.deps import (
    AdminCaller,
    AuditReader,
    MemberManager,
    OrgManager,
    ReadCaller,
    Reader,
    SessionDep,
    SettingsDep,
    TokenCaller,
)
from llmlab_app.api.envelope import Envelope, ok
from llmlab_app.api.presenters import (
    audit_entry_out,
    created_invitation_out,
    invitation_out,
    member_out,
    org_out,
)
from llmlab_app.api.schemas import (
    AcceptIn,
    AuditPageOut,
    CreatedInvitationOut,
    InvitationIn,
    InvitationOut,
    MemberOut,
    OrgIn,
    OrgOut,
    RoleIn,
)
from llmlab_app.errors import NotFound
from llmlab_app.services import audit, invitations, members, orgs

router = APIRouter(prefix="/api/orgs", tags=["organisations"])
invitations_router = APIRouter(prefix="/api/invitations", tags=["organisations"])


@router.get("", response_model=Envelope[list[OrgOut]])
def list_orgs(caller: ReadCaller, session: SessionDep) -> Envelope[list[OrgOut]]:
    """Your organisations with your role in each: the personal one first."""
    return ok([org_out(m) for m in orgs.list_organisations(session, user_id=caller.user_id)])


@router.post("", status_code=201, response_model=Envelope[OrgOut])
def create_org(body: OrgIn, caller: AdminCaller, session: SessionDep) -> Envelope[OrgOut]:
    """Create a shared organisation; you are its owner."""
    created = orgs.create_organisation(session, user_id=caller.user_id, name=body.name)
    return ok(org_out(created))


@router.patch("/{org_id}", response_model=Envelope[OrgOut])
def rename_org(
    org_id: uuid.UUID, body: OrgIn, actor: OrgManager, session: SessionDep
) -> Envelope[OrgOut]:
    """Rename the organisation (owners)."""
    return ok(org_out(orgs.rename_organisation(session, actor=actor, name=body.name)))


@router.delete("/{org_id}", response_model=Envelope[dict])
def delete_org(org_id: uuid.UUID, actor: OrgManager, session: SessionDep) -> Envelope[dict]:
    """Delete a shared organisation and all its data (owners; export its events first with
    `GET /api/orgs/{org_id}/export`). A personal organisation goes only with its account."""
    orgs.delete_organisation(session, actor=actor)
    return ok({"deleted": True, "id": str(org_id)})


@router.get(
    "/{org_id}/export",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def export_org(org_id: uuid.UUID, actor: OrgManager, session: SessionDep) -> StreamingResponse:
    """Every event of the organisation as CSV (owners), e.g. before deleting it."""
    chunks = orgs.export_organisation_events(session, actor=actor)
    return StreamingResponse(
        chunks,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="llmlab-{org_id}-events.csv"'},
    )


@router.get("/{org_id}/members", response_model=Envelope[list[MemberOut]])
def list_members(
    org_id: uuid.UUID, actor: Reader, session: SessionDep
) -> Envelope[list[MemberOut]]:
    """Members with their roles, owners first."""
    return ok([member_out(m) for m in members.list_members(session, org_id=actor.org_id)])


@router.put("/{org_id}/members/{user_id}", response_model=Envelope[MemberOut])
def change_role(
    org_id: uuid.UUID, user_id: uuid.UUID, body: RoleIn, actor: MemberManager, session: SessionDep
) -> Envelope[MemberOut]:
    """Give a member another role (making or unmaking an owner needs an owner). Keys they
    created act with the new role at once. An organisation keeps at least one owner (409)."""
    return ok(
        member_out(members.change_role(session, actor=actor, user_id=user_id, role=body.role))
    )


@router.delete("/{org_id}/members/{user_id}", response_model=Envelope[dict])
def remove_member(
    org_id: uuid.UUID, user_id: uuid.UUID, actor: Reader, session: SessionDep
) -> Envelope[dict]:
    """Remove a member (anyone may remove themselves); the keys they created here are
    revoked at once. An organisation keeps at least one owner (409)."""
    revoked = members.remove_member(session, actor=actor, user_id=user_id)
    return ok({"removed": True, "user_id": str(user_id), "keys_revoked": revoked})


@router.post(
    "/{org_id}/invitations", status_code=201, response_model=Envelope[CreatedInvitationOut]
)
def invite(
    org_id: uuid.UUID,
    body: InvitationIn,
    actor: MemberManager,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
) -> Envelope[CreatedInvitationOut]:
    """Invite someone by email with a role: a link to copy (no mail is sent), valid 7 days,
    used once. The token is shown in this response only."""
    created = invitations.create_invitation(
        session,
        actor=actor,
        email=body.email,
        role=body.role,
        base_url=settings.public_url or str(request.base_url),
    )
    return ok(created_invitation_out(created))


@router.get("/{org_id}/invitations", response_model=Envelope[list[InvitationOut]])
def list_invitations(
    org_id: uuid.UUID, actor: MemberManager, session: SessionDep
) -> Envelope[list[InvitationOut]]:
    """Pending invitations, newest first."""
    return ok([invitation_out(i) for i in invitations.list_invitations(session, actor=actor)])


@router.delete("/{org_id}/invitations/{invitation_id}", response_model=Envelope[dict])
def revoke_invitation(
    org_id: uuid.UUID, invitation_id: uuid.UUID, actor: MemberManager, session: SessionDep
) -> Envelope[dict]:
    """Revoke a pending invitation: its link stops working."""
    if not invitations.revoke_invitation(session, actor=actor, invitation_id=invitation_id):
        raise NotFound("invitation not found")
    return ok({"revoked": True, "id": str(invitation_id)})


@router.get("/{org_id}/audit", response_model=Envelope[AuditPageOut])
def audit_log(
    org_id: uuid.UUID,
    actor: AuditReader,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Envelope[AuditPageOut]:
    """Who did what and when, newest first (admins and owners); pass `next_cursor` back as
    `cursor` for the next page."""
    page = audit.list_audit(session, actor=actor, limit=limit, cursor=cursor)
    return ok(
        AuditPageOut(items=[audit_entry_out(e) for e in page.items], next_cursor=page.next_cursor)
    )


@invitations_router.post("/accept", response_model=Envelope[OrgOut])
def accept_invitation(body: AcceptIn, caller: TokenCaller, session: SessionDep) -> Envelope[OrgOut]:
    """Join the organisation of an invitation sent to your email (the token travels in the
    body, never in a URL)."""
    joined = invitations.accept_invitation(session, user_id=caller.user_id, token=body.token)
    return ok(org_out(joined))
