"""/signin: email + password."""

import reflex as rx

from llmlab_app.ui.components.fields import form_error, text_field
from llmlab_app.ui.components.layout import auth_shell
from llmlab_app.ui.states.auth import AuthState

ROUTE = "/signin"
TITLE = "Sign in · LLMLab"
ON_LOAD = AuthState.redirect_if_signed_in


def signin_page() -> rx.Component:
    return auth_shell(
        rx.form(
            rx.vstack(
                rx.heading("Sign in", size="5"),
                form_error(AuthState.form_error),
                text_field(
                    "Email",
                    "email",
                    AuthState.email_error,
                    input_type="email",
                    placeholder="you@example.com",
                    auto_complete="email",
                ),
                text_field(
                    "Password",
                    "password",
                    AuthState.password_error,
                    input_type="password",
                    auto_complete="current-password",
                ),
                rx.button(
                    "Sign in",
                    type="submit",
                    width="100%",
                    size="3",
                    loading=AuthState.submitting,
                    id="signin-submit",
                ),
                rx.text(
                    "No account yet? ",
                    rx.link("Create one", href="/signup"),
                    size="2",
                ),
                spacing="4",
                width="100%",
            ),
            on_submit=AuthState.sign_in,
            width="100%",
        )
    )
