"""Page frames: the signed-in shell and the centred sign-in card."""

import reflex as rx

from llmlab_app.ui import styles
from llmlab_app.ui.components.header import header
from llmlab_app.ui.states.auth import AuthState


def page_title(title: str, subtitle: str = "", *actions: rx.Component) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.heading(title, size="7", weight="bold"),
            rx.text(subtitle, **styles.muted_text) if subtitle else rx.fragment(),
            spacing="1",
        ),
        rx.hstack(*actions, spacing="3", align="center", wrap="wrap"),
        justify="between",
        align="end",
        wrap="wrap",
        gap="1em",
        width="100%",
    )


def app_shell(*children: rx.Component) -> rx.Component:
    """Header + content, only once the session is known (no flash of someone else's data)."""
    return rx.box(
        header(),
        rx.cond(
            AuthState.signed_in,
            rx.vstack(*children, spacing=styles.SPACING, style=styles.page_style),
            rx.center(rx.spinner(size="3"), padding_y="6em", width="100%"),
        ),
        min_height="100vh",
        background=rx.color("gray", 2),
    )


def auth_shell(*children: rx.Component) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.hstack(
                rx.center(
                    rx.icon("flask_conical", size=22, color="white"),
                    background=rx.color("accent", 9),
                    border_radius="10px",
                    width="40px",
                    height="40px",
                ),
                rx.heading("LLMLab", size="7", weight="bold"),
                align="center",
                spacing="3",
            ),
            rx.text("See and control what your LLM calls cost.", **styles.muted_text),
            rx.box(*children, style=styles.auth_card_style),
            align="center",
            spacing="4",
            width="100%",
            max_width="400px",
        ),
        min_height="100vh",
        padding="1em",
        background=rx.color("gray", 2),
    )
