"""The heartbeat that keeps a page current without a reload."""

import reflex as rx

from llmlab_app.ui.states.live import HEARTBEAT_S


def live_ticker(
    on_tick: rx.EventHandler,
    interval_s: int = HEARTBEAT_S,
    title: str = "New events appear as they arrive",
) -> rx.Component:
    """A hidden clock that fires `on_tick` every `interval_s` while the page is open and
    connected.

    The browser drives it, so a closed tab or a dropped websocket costs the server nothing.
    """
    return rx.hstack(
        rx.box(
            width="8px",
            height="8px",
            border_radius="50%",
            background=rx.color("grass", 9),
            box_shadow=f"0 0 0 3px {rx.color('grass', 4)}",
        ),
        rx.text("Live", size="1", color=rx.color("gray", 11)),
        rx.moment(interval=interval_s * 1000, format="HH:mm:ss", on_change=on_tick, display="none"),
        align="center",
        spacing="2",
        title=title,
    )
