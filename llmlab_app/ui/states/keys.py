"""Projects and API keys: create a key with its scope (secret shown once, never kept in the
state after that), revoke it; create projects."""

from __future__ import annotations

import uuid
from typing import Any

import reflex as rx
from sqlmodel import Session

from llmlab_app.errors import AppError, AuthenticationFailed
from llmlab_app.services import keys, projects
from llmlab_app.services.permissions import Actor, role_key_scopes
from llmlab_app.ui.states.auth import (
    SIGN_IN_ROUTE,
    copy_script,
    current_actor,
    current_session,
    reveal_script,
)
from llmlab_app.ui.states.service_call import call_in_session
from llmlab_app.ui.states.views import KeyRow, ProjectRow, key_row, project_row

MAX_NAME_LENGTH = 100
ALL_SCOPES = list(keys.SCOPES)  # least powerful first


def validate_name(text: str, what: str) -> tuple[str, str]:
    """(clean name, error message or "")."""
    name = text.strip()
    if not name:
        return name, f"Give the {what} a name."
    if len(name) > MAX_NAME_LENGTH:
        return name, f"Keep the name under {MAX_NAME_LENGTH} characters."
    if any(ord(ch) < 32 for ch in name):
        return name, "The name cannot contain control characters."
    return name, ""


def read_keys_and_projects(
    session: Session, *, actor: Actor
) -> tuple[list[KeyRow], list[ProjectRow]]:
    """The organisation's keys, each saying whether this actor may revoke it, and projects."""
    return (
        [
            key_row(record.key, revocable=actor.may(keys.revoke_permission(actor, record.key)))
            for record in keys.list_keys(session, org_id=actor.org_id)
        ],
        [project_row(p) for p in projects.list_projects(session, org_id=actor.org_id)],
    )


class KeysState(rx.State):
    keys: list[KeyRow] = []
    projects: list[ProjectRow] = []
    # What the create-key form offers: the scopes the role may give, least powerful first
    # (and preselected).
    key_scopes: list[str] = ALL_SCOPES
    loading: bool = True
    key_name_error: str = ""
    project_name_error: str = ""
    # A new key's secret is handed to the page once, when its callout mounts
    # (`reveal_created_secret`); until then it waits in a backend-only var.
    showing_created_secret: bool = False
    _created_secret: str = ""
    revoking_id: str = ""
    revoking_name: str = ""

    async def _reload(self, actor: Actor) -> None:
        self.keys, self.projects = await call_in_session(
            lambda session: read_keys_and_projects(session, actor=actor)
        )
        self.key_scopes = list(role_key_scopes(actor.role)) or ALL_SCOPES
        self.loading = False

    @rx.event
    async def load(self):
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        self.showing_created_secret, self._created_secret = False, ""
        await self._reload(actor)
        return None

    @rx.event
    async def create_key(self, form_data: dict[str, Any]):
        name, self.key_name_error = validate_name(str(form_data.get("key_name", "")), "key")
        if self.key_name_error:
            return
        scope = str(form_data.get("key_scope") or keys.SCOPES[0])
        signed_in = await current_session(self)
        actor = await current_actor(self)
        if signed_in is None or actor is None:
            yield rx.redirect(SIGN_IN_ROUTE)
            return
        try:
            created = await call_in_session(
                lambda session: keys.create_key_for_session(
                    session, actor=actor, signed_in=signed_in, name=name, scopes=[scope]
                )
            )
        except AuthenticationFailed:
            self.key_name_error = (
                "For your safety, creating a key needs a recent sign-in: sign out and in again."
            )
            return
        except AppError as error:
            self.key_name_error = error.message[:1].upper() + error.message[1:] + "."
            return
        if self.showing_created_secret:
            # Unmount the previous secret's callout so the new one mounts and asks for it.
            self.showing_created_secret = False
            yield
        self._created_secret = created.secret
        self.showing_created_secret = True
        await self._reload(actor)
        yield rx.set_value("key_name", "")

    @rx.event
    def reveal_created_secret(self):
        """The callout has mounted: hand it the secret, once, and forget it."""
        secret, self._created_secret = self._created_secret, ""
        return reveal_script("created-secret", secret) if secret else None

    @rx.event
    def copy_secret(self):
        return [copy_script("created-secret"), rx.toast.success("Copied")]

    @rx.event
    def dismiss_secret(self):
        self.showing_created_secret, self._created_secret = False, ""

    @rx.event
    def ask_revoke(self, key_id: str, name: str):
        self.revoking_id, self.revoking_name = key_id, name

    @rx.event
    def cancel_revoke(self):
        self.revoking_id = self.revoking_name = ""

    @rx.event
    async def confirm_revoke(self):
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        key_id = uuid.UUID(self.revoking_id)
        await call_in_session(lambda session: keys.revoke_key(session, actor=actor, key_id=key_id))
        self.revoking_id = self.revoking_name = ""
        await self._reload(actor)
        return rx.toast.success("Key revoked: requests with it now get 401")

    @rx.event
    async def create_project(self, form_data: dict[str, Any]):
        name, error = validate_name(str(form_data.get("project_name", "")), "project")
        self.project_name_error = error
        if error:
            return None
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        try:
            await call_in_session(
                lambda session: projects.create_project(session, actor=actor, name=name)
            )
        except AppError as app_error:
            self.project_name_error = app_error.message[:1].upper() + app_error.message[1:] + "."
            return None
        await self._reload(actor)
        return rx.set_value("project_name", "")
