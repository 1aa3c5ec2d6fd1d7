"""The top bar: brand, page navigation and the user menu."""

import reflex as rx

from llmlab_app.ui import styles
from llmlab_app.ui.states.auth import AuthState

NAV_ITEMS: list[tuple[str, str, str]] = [
    ("Overview", "/", "layout_dashboard"),
    ("Events", "/events", "list"),
    ("Budgets", "/budgets", "wallet"),
    ("Projects & keys", "/keys", "key_round"),
    ("Settings", "/settings", "settings"),
]


def brand() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.center(
                rx.icon("flask_conical", size=18, color="white"),
                background=rx.color("accent", 9),
                border_radius="8px",
                width="30px",
                height="30px",
            ),
            rx.heading("LLMLab", size="5", weight="bold"),
            align="center",
            spacing="2",
        ),
        href="/",
        underline="none",
        color="inherit",
    )


def nav_link(label: str, route: str, icon: str) -> rx.Component:
    active = rx.State.router.page.path == route
    return rx.link(
        rx.hstack(
            rx.icon(icon, size=16),
            # Icons only on narrow screens; the link keeps its name for screen readers.
            rx.text(label, size="2", display=["none", "none", "none", "block"]),
            align="center",
            spacing="2",
        ),
        href=route,
        title=label,
        aria_label=label,
        underline="none",
        padding_x="0.75em",
        padding_y="0.4em",
        border_radius="8px",
        color=rx.cond(active, rx.color("accent", 11), rx.color("gray", 11)),
        background=rx.cond(active, rx.color("accent", 3), "transparent"),
        font_weight=rx.cond(active, "600", "400"),
        _hover={"background": rx.color("gray", 3)},
        white_space="nowrap",
    )


def user_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.icon("circle_user_round", size=18),
                rx.text(
                    AuthState.user_email,
                    size="2",
                    display=["none", "none", "none", "none", "block"],
                ),
                rx.icon("chevron_down", size=14),
                variant="soft",
                color_scheme="gray",
                id="user-menu",
            ),
        ),
        rx.menu.content(
            rx.box(
                rx.text(AuthState.user_email, size="1", color=rx.color("gray", 11)),
                padding_x="0.75em",
                padding_y="0.25em",
            ),
            rx.menu.separator(),
            rx.menu.item(
                rx.hstack(rx.icon("sun_moon", size=14), rx.text("Light / dark")),
                on_click=rx.toggle_color_mode,
            ),
            rx.menu.item(
                rx.hstack(rx.icon("log_out", size=14), rx.text("Sign out")),
                on_click=AuthState.sign_out,
                color_scheme="red",
            ),
        ),
    )


def header() -> rx.Component:
    return rx.hstack(
        brand(),
        rx.hstack(
            *[nav_link(*item) for item in NAV_ITEMS],
            spacing="1",
            overflow_x="auto",
            flex="1",
            justify="center",
        ),
        user_menu(),
        align="center",
        justify="between",
        spacing="4",
        style=styles.header_style,
    )
