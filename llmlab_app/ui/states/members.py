"""The Members page: who belongs to the organisation, invitations (a link shown once, never
kept in the state after that), role changes and removals; a new shared organisation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import reflex as rx

from llmlab_app.config import get_settings
from llmlab_app.errors import AppError
from llmlab_app.services import invitations, members, orgs
from llmlab_app.services.permissions import Actor, Role
from llmlab_app.ui.format import format_day
from llmlab_app.ui.states.auth import (
    SIGN_IN_ROUTE,
    AuthState,
    copy_script,
    current_actor,
    reveal_script,
)
from llmlab_app.ui.states.messages import error_sentence
from llmlab_app.ui.states.service_call import call_in_session, call_service

INVITE_ROLES = [role.value for role in Role]


@dataclass
class MemberRow:
    user_id: str = ""
    email: str = ""
    role: str = ""
    joined: str = ""
    is_me: bool = False
    # Which roles the actor may give this member ([] when they may not change it).
    role_choices: list[str] | None = None
    removable: bool = False


@dataclass
class InvitationRow:
    id: str = ""
    email: str = ""
    role: str = ""
    expires: str = ""


def member_rows(page: members.MembersPage, actor: Actor) -> list[MemberRow]:
    """Each member with the changes the actor may make to them (the services check again)."""
    assignable = [r.value for r in Role if page.may_manage_owners or r != Role.OWNER]
    rows = []
    for member in page.members:
        is_me = member.user_id == actor.user_id
        touches_owner = member.role == Role.OWNER and not page.may_manage_owners
        may_change = page.may_manage_members and not touches_owner
        rows.append(
            MemberRow(
                user_id=str(member.user_id),
                email=member.email,
                role=member.role.value,
                joined=format_day(member.joined_at.date()),
                is_me=is_me,
                role_choices=assignable if may_change else [],
                removable=is_me or may_change,
            )
        )
    return rows


def invitation_rows(page: members.MembersPage) -> list[InvitationRow]:
    return [
        InvitationRow(
            id=str(invitation.id),
            email=invitation.email,
            role=invitation.role,
            expires=format_day(invitation.expires_at.date()),
        )
        for invitation in page.invitations
    ]


class MembersState(rx.State):
    org_name: str = ""
    personal: bool = False
    members: list[MemberRow] = []
    invitations: list[InvitationRow] = []
    invite_roles: list[str] = []
    loading: bool = True
    invite_email_error: str = ""
    org_name_error: str = ""
    # A new invitation's link is handed to the page once, when its callout mounts.
    showing_invite_link: bool = False
    invited_email: str = ""
    _invite_url: str = ""
    removing_id: str = ""
    removing_email: str = ""

    async def _reload(self, actor: Actor) -> None:
        page = await call_in_session(lambda session: members.members_page(session, actor=actor))
        self.org_name = page.organisation.name
        self.personal = page.organisation.personal_user_id is not None
        self.members = member_rows(page, actor)
        self.invitations = invitation_rows(page)
        self.invite_roles = [r for r in INVITE_ROLES if page.may_manage_owners or r != "owner"]
        self.loading = False

    async def _actor(self) -> Actor | None:
        return await current_actor(self)

    @rx.event
    async def load(self):
        actor = await self._actor()
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        self.showing_invite_link, self._invite_url = False, ""
        self.invite_email_error = self.org_name_error = ""
        await self._reload(actor)
        return None

    @rx.event
    async def invite(self, form_data: dict[str, Any]):
        email = str(form_data.get("invite_email", "")).strip()
        role = str(form_data.get("invite_role") or Role.VIEWER.value)
        if not email:
            self.invite_email_error = "Give the email address of the person to invite."
            return
        actor = await self._actor()
        if actor is None:
            yield rx.redirect(SIGN_IN_ROUTE)
            return
        base_url = get_settings().public_url or self.router.page.host
        try:
            created = await call_in_session(
                lambda session: invitations.create_invitation(
                    session, actor=actor, email=email, role=role, base_url=base_url
                )
            )
        except AppError as error:
            self.invite_email_error = error_sentence(error).removeprefix("Email: ")
            return
        self.invite_email_error = ""
        if self.showing_invite_link:
            # Unmount the previous link's callout so the new one mounts and asks for it.
            self.showing_invite_link = False
            yield
        self._invite_url, self.invited_email = created.url, created.invitation.email
        self.showing_invite_link = True
        await self._reload(actor)
        yield rx.set_value("invite_email", "")

    @rx.event
    def reveal_invite_link(self):
        """The callout has mounted: hand it the link, once, and forget it."""
        url, self._invite_url = self._invite_url, ""
        return reveal_script("invite-link", url) if url else None

    @rx.event
    def copy_invite_link(self):
        return [copy_script("invite-link"), rx.toast.success("Invitation link copied")]

    @rx.event
    def dismiss_invite_link(self):
        self.showing_invite_link, self._invite_url = False, ""

    @rx.event
    async def change_role(self, user_id: str, role: str):
        actor = await self._actor()
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        # A refusal (a role this actor may not give) is a toast from `show_refusal`.
        changed = await call_in_session(
            lambda session: members.change_role(
                session, actor=actor, user_id=uuid.UUID(user_id), role=role
            )
        )
        await self._reload(actor)
        return rx.toast.success(f"{changed.email} is now {changed.role.value}")

    @rx.event
    def ask_remove(self, user_id: str, email: str):
        self.removing_id, self.removing_email = user_id, email

    @rx.event
    def cancel_remove(self):
        self.removing_id = self.removing_email = ""

    @rx.event
    async def confirm_remove(self):
        actor = await self._actor()
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        user_id, email = uuid.UUID(self.removing_id), self.removing_email
        self.removing_id = self.removing_email = ""
        revoked = await call_in_session(
            lambda session: members.remove_member(session, actor=actor, user_id=user_id)
        )
        if user_id == actor.user_id:
            # Left the organisation: the personal one is shown from now on.
            return [
                AuthState.switch_organisation(""),
                rx.toast.success(f"You left {self.org_name}"),
            ]
        await self._reload(actor)
        keys = f"; {revoked} of their API keys revoked" if revoked else ""
        return rx.toast.success(f"{email} removed{keys}")

    @rx.event
    async def revoke_invitation(self, invitation_id: str):
        actor = await self._actor()
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        revoked = await call_in_session(
            lambda session: invitations.revoke_invitation(
                session, actor=actor, invitation_id=uuid.UUID(invitation_id)
            )
        )
        await self._reload(actor)
        if not revoked:
            return rx.toast.info("That invitation was already used, revoked or expired")
        return rx.toast.success("Invitation revoked: its link no longer works")

    @rx.event
    async def create_organisation(self, form_data: dict[str, Any]):
        """A shared organisation with the signed-in user as owner, switched to at once."""
        name = str(form_data.get("org_name", "")).strip()
        actor = await self._actor()
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        try:
            created = await call_service(orgs.create_organisation, user_id=actor.user_id, name=name)
        except AppError as error:
            self.org_name_error = error_sentence(error)
            return None
        self.org_name_error = ""
        return [
            AuthState.switch_organisation(str(created.organisation.id)),
            rx.set_value("org_name", ""),
        ]
