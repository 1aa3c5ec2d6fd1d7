"""Projects and API keys: create a key (secret shown once), revoke it; create projects."""

from __future__ import annotations

import uuid
from typing import Any

import reflex as rx
from sqlmodel import Session

from llmlab_app.errors import AppError
from llmlab_app.services import keys, projects
from llmlab_app.services.permissions import Actor
from llmlab_app.ui.states.auth import SIGN_IN_ROUTE, current_actor
from llmlab_app.ui.states.service_call import call_in_session
from llmlab_app.ui.states.views import KeyRow, ProjectRow, key_row, project_row

MAX_NAME_LENGTH = 100


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
    session: Session, *, org_id: uuid.UUID
) -> tuple[list[KeyRow], list[ProjectRow]]:
    return (
        [key_row(record.key) for record in keys.list_keys(session, org_id=org_id)],
        [project_row(p) for p in projects.list_projects(session, org_id=org_id)],
    )


class KeysState(rx.State):
    keys: list[KeyRow] = []
    projects: list[ProjectRow] = []
    loading: bool = True
    key_name_error: str = ""
    project_name_error: str = ""
    # A new key's secret: visible until the user dismisses it, never stored.
    created_secret: str = ""
    revoking_id: str = ""
    revoking_name: str = ""

    async def _reload(self, actor: Actor) -> None:
        self.keys, self.projects = await call_in_session(
            lambda session: read_keys_and_projects(session, org_id=actor.org_id)
        )
        self.loading = False

    @rx.event
    async def load(self):
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        self.created_secret = ""
        await self._reload(actor)
        return None

    @rx.event
    async def create_key(self, form_data: dict[str, Any]):
        name, self.key_name_error = validate_name(str(form_data.get("key_name", "")), "key")
        if self.key_name_error:
            return None
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        created = await call_in_session(
            lambda session: keys.create_key(session, actor=actor, name=name)
        )
        self.created_secret = created.secret
        await self._reload(actor)
        return rx.set_value("key_name", "")

    @rx.event
    def copy_secret(self):
        return [rx.set_clipboard(self.created_secret), rx.toast.success("Copied")]

    @rx.event
    def dismiss_secret(self):
        self.created_secret = ""

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
