"""One budget: how much is spent, coloured by threshold, and when it runs out at this pace."""

import reflex as rx

from llmlab_app.ui import styles
from llmlab_app.ui.states.views import BudgetView


def budget_progress_bar(budget: BudgetView) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.hstack(
                rx.text(budget.name, weight="bold", size="2"),
                rx.badge(budget.period, variant="soft", color_scheme="gray", size="1"),
                rx.badge(budget.scope, variant="outline", color_scheme="gray", size="1"),
                rx.cond(budget.hard_limit, rx.badge("hard limit", color_scheme="red", size="1")),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            rx.text(
                rx.text.strong(budget.spent),
                " of ",
                budget.amount,
                rx.text.span(" · ", budget.percent_label, color=rx.color("gray", 10)),
                size="2",
                white_space="nowrap",
            ),
            justify="between",
            align="center",
            width="100%",
            wrap="wrap",
        ),
        rx.progress(
            value=budget.bar_value, max=100, color_scheme=budget.color, size="3", width="100%"
        ),
        rx.text(
            budget.status, size="1", color=rx.color(budget.color, 11), class_name="budget-status"
        ),
        spacing="2",
        width="100%",
        class_name="budget-bar",
    )


def budget_list(budgets: rx.Var[list[BudgetView]]) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Budgets", size="4"),
            rx.link("Manage", href="/budgets", size="2"),
            justify="between",
            width="100%",
        ),
        rx.cond(
            budgets.length() > 0,
            rx.grid(
                rx.foreach(budgets, budget_progress_bar),
                columns=rx.breakpoints(initial="1", md="2", lg="3"),
                spacing_x="6",
                spacing_y="4",
                width="100%",
            ),
            rx.text(
                "No budgets yet. ",
                rx.link("Set one", href="/budgets"),
                " to get alerts before spend runs away.",
                **styles.muted_text,
            ),
        ),
        spacing="3",
        style=styles.card_style,
    )
