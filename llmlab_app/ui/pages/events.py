"""/events: every recorded call, filterable, exportable, live."""

import reflex as rx

from llmlab_app.ui import styles
from llmlab_app.ui.components.empty_state import code_line, empty_state, loading_block
from llmlab_app.ui.components.events_table import event_cards, events_table, filter_bar, pager
from llmlab_app.ui.components.layout import app_shell, page_title
from llmlab_app.ui.components.live import live_ticker
from llmlab_app.ui.components.responsive import narrow_only, wide_only
from llmlab_app.ui.states.events import EventsState

ROUTE = "/events"
TITLE = "Events · LLMLab"
ON_LOAD = EventsState.load


def events_page() -> rx.Component:
    return app_shell(
        page_title(
            "Events",
            "Every LLM call your apps reported, newest first. Hover a cost for every stored digit.",
            live_ticker(EventsState.poll),
            rx.button(
                rx.icon("download", size=14),
                "Download CSV",
                variant="outline",
                on_click=EventsState.download_csv,
                id="download-csv",
            ),
        ),
        rx.box(filter_bar(), style=styles.card_style),
        rx.cond(
            EventsState.loading,
            loading_block("300px"),
            rx.cond(
                EventsState.rows.length() > 0,
                rx.vstack(
                    wide_only(events_table()),
                    narrow_only(event_cards()),
                    pager(),
                    width="100%",
                    spacing="3",
                ),
                rx.box(
                    empty_state(
                        "list",
                        "No events match",
                        "Events appear here a few seconds after your app sends them. "
                        "Clear the filters, send events with the SDK, or fill the dashboard "
                        "with sample data:",
                        code_line("llmlab demo"),
                    ),
                    style=styles.card_style,
                ),
            ),
        ),
    )
