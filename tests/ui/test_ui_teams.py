"""The Teams pages' side of the permission table: what the Members page offers each role is
exactly what the services then allow (an offered change goes through, a withheld one is
refused), the reasons beside disabled buttons come from `ROLE_PERMISSIONS`, and the audit
log and the invitation link read as a person expects."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session

from llmlab_app.db.models import AuditEvent, Invitation, utcnow
from llmlab_app.errors import Forbidden, NotFound
from llmlab_app.services import invitations, keys, members
from llmlab_app.services.permissions import (
    PERMISSION_ACTIONS,
    ROLE_PERMISSIONS,
    Actor,
    Permission,
    Role,
    refusal_reasons,
)
from llmlab_app.ui.states.audit import audit_details, audit_row
from llmlab_app.ui.states.invitation import token_in_fragment
from llmlab_app.ui.states.keys import read_keys_and_projects
from llmlab_app.ui.states.members import MemberRow, member_rows
from tests.ui.test_ui_permissions import World, _user


@pytest.mark.parametrize("role", list(Role))
def test_a_refusal_reason_is_given_exactly_for_what_the_role_lacks(role: Role) -> None:
    actor = Actor(user_id=uuid.uuid4(), org_id=uuid.uuid4(), role=role)
    reasons = refusal_reasons(actor)
    assert set(reasons) == {p.value for p in Permission} == {p.value for p in PERMISSION_ACTIONS}
    for permission in Permission:
        if permission in ROLE_PERMISSIONS[role]:
            assert reasons[permission.value] == ""
        else:
            assert reasons[permission.value].startswith(f"{role.value.capitalize()}s cannot ")


def test_a_viewer_is_told_they_cannot_create_budgets() -> None:
    viewer = Actor(user_id=uuid.uuid4(), org_id=uuid.uuid4(), role=Role.VIEWER)
    assert refusal_reasons(viewer)["manage_budgets"] == "Viewers cannot create budgets"
    assert refusal_reasons(viewer)["read_audit"] == "Viewers cannot read the audit log"


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_the_keys_page_offers_revoke_exactly_where_the_service_revokes(
    session: Session, settings: Any, role: str
) -> None:
    owner = _user(session, settings, "owner")
    world = World(session, owner, _user(session, settings, "target"))  # owner's key "owners"
    subject = owner if role == "owner" else _user(session, settings, role)
    if role != "owner":
        world.invite(subject, role)
    actor = world.as_user(subject)
    may_create = Permission.CREATE_KEYS in ROLE_PERMISSIONS[Role(role)]
    if may_create and role != "owner":
        keys.create_key(session, actor=actor, name="mine", scopes=["ingest"])
    rows, _ = read_keys_and_projects(session, actor=actor)

    for row in rows:
        try:
            revoked = keys.revoke_key(session, actor=actor, key_id=uuid.UUID(row.id))
        except Forbidden:
            revoked = False
        assert revoked == row.revocable, (role, row.name)
    own_key_rows = [row for row in rows if row.name == ("owners" if role == "owner" else "mine")]
    assert all(row.revocable for row in own_key_rows) and len(own_key_rows) == int(may_create)


def _row(rows: list[MemberRow], email: str) -> MemberRow:
    return next(row for row in rows if row.email == email)


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_the_members_page_offers_each_role_exactly_the_changes_the_services_allow(
    session: Session, settings: Any, role: str
) -> None:
    owner, target = _user(session, settings, "owner"), _user(session, settings, "target")
    world = World(session, owner, target)  # the target joins as a viewer
    subject = owner if role == "owner" else _user(session, settings, role)
    if role != "owner":
        world.invite(subject, role)
    actor = world.as_user(subject)
    rows = member_rows(members.members_page(session, actor=actor), actor)

    me, owners_row, viewer = (
        _row(rows, subject.email),
        _row(rows, owner.email),
        _row(rows, target.email),
    )
    assert me.is_me and me.removable  # anyone may leave
    may_manage = Permission.MANAGE_MEMBERS in ROLE_PERMISSIONS[Role(role)]
    may_owners = Permission.MANAGE_OWNERS in ROLE_PERMISSIONS[Role(role)]
    assert bool(viewer.role_choices) == viewer.removable == may_manage
    assert ("owner" in viewer.role_choices) == may_owners
    assert bool(owners_row.role_choices) == may_owners

    # What the page offers on the viewer's row is what the service then does (or refuses).
    for new_role in ("member", "owner"):
        offered = new_role in viewer.role_choices
        try:
            members.change_role(session, actor=actor, user_id=target.id, role=new_role)
        except Forbidden:
            session.rollback()
            assert not offered, f"{role} was offered {new_role} and refused"
        else:
            assert offered, f"{role} could make someone {new_role} without being offered it"
            members.change_role(
                session, actor=world.as_user(owner), user_id=target.id, role="viewer"
            )
    try:
        members.remove_member(session, actor=actor, user_id=target.id)
    except Forbidden:
        session.rollback()
        assert not viewer.removable
    else:
        assert viewer.removable


def test_an_outsider_cannot_switch_to_an_organisation_nor_read_its_members(
    session: Session, settings: Any
) -> None:
    from llmlab_app.services import orgs

    world = World(session, _user(session, settings, "owner"), _user(session, settings, "target"))
    outsider = _user(session, settings, "outsider")
    with pytest.raises(NotFound):
        orgs.actor_for_user_id(session, user_id=outsider.id, org_id=world.org_id)


def test_the_link_keeps_its_token_in_the_fragment() -> None:
    assert token_in_fragment("#token=abc-DEF_123") == "abc-DEF_123"
    assert token_in_fragment("token=abc") == "abc"
    assert token_in_fragment("") == token_in_fragment("#other=1") == ""


def test_a_preview_names_the_organisation_and_why_a_link_no_longer_works(
    session: Session, settings: Any
) -> None:
    world = World(session, _user(session, settings, "owner"), _user(session, settings, "target"))
    created = invitations.create_invitation(
        session,
        actor=world.as_user(world.owner),
        email="Later@Example.com",
        role="member",
        base_url="http://x",
    )
    preview = invitations.preview_invitation(session, token=created.token)
    assert (preview.organisation_name, preview.email, preview.role) == (
        "Acme",
        "later@example.com",
        Role.MEMBER,
    )
    assert preview.unusable_reason == ""

    invitation = session.get(Invitation, created.invitation.id)
    assert invitation is not None
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    session.add(invitation)
    session.commit()
    expired = invitations.preview_invitation(session, token=created.token)
    assert expired.unusable_reason == "this invitation has expired"
    with pytest.raises(NotFound):
        invitations.preview_invitation(session, token="not-a-token")


def test_audit_rows_read_as_sentences() -> None:
    entry = AuditEvent(
        org_id=uuid.uuid4(),
        actor_user_id=uuid.uuid4(),
        actor_email="ada@example.com",
        action="member.role_changed",
        target="bob@example.com",
        details={"user_id": "x", "from": "viewer", "to": "member", "keys_narrowed": 0},
        created_at=utcnow(),
    )
    row = audit_row(entry)
    assert (row.who, row.action, row.target, row.details) == (
        "ada@example.com",
        "changed the role of",
        "bob@example.com",
        "viewer → member",
    )
    joined = audit_row(
        AuditEvent(
            org_id=uuid.uuid4(),
            actor_user_id=uuid.uuid4(),
            actor_email="bob@example.com",
            action="member.joined",
            target="bob@example.com",
            details={"role": "viewer", "invitation_id": "x"},
            created_at=utcnow(),
        )
    )
    assert (joined.action, joined.target, joined.details) == ("joined", "", "role: viewer")
    assert audit_details({"amount_usd": {"from": "5", "to": "6"}, "budget_id": "x"}) == (
        "amount usd: 5 → 6"
    )


def test_a_refusal_an_event_did_not_expect_is_a_toast_with_the_services_message() -> None:
    from llmlab_app.errors import Conflict
    from llmlab_app.ui.states.messages import error_sentence, show_refusal

    refused = Forbidden(
        "missing permission 'manage_budgets' in this organisation (your role: viewer)"
    )
    toast = show_refusal(refused)
    assert "Missing permission 'manage_budgets' in this organisation (your role: viewer)." in str(
        toast
    )
    assert error_sentence(Conflict("already a member.")) == "Already a member."
