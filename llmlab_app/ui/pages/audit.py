"""/audit: who did what in the organisation, and when (admins and owners)."""

import reflex as rx

from llmlab_app.ui import styles
from llmlab_app.ui.components.empty_state import empty_state, loading_block
from llmlab_app.ui.components.layout import app_shell, page_title
from llmlab_app.ui.components.responsive import narrow_only, wide_only
from llmlab_app.ui.states.audit import AuditRow, AuditState

ROUTE = "/audit"
TITLE = "Audit · LLMLab"
ON_LOAD = AuditState.load


def audit_table_row(row: AuditRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.when, white_space="nowrap"),
        rx.table.cell(rx.text(row.who, word_break="break_all")),
        rx.table.cell(rx.text(row.action, " ", rx.text.strong(row.target))),
        rx.table.cell(rx.text(row.details, size="1", color=rx.color("gray", 11))),
        align="center",
        class_name="audit-row",
    )


def audit_card(row: AuditRow) -> rx.Component:
    return rx.vstack(
        rx.text(
            rx.text.strong(row.who),
            " ",
            row.action,
            " ",
            rx.text.strong(row.target),
            size="2",
            word_break="break_word",
        ),
        rx.text(row.when, " UTC", size="1", color=rx.color("gray", 11)),
        rx.cond(row.details != "", rx.text(row.details, size="1", color=rx.color("gray", 11))),
        spacing="1",
        width="100%",
        padding_y="0.75em",
        border_top=f"1px solid {rx.color('gray', 4)}",
        class_name="audit-card",
    )


def audit_table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("When (UTC)"),
                rx.table.column_header_cell("Who"),
                rx.table.column_header_cell("What"),
                rx.table.column_header_cell("Details"),
            )
        ),
        rx.table.body(rx.foreach(AuditState.rows, audit_table_row)),
        width="100%",
        size="2",
    )


def pager() -> rx.Component:
    return rx.hstack(
        rx.button(
            rx.icon("chevron_left", size=14),
            "Newer",
            variant="soft",
            disabled=AuditState.page_number <= 1,
            on_click=AuditState.previous_page,
            id="audit-newer",
        ),
        rx.text("Page ", AuditState.page_number, size="2", color=rx.color("gray", 11)),
        rx.button(
            "Older",
            rx.icon("chevron_right", size=14),
            variant="soft",
            disabled=~AuditState.has_next,
            on_click=AuditState.next_page,
            id="audit-older",
        ),
        justify="end",
        align="center",
        width="100%",
    )


def audit_log() -> rx.Component:
    return rx.cond(
        AuditState.refused != "",
        rx.box(
            empty_state(
                "lock",
                "The audit log is for admins and owners",
                rx.text(AuditState.refused, **styles.muted_text, class_name="refusal-reason"),
            ),
            style=styles.card_style,
            id="audit-refused",
        ),
        rx.vstack(
            rx.box(
                wide_only(audit_table()),
                narrow_only(rx.foreach(AuditState.rows, audit_card)),
                style=styles.card_style,
                id="audit-log",
            ),
            pager(),
            spacing="3",
            width="100%",
        ),
    )


def audit_page() -> rx.Component:
    return app_shell(
        page_title(
            "Audit log",
            "Who invited, removed or changed whom, created or revoked keys, changed budgets, "
            "prices and webhooks: newest first.",
        ),
        rx.cond(AuditState.loading, loading_block("300px"), audit_log()),
    )
