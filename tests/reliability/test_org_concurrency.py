"""Membership changes that race: each has exactly one outcome, and an organisation never
ends up without an owner. Real threads, each with its own session, on SQLite and PostgreSQL,
through the services the API and the dashboard call."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from llmlab_app.db.models import AuditEvent, Membership, User
from llmlab_app.errors import AppError
from llmlab_app.services import invitations, members, orgs
from llmlab_app.services.permissions import Actor
from tests.conftest import signup_through_service

ROUNDS = 3


def _race(engine: Engine, *works: Callable[[Session], Any]) -> list[Any]:
    """Run each work in its own thread and session, released together; what each returned
    or the `AppError` it raised."""
    barrier = threading.Barrier(len(works))
    results: list[Any] = [None] * len(works)

    def run(index: int) -> None:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            try:
                results[index] = works[index](session)
            except AppError as error:
                session.rollback()
                results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    return results


class Team:
    """A shared organisation built through the services, and a way to act in it."""

    def __init__(self, engine: Engine, settings: Any, roles: dict[str, str]) -> None:
        self.engine = engine
        self.users: dict[str, User] = {}
        with Session(engine, expire_on_commit=False) as session:
            for name in roles:
                email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
                result = signup_through_service(session, settings, email)
                self.users[name] = result.tokens.user
            first = next(iter(roles))
            self.org_id = orgs.create_organisation(
                session, user_id=self.users[first].id, name="Acme"
            ).organisation.id
            for name, role in list(roles.items())[1:]:
                created = invitations.create_invitation(
                    session,
                    actor=self.actor(session, first),
                    email=self.users[name].email,
                    role=role,
                    base_url="http://test",
                )
                invitations.accept_invitation(
                    session, user_id=self.users[name].id, token=created.token
                )

    def actor(self, session: Session, name: str) -> Actor:
        return orgs.actor_for(session, user=self.users[name], org_id=self.org_id)

    def roles(self) -> dict[str, str]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(Membership.user_id, Membership.role).where(Membership.org_id == self.org_id)
            ).all()
        by_id = {user.id: name for name, user in self.users.items()}
        return {by_id[user_id]: role for user_id, role in rows}


def _outcomes(results: list[Any]) -> tuple[list[Any], list[AppError]]:
    errors = [r for r in results if isinstance(r, AppError)]
    return [r for r in results if not isinstance(r, AppError)], errors


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_the_last_two_owners_demoting_each_other_at_once_leaves_one_owner(engine, settings, round_):
    team = Team(engine, settings, {"ada": "owner", "grace": "owner"})

    def demote(by: str, whom: str) -> Callable[[Session], Any]:
        return lambda session: members.change_role(
            session, actor=team.actor(session, by), user_id=team.users[whom].id, role="admin"
        )

    done, refused = _outcomes(_race(engine, demote("ada", "grace"), demote("grace", "ada")))
    assert len(done) == 1 and len(refused) == 1, refused
    assert refused[0].status_code in (403, 409)
    assert sorted(team.roles().values()) == ["admin", "owner"]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_the_last_two_owners_demoting_themselves_at_once_leaves_one_owner(engine, settings, round_):
    team = Team(engine, settings, {"ada": "owner", "grace": "owner"})

    def step_down(name: str) -> Callable[[Session], Any]:
        return lambda session: members.change_role(
            session, actor=team.actor(session, name), user_id=team.users[name].id, role="viewer"
        )

    done, refused = _outcomes(_race(engine, step_down("ada"), step_down("grace")))
    assert len(done) == 1 and len(refused) == 1
    assert refused[0].status_code == 409 and "at least one owner" in refused[0].message
    assert sorted(team.roles().values()) == ["owner", "viewer"]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_the_last_two_owners_leaving_at_once_leaves_one_owner(engine, settings, round_):
    team = Team(engine, settings, {"ada": "owner", "grace": "owner"})

    def leave(name: str) -> Callable[[Session], Any]:
        return lambda session: members.remove_member(
            session, actor=team.actor(session, name), user_id=team.users[name].id
        )

    done, refused = _outcomes(_race(engine, leave("ada"), leave("grace")))
    assert len(done) == 1 and len(refused) == 1 and refused[0].status_code == 409
    assert list(team.roles().values()) == ["owner"]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_an_invitation_accepted_twice_at_once_is_used_once(engine, settings, round_):
    team = Team(engine, settings, {"ada": "owner", "grace": "member"})
    with Session(engine, expire_on_commit=False) as session:
        email = f"new-{uuid.uuid4().hex[:8]}@example.com"
        newcomer = signup_through_service(session, settings, email).tokens.user
        token = invitations.create_invitation(
            session,
            actor=team.actor(session, "ada"),
            email=newcomer.email,
            role="viewer",
            base_url="http://test",
        ).token

    def accept(session: Session) -> Any:
        return invitations.accept_invitation(session, user_id=newcomer.id, token=token)

    done, refused = _outcomes(_race(engine, accept, accept))
    assert len(done) == 1 and len(refused) == 1 and refused[0].status_code == 409
    with Session(engine) as session:
        joined = session.exec(
            select(func.count())
            .select_from(Membership)
            .where(Membership.org_id == team.org_id, Membership.user_id == newcomer.id)
        ).one()
        entries = session.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.org_id == team.org_id, AuditEvent.action == "member.joined")
        ).one()
    assert joined == 1
    assert entries == 2  # grace's, and the newcomer's once


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_admins_changing_one_members_role_at_once_apply_one_after_the_other(
    engine, settings, round_
):
    team = Team(
        engine, settings, {"ada": "owner", "grace": "admin", "alan": "admin", "ida": "member"}
    )

    def change(by: str, role: str) -> Callable[[Session], Any]:
        return lambda session: members.change_role(
            session, actor=team.actor(session, by), user_id=team.users["ida"].id, role=role
        )

    done, refused = _outcomes(_race(engine, change("grace", "viewer"), change("alan", "admin")))
    assert refused == [] and len(done) == 2
    with Session(engine) as session:
        changes = session.exec(
            select(AuditEvent)
            .where(AuditEvent.org_id == team.org_id, AuditEvent.action == "member.role_changed")
            .order_by(AuditEvent.created_at, AuditEvent.id)
        ).all()
    # The log is one consistent story: the second change starts where the first ended, and
    # the member has the role the last one gave.
    assert len(changes) == 2 and changes[0].details["from"] == "member"
    assert changes[1].details["from"] == changes[0].details["to"]
    assert team.roles()["ida"] == changes[1].details["to"]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_an_owner_demoted_while_removing_someone_is_refused(engine, settings, round_):
    """A request that waited for the lock acts with the role its actor has now."""
    team = Team(engine, settings, {"ada": "owner", "grace": "owner", "ida": "member"})

    def demote_grace(session: Session) -> Any:
        return members.change_role(
            session, actor=team.actor(session, "ada"), user_id=team.users["grace"].id, role="viewer"
        )

    def grace_removes_ida(session: Session) -> Any:
        return members.remove_member(
            session, actor=team.actor(session, "grace"), user_id=team.users["ida"].id
        )

    results = _race(engine, demote_grace, grace_removes_ida)
    roles = team.roles()
    assert roles["grace"] == "viewer"
    if isinstance(results[1], AppError):
        # Demoted first: the removal was refused and ida is still there.
        assert results[1].status_code == 403 and roles["ida"] == "member"
    else:
        # Removed first, while grace was still an owner.
        assert "ida" not in roles
