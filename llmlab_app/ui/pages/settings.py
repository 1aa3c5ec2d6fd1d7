"""/settings: prices that win over the public dataset for this account."""

import reflex as rx

from llmlab_app.services.permissions import Permission
from llmlab_app.ui import styles
from llmlab_app.ui.components.fields import form_error, text_field
from llmlab_app.ui.components.layout import app_shell, page_title
from llmlab_app.ui.components.permitted import permitted_button, when_permitted
from llmlab_app.ui.components.responsive import card_fields, narrow_only, wide_only
from llmlab_app.ui.states.settings import SettingsState
from llmlab_app.ui.states.views import PriceOverrideRow

ROUTE = "/settings"
TITLE = "Settings · LLMLab"
ON_LOAD = SettingsState.load


def override_form() -> rx.Component:
    s = SettingsState
    return rx.form(
        rx.vstack(
            form_error(s.form_error),
            rx.grid(
                text_field("Provider", "provider", s.provider_error, placeholder="openai"),
                text_field("Model", "model", s.model_error, placeholder="ft:gpt-4o-mini:acme"),
                text_field(
                    "Valid from (optional)", "valid_from", s.valid_from_error, input_type="date"
                ),
                columns=rx.breakpoints(initial="1", md="3"),
                spacing="3",
                width="100%",
            ),
            rx.grid(
                text_field(
                    "Input $/M tokens",
                    "input_per_mtok",
                    s.input_per_mtok_error,
                    placeholder="0.30",
                    input_mode="decimal",
                ),
                text_field(
                    "Output $/M tokens",
                    "output_per_mtok",
                    s.output_per_mtok_error,
                    placeholder="1.20",
                    input_mode="decimal",
                ),
                text_field(
                    "Cached input $/M",
                    "cache_read_per_mtok",
                    s.cache_read_per_mtok_error,
                    placeholder="optional",
                    input_mode="decimal",
                ),
                text_field(
                    "Cache write $/M",
                    "cache_write_per_mtok",
                    s.cache_write_per_mtok_error,
                    placeholder="optional",
                    input_mode="decimal",
                ),
                columns=rx.breakpoints(initial="2", md="4"),
                spacing="3",
                width="100%",
            ),
            permitted_button(
                Permission.MANAGE_PRICES,
                rx.icon("plus", size=14),
                "Add price",
                type="submit",
                id="add-override",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=SettingsState.add_override,
        key=SettingsState.form_key,
        width="100%",
    )


def delete_override_button(row: PriceOverrideRow) -> rx.Component:
    return when_permitted(
        Permission.MANAGE_PRICES,
        rx.icon_button(
            rx.icon("trash_2", size=14),
            size="1",
            variant="soft",
            color_scheme="red",
            aria_label="Delete this price",
            on_click=SettingsState.delete_override(row.id),
        ),
    )


def override_card(row: PriceOverrideRow) -> rx.Component:
    """One price override on a narrow screen (USD per million tokens)."""
    mono = {"style": styles.mono}
    return rx.vstack(
        rx.hstack(
            rx.text(row.provider, "/", rx.text.strong(row.model), size="2", word_break="break_all"),
            delete_override_button(row),
            justify="between",
            align="center",
            width="100%",
        ),
        card_fields(
            ("Input", rx.text(row.input_per_mtok, **mono)),
            ("Output", rx.text(row.output_per_mtok, **mono)),
            ("Cached input", rx.text(row.cache_read_per_mtok, **mono)),
            ("Cache write", rx.text(row.cache_write_per_mtok, **mono)),
            ("From", row.valid_from),
        ),
        spacing="2",
        width="100%",
        padding_y="0.75em",
        border_top=f"1px solid {rx.color('gray', 4)}",
        class_name="override-card",
    )


def override_row(row: PriceOverrideRow) -> rx.Component:
    mono = {"style": styles.mono, "text_align": "right"}
    return rx.table.row(
        rx.table.cell(row.provider),
        rx.table.cell(rx.text(row.model, weight="medium")),
        rx.table.cell(row.input_per_mtok, **mono),
        rx.table.cell(row.output_per_mtok, **mono),
        rx.table.cell(row.cache_read_per_mtok, **mono),
        rx.table.cell(row.cache_write_per_mtok, **mono),
        rx.table.cell(row.valid_from),
        rx.table.cell(delete_override_button(row)),
        align="center",
    )


def overrides_card() -> rx.Component:
    headers = ["Provider", "Model", "Input", "Output", "Cached input", "Cache write", "From", ""]
    return rx.vstack(
        rx.heading("Price overrides", size="4"),
        rx.text(
            "For fine-tunes, self-hosted models or negotiated discounts. An override wins "
            "over the public price dataset for events from its date on (USD per million "
            "tokens).",
            **styles.muted_text,
        ),
        rx.text(SettingsState.prices_label, id="prices-label", **styles.muted_text),
        override_form(),
        reprice_offer(),
        rx.divider(),
        rx.cond(
            SettingsState.overrides.length() > 0,
            rx.box(
                wide_only(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(*[rx.table.column_header_cell(h) for h in headers])
                        ),
                        rx.table.body(rx.foreach(SettingsState.overrides, override_row)),
                        width="100%",
                        size="2",
                    )
                ),
                narrow_only(rx.foreach(SettingsState.overrides, override_card)),
                width="100%",
            ),
            rx.text(
                "No overrides: every price comes from the public dataset.", **styles.muted_text
            ),
        ),
        spacing="4",
        style=styles.card_style,
    )


def reprice_offer() -> rx.Component:
    """After an override is saved: stored events keep their cost unless re-priced."""
    return rx.cond(
        SettingsState.reprice_model != "",
        rx.callout.root(
            rx.callout.text(
                rx.cond(
                    SettingsState.reprice_result != "",
                    SettingsState.reprice_result,
                    "Events already stored keep the cost they were recorded with. Re-price the "
                    + SettingsState.reprice_model
                    + " events since "
                    + SettingsState.reprice_start
                    + " with this price?",
                )
            ),
            rx.hstack(
                rx.cond(
                    SettingsState.reprice_result == "",
                    rx.button(
                        "Re-price stored events",
                        size="2",
                        on_click=SettingsState.reprice_stored_events,
                        id="reprice-stored-events",
                    ),
                ),
                rx.button(
                    "Dismiss", size="2", variant="soft", on_click=SettingsState.dismiss_reprice
                ),
                spacing="2",
                wrap="wrap",
            ),
            id="reprice-offer",
            width="100%",
        ),
    )


def signing_secret_card() -> rx.Component:
    return rx.vstack(
        rx.heading("Webhook signing secret", size="4"),
        rx.text(
            "Every budget webhook carries an X-LLMLab-Signature header made with this "
            "secret; receivers check it (docs/budgets.md).",
            **styles.muted_text,
        ),
        rx.cond(
            SettingsState.signing_secret != "",
            rx.code(SettingsState.signing_secret, id="signing-secret", style=styles.mono),
        ),
        rx.hstack(
            permitted_button(
                Permission.MANAGE_WEBHOOKS,
                "Show secret",
                variant="soft",
                on_click=SettingsState.show_signing_secret,
                id="show-signing-secret",
            ),
            when_permitted(
                Permission.MANAGE_WEBHOOKS,
                rx.button(
                    "Rotate",
                    variant="soft",
                    color_scheme="red",
                    on_click=SettingsState.rotate_signing_secret,
                    id="rotate-signing-secret",
                ),
            ),
            spacing="2",
        ),
        spacing="3",
        style=styles.card_style,
    )


def settings_page() -> rx.Component:
    return app_shell(
        page_title("Settings", "Prices and webhook signing for this organisation."),
        overrides_card(),
        signing_secret_card(),
    )
