"""Who is signed in: the API's access/refresh tokens kept in the browser's localStorage."""

from __future__ import annotations

import uuid
from typing import Any

import reflex as rx

from llmlab_app.config import get_settings
from llmlab_app.errors import AppError, AuthenticationFailed, NotFound
from llmlab_app.services import auth, orgs
from llmlab_app.services.permissions import Actor
from llmlab_app.ui.states.service_call import call_in_session, call_service

SIGN_IN_ROUTE = "/signin"
HOME_ROUTE = "/"


def validate_credentials(email: str, password: str, *, new_account: bool) -> dict[str, str]:
    """Field name -> message, empty when the form can be sent."""
    return auth.credential_errors(email, password, new_account=new_account)


class AuthState(rx.State):
    """The session. Other states ask it for the user with `await current_user_id(self)`."""

    access_token: str = rx.LocalStorage(name="llmlab_access_token", sync=True)
    refresh_token: str = rx.LocalStorage(name="llmlab_refresh_token", sync=True)
    user_email: str = ""
    # The first API key's secret, shown once right after sign-up and then forgotten.
    new_api_key: str = ""
    email_error: str = ""
    password_error: str = ""
    form_error: str = ""
    submitting: bool = False
    _user_id: str = ""
    # The organisation the pages show ("" = the personal one); an organisation switcher sets it.
    org_id: str = rx.LocalStorage(name="llmlab_org_id", sync=True)

    @rx.var
    def signed_in(self) -> bool:
        return self.user_email != ""

    async def authenticated_user_id(self) -> uuid.UUID | None:
        """The signed-in user, rotating an expired access token with the refresh token."""
        settings = get_settings()
        if self.access_token:
            try:
                user = await call_service(
                    auth.user_from_access_token, token=self.access_token, settings=settings
                )
            except AuthenticationFailed:
                pass
            else:
                return self._remember(user.id, user.email)
        if self.refresh_token:
            try:
                tokens = await call_service(
                    auth.refresh, refresh_token=self.refresh_token, settings=settings
                )
            except AuthenticationFailed:
                pass
            else:
                self.access_token = tokens.access_token
                self.refresh_token = tokens.refresh_token
                return self._remember(tokens.user.id, tokens.user.email)
        self._forget()
        return None

    def _remember(self, user_id: uuid.UUID, email: str) -> uuid.UUID:
        self._user_id = str(user_id)
        self.user_email = email
        return user_id

    def _forget(self) -> None:
        self.access_token = ""
        self.refresh_token = ""
        self.org_id = ""
        self._user_id = ""
        self.user_email = ""

    def _show_errors(self, errors: dict[str, str]) -> None:
        self.email_error = errors.get("email", "")
        self.password_error = errors.get("password", "")
        self.form_error = errors.get("form", "")

    @rx.event
    async def redirect_if_signed_in(self):
        """on_load of the sign-in and sign-up pages."""
        self._show_errors({})
        if self.new_api_key:
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
            tokens = await call_service(
                auth.login, email=email, password=password, settings=get_settings()
            )
        except AppError as error:
            self._show_errors({"form": error.message.capitalize() + "."})
            self.submitting = False
            return
        self.access_token, self.refresh_token = tokens.access_token, tokens.refresh_token
        self._remember(tokens.user.id, tokens.user.email)
        self.submitting = False
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
                auth.signup, email=email, password=password, settings=get_settings()
            )
        except AppError as error:
            field = "email" if error.status_code == 409 else "form"
            self._show_errors({field: error.message.capitalize() + "."})
            self.submitting = False
            return
        tokens = result.tokens
        self.access_token, self.refresh_token = tokens.access_token, tokens.refresh_token
        self._remember(tokens.user.id, tokens.user.email)
        self.new_api_key = result.api_key.secret
        self.submitting = False

    @rx.event
    def copy_new_api_key(self):
        return [
            rx.set_clipboard(self.new_api_key),
            rx.toast.success("API key copied to the clipboard"),
        ]

    @rx.event
    def continue_to_dashboard(self):
        self.new_api_key = ""
        return rx.redirect(HOME_ROUTE)

    @rx.event
    async def sign_out(self):
        refresh_token = self.refresh_token
        if refresh_token:
            await call_in_session(lambda session: auth.logout(session, refresh_token=refresh_token))
        self._forget()
        self.new_api_key = ""
        return rx.redirect(SIGN_IN_ROUTE)


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
    chosen = uuid.UUID(session.org_id) if session.org_id else None
    try:
        return await call_service(orgs.actor_for_user_id, user_id=user_id, org_id=chosen)
    except NotFound:
        # No longer a member of the chosen organisation: back to the personal one.
        session.org_id = ""
        return await call_service(orgs.actor_for_user_id, user_id=user_id)
