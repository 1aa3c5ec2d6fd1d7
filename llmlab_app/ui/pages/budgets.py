"""/budgets: limits per period and project, their status, and the alerts they raised."""

import reflex as rx

from llmlab_app.services.permissions import Permission
from llmlab_app.ui import styles
from llmlab_app.ui.components.budget_bar import budget_progress_bar
from llmlab_app.ui.components.empty_state import empty_state, loading_block
from llmlab_app.ui.components.fields import field_error, form_error, text_field
from llmlab_app.ui.components.layout import app_shell, page_title
from llmlab_app.ui.components.permitted import permitted_button, when_permitted
from llmlab_app.ui.components.responsive import card_fields, narrow_only, wide_only
from llmlab_app.ui.states.budgets import ALL_PROJECTS, PERIODS, BudgetsState
from llmlab_app.ui.states.views import AlertRow, BudgetView

ROUTE = "/budgets"
TITLE = "Budgets · LLMLab"
ON_LOAD = BudgetsState.load


def _labelled(label: str, control: rx.Component, error: rx.Var[str] | None = None):
    parts = [rx.text(label, size="2", weight="medium"), control]
    if error is not None:
        parts.append(field_error(error))
    return rx.vstack(*parts, spacing="1", width="100%")


def budget_form() -> rx.Component:
    editing = BudgetsState.editing
    return rx.form(
        rx.vstack(
            form_error(BudgetsState.form_error),
            text_field(
                "Name",
                "name",
                BudgetsState.name_error,
                default_value=editing.name,
                placeholder="Production, monthly",
            ),
            rx.grid(
                text_field(
                    "Amount (USD)",
                    "amount",
                    BudgetsState.amount_error,
                    default_value=editing.amount_input,
                    placeholder="250",
                    input_mode="decimal",
                ),
                _labelled(
                    "Period",
                    rx.select.root(
                        rx.select.trigger(width="100%"),
                        rx.select.content(*[rx.select.item(p.title(), value=p) for p in PERIODS]),
                        name="period",
                        default_value=editing.period,
                    ),
                    BudgetsState.period_error,
                ),
                columns="2",
                spacing="3",
                width="100%",
            ),
            _labelled(
                "Project",
                rx.select.root(
                    rx.select.trigger(width="100%"),
                    rx.select.content(
                        rx.select.item("All projects", value=ALL_PROJECTS),
                        rx.foreach(
                            BudgetsState.project_names, lambda n: rx.select.item(n, value=n)
                        ),
                    ),
                    name="project",
                    default_value=rx.cond(
                        editing.project_input != "", editing.project_input, ALL_PROJECTS
                    ),
                ),
            ),
            text_field(
                "Alert at (% of the budget)",
                "thresholds",
                BudgetsState.thresholds_error,
                default_value=editing.thresholds.replace("%", ""),
                placeholder="50, 80, 100",
            ),
            text_field(
                "Webhook URL (optional)",
                "webhook_url",
                BudgetsState.webhook_url_error,
                default_value=editing.webhook_url,
                placeholder="https://hooks.slack.com/…",
                hint="We POST a JSON alert here when a threshold is crossed.",
            ),
            rx.hstack(
                rx.checkbox(name="hard_limit", default_checked=editing.hard_limit),
                rx.text("Hard limit: the SDK refuses calls once the budget is spent", size="2"),
                align="center",
            ),
            rx.hstack(
                rx.dialog.close(
                    rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                ),
                rx.button(
                    rx.cond(BudgetsState.is_editing, "Save changes", "Create budget"),
                    type="submit",
                    loading=BudgetsState.saving,
                    id="save-budget",
                ),
                justify="end",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=BudgetsState.save,
        # A fresh form per budget, so default values are those of the budget being edited.
        key=editing.id + BudgetsState.dialog_open.to_string(),
    )


def budget_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(BudgetsState.is_editing, "Edit budget", "New budget")),
            budget_form(),
            max_width="520px",
        ),
        open=BudgetsState.dialog_open,
        on_open_change=BudgetsState.set_dialog_open,
    )


def delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this budget?"),
            rx.alert_dialog.description(
                "“", BudgetsState.deleting_name, "” and its alert history will be removed."
            ),
            rx.hstack(
                rx.button(
                    "Cancel",
                    variant="soft",
                    color_scheme="gray",
                    on_click=BudgetsState.cancel_delete,
                ),
                rx.button(
                    "Delete",
                    color_scheme="red",
                    on_click=BudgetsState.confirm_delete,
                    id="confirm-delete-budget",
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
        ),
        open=BudgetsState.deleting_id != "",
    )


def budget_card(budget: BudgetView) -> rx.Component:
    return rx.vstack(
        budget_progress_bar(budget),
        rx.hstack(
            rx.text("Alerts at ", budget.thresholds, size="1", color=rx.color("gray", 10)),
            rx.spacer(),
            when_permitted(
                Permission.MANAGE_BUDGETS,
                rx.button(
                    rx.icon("pencil", size=14),
                    "Edit",
                    size="1",
                    variant="soft",
                    on_click=BudgetsState.open_edit(budget.id),
                ),
                rx.button(
                    rx.icon("trash_2", size=14),
                    "Delete",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=BudgetsState.ask_delete(budget.id, budget.name),
                ),
            ),
            align="center",
            width="100%",
        ),
        spacing="3",
        style=styles.card_style,
    )


def webhook_cell(alert: AlertRow) -> rx.Component:
    return rx.cond(
        alert.webhook_status != "",
        rx.vstack(
            rx.badge(
                alert.webhook_status,
                color_scheme=alert.webhook_color,
                variant="soft",
                class_name="webhook-status",
            ),
            rx.text(alert.webhook_detail, size="1", color=rx.color("gray", 10)),
            spacing="1",
        ),
        rx.text("no webhook", size="1", color=rx.color("gray", 10)),
    )


def alert_table_row(alert: AlertRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(alert.when, white_space="nowrap"),
        rx.table.cell(alert.budget),
        rx.table.cell(alert.what),
        rx.table.cell(alert.spent, text_align="right"),
        rx.table.cell(alert.period_start, white_space="nowrap"),
        rx.table.cell(webhook_cell(alert)),
        rx.table.cell(alert.attempts, text_align="right", class_name="webhook-attempts"),
        rx.table.cell(
            rx.text(alert.last_error, size="1", style=styles.mono, word_break="break_word"),
            max_width="260px",
            class_name="webhook-error",
        ),
        class_name="alert-row",
    )


def alert_card(alert: AlertRow) -> rx.Component:
    """One alert on a narrow screen: which budget and what happened, then its webhook."""
    return rx.vstack(
        rx.hstack(
            rx.text(alert.budget, weight="bold", size="2"),
            rx.text(alert.spent, size="2", white_space="nowrap"),
            justify="between",
            width="100%",
        ),
        rx.text(alert.what, size="2"),
        card_fields(
            ("When (UTC)", alert.when),
            ("Period from", alert.period_start),
            ("Webhook", webhook_cell(alert)),
            ("Attempts", alert.attempts),
            (
                "Last error",
                rx.text(alert.last_error, size="1", style=styles.mono, word_break="break_word"),
            ),
        ),
        spacing="2",
        width="100%",
        padding_y="0.75em",
        border_top=f"1px solid {rx.color('gray', 4)}",
        class_name="alert-card",
    )


def alert_table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("When (UTC)"),
                rx.table.column_header_cell("Budget"),
                rx.table.column_header_cell("Alert"),
                rx.table.column_header_cell("Spent then", text_align="right"),
                rx.table.column_header_cell("Period from"),
                rx.table.column_header_cell("Webhook"),
                rx.table.column_header_cell("Attempts", text_align="right"),
                rx.table.column_header_cell("Last error"),
            )
        ),
        rx.table.body(rx.foreach(BudgetsState.alerts, alert_table_row)),
        width="100%",
        size="1",
        id="alert-history",
    )


def alert_history() -> rx.Component:
    return rx.vstack(
        rx.vstack(
            rx.heading("Alert history", size="4"),
            rx.text(
                "Each alert and its webhook POST: delivered, pending (waiting for its next "
                "try) or failed (gave up), with the attempts made and the last error.",
                size="1",
                color=rx.color("gray", 10),
            ),
            spacing="1",
        ),
        rx.cond(
            BudgetsState.alerts.length() > 0,
            rx.box(
                wide_only(alert_table()),
                narrow_only(rx.foreach(BudgetsState.alerts, alert_card)),
                width="100%",
            ),
            rx.text("No alerts yet. Each threshold alerts once per period.", **styles.muted_text),
        ),
        spacing="3",
        style=styles.card_style,
    )


def budgets_page() -> rx.Component:
    return app_shell(
        page_title(
            "Budgets",
            "Limits per day, week or month, with alerts before they are reached.",
            permitted_button(
                Permission.MANAGE_BUDGETS,
                rx.icon("plus", size=14),
                "New budget",
                on_click=BudgetsState.open_create,
                id="new-budget",
            ),
        ),
        rx.cond(
            BudgetsState.loading,
            loading_block("200px"),
            rx.cond(
                BudgetsState.budgets.length() > 0,
                rx.grid(
                    rx.foreach(BudgetsState.budgets, budget_card),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
                rx.box(
                    empty_state(
                        "wallet",
                        "No budgets yet",
                        "A budget warns you (and your webhook) at 50%, 80% and 100% of "
                        "a limit, and forecasts the day it will be reached.",
                        when_permitted(
                            Permission.MANAGE_BUDGETS,
                            rx.button(
                                rx.icon("plus", size=14),
                                "Create your first budget",
                                on_click=BudgetsState.open_create,
                            ),
                        ),
                    ),
                    style=styles.card_style,
                ),
            ),
        ),
        alert_history(),
        budget_dialog(),
        delete_dialog(),
    )
