"""Invitations to join an organisation: a token shown once (only its hash is kept), valid
for 7 days, used once, by the person whose email it names.

No mail server is assumed: the inviter copies the link. The token travels in the link's
fragment (`#token=`), which browsers never send to a server, and in request bodies, never in
a URL path that access logs keep.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from llmlab_app.db.models import Invitation, Membership, User, utcnow
from llmlab_app.errors import Conflict, Forbidden, InvalidInput, NotFound
from llmlab_app.security import sha256_hex
from llmlab_app.services import audit
from llmlab_app.services.emails import is_email, normalize_email
from llmlab_app.services.orgs import OrgMembership, get_organisation, lock_organisation
from llmlab_app.services.permissions import Actor, Permission, Role, parse_role, require

INVITATION_DAYS = 7
# The dashboard page that accepts an invitation (the token follows in the fragment).
ACCEPT_PATH = "/invitation"


@dataclass(frozen=True)
class CreatedInvitation:
    invitation: Invitation
    token: str
    url: str


def create_invitation(
    session: Session, *, actor: Actor, email: str, role: str, base_url: str
) -> CreatedInvitation:
    """Invite `email` with `role` (an owner invitation needs `manage_owners`). A pending
    invitation to the same email is replaced."""
    require(actor, Permission.MANAGE_MEMBERS)
    invited_role = parse_role(role)
    if invited_role == Role.OWNER:
        require(actor, Permission.MANAGE_OWNERS)
    if not is_email(email):
        raise InvalidInput("email: This does not look like an email address.")
    email = normalize_email(email)
    organisation = get_organisation(session, org_id=actor.org_id)
    if organisation.personal_user_id is not None:
        raise Conflict(
            "a personal organisation has only its owner: create a shared organisation "
            "(POST /api/orgs) to invite people"
        )
    already = session.exec(
        select(Membership.user_id)
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.org_id == actor.org_id, User.email == email)
    ).first()
    if already is not None:
        raise Conflict(f"{email} is already a member of this organisation")
    now = utcnow()
    session.execute(
        update(Invitation)
        .where(*_pending(now), col(Invitation.org_id) == actor.org_id, Invitation.email == email)
        .values(revoked_at=now)
    )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        org_id=actor.org_id,
        email=email,
        role=invited_role.value,
        token_hash=sha256_hex(token),
        invited_by_user_id=actor.user_id,
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    session.add(invitation)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="member.invited",
        target=email,
        details={"role": invited_role.value, "invitation_id": str(invitation.id)},
    )
    session.commit()
    url = f"{base_url.rstrip('/')}{ACCEPT_PATH}#token={token}"
    return CreatedInvitation(invitation=invitation, token=token, url=url)


def _pending(now: datetime) -> tuple[object, ...]:
    return (
        col(Invitation.accepted_at).is_(None),
        col(Invitation.revoked_at).is_(None),
        col(Invitation.expires_at) > now,
    )


def list_invitations(session: Session, *, actor: Actor) -> list[Invitation]:
    """Pending invitations (not used, revoked nor expired), newest first."""
    require(actor, Permission.MANAGE_MEMBERS)
    return list(
        session.exec(
            select(Invitation)
            .where(Invitation.org_id == actor.org_id, *_pending(utcnow()))
            .order_by(col(Invitation.created_at).desc())
        )
    )


def revoke_invitation(session: Session, *, actor: Actor, invitation_id: uuid.UUID) -> bool:
    """False when there is no such pending invitation in the organisation."""
    require(actor, Permission.MANAGE_MEMBERS)
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.org_id != actor.org_id:
        return False
    revoked = session.execute(
        update(Invitation)
        .where(col(Invitation.id) == invitation_id, *_pending(utcnow()))
        .values(revoked_at=utcnow())
    ).rowcount
    if revoked == 1:
        audit.record(
            session,
            actor=actor,
            action="invitation.revoked",
            target=invitation.email,
            details={"invitation_id": str(invitation_id), "role": invitation.role},
        )
    session.commit()
    return revoked == 1


@dataclass(frozen=True)
class InvitationPreview:
    """What the accept page tells the holder of a token before they sign in or up."""

    organisation_name: str
    email: str
    role: Role
    # "" while it may be accepted; otherwise why not (used, revoked, expired).
    unusable_reason: str


def preview_invitation(session: Session, *, token: str) -> InvitationPreview:
    """The invitation `token` names (`NotFound` when none): only its holder learns this."""
    invitation = session.exec(
        select(Invitation).where(Invitation.token_hash == sha256_hex(token))
    ).first()
    if invitation is None:
        raise NotFound("invitation not found")
    now = utcnow()
    pending = (
        invitation.accepted_at is None
        and invitation.revoked_at is None
        and invitation.expires_at > now
    )
    return InvitationPreview(
        organisation_name=get_organisation(session, org_id=invitation.org_id).name,
        email=invitation.email,
        role=Role(invitation.role),
        unusable_reason="" if pending else _why_not_pending(invitation, now),
    )


def accept_invitation(session: Session, *, user_id: uuid.UUID, token: str) -> OrgMembership:
    """Join the organisation the invitation is for, with its role."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    joined = join_by_invitation(session, user=user, token=token)
    session.commit()
    return joined


def join_by_invitation(session: Session, *, user: User, token: str) -> OrgMembership:
    """`accept_invitation` in the caller's transaction (sign-up uses it before committing).

    Used once even when accepted twice at once: the organisation is locked, then the
    invitation is claimed by a conditional UPDATE that only one transaction can make."""
    invitation = session.exec(
        select(Invitation).where(Invitation.token_hash == sha256_hex(token))
    ).first()
    if invitation is None:
        raise NotFound("invitation not found")
    if normalize_email(user.email) != invitation.email:
        raise Forbidden("this invitation was sent to another email address")
    lock_organisation(session, org_id=invitation.org_id)
    now = utcnow()
    claimed = session.execute(
        update(Invitation)
        .where(col(Invitation.id) == invitation.id, *_pending(now))
        .values(accepted_at=now, accepted_by_user_id=user.id)
    ).rowcount
    if claimed != 1:
        session.refresh(invitation)
        raise Conflict(_why_not_pending(invitation, now))
    if session.get(Membership, (invitation.org_id, user.id)) is not None:
        raise Conflict("you are already a member of this organisation")
    role = Role(invitation.role)
    session.add(Membership(org_id=invitation.org_id, user_id=user.id, role=role.value))
    actor = Actor(user_id=user.id, org_id=invitation.org_id, role=role, email=user.email)
    audit.record(
        session,
        actor=actor,
        action="member.joined",
        target=user.email,
        details={"role": role.value, "invitation_id": str(invitation.id)},
    )
    session.flush()
    return OrgMembership(get_organisation(session, org_id=invitation.org_id), role)


def _why_not_pending(invitation: Invitation, now: datetime) -> str:
    if invitation.accepted_at is not None:
        return "this invitation has already been used"
    if invitation.revoked_at is not None:
        return "this invitation was revoked"
    return "this invitation has expired"
