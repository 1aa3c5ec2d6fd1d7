"""The dashboard's actions go through the same permission table as the API: every service
function that takes an `actor` has a row here (a new one without a row fails), an outsider
cannot act in an organisation at all (404), and each role may do exactly what
`ROLE_PERMISSIONS` gives it (`Forbidden` naming the permission otherwise)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session

import llmlab_app.services
from llmlab_app.db.models import utcnow
from llmlab_app.errors import Forbidden, NotFound
from llmlab_app.services import (
    audit,
    budgets,
    invitations,
    keys,
    members,
    orgs,
    pages,
    prices,
    projects,
    repricing,
    webhook_secrets,
)
from llmlab_app.services.permissions import ROLE_PERMISSIONS, Actor, Permission, Role
from llmlab_app.services.sessions import DASHBOARD, ActiveSession
from tests.conftest import signup_through_service

P = Permission
# Functions taking an actor that are not actions: they record, check or explain, for the actions.
HELPERS = {
    "audit.record",
    "permissions.require",
    "permissions.refusal_reasons",
    "keys.revoke_permission",  # which permission revoke_key requires (its row covers it)
}


def _user(session: Session, settings: Any, name: str) -> Any:
    email = f"{name}-{uuid.uuid4().hex[:6]}@example.com"
    return signup_through_service(session, settings, email).tokens.user


class World:
    """A fresh shared organisation made through the services, with a budget, a key, an
    override, an invitation and a viewer (`target`) to act on."""

    def __init__(self, session: Session, owner: Any, target: Any) -> None:
        self.session, self.owner, self.target = session, owner, target
        self.org_id = orgs.create_organisation(
            session, user_id=self.owner.id, name="Acme"
        ).organisation.id
        owner = self.as_user(self.owner)
        self.invite(self.target, "viewer")
        self.budget_id = budgets.create_budget(
            session, actor=owner, name="b", amount_usd=Decimal(5), period="monthly"
        ).id
        self.key_id = keys.create_key(session, actor=owner, name="owners").key.id
        self.override_id = prices.create_override(
            session,
            actor=owner,
            provider="openai",
            model="o3",
            input_per_mtok=Decimal(1),
            output_per_mtok=Decimal(2),
        ).id
        self.invitation_id = invitations.create_invitation(
            session, actor=owner, email="later@example.com", role="viewer", base_url="http://x"
        ).invitation.id

    def as_user(self, user: Any) -> Actor:
        return orgs.actor_for(self.session, user=user, org_id=self.org_id)

    def invite(self, user: Any, role: str) -> None:
        created = invitations.create_invitation(
            self.session,
            actor=self.as_user(self.owner),
            email=user.email,
            role=role,
            base_url="http://x",
        )
        invitations.accept_invitation(self.session, user_id=user.id, token=created.token)


Action = Callable[[Session, Actor, World], Any]


def _just_signed_in(actor: Actor) -> ActiveSession:
    """A dashboard session of the actor, signed in a moment ago."""
    now = utcnow()
    return ActiveSession(
        id=uuid.uuid4(), user_id=actor.user_id, kind=DASHBOARD, signed_in_at=now, expires_at=now
    )


ACTIONS: dict[str, tuple[Permission, Action]] = {
    "budgets.create_budget": (
        P.MANAGE_BUDGETS,
        lambda s, a, w: budgets.create_budget(
            s, actor=a, name="n", amount_usd=Decimal(1), period="daily"
        ),
    ),
    "budgets.update_budget": (
        P.MANAGE_BUDGETS,
        lambda s, a, w: budgets.update_budget(
            s, actor=a, budget_id=w.budget_id, changes={"name": "m"}
        ),
    ),
    "budgets.delete_budget": (
        P.MANAGE_BUDGETS,
        lambda s, a, w: budgets.delete_budget(s, actor=a, budget_id=w.budget_id),
    ),
    "keys.create_key": (P.CREATE_KEYS, lambda s, a, w: keys.create_key(s, actor=a, name="k")),
    "keys.create_key_for_session": (
        P.CREATE_KEYS,
        lambda s, a, w: keys.create_key_for_session(
            s, actor=a, signed_in=_just_signed_in(a), name="k", scopes=None
        ),
    ),
    # Someone else's key: the owner's.
    "keys.revoke_key": (
        P.MANAGE_KEYS,
        lambda s, a, w: keys.revoke_key(s, actor=a, key_id=w.key_id),
    ),
    "projects.create_project": (
        P.TRACK,
        lambda s, a, w: projects.create_project(s, actor=a, name="web"),
    ),
    "prices.create_override": (
        P.MANAGE_PRICES,
        lambda s, a, w: prices.create_override(
            s,
            actor=a,
            provider="openai",
            model="gpt-4o",
            input_per_mtok=Decimal(1),
            output_per_mtok=Decimal(1),
        ),
    ),
    "prices.delete_override": (
        P.MANAGE_PRICES,
        lambda s, a, w: prices.delete_override(s, actor=a, override_id=w.override_id),
    ),
    "repricing.reprice_events": (
        P.MANAGE_PRICES,
        lambda s, a, w: repricing.reprice_events(s, actor=a, start=None, end=None),
    ),
    "webhook_secrets.reveal_signing_secret": (
        P.MANAGE_WEBHOOKS,
        lambda s, a, w: webhook_secrets.reveal_signing_secret(s, actor=a),
    ),
    "webhook_secrets.rotate_signing_secret": (
        P.MANAGE_WEBHOOKS,
        lambda s, a, w: webhook_secrets.rotate_signing_secret(s, actor=a),
    ),
    "members.change_role": (
        P.MANAGE_MEMBERS,
        lambda s, a, w: members.change_role(s, actor=a, user_id=w.target.id, role="member"),
    ),
    # Someone else: the viewer.
    "members.remove_member": (
        P.MANAGE_MEMBERS,
        lambda s, a, w: members.remove_member(s, actor=a, user_id=w.target.id),
    ),
    "members.members_page": (P.READ, lambda s, a, w: members.members_page(s, actor=a)),
    "invitations.create_invitation": (
        P.MANAGE_MEMBERS,
        lambda s, a, w: invitations.create_invitation(
            s, actor=a, email="new@example.com", role="member", base_url="http://x"
        ),
    ),
    "invitations.list_invitations": (
        P.MANAGE_MEMBERS,
        lambda s, a, w: invitations.list_invitations(s, actor=a),
    ),
    "invitations.revoke_invitation": (
        P.MANAGE_MEMBERS,
        lambda s, a, w: invitations.revoke_invitation(s, actor=a, invitation_id=w.invitation_id),
    ),
    "audit.list_audit": (P.READ_AUDIT, lambda s, a, w: audit.list_audit(s, actor=a)),
    "pages.read_budgets": (P.READ, lambda s, a, w: pages.read_budgets(s, actor=a)),
    "orgs.rename_organisation": (
        P.MANAGE_ORGANISATION,
        lambda s, a, w: orgs.rename_organisation(s, actor=a, name="Renamed"),
    ),
    "orgs.delete_organisation": (
        P.MANAGE_ORGANISATION,
        lambda s, a, w: orgs.delete_organisation(s, actor=a),
    ),
    "orgs.export_organisation_events": (
        P.MANAGE_ORGANISATION,
        lambda s, a, w: "".join(orgs.export_organisation_events(s, actor=a)),
    ),
}


def _acting_functions() -> set[str]:
    found = set()
    for info in pkgutil.iter_modules(llmlab_app.services.__path__):
        module = importlib.import_module(f"llmlab_app.services.{info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name.startswith("_"):
                continue
            if "actor" in inspect.signature(function).parameters:
                found.add(f"{info.name}.{name}")
    return found


def test_every_service_that_acts_for_someone_has_a_row():
    assert _acting_functions() - HELPERS == set(ACTIONS), "add a row to ACTIONS"


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_each_role_may_do_exactly_what_the_permission_table_says(session, settings, role):
    owner, target = _user(session, settings, "owner"), _user(session, settings, "target")
    subject = owner if role == "owner" else _user(session, settings, role)
    wrong = []
    for name, (permission, action) in ACTIONS.items():
        world = World(session, owner, target)
        if role != "owner":
            world.invite(subject, role)
        actor = world.as_user(subject)
        allowed = permission in ROLE_PERMISSIONS[Role(role)]
        try:
            action(session, actor, world)
        except Forbidden as refused:
            session.rollback()
            if allowed or f"'{permission.value}'" not in refused.message:
                wrong.append(f"{name}: {refused.message}")
            continue
        if not allowed:
            wrong.append(f"{name}: a {role} was allowed")
    assert wrong == [], "\n".join(wrong)


def test_someone_outside_an_organisation_cannot_act_in_it(session, settings):
    world = World(session, _user(session, settings, "owner"), _user(session, settings, "target"))
    outsider = _user(session, settings, "outsider")
    with pytest.raises(NotFound):
        orgs.actor_for(session, user=outsider, org_id=world.org_id)
    with pytest.raises(NotFound):
        orgs.actor_for_user_id(session, user_id=outsider.id, org_id=world.org_id)


def test_the_members_page_says_which_buttons_the_actor_may_use(session, settings):
    owner, target = _user(session, settings, "owner"), _user(session, settings, "target")
    world = World(session, owner, target)
    admin = _user(session, settings, "admin")
    world.invite(admin, "admin")
    as_viewer = members.members_page(session, actor=world.as_user(target))
    as_admin = members.members_page(session, actor=world.as_user(admin))
    assert [m.role for m in as_viewer.members] == [Role.OWNER, Role.ADMIN, Role.VIEWER]
    assert (as_viewer.may_manage_members, as_viewer.invitations) == (False, [])
    assert as_admin.may_manage_members and not as_admin.may_manage_owners
    assert [i.email for i in as_admin.invitations] == ["later@example.com"]
