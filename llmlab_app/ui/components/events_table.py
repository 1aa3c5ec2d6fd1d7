"""The events table and its filter bar."""

import reflex as rx

from llmlab_app.ui import styles
from llmlab_app.ui.components.fields import field_error
from llmlab_app.ui.states.events import ALL, EventsState
from llmlab_app.ui.states.views import EventRow


def _filter_input(name: str, placeholder: str, value: rx.Var[str], width: str = "150px"):
    return rx.input(name=name, placeholder=placeholder, default_value=value, width=width, key=value)


def _date_input(name: str, label: str, value: rx.Var[str], error: rx.Var[str]):
    return rx.vstack(
        rx.input(
            name=name,
            type="date",
            default_value=value,
            key=value,
            aria_label=label,
            title=label,
            width="150px",
        ),
        field_error(error),
        spacing="1",
    )


def filter_bar() -> rx.Component:
    return rx.form(
        rx.flex(
            _filter_input("model", "Model", EventsState.model, "180px"),
            _filter_input("provider", "Provider", EventsState.provider),
            rx.select.root(
                rx.select.trigger(placeholder="Project", width="150px"),
                rx.select.content(
                    rx.select.item("All projects", value=ALL),
                    rx.foreach(EventsState.project_names, lambda n: rx.select.item(n, value=n)),
                ),
                name="project",
                default_value=EventsState.project,
                key=EventsState.project,
            ),
            _filter_input("tag", "Tag", EventsState.tag, "120px"),
            _date_input("start_date", "From", EventsState.start_date, EventsState.start_error),
            _date_input("end_date", "To", EventsState.end_date, EventsState.end_error),
            rx.button(rx.icon("filter", size=14), "Apply", type="submit", id="apply-filters"),
            rx.button("Clear", type="button", variant="ghost", on_click=EventsState.clear_filters),
            spacing="2",
            wrap="wrap",
            align="start",
        ),
        on_submit=EventsState.apply_filters,
        width="100%",
    )


def _cost_cell(row: EventRow) -> rx.Component:
    return rx.cond(
        row.unpriced,
        rx.tooltip(
            rx.badge("unpriced", color_scheme="amber", variant="soft"),
            content="No price is known for this model; add a price override in Settings.",
        ),
        rx.hstack(
            rx.text(row.cost, style=styles.mono, size="2"),
            rx.cond(
                row.client_reported,
                rx.tooltip(rx.icon("info", size=12), content="Cost reported by the client"),
            ),
            align="center",
            spacing="1",
            justify="end",
        ),
    )


def event_table_row(row: EventRow) -> rx.Component:
    number = {"text_align": "right", "style": styles.mono}
    return rx.table.row(
        rx.table.cell(rx.text(row.timestamp, size="2", white_space="nowrap")),
        rx.table.cell(rx.text(row.project, size="2", white_space="nowrap")),
        rx.table.cell(
            rx.hstack(
                rx.badge(row.provider, variant="surface", color_scheme="gray"),
                rx.cond(
                    row.via_gateway,
                    rx.tooltip(
                        rx.badge("gateway", color_scheme="iris", variant="soft"),
                        content="Recorded by the LLMLab gateway",
                    ),
                ),
                spacing="1",
                align="center",
            )
        ),
        rx.table.cell(rx.text(row.model, weight="medium", size="2", white_space="nowrap")),
        rx.table.cell(row.input_tokens, **number),
        rx.table.cell(row.cached_tokens, **number),
        rx.table.cell(row.output_tokens, **number),
        rx.table.cell(_cost_cell(row), text_align="right"),
        rx.table.cell(
            rx.cond(
                row.status == "error",
                rx.badge("error", color_scheme="red"),
                rx.badge("ok", color_scheme="grass", variant="soft"),
            )
        ),
        rx.table.cell(rx.text(row.tags, size="1", color=rx.color("gray", 11))),
        class_name="event-row",
    )


def events_table() -> rx.Component:
    headers = [
        "Time (UTC)",
        "Project",
        "Provider",
        "Model",
        "Input",
        "Cached",
        "Output",
        "Cost",
        "Status",
        "Tags",
    ]
    right = {"Input", "Cached", "Output", "Cost"}
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                *[
                    rx.table.column_header_cell(h, text_align="right" if h in right else "left")
                    for h in headers
                ]
            )
        ),
        rx.table.body(rx.foreach(EventsState.rows, event_table_row)),
        variant="surface",
        # Tighter cells below 1280 px, so all ten columns fit a 1024 px window.
        size=rx.breakpoints(initial="1", lg="2"),
        width="100%",
        id="events-table",
    )


def pager() -> rx.Component:
    return rx.hstack(
        rx.button(
            rx.icon("chevron_left", size=14),
            "Newer",
            variant="soft",
            disabled=EventsState.page_number <= 1,
            on_click=EventsState.previous_page,
        ),
        rx.text("Page ", EventsState.page_number, size="2", color=rx.color("gray", 11)),
        rx.button(
            "Older",
            rx.icon("chevron_right", size=14),
            variant="soft",
            disabled=~EventsState.has_next,
            on_click=EventsState.next_page,
        ),
        justify="end",
        align="center",
        width="100%",
    )
