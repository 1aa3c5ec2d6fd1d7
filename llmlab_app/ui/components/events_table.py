"""The events table and its filter bar."""

import reflex as rx

from llmlab_app.ui import styles
from llmlab_app.ui.components.fields import field_error
from llmlab_app.ui.states.events import ALL, EventsState
from llmlab_app.ui.states.views import EventRow


def _labelled(label: str, control: rx.Component, error: rx.Var[str] | None = None):
    return rx.vstack(
        rx.text(label, size="1", color=rx.color("gray", 11)),
        control,
        field_error(error) if error is not None else rx.fragment(),
        spacing="1",
        width="100%",
        min_width="0",
    )


def _filter_input(name: str, label: str, value: rx.Var[str]) -> rx.Component:
    return _labelled(
        label,
        rx.input(name=name, placeholder="any", default_value=value, key=value, width="100%"),
    )


def _date_input(name: str, label: str, value: rx.Var[str], error: rx.Var[str]):
    control = rx.input(
        name=name, type="date", default_value=value, key=value, aria_label=label, width="100%"
    )
    return _labelled(label, control, error)


def filter_bar() -> rx.Component:
    return rx.form(
        rx.flex(
            rx.grid(
                _filter_input("model", "Model", EventsState.model),
                _filter_input("provider", "Provider", EventsState.provider),
                _labelled(
                    "Project",
                    rx.select.root(
                        rx.select.trigger(width="100%"),
                        rx.select.content(
                            rx.select.item("All projects", value=ALL),
                            rx.foreach(
                                EventsState.project_names, lambda n: rx.select.item(n, value=n)
                            ),
                        ),
                        name="project",
                        default_value=EventsState.project,
                        key=EventsState.project,
                    ),
                ),
                _filter_input("tag", "Tag", EventsState.tag),
                _date_input("start_date", "From", EventsState.start_date, EventsState.start_error),
                _date_input("end_date", "To", EventsState.end_date, EventsState.end_error),
                columns=rx.breakpoints(initial="2", sm="3", lg="6"),
                spacing="2",
                width="100%",
            ),
            rx.hstack(
                rx.button(rx.icon("filter", size=14), "Apply", type="submit", id="apply-filters"),
                rx.button(
                    "Clear", type="button", variant="ghost", on_click=EventsState.clear_filters
                ),
                spacing="3",
                align="center",
                flex_shrink="0",
                # Level with the inputs, below their labels, when the buttons share their row.
                padding_top=rx.breakpoints(initial="0", lg="1.3em"),
            ),
            direction=rx.breakpoints(initial="column", lg="row"),
            gap="3",
        ),
        on_submit=EventsState.apply_filters,
        width="100%",
    )


def _cost_text(row: EventRow) -> rx.Component:
    return rx.hstack(
        rx.text(
            row.cost, style=styles.mono, size="2", title=row.cost_exact, class_name="event-cost"
        ),
        rx.cond(
            row.client_reported,
            rx.tooltip(rx.icon("info", size=12), content="Cost reported by the client"),
        ),
        _reported_cost_note(row),
        align="center",
        spacing="1",
        justify="end",
    )


def _reported_cost_note(row: EventRow) -> rx.Component:
    """The sender's own figure, where it disagrees with LLMLab's price."""
    return rx.cond(
        row.reported_cost != "",
        rx.tooltip(
            rx.icon("triangle-alert", size=12, color=rx.color("amber", 10)),
            content="The sender reported " + row.reported_cost,
        ),
    )


def _cost_cell(row: EventRow) -> rx.Component:
    return rx.cond(
        row.unpriced,
        rx.hstack(
            rx.tooltip(
                rx.badge("unpriced", color_scheme="amber", variant="soft"),
                content="No price is known for this model; add a price override in Settings.",
            ),
            _reported_cost_note(row),
            align="center",
            spacing="1",
            justify="end",
        ),
        _cost_text(row),
    )


def _status_badge(row: EventRow) -> rx.Component:
    return rx.cond(
        row.status == "error",
        rx.badge("error", color_scheme="red"),
        rx.badge("ok", color_scheme="grass", variant="soft"),
    )


def _tag_badges(row: EventRow) -> rx.Component:
    return rx.flex(
        rx.foreach(
            row.tags,
            lambda tag: rx.badge(tag, variant="soft", color_scheme="gray", white_space="nowrap"),
        ),
        wrap="wrap",
        spacing="1",
        class_name="event-tags",
    )


# What each ingress badge says on hover.
SOURCE_HINTS = {
    "sdk": "Sent by the LLMLab SDK",
    "otlp": "Received as an OpenTelemetry span",
    "gateway": "Recorded by the LLMLab gateway",
}


def _source_badge(row: EventRow) -> rx.Component:
    """A badge for every ingress but the plain REST API (the common case, left quiet: one
    more badge on every row would push the table past a 1440 px frame)."""
    return rx.cond(
        row.source != "api",
        rx.tooltip(
            rx.badge(
                row.source,
                color_scheme=rx.cond(row.via_gateway, "iris", "gray"),
                variant="soft",
                size="1",
                class_name="event-source",
            ),
            content=rx.match(row.source, *SOURCE_HINTS.items(), ""),
        ),
    )


# Below 1280 px the provider moves under the model, so every column (tags too) fits 992 px.
PROVIDER_COLUMN = rx.breakpoints(initial="none", lg="table-cell")
PROVIDER_UNDER_MODEL = rx.breakpoints(initial="block", lg="none")
ONE_LINE_FROM_LG = rx.breakpoints(initial="normal", lg="nowrap")


def event_table_row(row: EventRow) -> rx.Component:
    number = {"text_align": "right", "style": styles.mono, "white_space": "nowrap"}
    return rx.table.row(
        # Below 1280 px the time goes under the date, as the provider under the model.
        rx.table.cell(rx.text(row.timestamp, size="2", white_space=ONE_LINE_FROM_LG)),
        rx.table.cell(rx.text(row.project, size="2", white_space="nowrap")),
        rx.table.cell(
            rx.hstack(
                rx.badge(row.provider, variant="surface", color_scheme="gray"),
                _source_badge(row),
                spacing="1",
                align="center",
            ),
            display=PROVIDER_COLUMN,
        ),
        rx.table.cell(
            rx.text(row.model, weight="medium", size="2", white_space="nowrap"),
            rx.hstack(
                rx.text(row.provider, size="1", color=rx.color("gray", 10)),
                _source_badge(row),
                spacing="1",
                align="center",
                display=PROVIDER_UNDER_MODEL,
            ),
        ),
        rx.table.cell(row.input_tokens, **number),
        rx.table.cell(row.cached_tokens, title=row.cache_detail, **number),
        rx.table.cell(row.output_tokens, **number),
        rx.table.cell(_cost_cell(row), text_align="right"),
        rx.table.cell(rx.box(_status_badge(row), class_name="event-status")),
        rx.table.cell(_tag_badges(row)),
        # Centred: badges are taller than a line of text, and every cell sits on one middle.
        align="center",
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
                    rx.table.column_header_cell(
                        h,
                        text_align="right" if h in right else "left",
                        display=PROVIDER_COLUMN if h == "Provider" else None,
                    )
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


def _tokens_line(row: EventRow) -> rx.Component:
    return rx.text(
        row.input_tokens,
        " in · ",
        row.cached_tokens,
        " cached · ",
        row.output_tokens,
        " out",
        rx.cond(row.cache_writes != "", rx.fragment(" · ", row.cache_writes)),
        size="1",
        color=rx.color("gray", 11),
        style={"font_variant_numeric": "tabular-nums"},
    )


def event_card(row: EventRow) -> rx.Component:
    """One event on a narrow screen: what was called and what it cost, then the details."""
    return rx.vstack(
        rx.hstack(
            rx.text(row.model, weight="medium", size="2", min_width="0", word_break="break_all"),
            rx.box(_cost_cell(row), flex_shrink="0"),
            justify="between",
            align="start",
            spacing="3",
            width="100%",
        ),
        rx.hstack(
            rx.text(row.timestamp, size="1", color=rx.color("gray", 11)),
            rx.badge(row.provider, variant="surface", color_scheme="gray", size="1"),
            _source_badge(row),
            rx.text(row.project, size="1", color=rx.color("gray", 11)),
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        _tokens_line(row),
        rx.hstack(_status_badge(row), _tag_badges(row), spacing="1", wrap="wrap"),
        spacing="1",
        width="100%",
        padding="0.75em 1em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="event-card",
    )


def event_cards() -> rx.Component:
    return rx.box(
        rx.foreach(EventsState.rows, event_card),
        width="100%",
        border=f"1px solid {rx.color('gray', 5)}",
        border_radius="12px",
        background=rx.color("gray", 1),
        overflow="hidden",
        id="event-cards",
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
