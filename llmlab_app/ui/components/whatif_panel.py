"""The what-if panel: pick a model, a cheaper one and a share; see old, new, saved, per day."""

import reflex as rx

from llmlab_app.ui import styles
from llmlab_app.ui.components.charts import PLOT_CONFIG
from llmlab_app.ui.components.fields import field_error, form_error
from llmlab_app.ui.states.overview import ALL
from llmlab_app.ui.states.whatif import WhatIfState

SUGGESTIONS_ID = "whatif-model-suggestions"


def _field(label: str, control: rx.Component, error: rx.Var[str] | None = None):
    return rx.vstack(
        rx.text(label, size="1", color=rx.color("gray", 11)),
        control,
        field_error(error) if error is not None else rx.fragment(),
        spacing="1",
        width="100%",
        min_width="0",
    )


def _input(name: str, value: rx.Var[str], error: rx.Var[str], **props) -> rx.Component:
    return rx.input(
        id=f"whatif-{name}",
        name=name,
        default_value=value,
        width="100%",
        color_scheme=rx.cond(error != "", "red", "gray"),
        **props,
    )


def whatif_form() -> rx.Component:
    s = WhatIfState
    return rx.form(
        rx.vstack(
            rx.grid(
                _field(
                    "Calls to model",
                    _input("from_model", s.from_model, s.from_model_error, list=SUGGESTIONS_ID),
                    s.from_model_error,
                ),
                _field(
                    "Had gone to model",
                    _input("to_model", s.to_model, s.to_model_error, list=SUGGESTIONS_ID),
                    s.to_model_error,
                ),
                _field(
                    "Share of the calls (%)",
                    _input("share", s.share_percent, s.share_error, input_mode="decimal"),
                    s.share_error,
                ),
                _field(
                    "From", _input("start", s.start_date, s.start_error, type="date"), s.start_error
                ),
                _field("To", _input("end", s.end_date, s.end_error, type="date"), s.end_error),
                _field(
                    "Project",
                    rx.select.root(
                        rx.select.trigger(width="100%", id="whatif-project"),
                        rx.select.content(
                            rx.select.item("All projects", value=ALL),
                            rx.foreach(s.project_names, lambda n: rx.select.item(n, value=n)),
                        ),
                        name="project",
                        default_value=s.project,
                    ),
                ),
                columns=rx.breakpoints(initial="1", xs="2", md="3"),
                spacing="3",
                width="100%",
            ),
            rx.el.datalist(
                rx.foreach(s.suggestions, lambda model: rx.el.option(value=model)),
                id=SUGGESTIONS_ID,
            ),
            rx.button(
                rx.icon("calculator", size=14),
                "Calculate",
                type="submit",
                loading=s.running,
                id="whatif-submit",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=WhatIfState.calculate,
        key=WhatIfState.form_key.to_string(),
        width="100%",
    )


def _stat(key: str, label: rx.Var[str] | str, value: rx.Var[str], detail: rx.Var[str], color):
    return rx.vstack(
        rx.text(label, size="1", weight="medium", color=rx.color("gray", 11)),
        rx.text(
            value,
            size="6",
            weight="bold",
            color=color,
            class_name="whatif-value",
            style={"font_variant_numeric": "tabular-nums"},
        ),
        rx.text(detail, size="1", color=rx.color("gray", 10)),
        spacing="1",
        padding="0.75em 1em",
        border_radius="10px",
        background=rx.color("gray", 2),
        width="100%",
        id=f"whatif-{key}",
    )


def whatif_result() -> rx.Component:
    view = WhatIfState.view
    return rx.vstack(
        rx.grid(
            _stat("old", "As recorded", view.old_cost, view.range_label, rx.color("gray", 12)),
            _stat("new", "With the switch", view.new_cost, view.moved_detail, rx.color("gray", 12)),
            _stat(
                "savings",
                view.savings_label,
                view.savings,
                view.savings_detail,
                rx.cond(
                    view.savings_label == "Savings", rx.color("grass", 11), rx.color("red", 11)
                ),
            ),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="3",
            width="100%",
        ),
        rx.cond(
            view.note != "",
            rx.callout(view.note, icon="info", color_scheme="amber", size="1", width="100%"),
        ),
        rx.box(
            rx.plotly.basic(data=WhatIfState.chart, config=PLOT_CONFIG, width="100%"),
            width="100%",
            id="whatif-chart",
        ),
        spacing="3",
        width="100%",
    )


def whatif_panel() -> rx.Component:
    return rx.vstack(
        rx.vstack(
            rx.heading("What if", size="4"),
            rx.text(
                "Your real calls re-priced as if a share of one model's calls had gone to "
                "another: same tokens, the other model's prices. The last 30 days by default, "
                "the window recommendations use, so “Try it” shows the same savings.",
                size="1",
                color=rx.color("gray", 10),
            ),
            spacing="1",
        ),
        whatif_form(),
        form_error(WhatIfState.form_error),
        rx.cond(
            WhatIfState.has_result,
            whatif_result(),
            rx.text(
                "Pick a model you use, a model to compare it with and a share, then Calculate.",
                **styles.muted_text,
            ),
        ),
        spacing="4",
        style=styles.card_style,
        id="whatif-panel",
    )
