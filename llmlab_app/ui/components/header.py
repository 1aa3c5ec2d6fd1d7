"""The top bar: brand, page navigation, the organisation switcher and the user menu; on a
narrow screen one menu holds all of them, so every page and organisation stays one tap away."""

import reflex as rx

from llmlab_app.ui import styles
from llmlab_app.ui.states.auth import AuthState, OrganisationChoice

# The nav bar needs ~800 px of labels beside the brand, the organisation switcher and the user
# menu (~1,220 px in all, measured): below 80em it is a menu.
WIDE_FLEX = rx.breakpoints(initial="none", lg="flex")
NARROW_BLOCK = rx.breakpoints(initial="block", lg="none")

NAV_ITEMS: list[tuple[str, str, str]] = [
    ("Overview", "/", "layout_dashboard"),
    ("Events", "/events", "list"),
    ("Budgets", "/budgets", "wallet"),
    ("Projects & keys", "/keys", "key_round"),
    ("Members", "/members", "users"),
    ("Audit", "/audit", "scroll_text"),
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


def _is_current(route: str) -> rx.Var[bool]:
    return rx.State.router.page.path == route


def nav_link(label: str, route: str, icon: str) -> rx.Component:
    active = _is_current(route)
    return rx.link(
        rx.hstack(
            rx.icon(icon, size=16),
            rx.text(label, size="2"),
            align="center",
            spacing="2",
        ),
        href=route,
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


def _account_items() -> list[rx.Component]:
    return [
        rx.menu.item(
            rx.hstack(rx.icon("sun_moon", size=14), rx.text("Light / dark")),
            on_click=rx.toggle_color_mode,
        ),
        rx.menu.item(
            rx.hstack(rx.icon("log_out", size=14), rx.text("Sign out")),
            on_click=AuthState.sign_out,
            color_scheme="red",
        ),
    ]


def _signed_in_as() -> rx.Component:
    return rx.box(
        rx.text(AuthState.user_email, size="1", color=rx.color("gray", 11)),
        padding_x="0.75em",
        padding_y="0.25em",
    )


def _organisation_item(choice: OrganisationChoice) -> rx.Component:
    current = choice.id == AuthState.acting_org_id
    return rx.menu.item(
        rx.hstack(
            rx.icon("check", size=14, opacity=rx.cond(current, "1", "0")),
            rx.text(
                rx.cond(choice.personal, "Personal", choice.name),
                weight=rx.cond(current, "bold", "regular"),
                overflow="hidden",
                text_overflow="ellipsis",
                white_space="nowrap",
                max_width="180px",
            ),
            rx.badge(choice.role, color_scheme="gray", variant="soft", size="1"),
            align="center",
            spacing="2",
        ),
        on_click=AuthState.switch_organisation(choice.id),
        class_name="org-choice",
    )


def organisation_items() -> list[rx.Component]:
    """The organisations to act in, the current one checked."""
    return [
        rx.box(
            rx.text("Organisation", size="1", weight="medium", color=rx.color("gray", 11)),
            padding_x="0.75em",
            padding_y="0.25em",
        ),
        rx.foreach(AuthState.organisations, _organisation_item),
    ]


def organisation_menu() -> rx.Component:
    """The switcher of wide screens: the current organisation, the others a click away."""
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.icon("building_2", size=16),
                rx.text(
                    rx.cond(
                        AuthState.acting_org_name != "", AuthState.acting_org_name, "Organisation"
                    ),
                    size="2",
                    max_width="140px",
                    overflow="hidden",
                    text_overflow="ellipsis",
                    white_space="nowrap",
                ),
                rx.icon("chevron_down", size=14),
                variant="soft",
                color_scheme="gray",
                id="org-switcher",
            ),
        ),
        rx.menu.content(*organisation_items(), align="end"),
    )


def user_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.icon("circle_user_round", size=18),
                rx.text(
                    AuthState.user_email,
                    size="2",
                    display=rx.breakpoints(initial="none", xl="block"),
                ),
                rx.icon("chevron_down", size=14),
                variant="soft",
                color_scheme="gray",
                id="user-menu",
            ),
        ),
        rx.menu.content(_signed_in_as(), rx.menu.separator(), *_account_items()),
    )


def menu_nav_item(label: str, route: str, icon: str) -> rx.Component:
    """A page in the narrow-screen menu: the whole row is the link."""
    active = _is_current(route)
    return rx.menu.item(
        rx.link(
            rx.hstack(rx.icon(icon, size=16), rx.text(label), align="center", spacing="2"),
            href=route,
            underline="none",
            color=rx.cond(active, rx.color("accent", 11), "inherit"),
            font_weight=rx.cond(active, "600", "400"),
        ),
        as_child=True,
        class_name="menu-nav-item",
    )


def narrow_menu() -> rx.Component:
    """Every page, then the account actions, behind one button (phones and tablets)."""
    return rx.box(
        rx.menu.root(
            rx.menu.trigger(
                rx.icon_button(
                    rx.icon("menu", size=20),
                    variant="soft",
                    color_scheme="gray",
                    size="3",
                    aria_label="Menu",
                    id="nav-menu",
                ),
            ),
            rx.menu.content(
                *[menu_nav_item(*item) for item in NAV_ITEMS],
                rx.menu.separator(),
                *organisation_items(),
                rx.menu.separator(),
                _signed_in_as(),
                *_account_items(),
                align="end",
                min_width="220px",
            ),
        ),
        display=NARROW_BLOCK,
    )


def header() -> rx.Component:
    return rx.hstack(
        brand(),
        rx.hstack(
            *[nav_link(*item) for item in NAV_ITEMS],
            spacing="1",
            flex="1",
            justify="center",
            display=WIDE_FLEX,
        ),
        rx.hstack(organisation_menu(), user_menu(), spacing="2", display=WIDE_FLEX),
        narrow_menu(),
        align="center",
        justify="between",
        spacing="4",
        style=styles.header_style,
        on_mount=AuthState.load_organisations,
    )
