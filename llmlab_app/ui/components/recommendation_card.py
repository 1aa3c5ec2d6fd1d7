"""A ranked way to spend less: what, how much per month, why we think so, what to do."""

import reflex as rx

from llmlab_app.ui import styles
from llmlab_app.ui.states.views import RecommendationView


def recommendation_card(
    item: RecommendationView, on_try: rx.EventHandler | None = None
) -> rx.Component:
    try_it = rx.fragment()
    if on_try is not None:
        try_it = rx.cond(
            item.kind == "switch_model",
            rx.button(
                rx.icon("flask_conical", size=14),
                "Try it",
                size="1",
                variant="soft",
                on_click=on_try(item.from_model, item.to_model, item.share_percent),
                class_name="try-whatif",
                flex_shrink="0",
            ),
        )
    return rx.vstack(
        rx.hstack(
            rx.hstack(
                rx.icon("lightbulb", size=16, color=rx.color("amber", 10), flex_shrink="0"),
                rx.text(item.title, weight="bold", size="2"),
                align="center",
                spacing="2",
            ),
            rx.badge(
                item.savings,
                color_scheme=rx.cond(item.savings == "price needed", "amber", "grass"),
                size="2",
                variant="soft",
                white_space="nowrap",
                class_name="recommendation-savings",
            ),
            justify="between",
            align="start",
            width="100%",
            spacing="3",
        ),
        rx.text(item.evidence, size="2", color=rx.color("gray", 11)),
        rx.text(
            rx.text.strong("Risk: "),
            item.risk,
            " (",
            item.confidence,
            ")",
            size="1",
            color=rx.color("gray", 10),
        ),
        rx.hstack(
            rx.hstack(
                rx.icon("arrow_right", size=14, color=rx.color("accent", 10), flex_shrink="0"),
                rx.text(item.action, size="2", color=rx.color("accent", 11)),
                align="start",
                spacing="2",
            ),
            try_it,
            justify="between",
            align="end",
            spacing="3",
            width="100%",
        ),
        spacing="2",
        width="100%",
        padding="1em",
        border_radius="10px",
        background=rx.color("gray", 2),
        class_name="recommendation",
    )


def recommendation_list(
    items: rx.Var[list[RecommendationView]], on_try: rx.EventHandler | None = None
) -> rx.Component:
    """`on_try(from_model, to_model, share_percent)`: a switch_model card's "Try it" event."""
    return rx.vstack(
        rx.vstack(
            rx.heading("Ways to save", size="4"),
            rx.text(
                "From the last 30 days of calls, biggest savings first.",
                size="1",
                color=rx.color("gray", 10),
            ),
            spacing="0",
        ),
        rx.cond(
            items.length() > 0,
            rx.grid(
                rx.foreach(items, lambda item: recommendation_card(item, on_try)),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="3",
                width="100%",
            ),
            rx.text(
                "Nothing to suggest yet: recommendations appear once there are a few days "
                "of calls to compare.",
                **styles.muted_text,
            ),
        ),
        spacing="3",
        style=styles.card_style,
    )
