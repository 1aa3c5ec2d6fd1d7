"""What a page shows before there is anything to show."""

import reflex as rx

from llmlab_app.ui import styles


def empty_state(icon: str, title: str, *body: rx.Component | str) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=28, color=rx.color("accent", 9)),
            rx.heading(title, size="4"),
            *[
                rx.text(part, **styles.muted_text) if isinstance(part, str) else part
                for part in body
            ],
            align="center",
            spacing="2",
            max_width="520px",
            text_align="center",
        ),
        padding_y="2.5em",
        width="100%",
    )


def code_line(command: str) -> rx.Component:
    return rx.code(command, variant="soft", size="2", style=styles.mono)


def start_tracking_hint() -> rx.Component:
    """The two steps from nothing to a first chart, for a brand-new account."""
    return empty_state(
        "rocket",
        "No LLM calls recorded yet",
        "Install the SDK in your app and send events with your API key:",
        code_line("pip install llmlab"),
        code_line("export LLMLAB_API_KEY=llmlab_..."),
        "Or fill this dashboard with sample data in one command:",
        code_line("llmlab demo"),
    )


def loading_block(height: str = "120px") -> rx.Component:
    return rx.skeleton(rx.box(height=height, width="100%"), loading=True, width="100%")
