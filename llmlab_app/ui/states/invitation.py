"""The page an invitation link opens (`/invitation#token=…`): the token is read from the
fragment in the browser, so no server log ever sees it; then the signed-in invitee joins at
once, and anyone else signs in or signs up (under `LLMLAB_SIGNUP`) with it."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import reflex as rx

from llmlab_app.config import get_settings
from llmlab_app.errors import AppError, NotFound, RateLimited
from llmlab_app.services import auth, invitations
from llmlab_app.services.orgs import OrgMembership
from llmlab_app.services.sign_in_limits import process_sign_in_limits
from llmlab_app.ui.states.auth import (
    HOME_ROUTE,
    AuthState,
    client_address,
    current_session,
    too_many_attempts_message,
    validate_credentials,
)
from llmlab_app.ui.states.messages import error_sentence
from llmlab_app.ui.states.service_call import call_in_session, call_service

SIGN_UP, SIGN_IN = "signup", "signin"


def token_in_fragment(fragment: str) -> str:
    """The token of `#token=…` ("" when the fragment names none)."""
    return parse_qs(fragment.removeprefix("#")).get("token", [""])[0]


def form_message(error: AppError) -> str:
    if isinstance(error, RateLimited):
        return too_many_attempts_message(error)
    return error_sentence(error)


class InvitationState(rx.State):
    # "reading" until the fragment is in; then "invalid", "unusable", "wrong_account" or "open".
    status: str = "reading"
    organisation_name: str = ""
    invited_email: str = ""
    role: str = ""
    problem: str = ""
    mode: str = SIGN_UP
    signup_allowed: bool = True
    email_error: str = ""
    password_error: str = ""
    form_error: str = ""
    submitting: bool = False
    _token: str = ""

    @rx.event
    def start(self):
        """on_load: ask the browser for the fragment (it never reaches the server by itself)."""
        self.status, self.problem, self._token = "reading", "", ""
        self.email_error = self.password_error = self.form_error = ""
        return rx.call_script("window.location.hash", callback=InvitationState.read_fragment)

    @rx.event
    async def read_fragment(self, fragment: str):
        self._token = token_in_fragment(str(fragment or ""))
        try:
            if not self._token:
                raise NotFound("invitation not found")
            preview = await call_service(invitations.preview_invitation, token=self._token)
        except NotFound:
            self.status = "invalid"
            self.problem = "This invitation link is not valid: ask for a new one."
            return None
        self.organisation_name, self.invited_email = preview.organisation_name, preview.email
        self.role = preview.role.value
        self.signup_allowed = get_settings().signup != "closed"
        self.mode = SIGN_UP if self.signup_allowed else SIGN_IN
        if preview.unusable_reason:
            self.status = "unusable"
            self.problem = error_sentence(AppError(preview.unusable_reason))
            return None
        signed_in = await current_session(self)
        if signed_in is None:
            self.status = "open"
            return None
        return await self._accept(signed_in.user_id)

    async def _accept(self, user_id: Any):
        token = self._token
        try:
            joined = await call_service(invitations.accept_invitation, user_id=user_id, token=token)
        except AppError as error:
            session = await self.get_state(AuthState)
            self.status = "wrong_account" if error.status_code == 403 else "unusable"
            self.problem = error_sentence(error)
            if error.status_code == 403:
                self.problem = (
                    f"You are signed in as {session.user_email}; this invitation is for "
                    f"{self.invited_email}. Sign out, then open the link again."
                )
            return None
        return await self._joined(joined)

    async def _joined(self, joined: OrgMembership):
        self._token = ""
        session = await self.get_state(AuthState)
        session.org_id = str(joined.organisation.id)
        return [
            rx.redirect(HOME_ROUTE),
            rx.toast.success(f"You joined {joined.organisation.name} as {joined.role.value}"),
        ]

    @rx.event
    def show_mode(self, mode: str):
        self.mode = mode if mode in (SIGN_UP, SIGN_IN) else SIGN_UP
        self.email_error = self.password_error = self.form_error = ""

    @rx.event
    async def submit(self, form_data: dict[str, Any]):
        email, password = str(form_data.get("email", "")), str(form_data.get("password", ""))
        new_account = self.mode == SIGN_UP
        errors = validate_credentials(email, password, new_account=new_account)
        self.email_error = errors.get("email", "")
        self.password_error = errors.get("password", "")
        self.form_error = errors.get("form", "")
        if errors or not self._token:
            return
        self.submitting = True
        yield
        token, settings, address = self._token, get_settings(), client_address(self)
        try:
            if new_account:
                created = await call_service(
                    auth.dashboard_signup,
                    email=email,
                    password=password,
                    settings=settings,
                    limits=process_sign_in_limits(),
                    address=address,
                    invitation_token=token,
                )
                signed_in, joined = created.signed_in, created.joined
            else:

                def sign_in_and_join(session: Any) -> tuple[auth.DashboardSignIn, Any]:
                    signed = auth.dashboard_login(
                        session,
                        email=email,
                        password=password,
                        settings=settings,
                        limits=process_sign_in_limits(),
                        address=address,
                    )
                    try:
                        return signed, invitations.accept_invitation(
                            session, user_id=signed.user.id, token=token
                        )
                    except AppError as error:
                        return signed, error

                signed_in, joined = await call_in_session(sign_in_and_join)
        except AppError as error:
            field = "email" if error.status_code == 409 else "form"
            setattr(self, f"{field}_error", form_message(error))
            self.submitting = False
            return
        self.submitting = False
        session = await self.get_state(AuthState)
        session.session_token, session.user_email = signed_in.session_token, signed_in.user.email
        # (Not `rx.remove_local_storage` as the sign-in page does: the browser then hydrates
        # again with what its storage held before this event, the chosen organisation too.)
        if isinstance(joined, AppError) or joined is None:
            # Signed in, but this account cannot use the invitation (another email).
            self.status = "wrong_account"
            self.problem = form_message(joined) if joined else "The invitation was not used."
            return
        for event in await self._joined(joined):
            yield event
