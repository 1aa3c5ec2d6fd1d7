"""/signup: create an account, then show its first API key once."""

import reflex as rx

from llmlab_app.services.auth import MIN_PASSWORD_LENGTH
from llmlab_app.ui import styles
from llmlab_app.ui.components.fields import form_error, text_field
from llmlab_app.ui.components.layout import auth_shell
from llmlab_app.ui.states.auth import AuthState

ROUTE = "/signup"
TITLE = "Create an account · LLMLab"
ON_LOAD = AuthState.redirect_if_signed_in


def signup_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Create your account", size="5"),
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
                auto_complete="new-password",
                hint=f"At least {MIN_PASSWORD_LENGTH} characters.",
            ),
            rx.button(
                "Create account",
                type="submit",
                width="100%",
                size="3",
                loading=AuthState.submitting,
                id="signup-submit",
            ),
            rx.text("Already have an account? ", rx.link("Sign in", href="/signin"), size="2"),
            spacing="4",
            width="100%",
        ),
        on_submit=AuthState.sign_up,
        width="100%",
    )


def first_key_panel() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.icon("circle_check", color=rx.color("grass", 9)),
            rx.heading("Your account is ready", size="5"),
            align="center",
        ),
        rx.text("This is your API key. Copy it now: it is shown only once.", size="2"),
        rx.hstack(
            rx.code(
                "",
                id="new-api-key",
                on_mount=AuthState.reveal_new_api_key,
                style=styles.mono,
                size="2",
                word_break="break_all",
                flex="1",
            ),
            rx.icon_button(
                rx.icon("copy", size=16),
                on_click=AuthState.copy_new_api_key,
                variant="soft",
                id="copy-api-key",
                title="Copy",
            ),
            align="center",
            width="100%",
        ),
        rx.text("Send your first events with it:", **styles.muted_text),
        rx.code("pip install llmlab && export LLMLAB_API_KEY=...", style=styles.mono, size="1"),
        rx.button(
            "Continue to the dashboard",
            on_click=AuthState.continue_to_dashboard,
            width="100%",
            size="3",
            id="continue-to-dashboard",
        ),
        spacing="3",
        width="100%",
    )


def signup_page() -> rx.Component:
    return auth_shell(rx.cond(AuthState.showing_new_api_key, first_key_panel(), signup_form()))
