"""Who is signed in: a reference to a server-side dashboard session, checked on every event.

The reference is all the state (and the browser's localStorage) keeps: no access or refresh
token, and an API key only until the page has shown it once. The server stores the
reference's hash; signing out ends the session, after which a stolen copy is worthless.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from typing import Any

import reflex as rx
from reflex.middleware import Middleware
from reflex.state import OnLoadInternalState

from llmlab_app.api.client_address import UNKNOWN, forwarded_client
from llmlab_app.config import get_settings
from llmlab_app.errors import AppError, AuthenticationFailed, NotFound, RateLimited
from llmlab_app.services import auth, orgs
from llmlab_app.services.permissions import Actor, Permission, refusal_reasons
from llmlab_app.services.sessions import ActiveSession
from llmlab_app.services.sign_in_limits import process_sign_in_limits
from llmlab_app.ui.states.service_call import call_service

SIGN_IN_ROUTE = "/signin"
HOME_ROUTE = "/"
SESSION_STORAGE_NAME = "llmlab_session"
# Where the dashboard kept tokens before sessions: removed from browsers that still hold them.
LEGACY_STORAGE_NAMES = ("llmlab_access_token", "llmlab_refresh_token")
# Until the first event has named the role, no button is shown as refused (the services
# decide either way).
NO_REFUSALS = {permission.value: "" for permission in Permission}


def validate_credentials(email: str, password: str, *, new_account: bool) -> dict[str, str]:
    """Field name -> message, empty when the form can be sent."""
    return auth.credential_errors(email, password, new_account=new_account)


def too_many_attempts_message(error: RateLimited) -> str:
    """What the sign-in and sign-up forms say when the sign-in limits refuse."""
    minutes = max(1, math.ceil((error.retry_after or 60) / 60))
    return f"Too many attempts — try again in {minutes} minute{'s' if minutes != 1 else ''}."


def client_address(state: rx.State) -> str:
    """The browser's address, for the sign-in limits the REST API also counts: the socket's
    peer, or behind `LLMLAB_TRUSTED_PROXIES` the hop their `X-Forwarded-For` names."""
    peer = state.router.session.client_ip or UNKNOWN
    forwarded = state.router.headers.raw_headers.get("x-forwarded-for", "")
    return forwarded_client(peer, [forwarded] if forwarded else [], get_settings().trusted_proxies)


def reveal_script(element_id: str, secret: str) -> rx.event.EventSpec:
    """Put a secret into the page's element without keeping it in any state var."""
    return rx.call_script(
        f"document.getElementById({json.dumps(element_id)}).textContent = {json.dumps(secret)}"
    )


def copy_script(element_id: str) -> rx.event.EventSpec:
    """Copy what a revealed element shows (the secret is in the page, not in the state)."""
    return rx.call_script(
        f"navigator.clipboard.writeText(document.getElementById({json.dumps(element_id)})"
        ".textContent)"
    )


@dataclass
class OrganisationChoice:
    """One entry of the organisation switcher."""

    id: str = ""
    name: str = ""
    role: str = ""
    personal: bool = False


def organisation_choice(membership: orgs.OrgMembership) -> OrganisationChoice:
    organisation = membership.organisation
    return OrganisationChoice(
        id=str(organisation.id),
        name=organisation.name,
        role=membership.role.value,
        personal=organisation.personal_user_id is not None,
    )


def reload_page_data() -> Any:
    """The open page's on_load handlers, run again (what a switch of organisation needs)."""
    return OnLoadInternalState.on_load_internal


class AuthState(rx.State):
    """The session. Other states ask it for the user with `await current_user_id(self)`."""

    session_token: str = rx.LocalStorage(name=SESSION_STORAGE_NAME, sync=True)
    user_email: str = ""
    # Right after sign-up the first API key is shown once: the page asks for it when the
    # panel mounts (`reveal_new_api_key`), and the secret leaves the state then.
    showing_new_api_key: bool = False
    _new_api_key: str = ""
    email_error: str = ""
    password_error: str = ""
    form_error: str = ""
    submitting: bool = False
    # The organisation the pages show ("" = the personal one), as the switcher chose it: only
    # a wish from the browser, checked for membership on every event (`current_actor`).
    org_id: str = rx.LocalStorage(name="llmlab_org_id", sync=True)
    # What the last event acted with: its organisation, the role there, and, per permission
    # name, why a button is disabled ("" when the role may use it).
    acting_org_id: str = ""
    role: str = ""
    refusals: dict[str, str] = NO_REFUSALS
    organisations: list[OrganisationChoice] = []

    @rx.var
    def signed_in(self) -> bool:
        return self.user_email != ""

    async def signed_in_session(self) -> ActiveSession | None:
        """The live session this browser holds, or None (and forgotten) once it has ended."""
        if not self.session_token:
            self._forget()
            return None
        try:
            found = await call_service(
                auth.dashboard_session, session_token=self.session_token, settings=get_settings()
            )
        except AuthenticationFailed:
            self._forget()
            return None
        if not self.user_email:
            user = await call_service(auth.get_user, user_id=found.user_id)
            self.user_email = user.email if user else ""
        return found

    async def authenticated_user_id(self) -> uuid.UUID | None:
        """The signed-in user, or None."""
        found = await self.signed_in_session()
        return found.user_id if found else None

    def _forget(self) -> None:
        self.session_token = ""
        self.user_email = ""
        self.org_id = ""
        self.acting_org_id = self.role = ""
        self.refusals, self.organisations = dict(NO_REFUSALS), []

    def show_actor(self, actor: Actor) -> None:
        """What the page may offer: the organisation and role the event acted with."""
        self.acting_org_id, self.role = str(actor.org_id), actor.role.value
        self.refusals = refusal_reasons(actor)

    @rx.var
    def acting_org_name(self) -> str:
        """The switcher's label: "Personal" for one's own organisation."""
        for choice in self.organisations:
            if choice.id == self.acting_org_id:
                return "Personal" if choice.personal else choice.name
        return ""

    @rx.event
    async def load_organisations(self):
        """The switcher's choices (on mount of the header, and after joining or creating)."""
        user_id = await self.authenticated_user_id()
        if user_id is None:
            return
        found = await call_service(orgs.list_organisations, user_id=user_id)
        self.organisations = [organisation_choice(m) for m in found]

    @rx.event
    async def switch_organisation(self, org_id: str):
        """Act in another organisation ("": the personal one), then load the open page's data
        again. Membership is checked here and on every later event; an outsider's id changes
        nothing."""
        user_id = await self.authenticated_user_id()
        if user_id is None:
            return rx.redirect(SIGN_IN_ROUTE)
        try:
            chosen = uuid.UUID(org_id) if org_id else None
            actor = await call_service(orgs.actor_for_user_id, user_id=user_id, org_id=chosen)
        except (ValueError, NotFound):
            return rx.toast.error("You are not a member of that organisation.")
        self.org_id = str(actor.org_id)
        self.show_actor(actor)
        return [reload_page_data(), AuthState.load_organisations]

    def _show_errors(self, errors: dict[str, str]) -> None:
        self.email_error = errors.get("email", "")
        self.password_error = errors.get("password", "")
        self.form_error = errors.get("form", "")

    def _form_error(self, error: AppError) -> dict[str, str]:
        if isinstance(error, RateLimited):
            return {"form": too_many_attempts_message(error)}
        field = "email" if error.status_code == 409 else "form"
        return {field: error.message.capitalize() + "."}

    @rx.event
    async def redirect_if_signed_in(self):
        """on_load of the sign-in and sign-up pages."""
        self._show_errors({})
        if self.showing_new_api_key:
            return None
        if await self.authenticated_user_id() is not None:
            return rx.redirect(HOME_ROUTE)
        return None

    @rx.event
    async def sign_in(self, form_data: dict[str, Any]):
        email, password = str(form_data.get("email", "")), str(form_data.get("password", ""))
        errors = validate_credentials(email, password, new_account=False)
        self._show_errors(errors)
        if errors:
            return
        self.submitting = True
        yield
        try:
            signed_in = await call_service(
                auth.dashboard_login,
                email=email,
                password=password,
                settings=get_settings(),
                limits=process_sign_in_limits(),
                address=client_address(self),
            )
        except AppError as error:
            self._show_errors(self._form_error(error))
            self.submitting = False
            return
        self.session_token, self.user_email = signed_in.session_token, signed_in.user.email
        self.submitting = False
        yield [rx.remove_local_storage(name) for name in LEGACY_STORAGE_NAMES]
        yield rx.redirect(HOME_ROUTE)

    @rx.event
    async def sign_up(self, form_data: dict[str, Any]):
        email, password = str(form_data.get("email", "")), str(form_data.get("password", ""))
        errors = validate_credentials(email, password, new_account=True)
        if password and form_data.get("confirm_password", password) != password:
            errors.setdefault("password", "The two passwords differ.")
        self._show_errors(errors)
        if errors:
            return
        self.submitting = True
        yield
        try:
            result = await call_service(
                auth.dashboard_signup,
                email=email,
                password=password,
                settings=get_settings(),
                limits=process_sign_in_limits(),
                address=client_address(self),
            )
        except AppError as error:
            self._show_errors(self._form_error(error))
            self.submitting = False
            return
        signed_in = result.signed_in
        self.session_token, self.user_email = signed_in.session_token, signed_in.user.email
        self._new_api_key = result.api_key.secret
        self.showing_new_api_key = True
        self.submitting = False

    @rx.event
    def reveal_new_api_key(self):
        """The first key's panel has mounted: hand it the secret, once, and forget it."""
        secret, self._new_api_key = self._new_api_key, ""
        return reveal_script("new-api-key", secret) if secret else None

    @rx.event
    def copy_new_api_key(self):
        return [copy_script("new-api-key"), rx.toast.success("API key copied to the clipboard")]

    @rx.event
    def continue_to_dashboard(self):
        self._new_api_key = ""
        self.showing_new_api_key = False
        return rx.redirect(HOME_ROUTE)

    @rx.event
    async def sign_out(self):
        if session_token := self.session_token:
            await call_service(
                auth.end_dashboard_session, session_token=session_token, settings=get_settings()
            )
        self._forget()
        self._new_api_key = ""
        self.showing_new_api_key = False
        return [
            *(rx.remove_local_storage(name) for name in LEGACY_STORAGE_NAMES),
            rx.redirect(SIGN_IN_ROUTE),
        ]


class SessionCheck(Middleware):
    """Before every dashboard event: a browser whose session has ended (signed out
    elsewhere, password changed, operator reset) is signed out here too, so no event runs
    with the identity of an ended session. The event itself then runs as signed out."""

    async def preprocess(self, app: Any, state: Any, event: Any) -> None:
        session = await state.get_state(AuthState)
        if session.session_token:
            await session.signed_in_session()
        return None


async def current_session(state: rx.State) -> ActiveSession | None:
    """For any page state: the live sign-in session, or None (the caller then redirects)."""
    session = await state.get_state(AuthState)
    return await session.signed_in_session()


async def current_user_id(state: rx.State) -> uuid.UUID | None:
    """For any page state: the signed-in user id, or None (the caller then redirects)."""
    session = await state.get_state(AuthState)
    return await session.authenticated_user_id()


async def current_actor(state: rx.State) -> Actor | None:
    """For any page state: the signed-in user acting in the session's organisation (their
    personal one unless one was chosen), or None when nobody is signed in (the caller then
    redirects). What the actor may do is `Actor.may` / `permissions.require`."""
    session = await state.get_state(AuthState)
    user_id = await session.authenticated_user_id()
    if user_id is None:
        return None
    try:
        chosen = uuid.UUID(session.org_id) if session.org_id else None
        actor = await call_service(orgs.actor_for_user_id, user_id=user_id, org_id=chosen)
    except (ValueError, NotFound):
        # Not (or no longer) a member of the chosen organisation: back to the personal one.
        session.org_id = ""
        actor = await call_service(orgs.actor_for_user_id, user_id=user_id)
    session.show_actor(actor)
    return actor
