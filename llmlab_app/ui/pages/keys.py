"""/keys: projects and the API keys that send events."""

import reflex as rx

from llmlab_app.services.permissions import Permission
from llmlab_app.ui import styles
from llmlab_app.ui.components.fields import field_error
from llmlab_app.ui.components.layout import app_shell, page_title
from llmlab_app.ui.components.permitted import refusal, refusal_note
from llmlab_app.ui.components.responsive import card_fields, narrow_only, wide_only
from llmlab_app.ui.states.keys import KeysState
from llmlab_app.ui.states.views import KeyRow, ProjectRow

ROUTE = "/keys"
TITLE = "Projects & API keys · LLMLab"
ON_LOAD = KeysState.load


def inline_create(
    name: str,
    placeholder: str,
    button: str,
    permission: Permission,
    error: rx.Var[str],
    on_submit,
    *extra_fields: rx.Component,
):
    return rx.form(
        rx.vstack(
            rx.hstack(
                # Grows into the card's width and shrinks before the button would leave it.
                rx.input(id=name, name=name, placeholder=placeholder, flex="1", min_width="0"),
                *extra_fields,
                rx.button(
                    rx.icon("plus", size=14),
                    button,
                    type="submit",
                    id=f"{name}-submit",
                    flex_shrink="0",
                    disabled=refusal(permission) != "",
                ),
                spacing="2",
                width="100%",
                max_width="420px",
            ),
            field_error(error),
            refusal_note(permission),
            spacing="1",
            width="100%",
        ),
        on_submit=on_submit,
        width="100%",
    )


def new_secret_callout() -> rx.Component:
    return rx.cond(
        KeysState.showing_created_secret,
        rx.callout.root(
            rx.callout.icon(rx.icon("key_round")),
            rx.vstack(
                rx.text(
                    "Copy your new key now: it will not be shown again.", weight="bold", size="2"
                ),
                rx.hstack(
                    rx.code(
                        "",
                        id="created-secret",
                        on_mount=KeysState.reveal_created_secret,
                        style=styles.mono,
                        word_break="break_all",
                    ),
                    rx.icon_button(
                        rx.icon("copy", size=14),
                        on_click=KeysState.copy_secret,
                        variant="soft",
                        size="1",
                    ),
                    rx.button("Done", size="1", variant="soft", on_click=KeysState.dismiss_secret),
                    align="center",
                    wrap="wrap",
                ),
                spacing="2",
            ),
            color_scheme="grass",
            width="100%",
        ),
    )


def revoke_button(key: KeyRow) -> rx.Component:
    """Only on keys the reader may revoke: their own with `create_keys`, anyone's with
    `manage_keys` (`keys.revoke_permission`, which the service enforces)."""
    return rx.cond(
        key.revocable,
        rx.button(
            "Revoke",
            size="1",
            variant="soft",
            color_scheme="red",
            on_click=KeysState.ask_revoke(key.id, key.name),
        ),
    )


def key_table_row(key: KeyRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(key.name, weight="medium")),
        rx.table.cell(rx.code(key.prefix, style=styles.mono), white_space="nowrap"),
        rx.table.cell(key.scopes, class_name="key-scopes", white_space="nowrap"),
        rx.table.cell(key.created, white_space="nowrap"),
        rx.table.cell(key.last_used, white_space="nowrap"),
        rx.table.cell(revoke_button(key), text_align="right"),
        align="center",
        class_name="key-row",
    )


def key_card(key: KeyRow) -> rx.Component:
    """One key on a narrow screen: name and Revoke on top, then its details."""
    return rx.vstack(
        rx.hstack(
            rx.text(key.name, weight="medium", size="2", min_width="0", word_break="break_all"),
            revoke_button(key),
            justify="between",
            align="center",
            width="100%",
        ),
        card_fields(
            ("Key", rx.code(key.prefix, style=styles.mono)),
            ("Scope", key.scopes),
            ("Created", key.created),
            ("Last used (UTC)", key.last_used),
        ),
        spacing="2",
        width="100%",
        padding_y="0.75em",
        border_top=f"1px solid {rx.color('gray', 4)}",
        class_name="key-card",
    )


def keys_table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("Name"),
                rx.table.column_header_cell("Key"),
                rx.table.column_header_cell("Scope"),
                rx.table.column_header_cell("Created"),
                rx.table.column_header_cell("Last used (UTC)", white_space="nowrap"),
                rx.table.column_header_cell(""),
            )
        ),
        rx.table.body(rx.foreach(KeysState.keys, key_table_row)),
        width="100%",
        size="2",
    )


def keys_card() -> rx.Component:
    return rx.vstack(
        rx.heading("API keys", size="4"),
        rx.text(
            "Send events with the header ",
            rx.code("Authorization: Bearer <key>"),
            " or the SDK's ",
            rx.code("LLMLAB_API_KEY"),
            ".",
            **styles.muted_text,
        ),
        inline_create(
            "key_name",
            "Key name, e.g. production",
            "Create key",
            Permission.CREATE_KEYS,
            KeysState.key_name_error,
            KeysState.create_key,
            rx.select(
                KeysState.key_scopes,
                default_value="ingest",
                name="key_scope",
                id="key_scope",
            ),
        ),
        new_secret_callout(),
        rx.cond(
            KeysState.keys.length() > 0,
            rx.box(
                wide_only(keys_table()),
                narrow_only(rx.foreach(KeysState.keys, key_card)),
                width="100%",
            ),
            rx.text("No active keys: create one to send events.", **styles.muted_text),
        ),
        spacing="3",
        style=styles.card_style,
        id="keys-card",
    )


def project_table_row(project: ProjectRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(project.name, weight="medium")),
        rx.table.cell(project.created),
        class_name="project-row",
    )


def projects_card() -> rx.Component:
    return rx.vstack(
        rx.heading("Projects", size="4"),
        rx.text(
            "Events name their project (",
            rx.code("project="),
            " in the SDK); new names are created on first use. Filter and budget per project.",
            **styles.muted_text,
        ),
        inline_create(
            "project_name",
            "Project name",
            "Create project",
            Permission.TRACK,
            KeysState.project_name_error,
            KeysState.create_project,
        ),
        rx.cond(
            KeysState.projects.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Name"),
                        rx.table.column_header_cell("Created"),
                    )
                ),
                rx.table.body(rx.foreach(KeysState.projects, project_table_row)),
                width="100%",
                size="2",
            ),
            rx.text("No projects yet.", **styles.muted_text),
        ),
        spacing="3",
        style=styles.card_style,
        id="projects-card",
    )


def revoke_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Revoke this key?"),
            rx.alert_dialog.description(
                "Apps using “", KeysState.revoking_name, "” will get 401 from now on."
            ),
            rx.hstack(
                rx.button(
                    "Cancel", variant="soft", color_scheme="gray", on_click=KeysState.cancel_revoke
                ),
                rx.button(
                    "Revoke",
                    color_scheme="red",
                    on_click=KeysState.confirm_revoke,
                    id="confirm-revoke",
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
        ),
        open=KeysState.revoking_id != "",
    )


def keys_page() -> rx.Component:
    return app_shell(
        page_title("Projects & API keys", "Who may send events, and how they are grouped."),
        keys_card(),
        projects_card(),
        revoke_dialog(),
    )
