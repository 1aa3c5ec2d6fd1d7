"""Members of an organisation: listing, changing roles, removing (or leaving).

Every change locks the organisation first (`orgs.lock_organisation`), so two changes never
decide on the same stale view: an organisation always keeps at least one owner. A member
who is removed loses the keys they created there at once. One who is demoted keeps keys that
act with the new, narrower role (a key acts with its creator's current role), their scopes
narrowed to what the new role may give (a key left with none is revoked).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from llmlab_app.db.models import Invitation, Membership, Organisation, User
from llmlab_app.errors import Conflict, NotFound
from llmlab_app.services import audit
from llmlab_app.services.invitations import list_invitations
from llmlab_app.services.keys import (
    narrow_keys_of_member,
    recent_keys,
    revoke_keys_of_member,
)
from llmlab_app.services.orgs import get_organisation, lock_organisation
from llmlab_app.services.permissions import Actor, Permission, Role, parse_role, require

LAST_OWNER = "an organisation keeps at least one owner: make another member owner first"


@dataclass(frozen=True)
class Member:
    user_id: uuid.UUID
    email: str
    role: Role
    joined_at: datetime


def list_members(session: Session, *, org_id: uuid.UUID) -> list[Member]:
    """Members by role (owners first), then email."""
    rows = session.exec(
        select(Membership, User.email)
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.org_id == org_id)
    ).all()
    order = list(Role)
    members = [Member(m.user_id, email, Role(m.role), m.created_at) for m, email in rows]
    return sorted(members, key=lambda m: (order.index(m.role), m.email))


@dataclass(frozen=True)
class MembersPage:
    """What a Members page shows the actor, and which of its buttons they may use."""

    organisation: Organisation
    role: Role
    members: list[Member]
    invitations: list[Invitation]  # pending; empty unless the actor manages members
    may_manage_members: bool
    may_manage_owners: bool


def members_page(session: Session, *, actor: Actor) -> MembersPage:
    """The organisation's members (and, for those who manage them, pending invitations)."""
    may_manage = actor.may(Permission.MANAGE_MEMBERS)
    return MembersPage(
        organisation=get_organisation(session, org_id=actor.org_id),
        role=actor.role,
        members=list_members(session, org_id=actor.org_id),
        invitations=list_invitations(session, actor=actor) if may_manage else [],
        may_manage_members=may_manage,
        may_manage_owners=actor.may(Permission.MANAGE_OWNERS),
    )


def get_member(session: Session, *, org_id: uuid.UUID, user_id: uuid.UUID) -> Member | None:
    row = session.exec(
        select(Membership, User.email)
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.org_id == org_id, Membership.user_id == user_id)
    ).first()
    if row is None:
        return None
    membership, email = row
    return Member(membership.user_id, email, Role(membership.role), membership.created_at)


def change_role(session: Session, *, actor: Actor, user_id: uuid.UUID, role: str) -> Member:
    """Give a member another role. Making or unmaking an owner needs `manage_owners`."""
    require(actor, Permission.MANAGE_MEMBERS)
    new_role = parse_role(role)
    lock_organisation(session, org_id=actor.org_id)
    actor = _as_now(session, actor)
    require(actor, Permission.MANAGE_MEMBERS)
    membership = _membership(session, actor.org_id, user_id)
    old_role = Role(membership.role)
    if Role.OWNER in (old_role, new_role):
        require(actor, Permission.MANAGE_OWNERS)
    if old_role == Role.OWNER and new_role != Role.OWNER:
        _check_another_owner(session, actor.org_id)
    if new_role != old_role:
        membership.role = new_role.value
        session.add(membership)
        narrowed = narrow_keys_of_member(
            session, org_id=actor.org_id, user_id=user_id, role=new_role
        )
        audit.record(
            session,
            actor=actor,
            action="member.role_changed",
            target=_email(session, user_id),
            details={
                "user_id": str(user_id),
                "from": old_role.value,
                "to": new_role.value,
                "keys_narrowed": narrowed,
            },
        )
    session.commit()
    # Cached keys carry their creator's role: drop them so the new role holds at once.
    recent_keys.clear()
    member = get_member(session, org_id=actor.org_id, user_id=user_id)
    assert member is not None
    return member


def remove_member(session: Session, *, actor: Actor, user_id: uuid.UUID) -> int:
    """Remove a member (anyone may remove themselves: leaving), revoking the keys they
    created in the organisation. Returns how many keys were revoked."""
    leaving = user_id == actor.user_id
    if not leaving:
        require(actor, Permission.MANAGE_MEMBERS)
    lock_organisation(session, org_id=actor.org_id)
    actor = _as_now(session, actor)
    if not leaving:
        require(actor, Permission.MANAGE_MEMBERS)
    membership = _membership(session, actor.org_id, user_id)
    if membership.role == Role.OWNER.value:
        if not leaving:
            require(actor, Permission.MANAGE_OWNERS)
        _check_another_owner(session, actor.org_id)
    email = _email(session, user_id)
    session.delete(membership)
    revoked = revoke_keys_of_member(session, org_id=actor.org_id, user_id=user_id)
    audit.record(
        session,
        actor=actor,
        action="member.left" if leaving else "member.removed",
        target=email,
        details={"user_id": str(user_id), "role": membership.role, "keys_revoked": revoked},
    )
    session.commit()
    recent_keys.clear()
    return revoked


def _as_now(session: Session, actor: Actor) -> Actor:
    """The actor with the role they have now, read under the lock: a change committed while
    their request waited (they were demoted, or removed) counts."""
    current = _membership(session, actor.org_id, actor.user_id)
    return replace(actor, role=Role(current.role))


def _membership(session: Session, org_id: uuid.UUID, user_id: uuid.UUID) -> Membership:
    membership = session.get(Membership, (org_id, user_id))
    if membership is None:
        raise NotFound("member not found")
    # Read after the lock: what the last committed change left, not an older snapshot.
    session.refresh(membership)
    return membership


def _check_another_owner(session: Session, org_id: uuid.UUID) -> None:
    owners = session.exec(
        select(func.count())
        .select_from(Membership)
        .where(Membership.org_id == org_id, Membership.role == Role.OWNER.value)
    ).one()
    if owners < 2:
        raise Conflict(LAST_OWNER)


def _email(session: Session, user_id: uuid.UUID) -> str | None:
    user = session.get(User, user_id)
    return user.email if user else None
