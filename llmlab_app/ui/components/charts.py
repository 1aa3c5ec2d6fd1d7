"""Chart cards around plotly figures that states hold (built in a computed var, or serialised
once and shared)."""

import plotly.graph_objects as go
import reflex as rx

from llmlab_app.ui import styles

PLOT_CONFIG = {"displayModeBar": False, "responsive": True}


def chart_card(
    title: str, subtitle: str, figure: rx.Var[go.Figure], *, empty: rx.Var[bool], chart_id: str
) -> rx.Component:
    return rx.vstack(
        rx.vstack(
            rx.heading(title, size="4"),
            rx.text(subtitle, size="1", color=rx.color("gray", 10)),
            spacing="0",
        ),
        rx.cond(
            empty,
            rx.center(
                rx.text("No spend in this range yet.", **styles.muted_text),
                height="260px",
                width="100%",
            ),
            rx.box(
                rx.plotly.basic(data=figure, config=PLOT_CONFIG, width="100%"),
                width="100%",
                # No line box under the inline plot: it left 7 px of blank under every chart.
                line_height="0",
                id=chart_id,
            ),
        ),
        spacing="3",
        style=styles.card_style,
        min_width="0",
    )
