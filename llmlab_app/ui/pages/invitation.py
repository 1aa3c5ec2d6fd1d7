"""/invitation#token=…: join an organisation by the link a member of it sent."""

import reflex as rx

from llmlab_app.services.auth import MIN_PASSWORD_LENGTH
from llmlab_app.services.invitations import ACCEPT_PATH
from llmlab_app.ui.components.fields import form_error, text_field
from llmlab_app.ui.components.layout import auth_shell
from llmlab_app.ui.states.auth import AuthState
from llmlab_app.ui.states.invitation import SIGN_IN, SIGN_UP, InvitationState

ROUTE = ACCEPT_PATH
TITLE = "Join an organisation · LLMLab"
ON_LOAD = InvitationState.start


def invitation_summary() -> rx.Component:
    return rx.vstack(
        rx.heading("Join ", InvitationState.organisation_name, size="5", id="invitation-org"),
        rx.text(
            "You are invited as ",
            rx.text.strong(InvitationState.role),
            " with the email ",
            rx.text.strong(InvitationState.invited_email),
            ".",
            size="2",
        ),
        spacing="2",
        width="100%",
    )


def credentials_form() -> rx.Component:
    signing_up = InvitationState.mode == SIGN_UP
    return rx.form(
        rx.vstack(
            form_error(InvitationState.form_error),
            text_field(
                "Email",
                "email",
                InvitationState.email_error,
                input_type="email",
                default_value=InvitationState.invited_email,
                auto_complete="email",
            ),
            text_field(
                "Password",
                "password",
                InvitationState.password_error,
                input_type="password",
                auto_complete=rx.cond(signing_up, "new-password", "current-password"),
                hint=f"At least {MIN_PASSWORD_LENGTH} characters for a new account.",
            ),
            rx.button(
                rx.cond(signing_up, "Create account and join", "Sign in and join"),
                type="submit",
                width="100%",
                size="3",
                loading=InvitationState.submitting,
                id="invitation-submit",
            ),
            rx.cond(
                signing_up,
                rx.text(
                    "Already have an account? ",
                    rx.link(
                        "Sign in",
                        href="#",
                        on_click=InvitationState.show_mode(SIGN_IN),
                        id="invitation-signin",
                    ),
                    size="2",
                ),
                rx.cond(
                    InvitationState.signup_allowed,
                    rx.text(
                        "New here? ",
                        rx.link(
                            "Create an account",
                            href="#",
                            on_click=InvitationState.show_mode(SIGN_UP),
                        ),
                        size="2",
                    ),
                ),
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=InvitationState.submit,
        # A fresh form per mode and invitation, so the email is the invited one.
        key=InvitationState.mode + InvitationState.invited_email,
        width="100%",
    )


def problem_panel() -> rx.Component:
    return rx.vstack(
        rx.callout(
            InvitationState.problem,
            icon="triangle_alert",
            color_scheme="amber",
            width="100%",
            id="invitation-problem",
        ),
        rx.cond(
            InvitationState.status == "wrong_account",
            rx.button("Sign out", on_click=AuthState.sign_out, variant="soft", width="100%"),
            rx.link("Go to the dashboard", href="/", size="2"),
        ),
        spacing="3",
        width="100%",
    )


def invitation_page() -> rx.Component:
    return auth_shell(
        rx.match(
            InvitationState.status,
            ("reading", rx.center(rx.spinner(size="3"), padding_y="2em", width="100%")),
            ("open", rx.vstack(invitation_summary(), credentials_form(), spacing="4")),
            ("invalid", problem_panel()),
            rx.vstack(
                rx.cond(InvitationState.organisation_name != "", invitation_summary()),
                problem_panel(),
                spacing="4",
                width="100%",
            ),
        )
    )
