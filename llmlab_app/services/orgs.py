"""Organisations: the personal one every user gets, shared ones with members, and which
organisation (and role) a request acts with."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from llmlab_app.db.models import Membership, Organisation, User
from llmlab_app.errors import Conflict, InvalidInput, NotFound
from llmlab_app.services import audit
from llmlab_app.services.keys import recent_keys
from llmlab_app.services.permissions import Actor, Permission, Role, require

MAX_NAME_LENGTH = 100
NOT_FOUND = "organisation not found"


@dataclass(frozen=True)
class OrgMembership:
    """An organisation seen by one of its members."""

    organisation: Organisation
    role: Role


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"name must be 1 to {MAX_NAME_LENGTH} characters")
    return name


def create_personal_organisation(session: Session, *, user: User) -> Organisation:
    """The user's own organisation, with them as its owner (in the caller's transaction)."""
    organisation = Organisation(name=user.email[:MAX_NAME_LENGTH], personal_user_id=user.id)
    session.add(organisation)
    session.flush()
    session.add(Membership(org_id=organisation.id, user_id=user.id, role=Role.OWNER.value))
    session.flush()
    return organisation


def create_organisation(session: Session, *, user_id: uuid.UUID, name: str) -> OrgMembership:
    """A shared organisation with the user as its first owner."""
    user = _user(session, user_id)
    organisation = Organisation(name=_check_name(name))
    session.add(organisation)
    session.flush()
    session.add(Membership(org_id=organisation.id, user_id=user.id, role=Role.OWNER.value))
    actor = Actor(user_id=user.id, org_id=organisation.id, role=Role.OWNER, email=user.email)
    audit.record(session, actor=actor, action="organisation.created", target=organisation.name)
    session.commit()
    return OrgMembership(organisation, Role.OWNER)


def list_organisations(session: Session, *, user_id: uuid.UUID) -> list[OrgMembership]:
    """The user's organisations with their role: the personal one first, then by name."""
    rows = session.exec(
        select(Organisation, Membership.role)
        .join(Membership, col(Membership.org_id) == Organisation.id)
        .where(Membership.user_id == user_id)
    ).all()
    found = [OrgMembership(org, Role(role)) for org, role in rows]
    return sorted(
        found, key=lambda m: (m.organisation.personal_user_id is None, m.organisation.name.lower())
    )


def personal_organisation_id(session: Session, *, user_id: uuid.UUID) -> uuid.UUID:
    org_id = session.exec(
        select(Organisation.id).where(Organisation.personal_user_id == user_id)
    ).first()
    if org_id is None:
        raise NotFound(NOT_FOUND)
    return org_id


def actor_for(session: Session, *, user: User, org_id: uuid.UUID | None = None) -> Actor:
    """The user acting in `org_id` (their personal organisation when None). `NotFound` when
    they are not a member: an organisation is not revealed to outsiders."""
    if org_id is None:
        org_id = personal_organisation_id(session, user_id=user.id)
    role = session.exec(
        select(Membership.role).where(Membership.org_id == org_id, Membership.user_id == user.id)
    ).first()
    if role is None:
        raise NotFound(NOT_FOUND)
    return Actor(user_id=user.id, org_id=org_id, role=Role(role), email=user.email)


def actor_for_user_id(
    session: Session, *, user_id: uuid.UUID, org_id: uuid.UUID | None = None
) -> Actor:
    """`actor_for` by user id (the dashboard keeps the id of who is signed in)."""
    return actor_for(session, user=_user(session, user_id), org_id=org_id)


def _user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


def get_organisation(session: Session, *, org_id: uuid.UUID) -> Organisation:
    organisation = session.get(Organisation, org_id)
    if organisation is None:
        raise NotFound(NOT_FOUND)
    return organisation


def lock_organisation(session: Session, *, org_id: uuid.UUID) -> None:
    """Serialise membership changes of one organisation until the transaction ends.

    The UPDATE takes the organisation row's lock on PostgreSQL and SQLite's write lock, so a
    second change waits and then reads what the first committed: checks such as "another
    owner remains" cannot be made on both sides of a race.
    """
    changed = session.execute(
        update(Organisation)
        .where(col(Organisation.id) == org_id)
        .values(members_version=Organisation.members_version + 1)
    ).rowcount
    if changed != 1:
        raise NotFound(NOT_FOUND)


def rename_organisation(session: Session, *, actor: Actor, name: str) -> OrgMembership:
    require(actor, Permission.MANAGE_ORGANISATION)
    organisation = get_organisation(session, org_id=actor.org_id)
    before, organisation.name = organisation.name, _check_name(name)
    session.add(organisation)
    audit.record(
        session,
        actor=actor,
        action="organisation.renamed",
        target=organisation.name,
        details={"from": before, "to": organisation.name},
    )
    session.commit()
    return OrgMembership(organisation, actor.role)


def delete_organisation(session: Session, *, actor: Actor) -> None:
    """Delete a shared organisation and everything it owns (a personal one goes only with
    its account)."""
    require(actor, Permission.MANAGE_ORGANISATION)
    organisation = get_organisation(session, org_id=actor.org_id)
    if organisation.personal_user_id is not None:
        raise Conflict("a personal organisation is deleted only with its account")
    session.delete(organisation)
    session.commit()
    recent_keys.clear()


def export_organisation_events(session: Session, *, actor: Actor) -> Iterator[str]:
    """Every event of the organisation as CSV chunks, for an owner before deleting it."""
    from llmlab_app.services.events import EventFilters
    from llmlab_app.services.events_csv import export_events_csv

    require(actor, Permission.MANAGE_ORGANISATION)
    return export_events_csv(session, org_id=actor.org_id, filters=EventFilters())
