"""The row of headline numbers."""

import reflex as rx

from llmlab_app.ui import styles
from llmlab_app.ui.states.overview import CostCard


def cost_card(card: CostCard) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(card.label, size="2", weight="medium", color=rx.color("gray", 11)),
            rx.icon(card.icon, size=16, color=rx.color("accent", 9)),
            justify="between",
            align="center",
            width="100%",
        ),
        rx.text(
            card.value,
            size="7",
            weight="bold",
            class_name="card-value",
            style={"font_variant_numeric": "tabular-nums"},
        ),
        rx.text(card.detail, size="1", color=rx.color("gray", 10)),
        spacing="1",
        style=styles.card_style,
        id="card-" + card.key,
    )


def cost_cards(cards: rx.Var[list[CostCard]]) -> rx.Component:
    return rx.grid(
        rx.foreach(cards, cost_card),
        columns=rx.breakpoints(initial="1", xs="2", md="3", lg="5"),
        spacing="4",
        width="100%",
    )
