"""The date-range and project filter that drives a whole page."""

import reflex as rx

from llmlab_app.ui.components.fields import field_error


def date_input(name: str, label: str, value: rx.Var[str], error: rx.Var[str]) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color=rx.color("gray", 11)),
        rx.input(
            name=name, type="date", default_value=value, key=value, width="150px", aria_label=label
        ),
        field_error(error),
        spacing="1",
    )


def project_select(value: rx.Var[str], names: rx.Var[list[str]], all_value: str) -> rx.Component:
    return rx.vstack(
        rx.text("Project", size="1", color=rx.color("gray", 11)),
        rx.select.root(
            rx.select.trigger(width="170px"),
            rx.select.content(
                rx.select.item("All projects", value=all_value),
                rx.foreach(names, lambda name: rx.select.item(name, value=name)),
            ),
            name="project",
            default_value=value,
            key=value,
        ),
        spacing="1",
    )


def range_filter(
    *,
    on_submit: rx.EventHandler,
    on_reset: rx.EventHandler,
    start: rx.Var[str],
    end: rx.Var[str],
    start_error: rx.Var[str],
    end_error: rx.Var[str],
    project: rx.Var[str],
    project_names: rx.Var[list[str]],
    all_value: str,
) -> rx.Component:
    return rx.form(
        rx.flex(
            date_input("start_date", "From", start, start_error),
            date_input("end_date", "To", end, end_error),
            project_select(project, project_names, all_value),
            rx.hstack(
                rx.button("Apply", type="submit", id="apply-range"),
                rx.button("This month", type="button", variant="soft", on_click=on_reset),
                spacing="2",
                padding_top="1.3em",
            ),
            spacing="3",
            wrap="wrap",
            align="start",
        ),
        on_submit=on_submit,
    )
